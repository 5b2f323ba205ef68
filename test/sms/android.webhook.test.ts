import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { AndroidGateway } from '../../src/sms/android/android.gateway.js';
import {
  parseAndroidEvent,
  parseAndroidEventBody,
  signAndroidWebhook,
  verifyAndroidSignature,
  type AndroidEvent,
} from '../../src/sms/android/android.webhook.js';
import { startFakeAndroidSms, type FakeAndroidSms } from '../support/fake-android-sms.server.js';

const SECRET = 'signing-key';
const NOW = Date.UTC(2026, 10, 25, 9, 0, 0);
const TS = String(NOW / 1000);
const RECEIVED = {
  deviceId: 'ffffffffceb0b1db0000018e937c815b',
  event: 'sms:received',
  id: 'Ey6ECgOkVVFjz3CL48B8C',
  payload: {
    messageId: 'abc123',
    message: 'فاتورة كهرباء ١٢٣٤٥٦٧',
    sender: '0944123456',
    recipient: '+963933000111',
    phoneNumber: '0944123456',
    simNumber: 1,
    receivedAt: '2026-11-25T12:00:00.000+03:00',
  },
  webhookId: 'wh-1',
};

describe('verifyAndroidSignature', () => {
  const raw = JSON.stringify(RECEIVED);
  const good = signAndroidWebhook(SECRET, raw, TS);

  it('accepts hex HMAC-SHA256 of the raw body followed by X-Timestamp', () => {
    assert.match(good, /^[0-9a-f]{64}$/);
    for (const rawBody of [raw, Buffer.from(raw)]) {
      assert.equal(
        verifyAndroidSignature({
          secret: SECRET,
          rawBody,
          signature: good,
          timestamp: TS,
          now: NOW,
        }),
        'ok',
      );
    }
    // Upper-case hex is the same signature.
    assert.equal(
      verifyAndroidSignature({
        secret: SECRET,
        rawBody: raw,
        signature: good.toUpperCase(),
        timestamp: TS,
        now: NOW,
      }),
      'ok',
    );
  });

  it('rejects a forged signature, another key, changed bytes and a changed timestamp', () => {
    const base = { secret: SECRET, rawBody: raw, signature: good, timestamp: TS, now: NOW };
    assert.equal(verifyAndroidSignature({ ...base, signature: 'f'.repeat(64) }), 'invalid');
    assert.equal(verifyAndroidSignature({ ...base, secret: 'other-key' }), 'invalid');
    assert.equal(verifyAndroidSignature({ ...base, rawBody: `${raw} ` }), 'invalid');
    assert.equal(verifyAndroidSignature({ ...base, timestamp: String(Number(TS) + 1) }), 'invalid');
    assert.equal(verifyAndroidSignature({ ...base, signature: 'zz' }), 'invalid');
    assert.equal(verifyAndroidSignature({ ...base, timestamp: 'yesterday' }), 'invalid');
  });

  it('reports missing headers', () => {
    const base = { secret: SECRET, rawBody: raw, signature: good, timestamp: TS, now: NOW };
    assert.equal(verifyAndroidSignature({ ...base, signature: undefined }), 'missing');
    assert.equal(verifyAndroidSignature({ ...base, timestamp: undefined }), 'missing');
    assert.equal(verifyAndroidSignature({ ...base, signature: '' }), 'missing');
  });

  it('refuses a signature older or newer than 5 minutes', () => {
    const old = String(NOW / 1000 - 301);
    const future = String(NOW / 1000 + 301);
    for (const timestamp of [old, future]) {
      const signature = signAndroidWebhook(SECRET, raw, timestamp);
      assert.equal(
        verifyAndroidSignature({ secret: SECRET, rawBody: raw, signature, timestamp, now: NOW }),
        'stale',
      );
    }
    const edge = String(NOW / 1000 - 300);
    assert.equal(
      verifyAndroidSignature({
        secret: SECRET,
        rawBody: raw,
        signature: signAndroidWebhook(SECRET, raw, edge),
        timestamp: edge,
        now: NOW,
      }),
      'ok',
    );
  });
});

/**
 * The signature as the app computes it, checked without the production signer: a vector fixed
 * outside Node (`printf '%s%s' "$BODY" 1719046000 | openssl dgst -sha256 -hmac signing-key`,
 * the body being the documented sms:received example) and node:crypto used the documented way.
 */
