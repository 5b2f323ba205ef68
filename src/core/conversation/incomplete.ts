/**
 * What a command with its biller or account missing or wrong is answered: "which service?"
 * with a choice per biller (those whose account pattern fits the number, when one was given),
 * or the account number asked for, the question left open so that the next digits answer it.
 */
import type { Catalogue } from '../catalogue.js';
import { reply, type Choice, type Reply } from '../i18n/reply.js';
import type { Command } from './grammar.js';
import type { AccountIntent, Pending } from './pending.js';
import { shortAccount } from './wording.js';

/** The command word of each intent, as payloads and open questions spell it. */
export const VERBS: Record<AccountIntent, string> = {
  bill: 'BILL',
  pay: 'PAY',
  add: 'ADD',
  remove: 'REMOVE',
};

export function incompleteAnswer(
  catalogue: Catalogue,
  command: Extract<Command, { type: 'incomplete' }>,
): { replies: Reply[]; choices: Choice[]; pending?: Pending } {
  const verb = VERBS[command.intent];
  if (command.problem === 'biller') {
    // "ADD" alone: which service? Then the account number is asked for.
    const account = command.account;
    const choices = catalogue.billers
      .filter((b) => account === undefined || new RegExp(b.accountPattern).test(account))
      .map((b) => ({
        key: 'choice-biller',
        args: { biller: { biller: b.id } },
        payload: account === undefined ? `${verb} ${b.id}` : `${verb} ${b.id} ${account}`,
      }));
    return { replies: [reply(`need-biller-${command.intent}`)], choices };
  }
  // Keep asking for the account number: the next digits answer this question.
  const pending: Pending | undefined = command.billerId
    ? { kind: 'account', intent: command.intent, billerId: command.billerId }
    : undefined;
  const replies =
    command.account && command.billerId
      ? [
          reply('account-invalid', {
            biller: { biller: command.billerId },
            account: shortAccount(command.account),
          }),
        ]
      : [reply('need-account', { biller: { biller: command.billerId ?? '' } })];
  return { replies, choices: [], ...(pending ? { pending } : {}) };
}
