import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SmsConfig } from '../../src/config/env.js';
import { chooseGateway } from '../../src/sms/routing.js';

const both: Pick<SmsConfig, 'gateways' | 'routes'> = {
  gateways: ['twilio', 'android'],
  routes: { twilio: ['+49', '+1'], android: ['+963'] },
};

describe('chooseGateway', () => {
  it('answers a sender through the gateway their message came in on', () => {
    assert.deepEqual(chooseGateway(both, { to: '+963944123456', inboundGateway: 'twilio' }), {
      gateway: 'twilio',
      reason: 'inbound',
    });
    assert.deepEqual(chooseGateway(both, { to: '+4915123456789', inboundGateway: 'android' }), {
      gateway: 'android',
      reason: 'inbound',
    });
  });

  it('routes other messages by SMS_ROUTE_ prefixes', () => {
    assert.deepEqual(chooseGateway(both, { to: '+963944123456' }), {
      gateway: 'android',
      reason: 'prefix',
    });
    assert.deepEqual(chooseGateway(both, { to: '+4915123456789' }), {
      gateway: 'twilio',
      reason: 'prefix',
    });
  });

  it('prefers the longest matching prefix', () => {
    const config = { gateways: both.gateways, routes: { twilio: ['+9'], android: ['+963'] } };
    assert.equal(chooseGateway(config, { to: '+963944123456' })?.gateway, 'android');
    assert.equal(chooseGateway(config, { to: '+971501234567' })?.gateway, 'twilio');
  });

  it('falls back to the first gateway listed', () => {
    assert.deepEqual(chooseGateway(both, { to: '+447700900123' }), {
      gateway: 'twilio',
      reason: 'default',
    });
    const androidFirst = {
      gateways: ['android', 'twilio'] as const,
      routes: { twilio: [], android: [] },
    };
    assert.equal(
      chooseGateway(
        { ...androidFirst, gateways: [...androidFirst.gateways] },
        { to: '+4915123456789' },
      )?.gateway,
      'android',
    );
  });

  it('ignores an inbound gateway that is no longer configured', () => {
    const onlyAndroid = { gateways: ['android' as const], routes: { twilio: [], android: [] } };
    assert.deepEqual(
      chooseGateway(onlyAndroid, { to: '+4915123456789', inboundGateway: 'twilio' }),
      {
        gateway: 'android',
        reason: 'default',
      },
    );
  });

  it('returns null when SMS is off', () => {
    assert.equal(
      chooseGateway({ gateways: [], routes: { twilio: [], android: [] } }, { to: '+1' }),
      null,
    );
  });
});
