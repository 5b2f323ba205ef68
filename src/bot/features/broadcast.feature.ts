/**
 * Staff: /broadcast (docs/design.md §7: staff ids only, preview then confirm).
 *
 * /broadcast → the Arabic text is asked for (the next message) → the audience, as buttons
 * (everyone; one governorate, biller or language) → the preview: recipients, SMS parts per
 * message and in all → Send / Urgent send / Cancel. After Send: the broadcast id and a
 * progress line, with buttons to refresh the progress or cancel the broadcast.
 * `/broadcast <id>` (or the start of the id) shows the progress of a broadcast.
 *
 * Only staff reach this feature; for anyone else the command and the buttons fall through to
 * "unhandled" and get what an unknown command or an old button gets.
 */
import { Composer, type Context } from 'grammy';
import {
  MAX_BROADCAST_TEXT,
  type BroadcastProgress,
} from '../../core/broadcasts/broadcast.service.js';
import { PENDING_TTL_MS } from '../../core/conversation/conversation.service.js';
import { GOVERNORATE_CODES, isGovernorateCode, type Language } from '../../core/domain.js';
import { reply, type Choice, type Reply, type ReplyArg } from '../../core/i18n/reply.js';
import { stripInvisible } from '../../core/text/normalize.js';
import type {
  BroadcastAudience,
  BroadcastStatus,
  IdentityRecord,
} from '../../core/ports/store.port.js';
import type { BotDeps } from '../deps.js';
import { isStaff } from '../staff.guard.js';
import { enqueueReplies, identityOf } from '../turn.js';
import {
  cancelButton,
  draftButton,
  DRAFT_BUTTON,
  newToken,
  openDraft,
  progressButton,
  saveDraft,
  SENT_BUTTON,
  type BroadcastDraft,
  type DraftAction,
} from './broadcast.draft.js';
import { answer } from './buttons.feature.js';

const LANGUAGES: readonly Language[] = ['ar', 'en'];

/** A broadcast id, or the start of one typed by hand (`/broadcast B-1a2b3c`). */
const ID_ARGUMENT = /^B-[A-Za-z0-9-]{4,60}$/;

const STATUS: Record<BroadcastStatus, ReplyArg> = {
  planning: { key: 'tg-broadcast-status-planning' },
  sending: { key: 'tg-broadcast-status-sending' },
  done: { key: 'tg-broadcast-status-done' },
  cancelled: { key: 'tg-broadcast-status-cancelled' },
};

export function broadcastFeature(deps: BotDeps): Composer<Context> {
  const composer = new Composer<Context>();
  const staff = composer.filter(isStaff(deps.staffIds));

  staff.command('broadcast', async (ctx) => {
    const identity = await identityOf(deps, ctx);
    if (!identity) return;
    // An id copied from one of the bot's messages carries Fluent's invisible isolation marks.
    const argument = stripInvisible(ctx.match).trim();
    if (argument) {
      await showProgress(deps, ctx, identity, argument);
      return;
    }
    const draft: BroadcastDraft = { kind: 'broadcast', token: newToken(), step: 'text' };
    await saveDraft(deps, identity.subscriberId, draft);
    await enqueueReplies(
      deps,
      ctx,
      identity,
      [reply('tg-broadcast-ask-text', { max: MAX_BROADCAST_TEXT })],
      [{ key: 'tg-broadcast-choice-drop', payload: draftButton(draft.token, 'drop') }],
    );
  });

  // The message after /broadcast is its text; anything else passes on.
  staff.on('message:text', async (ctx, next) => {
    const raw = ctx.message.text;
    if (raw.startsWith('/')) return next();
    const identity = await identityOf(deps, ctx);
    const subscriber = identity ? await deps.store.getSubscriber(identity.subscriberId) : null;
    const draft = subscriber ? openDraft(subscriber, deps.clock.now()) : null;
    if (!identity || !draft || draft.step !== 'text') return next();
    const command = deps.conversation.grammar.parse(raw);
    // STOP, START and HELP as the whole message win over any open question (docs/design.md §7).
    if (command.type === 'stop' || command.type === 'start' || command.type === 'help') {
      return next();
    }
    if (command.type === 'cancel') {
      await saveDraft(deps, identity.subscriberId, null);
      await enqueueReplies(deps, ctx, identity, [reply('cancelled')]);
      return;
    }
    const text = raw.trim();
    // Counted as the staff API counts it (the same limit, the same way).
    if (text.length > MAX_BROADCAST_TEXT) {
      await saveDraft(deps, identity.subscriberId, draft);
      await enqueueReplies(
        deps,
        ctx,
        identity,
        [reply('tg-broadcast-too-long', { max: MAX_BROADCAST_TEXT, length: text.length })],
        [{ key: 'tg-broadcast-choice-drop', payload: draftButton(draft.token, 'drop') }],
      );
      return;
    }
    await askAudience(deps, ctx, identity, text, []);
  });

  staff.callbackQuery(DRAFT_BUTTON, async (ctx) => {
    const [, token = '', action = '', value] = ctx.match;
    const identity = await identityOf(deps, ctx);
    const subscriber = identity ? await deps.store.getSubscriber(identity.subscriberId) : null;
    const sentAt = ctx.callbackQuery.message?.date;
    const fresh =
      sentAt !== undefined && deps.clock.now().getTime() - sentAt * 1000 <= PENDING_TTL_MS;
    const draft = subscriber && fresh ? openDraft(subscriber, deps.clock.now()) : null;
    if (!identity || !draft || draft.token !== token) {
      await answer(deps, ctx, 'tg-button-stale');
      return;
    }
    const handled = await onDraftButton(deps, ctx, identity, draft, action as DraftAction, value);
    if (!handled) await answer(deps, ctx, 'tg-button-stale');
  });

  // A sent broadcast's buttons stay good for as long as the broadcast exists.
  staff.callbackQuery(SENT_BUTTON, async (ctx) => {
    const [, which, id = ''] = ctx.match;
    const identity = await identityOf(deps, ctx);
    const progress = identity ? await deps.broadcasts.progress(id) : null;
    if (!identity || !progress) {
      await answer(deps, ctx, 'tg-button-stale');
      return;
    }
    await answer(deps, ctx);
    if (which === 'P') {
      await sendProgress(deps, ctx, identity, progress);
      return;
    }
    const outcome = await deps.broadcasts.cancel(id);
    deps.logger.info(
      { broadcastId: id, outcome, staff: ctx.from.id },
      'broadcast cancel asked in Telegram',
    );
    const after = (await deps.broadcasts.progress(id)) ?? progress;
    await sendProgress(deps, ctx, identity, after, [
      reply(outcome === 'cancelled' ? 'tg-broadcast-cancelled' : 'tg-broadcast-finished', { id }),
    ]);
  });

  return composer;
}

