/**
 * Staff broadcasts through the HTTP API (docs/design.md §7), against the local Bot API and Twilio
 * stand-ins: validation, the dry run's figures, who an audience reaches, progress, cancel,
 * quiet hours, and opted-out subscribers never receiving one.
 *
 * Subscribers are written through the store (the state a real one reaches through the
 * conversation), except where the conversation itself is the point: following an account
 * whose governorate the biller reports, and STOP.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Language } from '../../src/core/domain.js';
import { FakeTelegram, textUpdate } from '../support/fake-telegram.server.js';
import { startFakeTwilio, type FakeTwilio } from '../support/fake-twilio.server.js';
import { FakeClock, SandboxUser, startTasdeed, waitFor, type Running } from '../support/harness.js';

const ADMIN = 'test-admin-token-0123456789';
const WEBHOOK_SECRET = 'broadcast-webhook-secret-0123456789';
/** 12:00 in Damascus (UTC+3): outside the default quiet hours (21-8). */
const NOON = new Date('2026-03-10T09:00:00.000Z');
/** 22:30 in Damascus: inside them. */
const NIGHT = new Date('2026-03-10T19:30:00.000Z');
/** 08:00 the next morning in Damascus: the quiet hours' end. */
const MORNING = new Date('2026-03-11T05:00:00.000Z');

/** 101 Arabic characters: UCS-2, two SMS parts (67 each). */
const AR_TWO_PARTS =
  'تنبيه من تسديد: انقطاع مبرمج للكهرباء في دمشق يوم الخميس من التاسعة صباحاً حتى الثانية ظهراً للصيانة.';
/** GSM-7, one part. */
const EN_ONE_PART = 'Planned power cut in Damascus on Thursday 9:00-14:00.';
/** GSM-7, 167 characters: two parts (153 each). */
const EN_TWO_PARTS =
  'Tasdeed notice: the deadline for electricity bills of the September-October cycle is extended to 15 December. You can pay by bank or mobile wallet as usual. Thank you.';

let tag = 0;
/** A text no other broadcast in the file uses, so arrivals can be counted per broadcast. */
function unique(text: string): string {
  tag += 1;
  return `${text} #${tag}`;
}

interface Rig {
  t: Running;
  tg: FakeTelegram;
  twilio: FakeTwilio;
  clock: FakeClock;
  close(): Promise<void>;
}

