/**
 * Whose number pays, and what a PAY is answered. An SMS sender pays from their own number, a
 * Telegram user from the wallet number they gave once (typed, or their own contact shared);
 * the number is "verified" when the channel vouches that it is the payer's own, and then the
 * hourly start limit per payer number, which is there against strangers, spares its owner.
 */
import { mediumOf } from '../domain.js';
import { reply, type Choice, type Reply, type ReplyArgs } from '../i18n/reply.js';
import { isPreRedenomination } from '../money.js';
import { paymentLimitReply } from '../payments/payment-limits.js';
import type { InitiateOutcome } from '../payments/payment.service.js';
import type { BillRecord, IdentityRecord, SubscriberRecord } from '../ports/store.port.js';
import { toE164 } from './wording.js';

export interface PayTurn {
  identity: IdentityRecord;
  subscriber: SubscriberRecord;
  /** The turn's choices, which an answer may add to. */
  choices: Choice[];
}

export interface Payer {
  address: string;
  /** The number is the payer's own, vouched for by the channel. */
  verified: boolean;
}

/** Who pays, or null: the wallet number must be asked for. */
export function payerOf(turn: Pick<PayTurn, 'identity' | 'subscriber'>): Payer | null {
  // The network delivered the message from this number: it is the sender's.
  if (turn.identity.channel === 'sms') return { address: turn.identity.address, verified: true };
  if (turn.identity.channel === 'sandbox-sms') {
    // Anyone can type any sandbox address: never vouched for.
    const own = toE164(turn.identity.address);
    if (own) return { address: own, verified: false };
  }
  const wallet = turn.subscriber.walletNumber;
  return wallet ? { address: wallet, verified: turn.subscriber.walletVerified } : null;
}

/** The answer to a PAY that reached the payments service (or found the bill's open payment). */
export function payReplies(
  turn: PayTurn,
  args: ReplyArgs,
  bill: BillRecord,
  outcome: InitiateOutcome,
  timezone: string,
): Reply[] {
  if (outcome.kind === 'limited') return [paymentLimitReply(outcome.refusal, timezone)];
  const p = outcome.payment;
  const payArgs = {
    ...args,
    // A bill issued before 2026 shows its old-pound amount too, as its bill line did.
    amount: { money: p.amountMinor, old: isPreRedenomination(bill.dueDate) },
    channel: { channel: p.channelId },
    ref: p.id,
  };
  switch (outcome.kind) {
    case 'started': {
      const replies = [reply('pay-started', payArgs)];
      if (p.instructions && mediumOf(turn.identity.channel) === 'telegram') {
        replies.push(reply('pay-instructions', { text: p.instructions }));
      }
      return replies;
    }
    case 'same':
      // A payment held for staff is not "in progress": say who has it.
      return [reply(p.status === 'held' ? 'payment-held' : 'pay-same', payArgs)];
    case 'other-payer':
      turn.choices.push({ key: 'choice-watch', payload: `WATCHPAY ${p.id}` });
      return [reply('pay-other-payer', args)];
    case 'channel-unavailable':
      return [reply('pay-channel-unavailable', payArgs)];
  }
}