/** Acts on a pressed button of the open draft; false when it does not fit the draft's step. */
async function onDraftButton(
  deps: BotDeps,
  ctx: Context,
  identity: IdentityRecord,
  draft: BroadcastDraft,
  action: DraftAction,
  value: string | undefined,
): Promise<boolean> {
  if (action === 'drop') {
    await saveDraft(deps, identity.subscriberId, null);
    await answer(deps, ctx);
    await enqueueReplies(deps, ctx, identity, [reply('cancelled')]);
    return true;
  }
  if (action === 'send' || action === 'urgent') {
    if (draft.step !== 'confirm' || !draft.text || !draft.audience || value !== undefined) {
      return false;
    }
    // The draft goes first: an update handled twice (a crash before it was marked done)
    // then finds no draft, and nobody is sent the broadcast twice.
    await saveDraft(deps, identity.subscriberId, null);
    await answer(deps, ctx);
    const created = await deps.broadcasts.create({
      text: { ar: draft.text },
      audience: draft.audience,
      urgent: action === 'urgent',
      createdBy: `telegram:${ctx.from?.id ?? ''}`,
    });
    deps.logger.info(
      {
        broadcastId: created.id,
        recipients: created.recipients,
        urgent: created.urgent,
        staff: ctx.from?.id,
      },
      'broadcast created in Telegram',
    );
    const progress = await deps.broadcasts.progress(created.id);
    if (progress) {
      await sendProgress(deps, ctx, identity, progress, [
        reply('tg-broadcast-created', { id: created.id }),
      ]);
    }
    return true;
  }
  if (draft.step !== 'audience' || !draft.text) return false;
  const audience = audienceOf(deps, action, value);
  if (audience === 'invalid') return false;
  await answer(deps, ctx);
  if (audience === 'list') {
    await enqueueReplies(
      deps,
      ctx,
      identity,
      [reply('tg-broadcast-pick-one')],
      [...listChoices(deps, draft.token, action), dropChoice(draft.token)],
    );
    return true;
  }
  await showPreview(deps, ctx, identity, draft.text, audience);
  return true;
}

/** The audience a button names, 'list' for "by governorate/biller/language", or 'invalid'. */
function audienceOf(
  deps: BotDeps,
  action: DraftAction,
  value: string | undefined,
): BroadcastAudience | 'list' | 'invalid' {
  if (action === 'all') return value === undefined ? { all: true } : 'invalid';
  if (value === undefined)
    return action === 'gov' || action === 'biller' || action === 'lang' ? 'list' : 'invalid';
  if (action === 'gov' && isGovernorateCode(value)) return { governorates: [value] };
  if (action === 'biller' && deps.catalogue.billers.some((b) => b.id === value)) {
    return { billers: [value] };
  }
  if (action === 'lang' && (LANGUAGES as readonly string[]).includes(value)) {
    return { languages: [value as Language] };
  }
  return 'invalid';
}

function listChoices(deps: BotDeps, token: string, action: DraftAction): Choice[] {
  switch (action) {
    case 'gov':
      return GOVERNORATE_CODES.map((gov) => ({
        key: 'choice-gov',
        args: { gov: { gov } },
        payload: draftButton(token, 'gov', gov),
      }));
    case 'biller':
      return deps.catalogue.billers.map((b) => ({
        key: 'choice-biller',
        args: { biller: { biller: b.id } },
        payload: draftButton(token, 'biller', b.id),
      }));
    default:
      return [
        { key: 'choice-language-ar', payload: draftButton(token, 'lang', 'ar') },
        { key: 'choice-language-en', payload: draftButton(token, 'lang', 'en') },
      ];
  }
}

