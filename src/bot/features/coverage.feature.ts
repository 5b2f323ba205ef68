/**
 * Staff: /coverage shows e-payment coverage per biller × governorate and switches it with
 * buttons. `COV <biller>` shows one biller; `COV <biller> <GOV> on|off` sets one cell and
 * redraws the buttons of that message in place.
 */
import { Composer, type Context } from 'grammy';
import { GOVERNORATE_CODES, isGovernorateCode } from '../../core/domain.js';
import type { Choice } from '../../core/i18n/reply.js';
import type { BotDeps } from '../deps.js';
import { isStaff } from '../staff.guard.js';
import { keyboardFor } from '../telegram.sender.js';
import { enqueueReplies, identityOf } from '../turn.js';
import { answer } from './buttons.feature.js';

const COV = /^COV ([a-z0-9_-]{1,40})(?: ([A-Z]{3}) (on|off))?$/;

export function coverageFeature(deps: BotDeps): Composer<Context> {
  const composer = new Composer<Context>();
  const staff = composer.filter(isStaff(deps.staffIds));

  staff.command('coverage', async (ctx) => {
    const identity = await identityOf(deps, ctx);
    if (!identity) return;
    const choices: Choice[] = deps.catalogue.billers.map((b) => ({
      key: 'choice-biller',
      args: { biller: { biller: b.id } },
      payload: `COV ${b.id}`,
    }));
    await enqueueReplies(deps, ctx, identity, [{ key: 'tg-coverage-pick' }], choices);
  });

  staff.callbackQuery(COV, async (ctx) => {
    const [, billerId = '', gov, state] = ctx.match;
    if (
      !deps.catalogue.billers.some((b) => b.id === billerId) ||
      (gov && !isGovernorateCode(gov))
    ) {
      await answer(deps, ctx, 'tg-button-stale');
      return;
    }
    const identity = await identityOf(deps, ctx);
    if (!identity) return;
    if (!gov) {
      await answer(deps, ctx);
      await enqueueReplies(
        deps,
        ctx,
        identity,
        [{ key: 'tg-coverage-of', args: { biller: { biller: billerId } } }],
        await coverageChoices(deps, billerId),
      );
      return;
    }
    await deps.store.setCoverage(billerId, gov, state === 'on', `telegram:${ctx.from.id}`);
    deps.logger.info(
      { billerId, gov, available: state === 'on', staff: ctx.from.id },
      'coverage set',
    );
    await answer(deps, ctx, undefined, {
      key: 'tg-coverage-set',
      args: {
        biller: { biller: billerId },
        gov: { gov },
        state: { key: state === 'on' ? 'coverage-on' : 'coverage-off' },
      },
    });
    await redraw(deps, ctx, identity.subscriberId, billerId);
  });
  return composer;
}

async function coverageChoices(deps: BotDeps, billerId: string): Promise<Choice[]> {
  const rows = await deps.store.listCoverage();
  return GOVERNORATE_CODES.map((gov) => {
    const available =
      rows.find((r) => r.billerId === billerId && r.governorate === gov)?.available ?? true;
    return {
      key: 'choice-coverage',
      args: { mark: available ? '✅' : '❌', gov: { gov } },
      payload: `COV ${billerId} ${gov} ${available ? 'off' : 'on'}`,
    };
  });
}

/** Redraws the pressed message's buttons (an edit, not a new message). */
async function redraw(deps: BotDeps, ctx: Context, subscriberId: string, billerId: string) {
  const subscriber = await deps.store.getSubscriber(subscriberId);
  const language = subscriber?.language ?? 'ar';
  const choices = (await coverageChoices(deps, billerId)).map((c) => ({
    label: deps.translator.render(c, { language, medium: 'telegram' }),
    payload: c.payload,
  }));
  const markup = keyboardFor(choices);
  if (!markup || !('inline_keyboard' in markup)) return;
  try {
    await ctx.editMessageReplyMarkup({ reply_markup: markup });
  } catch (error) {
    deps.logger.warn({ err: error }, 'could not redraw the coverage buttons');
  }
}
