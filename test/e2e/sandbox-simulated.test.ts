/**
 * The newcomer's path: the embedded defaults (SQLite, simulated biller and payment channel)
 * driven through the sandbox HTTP channel.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  demoCatalogue,
  SandboxUser,
  startTasdeed,
  waitFor,
  type Running,
} from '../support/harness.js';

describe('sandbox on the simulated adapters', () => {
  let t: Running;
  before(async () => {
    t = await startTasdeed();
  });
  after(async () => {
    await t.close();
  });

  it('answers a bill inquiry written with Arabic-Indic digits, in Arabic', async () => {
    const user = new SandboxUser(t.url, 'sms', '+963944100001');
    const r = await user.say('فاتورة كهرباء ١٠٠٠١٠١');
    assert.equal(r.replies.length, 1);
    assert.match(r.replies[0]!, /^الكهرباء 1000101: \d+ ل\.س، [\d-]+، حتى \d\d\/\d\d/);
    assert.deepEqual(
      r.choices.map((c) => c.payload),
      ['PAY electricity 1000101', 'ADD electricity 1000101'],
    );
    // SMS shows the choices as numbered options.
    assert.match(r.replies[0]!, /\n1\) ادفع 2\) تابع$/);
  });

  it('answers in English to a sender whose first message is in Latin script', async () => {
    const user = new SandboxUser(t.url, 'telegram', 'latin-user');
    const r = await user.say('BILL water 2000301');
    assert.match(r.replies[0]!, /^Water 2000301: [\d,]+ SYP, period \S+, due \d\d\/\d\d\/\d{4}$/);
  });

  it('pays a bill end to end: payment confirmed by the signed webhook, receipt produced once', async () => {
    const user = new SandboxUser(t.url, 'sms', '+963944100002');
    const bill = await user.say('فاتورة كهرباء 1000201');
    const pay = bill.choices.find((c) => c.payload.startsWith('PAY'));
    assert.ok(pay);
    const started = await user.say('1');
    assert.match(started.replies[0]!, /^دفعة P-[0-9A-Z]{10}: \d+ ل\.س\. أكّدها من هاتفك\.$/);
    const ref = /P-[0-9A-Z]{10}/.exec(started.replies[0]!)![0];

    const inbox = await user.waitForInbox(1);
    assert.match(
      inbox[0]!.text,
      new RegExp(`^إيصال: دُفع \\d+ ل\\.س لفاتورة الكهرباء 1000201 عبر .+ المرجع ${ref}$`),
    );

    const payment = await waitFor('settlement', async () => {
      const p = await t.tasdeed.store.getPayment(ref);
      return p?.settlementStatus === 'acknowledged' ? p : null;
    });
    assert.equal(payment.status, 'succeeded');
    const after = await user.say('فاتورة كهرباء 1000201');
    assert.match(after.replies[0]!, /لا فواتير مستحقة/);
    assert.equal((await user.inbox()).length, 1, 'one receipt, no more');
  });

  it('asks a Telegram user for the wallet number once, then pays', async () => {
    const user = new SandboxUser(t.url, 'telegram', 'tg-wallet');
    const channels = await user.say('ادفع مياه 2000101');
    assert.match(channels.replies[0]!, /^ادفع \d+ ل\.س لفاتورة المياه 2000101 عبر:$/);
    assert.deepEqual(
      channels.choices.map((c) => c.payload),
      ['PAY water 2000101 syriatel-cash', 'PAY water 2000101 mtn-cash', 'PAY water 2000101 bank'],
    );
    const ask = await user.press('PAY water 2000101 bank');
    assert.match(ask.replies[0]!, /رقم الهاتف المسجّل في محفظتك/);
    const wrong = await user.say('not a number');
    assert.match(wrong.replies[0]!, /ليس رقم هاتف/);
    // A command instead of a number is acted on, and the question is dropped.
    assert.match((await user.say('فاتورة مياه 2000101')).replies[0]!, /^المياه 2000101: /);
    assert.match(
      (await user.say('ادفع مياه 2000101 بنك')).replies[0]!,
      /رقم الهاتف المسجّل في محفظتك/,
    );
    const paid = await user.say('٠٩٤٤١٢٣٤٥٦');
    assert.match(paid.replies[0]!, /^الدفعة P-[0-9A-Z]{10}: /);
    await user.waitForInbox(1);
    const sub = await t.tasdeed.store.findIdentity('sandbox-telegram', 'tg-wallet');
    assert.equal(
      (await t.tasdeed.store.getSubscriber(sub!.subscriberId))?.walletNumber,
      '+963944123456',
    );
    // The next payment does not ask again, and the bank leads the channel buttons now.
    const offered = await user.say('PAY telecom 3000101');
    assert.equal(offered.choices[0]?.payload, 'PAY telecom 3000101 bank');
    const next = await user.press(offered.choices[0].payload);
    assert.match(next.replies[0]!, /P-[0-9A-Z]{10}/);
  });

  it('shows the old-pound equivalent for a bill issued before 2026, and that it is overdue', async () => {
    const user = new SandboxUser(t.url, 'sms', '+963944100010');
    const r = await user.say('فاتورة كهرباء 1009902');
    // Due 28/12/2025: on SMS "overdue" rather than a date that reads as this December's.
    assert.match(r.replies[0]!, /^الكهرباء 1009902: (\d+) ل\.س \((\d+) قديمة\)، 11-12، متأخرة\n/);
    const [, now, old] = /(\d+) ل\.س \((\d+) قديمة\)/.exec(r.replies[0]!)!;
    assert.equal(Number(old), Number(now) * 100);
    const tg = new SandboxUser(t.url, 'telegram', 'overdue-en');
    const en = await tg.say('BILL electricity 1009902');
    assert.match(
      en.replies[0]!,
      /^Electricity 1009902: .*, period 11-12, overdue since 28\/12\/2025$/,
    );
  });

  it('shows the old-pound amount when paying a bill issued before 2026, and on its receipt', async () => {
    const user = new SandboxUser(t.url, 'sms', '+963944100013');
    const pay = await user.say('PAY water 2009902');
    const m = /^Payment (P-[0-9A-Z]{10}): ([\d,]+) SYP \(([\d,]+) old\) for Water 2009902/.exec(
      pay.replies[0]!,
    );
    assert.ok(m, pay.replies[0]);
    const [, ref, now, old] = m;
    assert.equal(Number(old!.replace(/,/g, '')), Number(now!.replace(/,/g, '')) * 100);
    const [receipt] = await user.waitForInbox(1);
    assert.equal(
      receipt!.text,
      `Receipt: paid ${now} SYP (${old} old) for Water 2009902 via Syriatel Cash. Ref ${ref}`,
    );
  });

  it('gives the example of the command that was asked, and a button that says what it does', async () => {
    const user = new SandboxUser(t.url, 'telegram', 'examples-en');
    assert.equal(
      (await user.say('PAY')).replies[0],
      'Which service? Example: PAY electricity 1234567',
    );
    assert.equal(
      (await user.say('REMOVE 1000101')).replies[0],
      'Which service? Example: REMOVE electricity 1234567',
    );
    const ar = new SandboxUser(t.url, 'sms', '+963944100014');
    assert.equal(
      (await ar.say('ادفع')).replies[0]!.split('\n')[0],
      'أي خدمة؟ مثال: ادفع كهرباء 1234567',
    );
    const followed = await user.say('ADD electricity 1000301');
    assert.match(followed.replies[0]!, /^Following Electricity 1000301 /);
    assert.deepEqual(followed.choices, [
      { label: 'See the bill', payload: 'BILL electricity 1000301' },
    ]);
  });

  it('says clearly when the account is unknown', async () => {
    const user = new SandboxUser(t.url, 'sms', '+963944100003');
    const r = await user.say('فاتورة كهرباء 1234567890');
    assert.equal(r.replies[0], 'لا يوجد حساب 1234567890 لدى الكهرباء. تحقق من الرقم.');
  });

  it('says "try later" when the biller is down and nothing is cached, and offers to notify', async () => {
    const user = new SandboxUser(t.url, 'sms', '+963944100004');
    const r = await user.say('فاتورة كهرباء 1009901');
    assert.match(r.replies[0]!, /لا تستجيب الآن\. حاول لاحقاً/);
    assert.deepEqual(
      r.choices.map((c) => c.payload),
      ['NOTIFY electricity'],
    );
    const notify = await user.say('1');
    assert.match(notify.replies[0]!, /سنخبرك عندما تعود الكهرباء/);
  });

  it("keeps one account's outage to that account: others of the biller are still served fresh", async () => {
    const down = new SandboxUser(t.url, 'sms', '+963944100011');
    for (let i = 0; i < 6; i++) {
      const r = await down.say('BILL electricity 1009901');
      assert.match(r.replies[0]!, /Electricity is not answering now/);
    }
    const other = new SandboxUser(t.url, 'sms', '+963944100012');
    const fresh = await other.say('BILL electricity 1001201');
    assert.match(fresh.replies[0]!, /^Electricity 1001201: /);
    assert.doesNotMatch(fresh.replies.join('\n'), /Last known bill|not answering/);
    const pay = await other.say('PAY electricity 1001201');
    assert.match(pay.replies[0]!, /P-[0-9A-Z]{10}/);
  });

  it('points to the alternative in a governorate without e-payment, and still answers the inquiry', async () => {
    const user = new SandboxUser(t.url, 'sms', '+963944100005');
    const inquiry = await user.say('فاتورة كهرباء 1000801');
    assert.match(inquiry.replies[0]!, /^الكهرباء 1000801: /);
    const pay = await user.say('ادفع كهرباء 1000801');
    assert.match(pay.replies[0]!, /الدفع الإلكتروني غير متاح في إدلب/);
    assert.equal(
      (await t.tasdeed.store.listPayments({})).filter((p) => p.account === '1000801').length,
      0,
    );
  });

  it('follows and lists accounts, and turns settings on and off', async () => {
    const user = new SandboxUser(t.url, 'sms', '+963944100006');
    const add = await user.say('اشترك كهرباء 1000301');
    assert.match(add.replies[0]!, /^تمت متابعة الكهرباء 1000301 \(\S\*\*\*/);
    assert.match((await user.say('حساباتي')).replies.join('\n'), /الكهرباء 1000301/);
    assert.match((await user.say('فاتورة')).replies[0]!, /^الكهرباء 1000301: /);
    assert.equal((await user.say('تذكير إيقاف')).replies[0], 'التذكيرات متوقفة.');
    assert.match((await user.say('محافظة حلب')).replies[0]!, /حلب/);
    assert.match((await user.say('قديم')).replies[0]!, /القديمة/);
    assert.match((await user.say('فاتورة كهرباء 1000301')).replies[0]!, /\(\d+ قديمة\)/);
    assert.equal((await user.say('ENGLISH')).replies[0], 'Messages will be in English.');
    assert.match(
      (await user.say('REMOVE elec 1000301')).replies[0]!,
      /^Stopped following Electricity 1000301/,
    );
    assert.equal((await user.say('CANCEL')).replies[0], 'Nothing to cancel.');
  });

  it('answers garbage and oversized text with the short help, never an error', async () => {
    const user = new SandboxUser(t.url, 'sms', '+963944100007');
    for (const text of ['🙂🙂🙂', '\u202e\u0000ab', 'x'.repeat(1500), 'ب'.repeat(6000), '']) {
      const r = await user.say(text);
      assert.equal(r.replies.length, 1);
      assert.match(r.replies[0]!, /لم أفهم/);
    }
  });

  it('stops and restarts on STOP / START, winning over an open question', async () => {
    const user = new SandboxUser(t.url, 'telegram', 'tg-stop');
    await user.say('ادفع مياه 2000101'); // leaves a question open (wallet number)
    assert.match((await user.say('إيقاف')).replies[0]!, /تم إيقاف/);
    assert.deepEqual((await user.say('فاتورة مياه 2000101')).replies, []);
    assert.deepEqual((await user.say('إيقاف')).replies, []);
    assert.match((await user.say('بدء')).replies[0]!, /أهلاً/);
    assert.match((await user.say('مساعدة')).replies[0]!, /فاتورة/);
  });

  it('refuses malformed sandbox requests with 400 and changes nothing', async () => {
    for (const body of [
      '{',
      '{"channel":"fax","from":"x","text":"hi"}',
      '{"channel":"sms","text":"hi"}',
      '{"channel":"sms","from":"x","text":"a","payload":"b"}',
    ]) {
      const res = await fetch(`${t.url}/sandbox/messages`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body,
      });
      assert.equal(res.status, 400, body);
    }
    // Past the body limit (32 kB): 413, nothing recorded.
    const huge = await fetch(`${t.url}/sandbox/messages`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ channel: 'sms', from: 'x', text: 'x'.repeat(40_000) }),
    });
    assert.equal(huge.status, 413);
    assert.equal(await t.tasdeed.store.findIdentity('sandbox-sms', 'x'), null);
  });
});

