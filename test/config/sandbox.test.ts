import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RealFront, SandboxSetting } from '../../src/config/env.js';
import { decideSandbox } from '../../src/config/sandbox.js';
import type { Catalogue } from '../../src/core/catalogue.js';
import { demoCatalogue } from '../support/harness.js';

/** The demo catalogue with its electricity biller and first channel over HTTP, as chosen. */
function catalogue(http: { biller?: boolean; channel?: boolean } = {}): Catalogue {
  const c = demoCatalogue();
  const real = { type: 'http' as const, baseUrl: 'http://127.0.0.1:9', webhookSecret: 's' };
  if (http.biller) c.billers[0]!.adapter = real;
  if (http.channel) c.paymentChannels[0]!.adapter = real;
  return c;
}

function decide(sandbox: SandboxSetting, realFronts: RealFront[], c: Catalogue) {
  return decideSandbox({ sandbox, realFronts }, c);
}

void describe('decideSandbox', () => {
  void it('unset: on only with no real front and every adapter simulated', () => {
    assert.equal(decide('auto', [], catalogue()).on, true);
    assert.equal(decide('auto', ['telegram'], catalogue()).on, false);
    assert.equal(decide('auto', ['sms'], catalogue()).on, false);
    assert.equal(decide('auto', ['ussd'], catalogue()).on, false);
    assert.equal(decide('auto', [], catalogue({ biller: true })).on, false);
    assert.equal(decide('auto', [], catalogue({ channel: true })).on, false);
  });

  void it('says why it is off, naming the fronts and the adapters', () => {
    const d = decide('auto', ['telegram', 'sms'], catalogue({ biller: true, channel: true }));
    assert.equal(d.warning, null);
    assert.match(d.reason, /^sandbox off: /);
    assert.match(d.reason, /telegram, sms/);
    assert.match(d.reason, /biller electricity, channel [a-z_-]+/);
    assert.match(d.reason, /TASDEED_SANDBOX=1/);
    assert.equal(decide('off', [], catalogue()).reason, 'sandbox off: TASDEED_SANDBOX=0');
  });

  void it('1 forces it on; with real adapters behind it, one warning', () => {
    const quiet = decide('on', ['telegram'], catalogue());
    assert.equal(quiet.on, true);
    assert.equal(quiet.warning, null);
    const loud = decide('on', [], catalogue({ channel: true }));
    assert.equal(loud.on, true);
    assert.match(loud.warning ?? '', /sandbox messages reach real billers and channels/);
  });

  void it('0 turns it off whatever else is configured', () => {
    const everything = catalogue({ biller: true, channel: true });
    for (const [fronts, c] of [
      [[], catalogue()],
      [['telegram', 'sms', 'ussd'], catalogue()],
      [[], everything],
      [['telegram', 'sms', 'ussd'], everything],
    ] as Array<[RealFront[], Catalogue]>) {
      const d = decide('off', fronts, c);
      assert.equal(d.on, false, JSON.stringify(fronts));
      assert.equal(d.warning, null);
      assert.equal(d.reason, 'sandbox off: TASDEED_SANDBOX=0');
    }
  });

  void it('bulk messages reach sandbox identities only while the sandbox is on and no real front is configured', () => {
    // On with nothing real in front: the demo's identities are its only audience.
    assert.equal(decide('auto', [], catalogue()).inBulk, true);
    assert.equal(decide('on', [], catalogue({ biller: true })).inBulk, true);
    // A real front: sandbox identities are left out, even with the sandbox forced on.
    assert.equal(decide('on', ['telegram'], catalogue()).inBulk, false);
    assert.equal(decide('auto', ['sms'], catalogue()).inBulk, false);
    // Off: nobody can read what a sandbox identity is sent, whether or not a front is there.
    assert.equal(decide('off', [], catalogue()).inBulk, false);
    assert.equal(decide('auto', [], catalogue({ biller: true })).inBulk, false);
    assert.equal(decide('off', ['telegram'], catalogue()).inBulk, false);
  });
});
