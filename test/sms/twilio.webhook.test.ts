import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import twilio from 'twilio';
import {
  parseTwilioInbound,
  parseTwilioStatus,
  twilioWebhookUrl,
  verifyTwilioSignature,
} from '../../src/sms/twilio/twilio.webhook.js';

const TOKEN = 'twilio-auth-token';
const PUBLIC_URL = 'https://tasdeed.example';
const INBOUND = {
  MessageSid: 'SM0123456789abcdef0123456789abcdef',
  AccountSid: 'AC0123456789abcdef0123456789abcdef',
  From: '+4915123456789',
  To: '+15005550006',
  Body: 'فاتورة كهرباء ١٢٣٤٥٦٧',
  NumSegments: '1',
};

function sign(path: string, params: Record<string, string>, token = TOKEN): string {
  return twilio.getExpectedTwilioSignature(token, `${PUBLIC_URL}${path}`, params);
}

describe('verifyTwilioSignature', () => {
  const path = '/sms/twilio/inbound';

  it('accepts a signature over PUBLIC_URL + path and the form body', () => {
    const signature = sign(path, INBOUND);
    assert.equal(
      verifyTwilioSignature({
        authToken: TOKEN,
        publicUrl: PUBLIC_URL,
        path,
        signature,
        params: INBOUND,
      }),
      'ok',
    );
  });

  it('accepts PUBLIC_URL written with a trailing slash', () => {
    const signature = sign(path, INBOUND);
    assert.equal(
      verifyTwilioSignature({
        authToken: TOKEN,
        publicUrl: `${PUBLIC_URL}/`,
        path,
        signature,
        params: INBOUND,
      }),
      'ok',
    );
  });

  it('rejects a signature made with another token', () => {
    const signature = sign(path, INBOUND, 'someone-elses-token');
    assert.equal(
      verifyTwilioSignature({
        authToken: TOKEN,
        publicUrl: PUBLIC_URL,
        path,
        signature,
        params: INBOUND,
      }),
      'invalid',
    );
  });

  it('rejects a changed body, another path, and garbage', () => {
    const signature = sign(path, INBOUND);
    const base = { authToken: TOKEN, publicUrl: PUBLIC_URL, signature };
    assert.equal(
      verifyTwilioSignature({ ...base, path, params: { ...INBOUND, Body: 'ادفع كهرباء 1234567' } }),
      'invalid',
    );
    assert.equal(
      verifyTwilioSignature({ ...base, path: '/sms/twilio/status', params: INBOUND }),
      'invalid',
    );
    assert.equal(
      verifyTwilioSignature({ ...base, signature: 'not-base64!', path, params: INBOUND }),
      'invalid',
    );
  });

  it('reports a missing or empty header as missing', () => {
    const base = { authToken: TOKEN, publicUrl: PUBLIC_URL, path, params: INBOUND };
    assert.equal(verifyTwilioSignature({ ...base, signature: undefined }), 'missing');
    assert.equal(verifyTwilioSignature({ ...base, signature: ' ' }), 'missing');
  });

  it('builds the signed URL from PUBLIC_URL and the path', () => {
    assert.equal(
      twilioWebhookUrl('https://a.example/', '/sms/twilio/status?x=1'),
      'https://a.example/sms/twilio/status?x=1',
    );
  });
});