describe('a payment still open when PAY is sent again (the payer has not approved yet)', () => {
  let t: Running;
  before(async () => {
    // The simulated payer takes ten minutes to approve: the payment stays pending.
    t = await startTasdeed({ catalogue: demoCatalogue(600_000) });
  });
  after(async () => {
    await t.close();
  });

  it('gives a Telegram payer the same reference at once, with no channel or wallet question', async () => {
    const user = new SandboxUser(t.url, 'telegram', 'tg-again');
    const offered = await user.say('PAY water 2000501');
    await user.press(offered.choices[0]!.payload);
    const started = await user.say('0944123456');
    const ref = /^Payment (P-[0-9A-Z]{10}): /.exec(started.replies[0] ?? '')?.[1];
    assert.ok(ref, JSON.stringify(started));
    for (const again of ['PAY water 2000501', 'ادفع مياه 2000501']) {
      const r = await user.say(again);
      assert.deepEqual(r.choices, [], again);
      assert.match(r.replies[0]!, new RegExp(`${ref}`), again);
    }
    assert.equal(
      (await user.say('PAY water 2000501')).replies[0],
      `Payment ${ref} for this bill is already in progress.`,
    );
    // Another subscriber is told someone else is paying, and offered a message when it ends.
    const other = new SandboxUser(t.url, 'telegram', 'tg-other');
    const busy = await other.say('PAY water 2000501');
    assert.match(busy.replies[0]!, /^Someone else started paying Water 2000501\./);
    assert.deepEqual(
      busy.choices.map((c) => c.payload),
      [`WATCHPAY ${ref}`],
    );
  });
});
