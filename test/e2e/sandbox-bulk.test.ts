/**
 * Reminders and broadcasts reach sandbox identities only while the sandbox is all there is: a
 * newcomer trying the demo sees them arrive, but once a real front is configured (Telegram
 * here, against the local Bot API) names typed into the sandbox get neither, even with the
 * sandbox forced on; nor do they once the sandbox is off, when nobody can read what they are
 * sent. On the run's database (SQLite, or PostgreSQL with TEST_DATABASE_URL).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Running } from '../support/harness.js';
import {
  FakeClock,
  httpCatalogue,
  outboxItemsOf,
  removeTestDir,
  SandboxUser,
  startTasdeed,
} from '../support/harness.js';
import {
  billerAccount,
  followerOf,
  reminderRig,
  startOutside,
  type Outside,
  type ReminderRig,
} from './reminders-rig.js';

const ADMIN = 'test-admin-token-0123456789';
/** 08:00 in Damascus (UTC+3), 3 days before a bill due on 11-28; 10:00 is the send hour. */
const START = '2036-11-25T05:00:00Z';
const SEND_TIME = '2036-11-25T07:00:00Z';

async function follows(user: SandboxUser, account: string): Promise<string> {
  const r = await user.say(`اشترك كهرباء ${account}`);
  assert.match(r.replies[0] ?? '', /تمت متابعة/);
  const identity = await identityOf(user);
  return identity;
}

let running: () => Running;

async function identityOf(user: SandboxUser): Promise<string> {
  const identity = await running().tasdeed.store.findIdentity(`sandbox-${user.channel}`, user.from);
  assert.ok(identity, `no identity for ${user.from}`);
  return identity.id;
}

/** Sends a broadcast to everyone; returns the recipients the API counted. */
async function broadcastToAll(t: Running): Promise<number> {
  const res = await fetch(`${t.url}/admin/broadcasts`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ text: { ar: 'انقطاع المياه غداً' }, audience: { all: true } }),
  });
  const body = (await res.json()) as { recipients: number };
  assert.equal(res.status, 201, JSON.stringify(body));
  await t.tasdeed.broadcasts.idle();
  return body.recipients;
}

async function kindsFor(t: Running, identityId: string): Promise<string[]> {
  return (await outboxItemsOf(t, identityId))
    .map((item) => item.kind)
    .filter((kind) => kind === 'reminder' || kind === 'broadcast')
    .sort();
}

describe('with a real front configured and the sandbox forced on', () => {
  let outside: Outside;
  let rig: ReminderRig;
  before(async () => {
    outside = await startOutside();
    rig = reminderRig(outside, START, { TASDEED_SANDBOX: '1' });
    await rig.start();
    running = () => rig.t;
  });
  after(async () => {
    await rig.close();
    await outside.close();
  });

  it('sandbox identities get no reminder and no broadcast; the Telegram follower gets both', async () => {
    const { account } = billerAccount(outside, '2036-11-28');
    const sandboxSms = await follows(new SandboxUser(rig.t.url, 'sms', '+963944310001'), account);
    const sandboxTg = await follows(
      new SandboxUser(rig.t.url, 'telegram', 'demo-visitor'),
      account,
    );
    const person = await followerOf(rig, account);
    const real = await rig.t.tasdeed.store.findIdentity('telegram', String(person.chatId));
    assert.ok(real);

    rig.at(SEND_TIME);
    const tick = await rig.t.tasdeed.reminders.tick();
    assert.equal(tick.status === 'done' && tick.planned, 1);
    assert.deepEqual(
      (await rig.rows()).map((r) => r.identityId),
      [real.id],
    );

    assert.equal(await broadcastToAll(rig.t), 1);
    assert.deepEqual(await kindsFor(rig.t, real.id), ['broadcast', 'reminder']);
    assert.deepEqual(await kindsFor(rig.t, sandboxSms), []);
    assert.deepEqual(await kindsFor(rig.t, sandboxTg), []);
  });
});

describe('with only the sandbox', () => {
  let outside: Outside;
  let t: Running;
  let clock: FakeClock;
  before(async () => {
    outside = await startOutside();
    clock = new FakeClock(new Date(START));
    t = await startTasdeed({
      clock,
      scheduler: false,
      catalogue: httpCatalogue({
        billerUrl: outside.biller.url,
        paymentUrl: outside.channel.url,
        webhookSecret: 'whsec-reminders-0123456789',
      }),
      env: { TASDEED_SANDBOX: '1' },
    });
    running = () => t;
  });
  after(async () => {
    await t.close();
    await outside.close();
  });

  it('sandbox identities get reminders and broadcasts, as a newcomer trying the demo expects', async () => {
    const { account } = billerAccount(outside, '2036-11-28');
    const sandboxSms = await follows(new SandboxUser(t.url, 'sms', '+963944310002'), account);

    clock.advance(new Date(SEND_TIME).getTime() - clock.now().getTime());
    const tick = await t.tasdeed.reminders.tick();
    assert.equal(tick.status === 'done' && tick.planned, 1);

    assert.equal(await broadcastToAll(t), 1);
    assert.deepEqual(await kindsFor(t, sandboxSms), ['broadcast', 'reminder']);
  });
});

describe('with the sandbox off and no real front', () => {
  let outside: Outside;
  let dir: string;
  let clock: FakeClock;
  /** The same database each time; the sandbox on or off by TASDEED_SANDBOX (unset here: off). */
  const start = (env: Record<string, string>) =>
    startTasdeed({
      dir,
      clock,
      scheduler: false,
      catalogue: httpCatalogue({
        billerUrl: outside.biller.url,
        paymentUrl: outside.channel.url,
        webhookSecret: 'whsec-reminders-0123456789',
      }),
      env,
    });
  before(async () => {
    outside = await startOutside();
    dir = mkdtempSync(join(tmpdir(), 'tasdeed-sandbox-bulk-'));
    clock = new FakeClock(new Date(START));
  });
  after(async () => {
    await outside.close();
    await removeTestDir(dir);
  });

  it('identities typed in while it was on get no reminder, and a broadcast preview counts nobody', async () => {
    const { account } = billerAccount(outside, '2036-11-28');
    const on = await start({ TASDEED_SANDBOX: '1' });
    running = () => on;
    try {
      await follows(new SandboxUser(on.url, 'sms', '+963944310003'), account);
    } finally {
      await on.close();
    }

    const off = await start({});
    try {
      assert.equal(off.tasdeed.sandbox.on, false, off.tasdeed.sandbox.reason);
      clock.advance(new Date(SEND_TIME).getTime() - clock.now().getTime());
      const tick = await off.tasdeed.reminders.tick();
      assert.equal(tick.status, 'done');
      assert.equal(tick.status === 'done' && tick.planned, 0);

      const res = await fetch(`${off.url}/admin/broadcasts`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({
          text: { ar: 'انقطاع المياه غداً' },
          audience: { all: true },
          dryRun: true,
        }),
      });
      const preview = (await res.json()) as { recipients: number; smsPartsTotal: number };
      assert.equal(res.status, 200, JSON.stringify(preview));
      assert.equal(preview.recipients, 0, JSON.stringify(preview));
      assert.equal(preview.smsPartsTotal, 0);
    } finally {
      await off.close();
    }
  });
});
