/**
 * Tasdeed with both SMS gateways on, against the fake Twilio and fake Android gateway servers:
 * people write in through signed webhooks and their replies are read from what the fakes got.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../../src/core/ports/clock.port.js';
import { measureSms } from '../../src/sms/sms-renderer.js';
import { startFakeAndroidSms, type FakeAndroidSms } from '../support/fake-android-sms.server.js';
import { startFakeTwilio, type FakeTwilio } from '../support/fake-twilio.server.js';
import type { Catalogue } from '../../src/core/catalogue.js';
import {
  outboxIdle,
  removeTestDir,
  startTasdeed,
  waitFor,
  type Running,
} from '../support/harness.js';

export const TWILIO_FROM = '+15005550006';

export interface SmsRig {
  t: Running;
  twilio: FakeTwilio;
  android: FakeAndroidSms;
  /**
   * Stops Tasdeed and starts it again on the same database, gateways and configuration (a new
   * process would find the same; only what it kept in memory is gone). Needs `dir`.
   */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startSms(
  env: Record<string, string> = {},
  options: {
    /** A directory whose database outlives the instance (for restart()); removed by close(). */
    dir?: string;
    /** The app's clock (e.g. a FakeClock the test moves). */
    clock?: Clock;
    /** The catalogue (default: the demo catalogue). */
    catalogue?: Catalogue;
  } = {},
): Promise<SmsRig> {
  const twilio = await startFakeTwilio();
  const android = await startFakeAndroidSms();
  const start = () =>
    startTasdeed({
      ...(options.dir ? { dir: options.dir } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.catalogue ? { catalogue: options.catalogue } : {}),
      env: {
        SMS_GATEWAY: 'twilio,android',
        TWILIO_ACCOUNT_SID: twilio.accountSid,
        TWILIO_AUTH_TOKEN: twilio.authToken,
        TWILIO_FROM,
        TWILIO_API_ROOT: twilio.url,
        ANDROID_SMS_URL: android.url,
        ANDROID_SMS_USER: android.user,
        ANDROID_SMS_PASSWORD: android.password,
        ANDROID_SMS_WEBHOOK_SECRET: android.webhookSecret,
        SMS_MAX_PER_SECOND_ANDROID: '10',
        ...env,
      },
    });
  const rig: SmsRig = {
    t: await start(),
    twilio,
    android,
    async restart() {
      if (!options.dir) throw new Error('restart() needs startSms(env, { dir })');
      await rig.t.close();
      rig.t = await start();
    },
    async close() {
      await rig.t.close();
      await twilio.close();
      await android.close();
      if (options.dir) await removeTestDir(options.dir);
    },
  };
  return rig;
}

export function newSid(): string {
  return `SM${randomBytes(16).toString('hex')}`;
}

/** Posts a signed inbound SMS as Twilio does; returns the HTTP answer. */
export function twilioInbound(
  rig: SmsRig,
  from: string,
  body: string,
  sid = newSid(),
  options: Parameters<FakeTwilio['sendSignedWebhook']>[2] = {},
): Promise<{ status: number; body: string }> {
  return rig.twilio.sendSignedWebhook(
    `${rig.t.url}/sms/twilio/inbound`,
    { MessageSid: sid, AccountSid: rig.twilio.accountSid, From: from, To: TWILIO_FROM, Body: body },
    options,
  );
}

/** Posts a signed inbound SMS as Twilio does, with more form parameters (e.g. OptOutType). */
export function twilioInboundWith(
  rig: SmsRig,
  from: string,
  body: string,
  params: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return rig.twilio.sendSignedWebhook(`${rig.t.url}/sms/twilio/inbound`, {
    MessageSid: newSid(),
    AccountSid: rig.twilio.accountSid,
    From: from,
    To: TWILIO_FROM,
    Body: body,
    ...params,
  });
}

/**
 * Posts a signed sms:received event as the Android app does: its payload (SmsReceived) names
 * the sender twice, as `sender` and as the older `phoneNumber`, our SIM as `recipient` (null
 * when the phone cannot tell), and the time in the phone's zone; `messageId` is derived from
 * the content, so two messages may share it.
 */
export async function androidInbound(
  rig: SmsRig,
  from: string,
  text: string,
  id?: string,
): Promise<number> {
  const r = await rig.android.sendWebhook(`${rig.t.url}/sms/android/webhook`, {
    event: 'sms:received',
    ...(id ? { id } : {}),
    payload: {
      messageId: createHash('sha256').update(`${from}${text}`).digest('hex').slice(0, 8),
      sender: from,
      recipient: null,
      simNumber: 1,
      phoneNumber: from,
      message: text,
      receivedAt: localTime(new Date()),
    },
  });
  return r.status;
}

/** `2026-11-25T12:00:00.000+03:00`: Damascus time, as a phone there writes it. */
function localTime(at: Date): string {
  return `${new Date(at.getTime() + 3 * 3_600_000).toISOString().slice(0, -1)}+03:00`;
}

/** Texts the fake Twilio sent to a number. */
export function twilioTo(rig: SmsRig, to: string): string[] {
  return rig.twilio.messages.filter((m) => m.form.To === to).map((m) => m.form.Body ?? '');
}

/** Texts the fake Android gateway sent to a number. */
export function androidTo(rig: SmsRig, to: string): string[] {
  return rig.android.messages
    .filter((m) => (m.body.phoneNumbers as string[] | undefined)?.includes(to))
    .map((m) => {
      const b = m.body as { textMessage?: { text?: string }; message?: string };
      return b.textMessage?.text ?? b.message ?? '';
    });
}

/** Waits for the n-th (1-based) text to a number through one gateway. */
export async function nth(
  rig: SmsRig,
  to: string,
  n: number,
  via: 'twilio' | 'android' = 'twilio',
): Promise<string> {
  return waitFor(`message ${n} to ${to} via ${via}`, () => {
    const texts = via === 'twilio' ? twilioTo(rig, to) : androidTo(rig, to);
    return texts.length >= n ? texts[n - 1]! : null;
  });
}

/** Everything recorded is processed and everything due is dispatched. */
export async function settle(rig: SmsRig): Promise<void> {
  await rig.t.tasdeed.sms!.inbox.drain();
  await rig.t.tasdeed.dispatcher.drain();
}

/**
 * {@link settle}, then nothing for `address` in flight or due: what it has not been sent by
 * now will not be (it is finished, or waits for a later attempt).
 */
export async function settledFor(rig: SmsRig, address: string): Promise<void> {
  await settle(rig);
  const identity = await rig.t.tasdeed.store.findIdentity('sms', address);
  if (identity) await outboxIdle(rig.t, identity.id);
}

/**
 * One turn: a text from `from` (through Twilio), then every SMS its answer cost, once nothing
 * for that number is in flight or due. Asserts the turn was answered and cost at most 3 parts
 * (docs/design.md §9: one inbound message never costs more), counted as the carrier bills them.
 */
export async function smsTurn(rig: SmsRig, from: string, text: string): Promise<string[]> {
  const before = twilioTo(rig, from).length;
  const answer = await twilioInbound(rig, from, text);
  if (answer.status !== 200) throw new Error(`${text}: webhook answered ${answer.status}`);
  await settledFor(rig, from);
  const sent = twilioTo(rig, from).slice(before);
  assert.ok(sent.length > 0, `${text}: answered`);
  const parts = sent.reduce((sum, sms) => sum + measureSms(sms).parts, 0);
  assert.ok(parts <= 3, `${text}: ${parts} parts: ${JSON.stringify(sent)}`);
  return sent;
}