describe('the signature, independently of signAndroidWebhook', () => {
  const DOC_BODY =
    '{"deviceId":"ffffffffceb0b1db0000018e937c815b","event":"sms:received","id":"Ey6ECgOkVVFjz3CL48B8C",' +
    '"payload":{"messageId":"abc123","message":"Android is always a sweet treat!","phoneNumber":"6505551212",' +
    '"simNumber":1,"receivedAt":"2024-06-22T15:46:11.000+07:00"},"webhookId":"LreFUt-Z3sSq0JufY9uWB"}';
  const DOC_TS = '1719046000';
  const DOC_SIGNATURE = '4509d9f5cd2b9534609b31365e30fa3586ebbf4c33db136e4d126034fabf92a6';
  // UTF-8 key and body (Kotlin's toByteArray()): `printf '%s%s' فاتورة 1719046000 | openssl dgst -sha256 -hmac مفتاح`.
  const ARABIC_SIGNATURE = '167fc9918e87431a8e677330f8188ca689e389723134379c63e9b1305a81da0d';
  const at = Number(DOC_TS) * 1000;

  it('accepts a known vector computed outside Node, and refuses it one second later', () => {
    const input = { secret: SECRET, rawBody: DOC_BODY, timestamp: DOC_TS, now: at };
    assert.equal(verifyAndroidSignature({ ...input, signature: DOC_SIGNATURE }), 'ok');
    assert.equal(
      verifyAndroidSignature({
        ...input,
        timestamp: String(Number(DOC_TS) + 1),
        signature: DOC_SIGNATURE,
      }),
      'invalid',
    );
    assert.equal(
      verifyAndroidSignature({
        secret: 'مفتاح',
        rawBody: Buffer.from('فاتورة', 'utf8'),
        signature: ARABIC_SIGNATURE,
        timestamp: DOC_TS,
        now: at,
      }),
      'ok',
    );
    assert.equal(signAndroidWebhook(SECRET, DOC_BODY, DOC_TS), DOC_SIGNATURE);
  });

  it('accepts what node:crypto computes as the docs describe (HMAC-SHA256 of body + timestamp, hex)', () => {
    const signature = createHmac('sha256', SECRET)
      .update(DOC_BODY + DOC_TS)
      .digest('hex');
    assert.equal(signature, DOC_SIGNATURE);
    const other = createHmac('sha256', SECRET)
      .update(JSON.stringify(RECEIVED) + TS)
      .digest('hex');
    assert.equal(
      verifyAndroidSignature({
        secret: SECRET,
        rawBody: JSON.stringify(RECEIVED),
        signature: other,
        timestamp: TS,
        now: NOW,
      }),
      'ok',
    );
  });
});

describe('parseAndroidEvent', () => {
  it('reads sms:received: sender in E.164, text, and the event id as the dedupe key', () => {
    const r = parseAndroidEvent(RECEIVED);
    assert.deepEqual(r, {
      ok: true,
      value: {
        kind: 'inbound',
        eventId: 'Ey6ECgOkVVFjz3CL48B8C',
        event: 'sms:received',
        message: {
          gateway: 'android',
          dedupeKey: 'Ey6ECgOkVVFjz3CL48B8C',
          providerMessageId: 'abc123',
          from: '+963944123456',
          to: '+963933000111',
          text: 'فاتورة كهرباء ١٢٣٤٥٦٧',
          receivedAt: '2026-11-25T12:00:00.000+03:00',
        },
      },
    });
  });

  it('reads older apps that send only phoneNumber', () => {
    const { sender: _s, recipient: _r, ...payload } = RECEIVED.payload;
    const r = parseAndroidEvent({ ...RECEIVED, payload });
    assert.ok(r.ok && r.value.kind === 'inbound', 'an inbound message');
    assert.equal(r.value.message.from, '+963944123456');
    assert.equal(r.value.message.to, null);
  });

  it('reads sms:delivered and sms:failed with its reason', () => {
    const delivered = parseAndroidEvent({
      event: 'sms:delivered',
      id: 'ev-2',
      payload: {
        messageId: 'gw-1',
        phoneNumber: '+963944123456',
        deliveredAt: '2026-11-25T12:00:05.000+03:00',
      },
    });
    assert.ok(delivered.ok && delivered.value.kind === 'status', 'a delivery status');
    assert.deepEqual(delivered.value.status, {
      gateway: 'android',
      dedupeKey: 'ev-2',
      providerMessageId: 'gw-1',
      state: 'delivered',
      errorCode: null,
      failure: null,
      at: '2026-11-25T12:00:05.000+03:00',
    });
    const failed = parseAndroidEvent({
      event: 'sms:failed',
      id: 'ev-3',
      payload: {
        messageId: 'gw-1',
        reason: 'RESULT_ERROR_LIMIT_EXCEEDED',
        failedAt: '2026-11-25T12:00:05Z',
      },
    });
    assert.ok(failed.ok && failed.value.kind === 'status', 'a failure status');
    assert.equal(failed.value.status.state, 'failed');
    assert.equal(failed.value.status.errorCode, 'RESULT_ERROR_LIMIT_EXCEEDED');
    assert.equal(failed.value.status.failure?.status, 'temporary');
  });

  it('acknowledges events it does not act on', () => {
    const r = parseAndroidEvent({ event: 'system:ping', id: 'ev-4', payload: { health: {} } });
    assert.deepEqual(r, {
      ok: true,
      value: { kind: 'ignored', eventId: 'ev-4', event: 'system:ping' },
    });
  });

  it('refuses garbage', () => {
    const bad: unknown[] = [
      null,
      [],
      'sms:received',
      { event: 'sms:received', payload: RECEIVED.payload },
      { ...RECEIVED, id: '' },
      { ...RECEIVED, payload: { message: 'no sender' } },
      { ...RECEIVED, payload: { sender: '+963944123456' } },
      { event: 'sms:failed', id: 'x', payload: { reason: 'no message id' } },
    ];
    for (const body of bad) assert.equal(parseAndroidEvent(body).ok, false, JSON.stringify(body));
    assert.equal(parseAndroidEventBody('{not json').ok, false);
    assert.equal(parseAndroidEventBody(Buffer.from(JSON.stringify(RECEIVED))).ok, true);
  });

  it('is what the gateway port parses', () => {
    const gateway = new AndroidGateway({
      url: 'http://x',
      user: 'u',
      password: 'p',
      webhookSecret: 's',
    });
    assert.equal(gateway.parseInbound(RECEIVED).ok, true);
    assert.equal(gateway.parseDeliveryStatus(RECEIVED).ok, false);
  });
});