async function startRig(at: Date, env: Record<string, string> = {}): Promise<Rig> {
  const tg = await new FakeTelegram().start();
  const twilio = await startFakeTwilio();
  const clock = new FakeClock(at);
  const t = await startTasdeed({
    clock,
    env: {
      TELEGRAM_BOT_TOKEN: tg.token,
      TELEGRAM_API_ROOT: tg.apiRoot,
      TELEGRAM_MODE: 'webhook',
      TELEGRAM_WEBHOOK_SECRET: WEBHOOK_SECRET,
      SMS_GATEWAY: 'twilio',
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TWILIO_FROM: '+15005550006',
      TWILIO_API_ROOT: twilio.url,
      SMS_MAX_PER_SECOND: '50',
      TASDEED_SANDBOX: '1',
      ...env,
    },
  });
  return {
    t,
    tg,
    twilio,
    clock,
    async close() {
      await t.close();
      await tg.close();
      await twilio.close();
    },
  };
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function api(
  rig: Rig,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  token: string | null = ADMIN,
): Promise<Answer> {
  const res = await fetch(`${rig.t.url}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...(token === null ? {} : { Authorization: `Bearer ${token}` }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

interface Progress {
  id: string;
  status: string;
  recipients: number;
  counts: Record<'queued' | 'sent' | 'delivered' | 'failed' | 'skipped' | 'cancelled', number>;
}

async function progress(rig: Rig, id: string): Promise<Progress> {
  const r = await api(rig, 'GET', `/admin/broadcasts/${id}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body as unknown as Progress;
}

async function send(rig: Rig, request: Record<string, unknown>): Promise<Answer> {
  return api(rig, 'POST', '/admin/broadcasts', request);
}

/** Posts a broadcast that must be accepted; returns its id and the 201 body. */
async function created(rig: Rig, request: Record<string, unknown>) {
  const r = await send(rig, request);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body as { id: string; status: string; recipients: number };
}

async function untilDone(rig: Rig, id: string, timeoutMs = 20_000): Promise<Progress> {
  return waitFor(
    `broadcast ${id} to finish`,
    async () => {
      const p = await progress(rig, id);
      return p.status === 'done' ? p : null;
    },
    timeoutMs,
  );
}

/** Telegram chats the stand-in delivered this text to (one entry per delivery). */
function telegramArrivals(rig: Rig, text: string): string[] {
  return rig.tg.calls
    .filter((c) => c.method === 'sendMessage' && c.params.__ok === true && c.params.text === text)
    .map((c) => String(c.params.chat_id))
    .sort();
}

/** Numbers the Twilio stand-in accepted this text for. */
function smsArrivals(rig: Rig, text: string): string[] {
  return rig.twilio.messages
    .filter((m) => m.form.Body === text)
    .map((m) => m.form.To ?? '')
    .sort();
}

async function subscriber(
  rig: Rig,
  channel: 'telegram' | 'sms',
  address: string,
  options: { language?: Language; governorate?: string; optedOut?: boolean } = {},
) {
  const store = rig.t.tasdeed.store;
  const { identity } = await store.ensureIdentity(channel, address, options.language ?? 'ar');
  if (options.governorate)
    await store.updateSubscriber(identity.subscriberId, { governorate: options.governorate });
  if (options.optedOut) await store.setOptedOut(identity.id, true, rig.clock.now());
  return identity;
}

/** A Telegram message from `chatId` to the bot, through the webhook as Telegram posts it. */
async function telegramSays(rig: Rig, chatId: number, text: string): Promise<void> {
  const res = await fetch(`${rig.t.url}/telegram/webhook`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'X-Telegram-Bot-Api-Secret-Token': WEBHOOK_SECRET,
    },
    body: JSON.stringify({ ...textUpdate(chatId, text), update_id: rig.tg.updateId() }),
  });
  await res.arrayBuffer();
  assert.equal(res.status, 200);
}

async function noBroadcastWritten(rig: Rig): Promise<void> {
  assert.deepEqual(await rig.t.tasdeed.store.listBroadcasts(10), []);
}

