/**
 * The SMS segment budget (src/sms/sms-budget.ts: one part, TWO_PART_KEYS two), checked on what
 * really went out. Two views, both measured with measureSms:
 *  - each reply (message key) of every SMS outbox row, rendered as the SMS front renders it
 *    for that subscriber (language, old pounds): within its key's budget;
 *  - each SMS the provider stand-in received: one part, or two when it carries the text of a
 *    row with a two-part reply sent to that number (the row's text as sent).
 */
import type { Catalogue } from '../src/core/catalogue.js';
import type { Language } from '../src/core/domain.js';
import type { Choice, Reply } from '../src/core/i18n/reply.js';
import { Translator } from '../src/core/i18n/translator.js';
import { TWO_PART_KEYS } from '../src/sms/sms-budget.js';
import { cleanSmsText, measureSms, renderSmsTurn } from '../src/sms/sms-renderer.js';
import type { FakeTwilioMessage } from '../test/support/fake-twilio.server.js';
import type { DrillDatabase } from './database.js';

export interface BudgetOverrun {
  what: 'reply' | 'sms';
  keys: string[];
  parts: number;
  budget: number;
  text: string;
}

export interface BudgetReport {
  /** SMS the provider received, and their parts. */
  sms: number;
  parts: number;
  /** Replies (message keys) rendered and measured. */
  replies: number;
  /**
   * SMS the rows sent should have made (each row rendered and packed as the SMS front does);
   * more at the provider means rows sent again (at least once: a lease that expired).
   */
  expected: number;
  overruns: BudgetOverrun[];
}

const budgetOf = (keys: string[]) => (keys.some((k) => k in TWO_PART_KEYS) ? 2 : 1);

export async function checkSmsBudget(
  db: DrillDatabase,
  catalogue: Catalogue,
  sent: readonly FakeTwilioMessage[],
): Promise<BudgetReport> {
  const translator = new Translator(catalogue);
  const rows = await db.rows<{
    payload: string;
    sent: string | null;
    address: string;
    language: Language;
    /** 0/1 on SQLite, a boolean on PostgreSQL. */
    old: number | boolean;
  }>(
    `SELECT o."payload" AS payload, o."text" AS sent, i."address" AS address,
            s."language" AS language, s."showOldPounds" AS old
       FROM "OutboxItem" o
       JOIN "Identity" i ON i."id" = o."identityId"
       JOIN "Subscriber" s ON s."id" = i."subscriberId"
      WHERE i."channel" = 'sms' AND o."status" = 'sent' AND o."kind" = 'message'`,
  );

  const overruns: BudgetOverrun[] = [];
  /** Per number, the two-part replies sent to it (an SMS holding one may take two parts). */
  const twoPart = new Map<string, Array<{ key: string; text: string }>>();
  let replies = 0;
  let expected = 0;
  for (const row of rows) {
    const payload = JSON.parse(row.payload) as Reply & { also?: Reply[]; choices?: Choice[] };
    const turn = { replies: [payload, ...(payload.also ?? [])], choices: payload.choices ?? [] };
    const showOldPounds = row.old === 1 || row.old === true;
    const subscriber = { language: row.language, showOldPounds };
    expected += renderSmsTurn(translator, turn, subscriber, { maxParts: budgetOf([payload.key]) })
      .messages.length;
    for (const reply of turn.replies) {
      replies += 1;
      const text = cleanSmsText(
        translator.render(reply, {
          language: row.language,
          medium: 'sms',
          showOldPounds,
        }),
      );
      const { parts } = measureSms(text);
      const budget = budgetOf([reply.key]);
      if (parts > budget) overruns.push({ what: 'reply', keys: [reply.key], parts, budget, text });
    }
    // The text as it was sent (the subscriber's language or old-pound setting may have changed
    // since): its lines are the replies of the row, a two-part reply among them.
    const twoPartKey = turn.replies.find((r) => r.key in TWO_PART_KEYS)?.key;
    if (twoPartKey && row.sent) {
      for (const line of cleanSmsText(row.sent).split('\n')) {
        if (line.trim() === '') continue;
        const list = twoPart.get(row.address) ?? [];
        list.push({ key: twoPartKey, text: line });
        twoPart.set(row.address, list);
      }
    }
  }

  let parts = 0;
  for (const message of sent) {
    const text = message.form.Body ?? '';
    const m = measureSms(text);
    parts += m.parts;
    const holds = (twoPart.get(message.form.To ?? '') ?? []).find((r) => text.includes(r.text));
    const budget = holds ? 2 : 1;
    if (m.parts > budget)
      overruns.push({
        what: 'sms',
        keys: [holds?.key ?? 'one-part'],
        parts: m.parts,
        budget,
        text,
      });
  }
  return { sms: sent.length, parts, replies, expected, overruns };
}

/** A few overruns, one per line, for the report. */
export function describeOverruns(overruns: readonly BudgetOverrun[], max = 5): string[] {
  const byKind = new Map<string, BudgetOverrun[]>();
  for (const o of overruns) {
    const kind = `${o.what} ${o.keys.join('+')}`;
    byKind.set(kind, [...(byKind.get(kind) ?? []), o]);
  }
  return [...byKind.entries()].slice(0, max).map(([kind, list]) => {
    const worst = list.reduce((a, b) => (b.parts > a.parts ? b : a));
    const shown = worst.text.length > 160 ? `${worst.text.slice(0, 160)}…` : worst.text;
    return `${list.length}× ${kind}: ${worst.parts} parts (budget ${worst.budget}), e.g. ${JSON.stringify(shown)}`;
  });
}
