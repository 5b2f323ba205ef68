/**
 * The webhook route's own rules (docs/design.md §3), against the fake Bot API server and a real SQLite
 * file: registration with PUBLIC_URL and the secret token, 401 on a wrong secret (and nothing
 * recorded), 400 on a body that is not an update, a redelivered update acted on once. The
 * features in both modes are in features.test.ts; "answers at once" (a slow biller) is in
 * conversation.test.ts, where the biller is an HTTP stand-in.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../support/harness.js';
import {
  assertPressActedOnce,
  plain,
  postUpdate,
  queryIdOf,
  settled,
  startTelegram,
  type TelegramRig,
  TelegramUser,
  WEBHOOK_SECRET,
} from '../support/telegram.js';

/** Behind a proxy, under a path: what Telegram is told must be built from it. */
const PUBLIC_URL = 'https://tasdeed.example.test/base';

describe('Telegram webhook route', () => {
  let rig: TelegramRig;
  let chat = 760_000;
  const user = () => new TelegramUser(rig, ++chat);
  before(async () => {
    rig = await startTelegram({ mode: 'webhook', env: { PUBLIC_URL } });
  });
  after(async () => {
    await rig.close();
  });

  it('registers PUBLIC_URL + /telegram/webhook and the secret token at start', async () => {
    await waitFor('setWebhook', () => rig.fake.webhook);
    assert.deepEqual(rig.fake.webhook, {
      url: 'https://tasdeed.example.test/base/telegram/webhook',
      secretToken: WEBHOOK_SECRET,
    });
    const [call] = rig.fake.callsOf('setWebhook');
    assert.deepEqual(call?.params.allowed_updates, ['message', 'callback_query']);
    assert.equal(rig.fake.callsOf('deleteWebhook').length, 0);
    assert.equal(rig.fake.callsOf('getUpdates').length, 0);
    const languages = rig.fake
      .callsOf('setMyCommands')
      .map((c) => (c.params.language_code as string | undefined) ?? 'default');
    assert.deepEqual(languages.sort(), ['default', 'en']);
  });

  it('refuses a wrong or missing secret with 401 and records nothing: the same update is then taken', async () => {
    const u = user();
    const update = u.text('/start');
    assert.equal(await postUpdate(rig, update, 'wrong-secret'), 401);
    assert.equal(await postUpdate(rig, update, null), 401);
    assert.equal(await postUpdate(rig, update, `${WEBHOOK_SECRET}x`), 401);
    assert.equal(await postUpdate(rig, update, WEBHOOK_SECRET.slice(0, -1)), 401);
    // Had a refused post recorded it, this one would be a duplicate and go unanswered.
    assert.equal(await postUpdate(rig, update), 200);
    const welcome = await u.next();
    assert.match(plain(welcome.text), /^أهلاً بك في تسديد\./);
    await settled(rig, u.chatId);
    assert.equal(rig.fake.sentTo(u.chatId).length, 1, 'one reply, to the accepted post');
  });

  it('answers 400 to a body that is not an update', async () => {
    assert.equal(await postUpdate(rig, { update_id: -1 }), 400);
    assert.equal(await postUpdate(rig, { message: {} } as never), 400);
  });

  it('acts once on a redelivered button press (same update_id)', async () => {
    const u = user();
    const press = u.callback('ADD electricity 1000101');
    const queryId = queryIdOf(press);
    assert.equal(await postUpdate(rig, press), 200);
    const followed = await u.next();
    assert.match(plain(followed.text), /^تمت متابعة الكهرباء 1000101 /);
    // Telegram did not get the 200 in time and sends the update again.
    assert.equal(await postUpdate(rig, press), 200);
    await assertPressActedOnce(rig, u.chatId, queryId, 'electricity 1000101');
  });
});