describe('POST /admin/broadcasts: validation and the dry run', () => {
  let rig: Rig;
  before(async () => {
    rig = await startRig(NOON);
    await subscriber(rig, 'sms', '+963944500001', { language: 'ar', governorate: 'DAM' });
    await subscriber(rig, 'sms', '+963944500002', { language: 'ar', governorate: 'ALE' });
    await subscriber(rig, 'sms', '+963944500003', { language: 'en', governorate: 'DAM' });
    await subscriber(rig, 'telegram', '600001', { language: 'ar', governorate: 'DAM' });
    await subscriber(rig, 'telegram', '600002', { language: 'en', governorate: 'HOM' });
    await subscriber(rig, 'sms', '+963944500009', { governorate: 'DAM', optedOut: true });
    // A sandbox SMS identity: left out, since real fronts (Telegram, SMS) are configured.
    const sandbox = new SandboxUser(rig.t.url, 'sms', '+963944500004');
    await sandbox.say('محافظة دمشق');
  });
  after(async () => {
    await rig.close();
  });

  const valid = { text: { ar: 'انقطاع المياه غداً' }, audience: { all: true } };

  it('401 without the bearer token or with a wrong one; nothing written', async () => {
    for (const token of [null, 'wrong-token-0123456789', '']) {
      const r = await api(rig, 'POST', '/admin/broadcasts', valid, token);
      assert.equal(r.status, 401, `token ${token}`);
    }
    for (const path of ['/admin/broadcasts', '/admin/broadcasts/B-x']) {
      assert.equal((await api(rig, 'GET', path, undefined, null)).status, 401);
    }
    assert.equal(
      (await api(rig, 'POST', '/admin/broadcasts/B-x/cancel', undefined, 'nope-0123456789')).status,
      401,
    );
    await noBroadcastWritten(rig);
  });

  it('400 with a clear reason for what is wrong; nothing written', async () => {
    const cases: Array<{ body: unknown; reason: RegExp }> = [
      { body: { ...valid, audience: {} }, reason: /audience/ },
      { body: { ...valid, audience: { governorates: [] } }, reason: /audience/ },
      { body: { ...valid, audience: { all: false } }, reason: /all/ },
      { body: { ...valid, audience: { governorates: ['XYZ'] } }, reason: /governorate.*XYZ/ },
      { body: { ...valid, audience: { billers: ['gas'] } }, reason: /biller.*gas/ },
      { body: { ...valid, audience: { languages: ['fr'] } }, reason: /language.*fr/ },
      { body: { ...valid, audience: { cities: ['DAM'] } }, reason: /cities/ },
      { body: { ...valid, audience: { all: true, governorates: ['DAM'] } }, reason: /all/ },
      { body: { ...valid, text: { ar: '   ' } }, reason: /text\.ar/ },
      { body: { ...valid, text: { ar: 'ب'.repeat(671) } }, reason: /text\.ar.*670|670.*text\.ar/ },
      { body: { ...valid, text: { ar: 'نص', en: 'x'.repeat(671) } }, reason: /text\.en/ },
      { body: { ...valid, text: { ar: 'نص', fr: 'texte' } }, reason: /fr/ },
      { body: { audience: { all: true } }, reason: /text/ },
      { body: { ...valid, urgent: 'yes' }, reason: /urgent/ },
      { body: { ...valid, channels: ['fax'] }, reason: /channels/ },
      { body: { ...valid, channels: [] }, reason: /channels/ },
      { body: { ...valid, priority: 'high' }, reason: /priority/ },
      { body: [valid], reason: /object/ },
    ];
    for (const { body, reason } of cases) {
      const r = await send(rig, body as Record<string, unknown>);
      assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 120)} → ${r.status}`);
      assert.equal(typeof r.body.reason, 'string');
      assert.match(String(r.body.reason), reason, JSON.stringify(r.body));
    }
    // Not JSON at all.
    const res = await fetch(`${rig.t.url}/admin/broadcasts`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
      body: '{"text":',
    });
    assert.equal(res.status, 400);
    await noBroadcastWritten(rig);
  });

  it('dryRun: recipients and SMS parts × recipients by language; nothing queued', async () => {
    const dry = async (body: Record<string, unknown>) => {
      const r = await send(rig, { ...body, dryRun: true });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return {
        recipients: r.body.recipients,
        smsPartsPerMessage: r.body.smsPartsPerMessage,
        smsPartsTotal: r.body.smsPartsTotal,
      };
    };
    // Reachable: 3 SMS (2 ar, 1 en), 2 Telegram; one SMS opted out, the sandbox left out.
    // Arabic takes 2 parts and English 1: 2 × 2 + 1 × 1.
    assert.deepEqual(
      await dry({ text: { ar: AR_TWO_PARTS, en: EN_ONE_PART }, audience: { all: true } }),
      { recipients: 5, smsPartsPerMessage: 2, smsPartsTotal: 5 },
    );
    // Without English text the English readers get the Arabic one: 3 × 2.
    assert.deepEqual(await dry({ text: { ar: AR_TWO_PARTS }, audience: { all: true } }), {
      recipients: 5,
      smsPartsPerMessage: 2,
      smsPartsTotal: 6,
    });
    // A long English text: 2 × 1 + 1 × 2.
    assert.deepEqual(
      await dry({ text: { ar: 'انقطاع المياه غداً', en: EN_TWO_PARTS }, audience: { all: true } }),
      { recipients: 5, smsPartsPerMessage: 2, smsPartsTotal: 4 },
    );
    // Telegram only: no SMS cost.
    assert.deepEqual(
      await dry({
        text: { ar: AR_TWO_PARTS, en: EN_ONE_PART },
        audience: { all: true },
        channels: ['telegram'],
      }),
      { recipients: 2, smsPartsPerMessage: 0, smsPartsTotal: 0 },
    );
    // Damascus, SMS: 1 ar + 1 en.
    assert.deepEqual(
      await dry({
        text: { ar: AR_TWO_PARTS, en: EN_ONE_PART },
        audience: { governorates: ['DAM'] },
        channels: ['sms'],
      }),
      { recipients: 2, smsPartsPerMessage: 2, smsPartsTotal: 3 },
    );
    await noBroadcastWritten(rig);
    assert.equal(rig.twilio.messages.length, 0);
    assert.equal(rig.tg.callsOf('sendMessage').length, 0);
  });

  it('a real send answers 201 with the figures, and is then listed and sent', async () => {
    const text = { ar: unique(AR_TWO_PARTS), en: unique(EN_ONE_PART) };
    const r = await send(rig, { text, audience: { governorates: ['DAM'] } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const { id } = r.body as { id: string };
    assert.match(id, /^B-/);
    // DAM: 1 ar SMS, 1 en SMS, 1 Telegram (not the sandbox).
    assert.deepEqual(r.body, {
      id,
      status: 'sending',
      recipients: 3,
      smsPartsPerMessage: 2,
      smsPartsTotal: 3,
    });
    const list = await api(rig, 'GET', '/admin/broadcasts');
    assert.equal(list.status, 200);
    const listed = (list.body.broadcasts as Array<Record<string, unknown>>)[0];
    assert.equal(listed?.id, id);
    assert.deepEqual(listed?.text, { ar: text.ar, en: text.en });
    const done = await untilDone(rig, id);
    assert.deepEqual(done.counts, {
      queued: 0,
      sent: 3,
      delivered: 0,
      failed: 0,
      skipped: 0,
      cancelled: 0,
    });
    assert.equal(done.recipients, 3);
    assert.deepEqual(smsArrivals(rig, text.ar), ['+963944500001']);
    assert.deepEqual(smsArrivals(rig, text.en), ['+963944500003']);
    assert.deepEqual(telegramArrivals(rig, text.ar), ['600001']);
    // The listing follows the broadcast to its end.
    const again = (await api(rig, 'GET', '/admin/broadcasts')).body.broadcasts as Array<
      Record<string, unknown>
    >;
    assert.equal(again.find((b) => b.id === id)?.status, 'done');
  });

  it('GET and cancel of an unknown broadcast: 404', async () => {
    assert.equal((await api(rig, 'GET', '/admin/broadcasts/B-nope')).status, 404);
    assert.equal((await api(rig, 'POST', '/admin/broadcasts/B-nope/cancel')).status, 404);
  });
});

describe('broadcast audiences', () => {
  let rig: Rig;
  // Telegram chats and SMS numbers of the people below.
  const T_DAM = '610001'; // ar, own governorate Damascus
  const T_ALE_FOLLOWS_DAM = 610002; // en, lives in Aleppo, follows Damascus electricity 1000101
  const T_WATER_ALE = '610003'; // ar, Aleppo, follows nothing through us but water 2000301
  const T_HOM = '610004'; // en, Homs
  const T_OUT = '610005'; // ar, Damascus, opted out before any broadcast
  const S_DAM = '+963944610001'; // ar, Damascus
  const S_EN = '+963944610002'; // en, no governorate

  before(async () => {
    rig = await startRig(NOON);
    const store = rig.t.tasdeed.store;
    await subscriber(rig, 'telegram', T_DAM, { governorate: 'DAM' });
    // Follows through the conversation, so the account's governorate is the biller's answer.
    await telegramSays(rig, T_ALE_FOLLOWS_DAM, 'اشترك كهرباء 1000101');
    const follower = await waitFor('the follow to be recorded', async () => {
      const identity = await store.findIdentity('telegram', String(T_ALE_FOLLOWS_DAM));
      if (!identity) return null;
      const follows = await store.followsOf(identity.subscriberId);
      return follows.length > 0 ? identity : null;
    });
    assert.equal(
      (await store.getAccountSnapshot('electricity', '1000101'))?.governorate,
      'DAM',
      'the simulated biller places 1000101 in Damascus',
    );
    await store.updateSubscriber(follower.subscriberId, { governorate: 'ALE', language: 'en' });
    const water = await subscriber(rig, 'telegram', T_WATER_ALE, { governorate: 'ALE' });
    assert.equal(await store.followUpTo(water.subscriberId, 'water', '2000301', 10), 'added');
    await subscriber(rig, 'telegram', T_HOM, { language: 'en', governorate: 'HOM' });
    await subscriber(rig, 'telegram', T_OUT, { governorate: 'DAM', optedOut: true });
    await subscriber(rig, 'sms', S_DAM, { governorate: 'DAM' });
    await subscriber(rig, 'sms', S_EN, { language: 'en' });
  });
  after(async () => {
    await rig.close();
  });

  /**
   * Sends to the audience and returns who got it, as `tg:<chat>`/`sms:<number>`, after
   * checking the dry run and the 201 counted the same people.
   */
  async function reached(
    audience: Record<string, unknown>,
    channels?: string[],
  ): Promise<string[]> {
    const text = { ar: unique('إعلان من تسديد'), en: unique('Notice from Tasdeed') };
    const body = { text, audience, ...(channels ? { channels } : {}) };
    const dry = await send(rig, { ...body, dryRun: true });
    assert.equal(dry.status, 200);
    const b = await created(rig, body);
    assert.equal(b.recipients, dry.body.recipients);
    const done = await untilDone(rig, b.id);
    const who = [...telegramArrivals(rig, text.ar), ...telegramArrivals(rig, text.en)].map(
      (c) => `tg:${c}`,
    );
    who.push(
      ...[...smsArrivals(rig, text.ar), ...smsArrivals(rig, text.en)].map((n) => `sms:${n}`),
    );
    assert.equal(done.counts.sent, who.length);
    assert.equal(done.recipients, who.length);
    // Each in their language.
    for (const c of telegramArrivals(rig, text.en))
      assert.ok([String(T_ALE_FOLLOWS_DAM), T_HOM].includes(c), `English to ${c}`);
    return who.sort();
  }

  it('all: everyone reachable, never the opted-out', async () => {
    assert.deepEqual(
      await reached({ all: true }),
      [
        `sms:${S_DAM}`,
        `sms:${S_EN}`,
        `tg:${T_DAM}`,
        `tg:${T_ALE_FOLLOWS_DAM}`,
        `tg:${T_WATER_ALE}`,
        `tg:${T_HOM}`,
      ].sort(),
    );
  });

  it('governorates: the subscriber’s own, and those of the accounts they follow', async () => {
    assert.deepEqual(
      await reached({ governorates: ['DAM'] }),
      [`sms:${S_DAM}`, `tg:${T_DAM}`, `tg:${T_ALE_FOLLOWS_DAM}`].sort(),
    );
    assert.deepEqual(
      await reached({ governorates: ['ALE', 'HOM'] }),
      [`tg:${T_ALE_FOLLOWS_DAM}`, `tg:${T_WATER_ALE}`, `tg:${T_HOM}`].sort(),
    );
  });

  it('billers and languages', async () => {
    assert.deepEqual(await reached({ billers: ['electricity'] }), [`tg:${T_ALE_FOLLOWS_DAM}`]);
    assert.deepEqual(await reached({ billers: ['water'] }), [`tg:${T_WATER_ALE}`]);
    assert.deepEqual(
      await reached({ languages: ['en'] }),
      [`sms:${S_EN}`, `tg:${T_ALE_FOLLOWS_DAM}`, `tg:${T_HOM}`].sort(),
    );
  });

  it('combined: every filter given must match', async () => {
    assert.deepEqual(await reached({ governorates: ['DAM'], languages: ['en'] }), [
      `tg:${T_ALE_FOLLOWS_DAM}`,
    ]);
    assert.deepEqual(
      await reached({ governorates: ['DAM'], languages: ['ar'] }),
      [`sms:${S_DAM}`, `tg:${T_DAM}`].sort(),
    );
    assert.deepEqual(await reached({ governorates: ['ALE'], billers: ['water'] }), [
      `tg:${T_WATER_ALE}`,
    ]);
    // Nobody matches all three: a broadcast to nobody is done at once.
    assert.deepEqual(
      await reached({ governorates: ['HOM'], billers: ['electricity'], languages: ['ar'] }),
      [],
    );
  });

  it('channels: SMS only, Telegram only', async () => {
    assert.deepEqual(await reached({ all: true }, ['sms']), [`sms:${S_DAM}`, `sms:${S_EN}`]);
    assert.deepEqual(
      await reached({ governorates: ['DAM'] }, ['telegram']),
      [`tg:${T_DAM}`, `tg:${T_ALE_FOLLOWS_DAM}`].sort(),
    );
  });

  it('the opted-out subscriber got no broadcast at all', () => {
    const any = rig.tg.calls.filter(
      (c) => c.method === 'sendMessage' && String(c.params.chat_id) === T_OUT,
    );
    assert.deepEqual(any, []);
  });
});

describe('broadcast progress and cancel (bulk at 5/s)', () => {
  const ENGLISH = 12;
  const ARABIC = 60;
  let rig: Rig;
  const english: string[] = [];
  const arabic: string[] = [];
  before(async () => {
    rig = await startRig(NOON, { TELEGRAM_BULK_PER_SECOND: '5' });
    for (let i = 0; i < ENGLISH; i++) {
      const chat = String(620_000 + i);
      english.push(chat);
      await subscriber(rig, 'telegram', chat, { language: 'en' });
    }
    for (let i = 0; i < ARABIC; i++) {
      const chat = String(630_000 + i);
      arabic.push(chat);
      await subscriber(rig, 'telegram', chat, { language: 'ar' });
    }
  });
  after(async () => {
    await rig.close();
  });

  it('counts by state move from queued to sent; status sending → done; 409 to cancel it then', async () => {
    const text = unique('Service notice');
    const b = await created(rig, {
      text: { ar: 'إشعار', en: text },
      audience: { languages: ['en'] },
    });
    assert.equal(b.status, 'sending');
    assert.equal(b.recipients, ENGLISH);
    const seen: Progress[] = [];
    const done = await waitFor('the broadcast to finish', async () => {
      const p = await progress(rig, b.id);
      seen.push(p);
      const c = p.counts;
      // Rows appear as they are planned, and never more than the recipients.
      assert.equal(p.recipients, ENGLISH);
      assert.ok(
        c.queued + c.sent + c.failed + c.skipped + c.cancelled <= ENGLISH,
        JSON.stringify(p),
      );
      return p.status === 'done' ? p : null;
    });
    assert.equal(seen[0]?.status, 'sending');
    assert.ok(
      seen.some((p) => p.status === 'sending' && p.counts.queued > 0 && p.counts.sent > 0),
      'seen part-way: at 5/s they take more than two seconds',
    );
    assert.deepEqual(done.counts, {
      queued: 0,
      sent: ENGLISH,
      delivered: 0,
      failed: 0,
      skipped: 0,
      cancelled: 0,
    });
    assert.deepEqual(telegramArrivals(rig, text), [...english].sort());
    const again = await api(rig, 'POST', `/admin/broadcasts/${b.id}/cancel`);
    assert.equal(again.status, 409);
    assert.equal(again.body.status, 'done');
  });

  it('a broadcast whose rows are all finished is finished: 409, even before anyone asked', async () => {
    const text = unique('Second notice');
    const b = await created(rig, {
      text: { ar: 'إشعار', en: text },
      audience: { languages: ['en'] },
    });
    // Wait on the store, not GET /admin/broadcasts/:id (which would also record it as done).
    await waitFor(
      'every row to finish',
      async () => (await rig.t.tasdeed.store.broadcastCounts(b.id)).sent === ENGLISH,
    );
    const r = await api(rig, 'POST', `/admin/broadcasts/${b.id}/cancel`);
    assert.equal(r.status, 409, JSON.stringify(r.body));
    assert.equal((await progress(rig, b.id)).status, 'done');
  });

  it('cancel mid-way: the rest is cancelled and nothing more arrives', async (t) => {
    const text = unique('إعلان طويل');
    const b = await created(rig, { text: { ar: text }, audience: { languages: ['ar'] } });
    assert.equal(b.recipients, ARABIC);
    await waitFor('some to arrive', () => telegramArrivals(rig, text).length >= 5);
    const r = await api(rig, 'POST', `/admin/broadcasts/${b.id}/cancel`);
    const atCancel = telegramArrivals(rig, text).length;
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.status, 'cancelled');
    // What was in flight finishes; then every row is in a final state and nothing can move.
    const settled = await waitFor('the rows in flight to finish', async () => {
      const p = await progress(rig, b.id);
      return p.counts.queued === 0 ? p : null;
    });
    const arrivals = telegramArrivals(rig, text);
    assert.equal(settled.status, 'cancelled');
    assert.ok(settled.counts.cancelled > 0, JSON.stringify(settled));
    assert.equal(settled.counts.sent, arrivals.length, 'every arrival is a sent row');
    assert.equal(settled.counts.sent + settled.counts.cancelled, ARABIC);
    assert.equal(new Set(arrivals).size, arrivals.length, 'nobody twice');
    const inFlight = rig.t.tasdeed.dispatcher.pools.find((p) => p.name === 'bulk')!.inFlight;
    t.diagnostic(
      `${atCancel} arrived before the cancel, ${arrivals.length - atCancel} in flight after it`,
    );
    assert.ok(
      arrivals.length <= atCancel + inFlight,
      `${arrivals.length - atCancel} arrived after the cancel (at most ${inFlight} in flight)`,
    );
    // Cancelling again changes nothing and says so; the dispatcher has nothing left.
    const again = await api(rig, 'POST', `/admin/broadcasts/${b.id}/cancel`);
    assert.equal(again.status, 200);
    assert.equal(again.body.status, 'cancelled');
    assert.equal(await rig.t.tasdeed.dispatcher.drain(), 0);
    assert.equal(telegramArrivals(rig, text).length, arrivals.length);
  });
});

describe('broadcasts in quiet hours, and opting out while one is queued', () => {
  let rig: Rig;
  const chats = ['640001', '640002', '640003', '640004'];
  const STOPPER = 640_005;
  before(async () => {
    rig = await startRig(NIGHT);
    for (const chat of chats) await subscriber(rig, 'telegram', chat);
    await subscriber(rig, 'telegram', String(STOPPER));
  });
  after(async () => {
    await rig.close();
  });

  it('holds a non-urgent broadcast until the quiet hours end; an urgent one goes at once', async () => {
    const held = unique('تمديد مهلة الدفع');
    const heldB = await created(rig, { text: { ar: held }, audience: { all: true } });
    assert.equal(heldB.recipients, 5);
    const urgent = unique('انقطاع طارئ');
    const urgentB = await created(rig, {
      text: { ar: urgent },
      audience: { all: true },
      urgent: true,
    });
    const urgentDone = await untilDone(rig, urgentB.id);
    assert.equal(urgentDone.counts.sent, 5);
    assert.deepEqual(telegramArrivals(rig, urgent), [...chats, String(STOPPER)].sort());
    // The dispatcher ran and sent the urgent one, and left the other alone.
    assert.deepEqual(telegramArrivals(rig, held), []);
    const waiting = await progress(rig, heldB.id);
    assert.equal(waiting.status, 'sending');
    assert.equal(waiting.counts.queued, 5);

    // One of them opts out while it waits.
    await telegramSays(rig, STOPPER, 'STOP');
    await waitFor(
      'the opt-out',
      async () =>
        (await rig.t.tasdeed.store.findIdentity('telegram', String(STOPPER)))?.optedOut === true,
    );
    assert.deepEqual(telegramArrivals(rig, held), []);

    // Morning: the quiet hours end.
    rig.clock.advance(MORNING.getTime() - NIGHT.getTime() + 60_000);
    rig.t.tasdeed.dispatcher.notify();
    const done = await untilDone(rig, heldB.id);
    assert.deepEqual(telegramArrivals(rig, held), [...chats].sort());
    assert.deepEqual(done.counts, {
      queued: 0,
      sent: 4,
      delivered: 0,
      failed: 0,
      skipped: 1,
      cancelled: 0,
    });
    // The opted-out chat got the STOP confirmation and the urgent one from before, nothing since.
    const toStopper = rig.tg.sentTo(STOPPER).map((m) => m.text);
    assert.ok(!toStopper.includes(held));
  });

  it('a broadcast created after the opt-out leaves them out from the start', async () => {
    const text = unique('إعلان');
    const b = await created(rig, { text: { ar: text }, audience: { all: true } });
    assert.equal(b.recipients, 4);
    await untilDone(rig, b.id);
    assert.deepEqual(telegramArrivals(rig, text), [...chats].sort());
  });
});