function dropChoice(token: string): Choice {
  return { key: 'tg-broadcast-choice-drop', payload: draftButton(token, 'drop') };
}

/** The text is known: the audience is asked for (a new step, so older buttons go stale). */
async function askAudience(
  deps: BotDeps,
  ctx: Context,
  identity: IdentityRecord,
  text: string,
  before: Reply[],
): Promise<void> {
  const draft: BroadcastDraft = { kind: 'broadcast', token: newToken(), step: 'audience', text };
  await saveDraft(deps, identity.subscriberId, draft);
  const t = draft.token;
  await enqueueReplies(
    deps,
    ctx,
    identity,
    [...before, reply('tg-broadcast-pick-audience')],
    [
      { key: 'tg-broadcast-choice-all', payload: draftButton(t, 'all') },
      { key: 'tg-broadcast-choice-gov', payload: draftButton(t, 'gov') },
      { key: 'tg-broadcast-choice-biller', payload: draftButton(t, 'biller') },
      { key: 'tg-broadcast-choice-lang', payload: draftButton(t, 'lang') },
      dropChoice(t),
    ],
  );
}

/** The figures before sending; nobody in the audience → the audience is asked for again. */
async function showPreview(
  deps: BotDeps,
  ctx: Context,
  identity: IdentityRecord,
  text: string,
  audience: BroadcastAudience,
): Promise<void> {
  const preview = await deps.broadcasts.preview({ text: { ar: text }, audience });
  const who = reply('tg-broadcast-audience', { audience: describeAudience(audience) });
  if (preview.recipients === 0) {
    await askAudience(deps, ctx, identity, text, [who, reply('tg-broadcast-nobody')]);
    return;
  }
  const draft: BroadcastDraft = {
    kind: 'broadcast',
    token: newToken(),
    step: 'confirm',
    text,
    audience,
  };
  await saveDraft(deps, identity.subscriberId, draft);
  await enqueueReplies(
    deps,
    ctx,
    identity,
    [
      reply('tg-broadcast-preview'),
      reply('tg-broadcast-text', { text }),
      who,
      reply('tg-broadcast-figures', {
        recipients: preview.recipients,
        parts: preview.smsPartsPerMessage,
        total: preview.smsPartsTotal,
      }),
      reply('tg-broadcast-quiet-note'),
    ],
    [
      { key: 'tg-broadcast-choice-send', payload: draftButton(draft.token, 'send') },
      { key: 'tg-broadcast-choice-urgent', payload: draftButton(draft.token, 'urgent') },
      dropChoice(draft.token),
    ],
  );
}

function describeAudience(audience: BroadcastAudience): ReplyArg {
  if ('all' in audience) return { key: 'tg-broadcast-audience-all' };
  const gov = audience.governorates?.[0];
  if (gov) return { gov };
  const biller = audience.billers?.[0];
  if (biller) return { biller };
  return audience.languages?.[0] === 'en'
    ? { key: 'choice-language-en' }
    : { key: 'choice-language-ar' };
}

/** `/broadcast <id>`: the id, or the start of one among the latest broadcasts. */
async function showProgress(
  deps: BotDeps,
  ctx: Context,
  identity: IdentityRecord,
  argument: string,
): Promise<void> {
  let progress = ID_ARGUMENT.test(argument) ? await deps.broadcasts.progress(argument) : null;
  if (!progress && ID_ARGUMENT.test(argument)) {
    const prefix = argument.toLowerCase();
    const matches = (await deps.broadcasts.list()).filter((b) =>
      b.id.toLowerCase().startsWith(prefix),
    );
    const only = matches.length === 1 ? matches[0] : undefined;
    if (only) progress = await deps.broadcasts.progress(only.id);
  }
  if (!progress) {
    await enqueueReplies(deps, ctx, identity, [
      reply('tg-broadcast-unknown', { id: argument.slice(0, 64) }),
    ]);
    return;
  }
  await sendProgress(deps, ctx, identity, progress);
}

/** The progress line, with Refresh and Cancel while the broadcast still runs. */
async function sendProgress(
  deps: BotDeps,
  ctx: Context,
  identity: IdentityRecord,
  progress: BroadcastProgress,
  before: Reply[] = [],
): Promise<void> {
  const { id, counts } = progress;
  const running = progress.status === 'planning' || progress.status === 'sending';
  await enqueueReplies(
    deps,
    ctx,
    identity,
    [
      ...before,
      reply('tg-broadcast-progress', {
        id,
        status: STATUS[progress.status],
        recipients: progress.recipients,
        queued: counts.queued,
        sent: counts.sent,
        delivered: counts.delivered,
        failed: counts.failed,
        skipped: counts.skipped,
        cancelled: counts.cancelled,
      }),
    ],
    running
      ? [
          { key: 'tg-broadcast-choice-progress', payload: progressButton(id) },
          { key: 'tg-broadcast-choice-cancel', payload: cancelButton(id) },
        ]
      : [],
  );
}
