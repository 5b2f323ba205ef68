/**
 * What the log holds at LOG_LEVEL=info while staff log in and use the API, webhooks arrive and
 * providers refuse messages with texts that quote the number: every line is parsed as JSON, and
 * no secret (session cookie, CSRF token, admin token, webhook secrets) and no phone number, in
 * any spelling, is in any of them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signWebhook } from '../../src/core/payments/webhook-signature.js';
import { createLogger } from '../../src/observability/logger.js';
import { ADMIN_TOKEN, consoleLogin, loginForm } from '../browser/console-support.js';
import { startFakeAndroidSms, type FakeAndroidSms } from '../support/fake-android-sms.server.js';
import { FakeTelegram, textUpdate } from '../support/fake-telegram.server.js';
import { startFakeTwilio, type FakeTwilio } from '../support/fake-twilio.server.js';
import { startTasdeed, waitFor, type Running } from '../support/harness.js';

const TELEGRAM_SECRET = 'log-test-telegram-secret_0123456789';
const KANNEL_SECRET = 'log-test-kannel-secret-abcdefghij';
/** A diaspora number Twilio serves, the Android SIM's correspondent, the one Telegram quotes. */
const US = '+14155550123';
const SY = '+963944771203';
const SY_LOCAL = '0944771203';
const SY2 = '+963933456781';
const CHAT = 770_001;

type Line = Record<string, unknown>;

/** Every string in a parsed line, with the key it sits under. */
function strings(value: unknown, key = ''): Array<[string, string]> {
  if (typeof value === 'string') return [[key, value]];
  if (Array.isArray(value)) return value.flatMap((v) => strings(v, key));
  if (typeof value === 'object' && value !== null)
    return Object.entries(value).flatMap(([k, v]) => strings(v, k));
  return [];
}