describe('signed webhooks from the fake gateway, retried with the same event id', () => {
  let fake: FakeAndroidSms;
  let server: Server;
  let url = '';
  const seen = new Set<string>();
  const handled: AndroidEvent[] = [];
  let failFirst = 0;

  // A stand-in for the route the lead will wire: verify the raw bytes, parse, dedupe on event id.
  before(async () => {
    fake = await startFakeAndroidSms({ webhookSecret: SECRET });
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const rawBody = Buffer.concat(chunks);
        const check = verifyAndroidSignature({
          secret: SECRET,
          rawBody,
          signature: req.headers['x-signature'],
          timestamp: req.headers['x-timestamp'],
          now: Date.now(),
        });
        if (check !== 'ok') {
          res.writeHead(401).end(check);
          return;
        }
        if (failFirst > 0) {
          failFirst--;
          res.writeHead(503).end();
          return;
        }
        const event = parseAndroidEventBody(rawBody);
        if (!event.ok) {
          res.writeHead(400).end(event.error);
          return;
        }
        if (!seen.has(event.value.eventId)) {
          seen.add(event.value.eventId);
          handled.push(event.value);
        }
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sms/android/webhook`;
  });
  after(async () => {
    await fake.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('handles an event once however often it is delivered', async () => {
    failFirst = 2;
    const responses = await fake.deliverWithRetries(
      url,
      { event: 'sms:received', payload: RECEIVED.payload },
      5,
    );
    assert.deepEqual(
      responses.map((r) => r.status),
      [503, 503, 200],
    );
    assert.equal(new Set(responses.map((r) => r.id)).size, 1);
    const again = await fake.sendWebhook(url, {
      event: 'sms:received',
      payload: RECEIVED.payload,
      id: responses[0]!.id,
    });
    assert.equal(again.status, 200);
    assert.equal(handled.length, 1);
  });

  it('treats two events with the same messageId but different ids as two messages', async () => {
    const before = handled.length;
    await fake.sendWebhook(url, { event: 'sms:received', payload: RECEIVED.payload });
    await fake.sendWebhook(url, { event: 'sms:received', payload: RECEIVED.payload });
    assert.equal(handled.length, before + 2);
  });

  it('answers 401 to forged, unsigned, stale and tampered requests, and handles none', async () => {
    const before = handled.length;
    const event = { event: 'sms:received', payload: RECEIVED.payload };
    assert.equal((await fake.sendWebhook(url, event, { secret: 'forged' })).status, 401);
    assert.equal((await fake.sendWebhook(url, event, { signature: null })).status, 401);
    assert.equal(
      (await fake.sendWebhook(url, event, { timestamp: Math.floor(Date.now() / 1000) - 600 }))
        .status,
      401,
    );
    assert.equal(
      (await fake.sendWebhook(url, event, { tamper: (raw) => raw.replace('1', '9') })).status,
      401,
    );
    assert.equal(handled.length, before);
  });
});