describe('parseTwilioInbound', () => {
  it('reads From, To, Body and MessageSid; From in E.164; MessageSid is the dedupe key', () => {
    const r = parseTwilioInbound(INBOUND);
    assert.deepEqual(r, {
      ok: true,
      value: {
        gateway: 'twilio',
        dedupeKey: INBOUND.MessageSid,
        providerMessageId: INBOUND.MessageSid,
        from: '+4915123456789',
        to: '+15005550006',
        text: 'فاتورة كهرباء ١٢٣٤٥٦٧',
        receivedAt: null,
        keyword: null,
      },
    });
  });

  it("reads Advanced Opt-Out's OptOutType as a keyword, and nothing else", () => {
    for (const [type, keyword] of [
      ['STOP', 'stop'],
      ['START', 'start'],
      ['HELP', 'help'],
      ['help', 'help'],
      ['UNSUBSCRIBE', null],
      ['', null],
    ] as const) {
      const r = parseTwilioInbound({ ...INBOUND, Body: 'CANCEL', OptOutType: type });
      assert.equal(r.ok && r.value.keyword, keyword, type);
    }
  });

  it('keeps an alphanumeric sender as written', () => {
    const r = parseTwilioInbound({ ...INBOUND, From: 'Syriatel' });
    assert.equal(r.ok && r.value.from, 'Syriatel');
  });

  it('accepts an empty Body and a 1,500-character one', () => {
    assert.equal(parseTwilioInbound({ ...INBOUND, Body: '' }).ok, true);
    const long = parseTwilioInbound({ ...INBOUND, Body: 'x'.repeat(1500) });
    assert.equal(long.ok && long.value.text.length, 1500);
  });

  it('refuses garbage with a reason', () => {
    for (const body of [
      null,
      'From=x',
      {},
      { ...INBOUND, MessageSid: undefined },
      { ...INBOUND, From: '' },
      { ...INBOUND, Body: undefined },
      { ...INBOUND, MessageSid: '../../etc' },
    ]) {
      const r = parseTwilioInbound(body);
      assert.equal(r.ok, false, JSON.stringify(body));
      assert.ok(!r.ok && r.error.length > 0, `refused with a reason: ${JSON.stringify(body)}`);
    }
  });
});

describe('parseTwilioStatus', () => {
  const sid = 'SM0123456789abcdef0123456789abcdef';

  it('maps every status Twilio reports for an outbound message', () => {
    for (const [status, state] of [
      ['accepted', 'queued'],
      ['scheduled', 'queued'],
      ['queued', 'queued'],
      ['sending', 'queued'],
      ['sent', 'sent'],
      ['partially_delivered', 'sent'],
      ['delivered', 'delivered'],
      ['read', 'delivered'],
      ['undelivered', 'failed'],
      ['failed', 'failed'],
      ['canceled', 'failed'],
    ] as const) {
      const r = parseTwilioStatus({ MessageSid: sid, MessageStatus: status });
      assert.ok(r.ok && r.value, status);
      assert.equal(r.value.state, state, status);
      assert.equal(r.value.failure === null, state !== 'failed', status);
      assert.equal(r.value.dedupeKey, `${sid}:${status}`);
    }
    const canceled = parseTwilioStatus({ MessageSid: sid, MessageStatus: 'canceled' });
    assert.equal(canceled.ok && canceled.value?.failure?.status, 'permanent');
  });

  it('acknowledges statuses that say nothing about delivery (inbound ones, later additions)', () => {
    for (const status of ['receiving', 'received', 'Received', 'some_new_status', 'constructor']) {
      assert.deepEqual(parseTwilioStatus({ MessageSid: sid, MessageStatus: status }), {
        ok: true,
        value: null,
      });
    }
  });

  it('maps undelivered/failed with ErrorCode to a classified failure', () => {
    const r = parseTwilioStatus({
      MessageSid: sid,
      MessageStatus: 'undelivered',
      ErrorCode: '30003',
    });
    assert.ok(r.ok && r.value, 'parsed');
    assert.equal(r.value.state, 'failed');
    assert.equal(r.value.errorCode, '30003');
    assert.equal(r.value.failure?.status, 'permanent');
    const optOut = parseTwilioStatus({
      MessageSid: sid,
      MessageStatus: 'failed',
      ErrorCode: '21610',
    });
    assert.equal(optOut.ok && optOut.value?.failure?.status, 'opted-out');
  });

  it('refuses garbage', () => {
    for (const body of [
      undefined,
      {},
      { MessageSid: sid },
      { MessageSid: sid, MessageStatus: '' },
      { MessageSid: sid, MessageStatus: '<b>sent</b>' },
      { MessageSid: sid, MessageStatus: 'failed', ErrorCode: 'abc' },
    ]) {
      assert.equal(parseTwilioStatus(body).ok, false, JSON.stringify(body));
    }
  });
});