/** The values of a Cookie header's cookies. */
function cookieValues(header: string): string[] {
  return header
    .split('; ')
    .map((c) => c.slice(c.indexOf('=') + 1))
    .filter((v) => v !== '');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A run of 6 or more digits that is not part of an identifier: a phone or account number. */
const DIGIT_RUN = /(?<![0-9A-Za-z_])[0-9]{6,}(?![0-9A-Za-z_])/;

/** The spellings of a phone number a log might hold: E.164, without +, national, local. */
function spellings(e164: string): string[] {
  const digits = e164.slice(1);
  const national = e164.startsWith('+963') ? digits.slice(3) : digits.slice(1);
  return [e164, digits, national, `0${national}`];
}

describe('the log at LOG_LEVEL=info', () => {
  const lines: Line[] = [];
  let t: Running;
  let twilio: FakeTwilio;
  let android: FakeAndroidSms;
  let telegram: FakeTelegram;
  const secrets: string[] = [ADMIN_TOKEN, TELEGRAM_SECRET, KANNEL_SECRET];

  before(async () => {
    twilio = await startFakeTwilio();
    android = await startFakeAndroidSms();
    telegram = await new FakeTelegram().start();
    secrets.push(twilio.authToken, android.webhookSecret, android.password);
    t = await startTasdeed({
      logger: createLogger({
        level: 'info',
        destination: { write: (line: string) => void lines.push(JSON.parse(line) as Line) },
      }),
      env: {
        SMS_GATEWAY: 'twilio,android',
        TWILIO_ACCOUNT_SID: twilio.accountSid,
        TWILIO_AUTH_TOKEN: twilio.authToken,
        TWILIO_FROM: '+15005550006',
        TWILIO_API_ROOT: twilio.url,
        ANDROID_SMS_URL: android.url,
        ANDROID_SMS_USER: android.user,
        ANDROID_SMS_PASSWORD: android.password,
        ANDROID_SMS_WEBHOOK_SECRET: android.webhookSecret,
        SMS_MAX_PER_SECOND_ANDROID: '10',
        TELEGRAM_BOT_TOKEN: telegram.token,
        TELEGRAM_API_ROOT: telegram.apiRoot,
        TELEGRAM_MODE: 'webhook',
        TELEGRAM_WEBHOOK_SECRET: TELEGRAM_SECRET,
      },
    });
    secrets.push(...t.tasdeed.webhookSecrets.values());
  });
  after(async () => {
    await t?.close();
    await twilio?.close();
    await android?.close();
    await telegram?.close();
  });

  it('holds no cookie, CSRF token, admin token, webhook secret or phone number', async () => {
    // Staff: the login form, a login, a page, a CSRF-protected POST, the bearer API, a wrong token.
    const form = await loginForm(t.url);
    secrets.push(form.csrf, ...cookieValues(form.cookie));
    const staff = await consoleLogin(t.url);
    secrets.push(staff.csrf, ...cookieValues(staff.cookie));
    assert.ok(cookieValues(staff.cookie).length > 0, 'a session cookie');
    assert.equal(
      (await fetch(`${t.url}/admin`, { headers: { Cookie: staff.cookie } })).status,
      200,
    );
    const dryRun = await fetch(`${t.url}/admin/broadcasts`, {
      method: 'POST',
      headers: {
        Cookie: staff.cookie,
        'X-CSRF-Token': staff.csrf,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({ text: { ar: 'تجربة' }, audience: { all: true }, dryRun: true }),
    });
    assert.equal(dryRun.status, 200);
    const bearer = await fetch(`${t.url}/admin/payments`, {
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    assert.equal(bearer.status, 200);

    // Providers refuse the replies with texts that quote the number.
    twilio.failTo(US, {
      status: 400,
      code: 21211,
      message: `The 'To' number ${US} is not a valid phone number.`,
    });
    const twilioIn = await twilio.sendSignedWebhook(`${t.url}/sms/twilio/inbound`, {
      MessageSid: `SM${'a'.repeat(32)}`,
      AccountSid: twilio.accountSid,
      From: US,
      To: '+15005550006',
      Body: 'HELP',
    });
    assert.equal(twilioIn.status, 200);
    android.failNext(400, { message: `invalid phone number: ${SY}` });
    const androidIn = await android.sendWebhook(`${t.url}/sms/android/webhook`, {
      event: 'sms:received',
      payload: { sender: SY_LOCAL, phoneNumber: SY_LOCAL, message: 'HELP', simNumber: 1 },
    });
    assert.equal(androidIn.status, 200);
    telegram.refuseNext(CHAT, {
      kind: 'bad-request',
      description: `Bad Request: the phone number ${SY2} of this chat is not reachable`,
    });
    const update = await fetch(`${t.url}/telegram/webhook`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-Telegram-Bot-Api-Secret-Token': TELEGRAM_SECRET,
      },
      body: JSON.stringify({ update_id: telegram.updateId(), ...textUpdate(CHAT, 'HELP') }),
    });
    assert.equal(update.status, 200);

    // A payment channel's signed webhook, and a query that carries a secret.
    const [channelId, channelSecret] = [...t.tasdeed.webhookSecrets][0]!;
    const event = JSON.stringify({
      eventId: 'evt-log-1',
      providerRef: 'ref-log-1',
      reference: 'P-0000000000',
      status: 'pending',
      occurredAt: new Date().toISOString(),
    });
    const webhook = await fetch(`${t.url}/payments/webhook/${channelId}`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-Tasdeed-Signature': signWebhook(channelSecret, event, Math.floor(Date.now() / 1000)),
      },
      body: event,
    });
    assert.ok(webhook.status < 500);
    await fetch(
      `${t.url}/sms/kannel/inbound?secret=${KANNEL_SECRET}&from=${encodeURIComponent(SY)}&text=x`,
    );

    await waitFor(
      'the three refused replies to be logged',
      () => lines.filter((l) => l.msg === 'outbox item failed').length >= 3,
    );
    // The log did get what it must not leak (else the assertions below prove nothing).
    assert.ok(lines.some((l) => JSON.stringify(l).includes('/admin/login')));
    assert.ok(twilio.requests.some((r) => r.body.includes(encodeURIComponent(US))));

    const problems: string[] = [];
    const forbidden = [
      ...secrets.filter((s) => s.length >= 8),
      ...spellings(US),
      ...spellings(SY),
      ...spellings(SY2),
    ];
    for (const line of lines) {
      const text = JSON.stringify(line);
      for (const value of forbidden) if (text.includes(value)) problems.push(`${value} in ${text}`);
      for (const [key, value] of strings(line)) {
        // Request ids, and the Android gateway's signature timestamp (Unix seconds).
        if (UUID.test(value) || key === 'x-timestamp') continue;
        const run = DIGIT_RUN.exec(value);
        if (run) problems.push(`digits ${run[0]} under "${key}" in ${text}`);
      }
    }
    assert.deepEqual(problems, []);
  });
});
