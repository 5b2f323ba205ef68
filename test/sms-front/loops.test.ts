/**
 * Auto-responder loops by SMS, through the fake Twilio: the same text from the same number
 * three times in ten minutes, answered the same way each time, is not answered for an hour
 * (another machine answering our replies would otherwise cost an SMS each way forever), while
 * MORE, numbers and STOP/START/HELP are always answered. The app runs on a clock the test moves.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeClock, outboxItemsOf, waitFor } from '../support/harness.js';
import { newSid, nth, startSms, twilioInbound, twilioTo, type SmsRig } from './rig.js';

const MINUTE = 60_000;
/** What a mail-merge or a shop's phone answers to anything, our replies included. */
const AUTO_REPLY = 'Thank you for your message. We will get back to you shortly.';

describe('SMS auto-responder loops', () => {
  const clock = new FakeClock(new Date());
  let rig: SmsRig;
  before(async () => {
    rig = await startSms({}, { clock });
  });
  after(async () => {
    await rig.close();
  });

  /**
   * Sends a text and waits until it is processed and its reply, if it got one, is finished;
   * returns what that reply sent. A reply that failed for now and waits for its retry (a slow
   * moment of the fake Twilio) is waited for, moving the clock to its retry.
   */
  async function send(from: string, text: string): Promise<string[]> {
    const before = twilioTo(rig, from).length;
    const sid = newSid();
    assert.equal((await twilioInbound(rig, from, text, sid)).status, 200);
    await rig.t.tasdeed.sms!.inbox.drain();
    const identity = await rig.t.tasdeed.store.findIdentity('sms', from);
    assert.ok(identity, `${from} is known`);
    const reply = (await outboxItemsOf(rig.t, identity.id)).find((i) =>
      i.dedupeKey?.startsWith(`sms:twilio:${sid}:`),
    );
    if (!reply) return [];
    const done = await waitFor(`the reply to ${text}`, async () => {
      await rig.t.tasdeed.dispatcher.drain();
      const item = await rig.t.tasdeed.store.getOutboxItem(reply.id);
      if (item?.status === 'queued' && item.nextAttemptAt > clock.now())
        clock.advance(item.nextAttemptAt.getTime() - clock.now().getTime());
      return item && item.status !== 'queued' && item.status !== 'leased' ? item : null;
    });
    if (done.status !== 'sent') return [];
    await waitFor('the fake Twilio to have it', () => twilioTo(rig, from).length > before);
    return twilioTo(rig, from).slice(before);
  }

  /** Sends a text `times` times, `every` apart; returns how many got an answer. */
  async function repeat(from: string, text: string, times: number, every = 2 * MINUTE) {
    let answered = 0;
    for (let i = 0; i < times; i++) {
      if (i > 0) clock.advance(every);
      if ((await send(from, text)).length > 0) answered++;
    }
    return answered;
  }

  it('answers the first two, then is silent for an hour; the messages are still processed', async () => {
    const from = '+963944800001';
    const first = await send(from, AUTO_REPLY);
    assert.equal(first.length, 1, 'the first is answered');
    clock.advance(3 * MINUTE);
    assert.deepEqual(await send(from, AUTO_REPLY), first, 'the second, the same way');
    clock.advance(3 * MINUTE);
    assert.deepEqual(await send(from, AUTO_REPLY), [], 'the third in 10 minutes: silence');
    for (const wait of [14, 30, 15]) {
      clock.advance(wait * MINUTE);
      assert.deepEqual(await send(from, AUTO_REPLY), [], `still silent (+${wait} min)`);
    }
    // An hour after the silence began, the text is answered again.
    clock.advance(2 * MINUTE);
    assert.deepEqual(await send(from, AUTO_REPLY), first, 'answered again after the hour');

    const identity = await rig.t.tasdeed.store.findIdentity('sms', from);
    assert.ok(identity);
    const items = await outboxItemsOf(rig.t, identity.id);
    assert.deepEqual(
      items.map((i) => i.status),
      ['sent', 'sent', 'skipped', 'sent'],
      'the reply withheld is recorded once, as skipped; later silent ones write nothing',
    );
    assert.match(items[2]?.lastError ?? '', /auto-responder loop/);
    const inbound = await rig.t.tasdeed.store.unprocessedSmsInbound(100);
    assert.deepEqual(inbound, [], 'every message was processed');
  });

  it('a different text in between resets the count', async () => {
    const from = '+963944800002';
    let answered = 0;
    for (const text of [AUTO_REPLY, AUTO_REPLY, 'HELLO', AUTO_REPLY, AUTO_REPLY]) {
      clock.advance(MINUTE);
      if ((await send(from, text)).length > 0) answered++;
    }
    assert.equal(answered, 5);
    clock.advance(MINUTE);
    assert.deepEqual(await send(from, AUTO_REPLY), [], 'two in a row again, then the third');
  });

  it('the same text answered differently is not a loop', async () => {
    const from = '+963944800003';
    // Followed, then "already followed" twice: the third answer is the first repeated twice.
    const answers: string[][] = [];
    for (let i = 0; i < 4; i++) {
      clock.advance(MINUTE);
      answers.push(await send(from, 'ADD electricity 1000101'));
    }
    assert.notDeepEqual(answers[0], answers[1]);
    assert.deepEqual(answers[1], answers[2], 'answered the same way twice');
    assert.deepEqual(answers[3], [], 'then silence');
  });

  it('MORE / المزيد, numbers and HELP / START / ؟ are always answered', async () => {
    const cases: Array<[string, string]> = [
      ['+963944800011', 'MORE'],
      ['+963944800012', 'المزيد'],
      ['+963944800013', '1'],
      ['+963944800014', '١٠٠٠١٠١'],
      ['+963944800015', 'HELP'],
      ['+963944800016', 'مساعدة'],
      ['+963944800017', '؟'],
      ['+963944800018', 'START'],
      ['+963944800019', 'Help.'],
    ];
    for (const [from, text] of cases) {
      assert.equal(await repeat(from, text, 4, MINUTE), 4, `${text} four times in 4 minutes`);
    }
  });

  it('STOP three times opts out with one confirmation, even from a number being ignored', async () => {
    const from = '+963944800021';
    assert.equal(await repeat(from, AUTO_REPLY, 3, MINUTE), 2, 'looping: silenced');
    clock.advance(MINUTE);
    const stopped = await send(from, 'STOP');
    assert.equal(stopped.length, 1);
    assert.match(stopped[0]!, /^Tasdeed messages stopped/);
    clock.advance(MINUTE);
    assert.deepEqual(await send(from, 'STOP'), []);
    clock.advance(MINUTE);
    assert.deepEqual(await send(from, 'Stop.'), []);
    assert.equal((await rig.t.tasdeed.store.findIdentity('sms', from))?.optedOut, true);
    clock.advance(MINUTE);
    const back = await send(from, 'START');
    assert.equal(back.length, 1, 'START is answered');
    assert.match(await nth(rig, from, 4), /Tasdeed/);
  });
});
