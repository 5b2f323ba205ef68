/**
 * Payments: one logical payment per bill, exactly one effect (docs/design.md §5–§6).
 *
 * Every decision is taken inside a database transaction together with its consequences
 * (audit record, settlement and receipt in the outbox); calls to the outside world happen
 * outside transactions and are idempotent by the payment id.
 */
import type { Catalogue } from '../catalogue.js';
import type { Language } from '../domain.js';
import { newPaymentId } from '../ids.js';
import type { Reply } from '../i18n/reply.js';
import { isPreRedenomination, type Qirsh } from '../money.js';
import type { Clock } from '../ports/clock.port.js';
import {
  DEFAULT_PAYMENT_LIMITS,
  PAYMENT_START_WINDOW_MS,
  paymentLimitRefusal,
  type PaymentLimitRefusal,
  type PaymentLimits,
} from './payment-limits.js';
import {
  PaymentChannelUnavailableError,
  type PaymentPort,
  type PaymentWebhookEvent,
  type ProviderPaymentStatus,
} from '../ports/payment.port.js';
import type {
  BillRecord,
  HeldReason,
  IdentityRecord,
  PaymentPatch,
  PaymentRecord,
  PaymentStatus,
  Store,
} from '../ports/store.port.js';
import { PaymentChangedConcurrently } from './payment-conflict.js';

/** How long a payment may stay pending before we start asking the channel (docs/design.md §5). */
export const PAYMENT_DEADLINE_MS = 15 * 60_000;

/** Minutes after the deadline at which the channel is asked: 1, 5, 15, 60, then hourly for a day. */
export const RECONCILE_SCHEDULE_MINUTES: readonly number[] = [
  1,
  5,
  15,
  60,
  ...Array.from({ length: 23 }, (_, i) => 120 + i * 60),
];

/** One open payment per bill (docs/design.md §6): the key its row holds while it is open. */
function openKeyOf(bill: BillRecord): string {
  return `${bill.billerId}:${bill.billId}`;
}

export type InitiateOutcome =
  | { kind: 'started'; payment: PaymentRecord }
  | { kind: 'same'; payment: PaymentRecord }
  | { kind: 'other-payer'; payment: PaymentRecord }
  | { kind: 'channel-unavailable'; payment: PaymentRecord }
  /** Not started: a limit of the subscriber or of the payer number was reached. */
  | { kind: 'limited'; refusal: PaymentLimitRefusal };

export type EventOutcome =
  'applied' | 'ignored' | 'held' | 'duplicate' | 'unknown-payment' | 'ref-mismatch';

export interface PaymentServiceEvents {
  onTransition?(payment: PaymentRecord, from: PaymentStatus): void;
  onAlert?(message: string, payment: PaymentRecord): void;
  onChannelRecovered?(channelId: string): void;
}

const FINAL: ReadonlySet<PaymentStatus> = new Set(['succeeded', 'failed', 'expired']);

export class PaymentService {
  constructor(
    private readonly store: Store,
    private readonly channels: ReadonlyMap<string, PaymentPort>,
    private readonly catalogue: Catalogue,
    private readonly clock: Clock,
    private readonly publicUrl: string,
    private readonly events: PaymentServiceEvents = {},
    private readonly limits: PaymentLimits = DEFAULT_PAYMENT_LIMITS,
  ) {}

  /** Channels whose last call failed; cleared by the next answer. */
  private readonly failingChannels = new Set<string>();

  /** True while the channel's last call failed. */
  isChannelDown(channelId: string): boolean {
    return this.failingChannels.has(channelId);
  }

  /**
   * Whether the channel answers at all (the recovery probe; any answer below 500, see
   * PaymentPort.ping). The channel is marked up when it answers, without the recovery event:
   * the probe's caller tells the waiting subscribers itself.
   */
  async probeChannel(channelId: string): Promise<boolean> {
    const port = this.channels.get(channelId);
    if (!port) return false;
    try {
      await port.ping();
    } catch (error) {
      if (!(error instanceof PaymentChannelUnavailableError)) throw error;
      this.failingChannels.add(channelId);
      return false;
    }
    this.failingChannels.delete(channelId);
    return true;
  }

  channelIds(): string[] {
    return this.catalogue.paymentChannels.map((c) => c.id);
  }

  /** The payment open for a bill (created, pending or held), whoever started it. */
  openPaymentOf(bill: BillRecord): Promise<PaymentRecord | null> {
    return this.store.findPaymentByOpenKey(openKeyOf(bill));
  }

  /**
   * Starts (or finds) the payment of a bill. The row is written first, so two requests racing
   * for one bill produce one row; only the request that wrote it calls the channel. The limits
   * are checked in the transaction that writes the row, under the store's lock, so parallel
   * requests cannot pass them together; a refused start reaches no channel.
   */
  async initiate(input: {
    identity: IdentityRecord;
    bill: BillRecord;
    channelId: string;
    payerAddress: string;
    /**
     * The payer number is the starter's own, vouched for by the channel (an SMS sender's, a
     * shared Telegram contact): the per-number start limit, there against strangers, spares it.
     */
    payerVerified?: boolean;
  }): Promise<InitiateOutcome> {
    const { identity, bill, channelId } = input;
    const now = this.clock.now();
    const openKey = openKeyOf(bill);
    const deadlineAt = new Date(now.getTime() + PAYMENT_DEADLINE_MS);
    const started = await this.store.transaction(async (tx) => {
      const refusal = paymentLimitRefusal(
        await tx.paymentQuota({
          subscriberId: identity.subscriberId,
          payerAddress: input.payerAddress,
          payerVerified: input.payerVerified ?? false,
          since: new Date(now.getTime() - PAYMENT_START_WINDOW_MS),
          maxStarts: this.limits.startsPerHour,
        }),
        this.limits,
      );
      if (refusal) {
        // The bill's own open payment is still the answer to a second PAY for it.
        const holder = await tx.findPaymentByOpenKey(openKey);
        return holder
          ? { payment: holder, created: false, language: undefined }
          : { refusal, payment: null };
      }
      const result = await tx.createPayment({
        id: newPaymentId(),
        subscriberId: identity.subscriberId,
        identityId: identity.id,
        billerId: bill.billerId,
        account: bill.account,
        billId: bill.billId,
        amountMinor: bill.amountMinor,
        currency: bill.currency,
        channelId,
        payerAddress: input.payerAddress,
        payerVerified: input.payerVerified ?? false,
        status: 'created',
        openKey,
        deadlineAt,
        createdAt: now,
      });
      if (result.created) {
        await tx.audit({
          actor: `subscriber:${identity.subscriberId}`,
          entity: 'payment',
          entityId: result.payment.id,
          action: 'create',
          fromState: null,
          toState: 'created',
          detail: {
            billerId: bill.billerId,
            billId: bill.billId,
            amountMinor: bill.amountMinor,
            channelId,
          },
        });
        // The payer's language comes back with the update: the channel's texts follow it.
        const subscriber = await tx.updateSubscriber(identity.subscriberId, {
          lastPaymentChannel: channelId,
        });
        return { ...result, language: subscriber.language };
      }
      return { ...result, language: undefined };
    });
    if (started.payment === null) return { kind: 'limited', refusal: started.refusal };
    const { payment, created, language } = started;
    if (!created) {
      return payment.subscriberId === identity.subscriberId
        ? { kind: 'same', payment }
        : { kind: 'other-payer', payment };
    }
    const sent = await this.callChannel(payment, language);
    return sent ? { kind: 'started', payment: sent } : { kind: 'channel-unavailable', payment };
  }

  /** Asks the channel to take the payment; idempotent by payment id, so safe to repeat. */
  private async callChannel(
    payment: PaymentRecord,
    language?: Language,
  ): Promise<PaymentRecord | null> {
    const port = this.channels.get(payment.channelId);
    if (!port) return null;
    try {
      const answer = await port.initiate({
        paymentId: payment.id,
        amountMinor: payment.amountMinor,
        currency: 'SYP',
        billerId: payment.billerId,
        account: payment.account,
        billId: payment.billId,
        payer: { channel: payment.channelId, address: payment.payerAddress },
        callbackUrl: `${this.publicUrl}/payments/webhook/${encodeURIComponent(payment.channelId)}`,
        ...(language ? { language } : {}),
      });
      if (this.failingChannels.delete(payment.channelId))
        this.events.onChannelRecovered?.(payment.channelId);
      const updated = await this.store.transaction(async (tx) => {
        const current = await tx.getPayment(payment.id);
        if (!current) return null;
        if (current.providerRef === null || current.status === 'created') {
          const patch: PaymentPatch = { providerRef: answer.providerRef };
          if (answer.instructions) patch.instructions = answer.instructions.slice(0, 500);
          if (current.status === 'created') {
            patch.status = 'pending';
            patch.nextReconcileAt = this.firstReconcileAt(current);
          }
          const next = await tx.updatePayment(current.id, current.status, patch);
          if (next && current.status === 'created') {
            await this.auditTransition(tx, 'channel', current, 'pending', {
              providerRef: answer.providerRef,
            });
          }
          return next ?? current;
        }
        return current;
      });
      if (updated && answer.status !== 'pending') {
        await this.applyEvent(
          payment.channelId,
          {
            eventId: `initiate:${payment.id}`,
            providerRef: answer.providerRef,
            reference: payment.id,
            status: answer.status,
            // The channel answered our own request, which named exactly this amount.
            amountMinor: payment.amountMinor,
            occurredAt: null,
          },
          'initiate',
        );
        return (await this.store.getPayment(payment.id)) ?? updated;
      }
      return updated;
    } catch (error) {
      if (error instanceof PaymentChannelUnavailableError) {
        this.failingChannels.add(payment.channelId);
        // No answer may still mean the channel took it: reconciliation repeats the same
        // idempotent request on its schedule.
        await this.store.updatePayment(payment.id, 'created', {
          nextReconcileAt: this.firstReconcileAt(payment),
        });
        return null;
      }
      throw error;
    }
  }

  private firstReconcileAt(payment: PaymentRecord): Date {
    return new Date(payment.deadlineAt.getTime() + (RECONCILE_SCHEDULE_MINUTES[0] ?? 1) * 60_000);
  }

  /**
   * Applies a channel's event once: dedupe by event id, states move forward only, amounts are
   * checked, and a success writes its settlement and receipt in the same transaction.
   */
  async applyEvent(
    channelId: string,
    event: PaymentWebhookEvent,
    source: 'webhook' | 'reconcile' | 'initiate',
  ): Promise<EventOutcome> {
    const transitions: Array<{ payment: PaymentRecord; from: PaymentStatus }> = [];
    const outcome = await this.store.transaction(async (tx): Promise<EventOutcome> => {
      const payment = await tx.getPayment(event.reference);
      if (!payment || payment.channelId !== channelId) return 'unknown-payment';
      if (payment.providerRef !== null && payment.providerRef !== event.providerRef)
        return 'ref-mismatch';
      const decision = this.decide(payment, event.status, event.amountMinor);
      const fresh = await tx.recordPaymentEvent({
        channelId,
        eventId: event.eventId,
        paymentId: payment.id,
        source,
        status: event.status,
        amountMinor: event.amountMinor,
        occurredAt: event.occurredAt,
        outcome:
          decision.kind === 'move' ? (decision.to === 'held' ? 'held' : 'applied') : 'ignored',
      });
      if (!fresh) return 'duplicate';
      if (decision.kind === 'ignore') return 'ignored';
      const patch: PaymentPatch = { status: decision.to };
      if (payment.providerRef === null) patch.providerRef = event.providerRef;
      if (event.amountMinor !== null) patch.confirmedAmountMinor = event.amountMinor;
      if (decision.to === 'held') patch.heldReason = decision.reason ?? null;
      if (decision.to !== 'pending') patch.nextReconcileAt = null;
      if (decision.to === 'failed' || decision.to === 'expired') patch.openKey = null;
      const updated = await tx.updatePayment(payment.id, payment.status, patch);
      if (!updated) throw new PaymentChangedConcurrently(payment.id);
      await this.auditTransition(tx, `${source}:${channelId}`, payment, decision.to, {
        eventId: event.eventId,
        amountMinor: event.amountMinor,
        reason: decision.reason,
      });
      await this.afterTransition(tx, updated);
      transitions.push({ payment: updated, from: payment.status });
      return decision.to === 'held' ? 'held' : 'applied';
    });
    for (const t of transitions) this.events.onTransition?.(t.payment, t.from);
    return outcome;
  }

  /** The only place that decides what an event does to a payment. */
  private decide(
    payment: PaymentRecord,
    status: ProviderPaymentStatus,
    amount: Qirsh | null,
  ): { kind: 'ignore' } | { kind: 'move'; to: PaymentStatus; reason?: HeldReason } {
    const open = payment.status === 'created' || payment.status === 'pending';
    const awaitingAnswer =
      open || (payment.status === 'held' && payment.heldReason === 'reconciliation_exhausted');
    switch (status) {
      case 'pending':
        return payment.status === 'created' ? { kind: 'move', to: 'pending' } : { kind: 'ignore' };
      case 'succeeded':
        if (awaitingAnswer) {
          // A success whose amount is unknown cannot be checked against the bill: held too.
          if (amount === null || amount !== payment.amountMinor) {
            return { kind: 'move', to: 'held', reason: 'amount_mismatch' };
          }
          return { kind: 'move', to: 'succeeded' };
        }
        // Money moved after we had recorded a failure: a person must look at it.
        if (payment.status === 'failed' || payment.status === 'expired') {
          return { kind: 'move', to: 'held', reason: 'late_success' };
        }
        return { kind: 'ignore' };
      case 'failed':
      case 'expired':
        return awaitingAnswer ? { kind: 'move', to: status } : { kind: 'ignore' };
    }
  }

  /** Consequences of reaching a state, written in the same transaction. */
  private async afterTransition(tx: Store, payment: PaymentRecord): Promise<void> {
    if (payment.status === 'succeeded') {
      if (payment.settlementStatus === 'none') {
        await tx.enqueue({
          kind: 'settlement',
          lane: 'work',
          dedupeKey: `settle:${payment.id}`,
          payload: { paymentId: payment.id },
          nextAttemptAt: this.clock.now(),
        });
        await tx.updatePayment(payment.id, 'succeeded', { settlementStatus: 'queued' });
      }
      await tx.markBillPaid(payment.billerId, payment.billId);
      // A bill issued before 2026 shows its old-pound amount too (docs/design.md §1).
      const bill = await tx.getBill(payment.billerId, payment.billId);
      await this.notifyPayer(tx, payment, 'receipt', {
        key: 'receipt',
        args: {
          biller: { biller: payment.billerId },
          account: payment.account,
          amount: {
            money: payment.confirmedAmountMinor ?? payment.amountMinor,
            old: bill !== null && isPreRedenomination(bill.dueDate),
          },
          channel: { channel: payment.channelId },
          ref: payment.id,
        },
      });
      await this.notifyWatchers(tx, payment, 'payment-done-watch');
    } else if (payment.status === 'failed' || payment.status === 'expired') {
      await this.notifyPayer(tx, payment, 'failed', {
        key: 'payment-failed',
        args: { biller: { biller: payment.billerId }, account: payment.account, ref: payment.id },
      });
      await this.notifyWatchers(tx, payment, 'payment-failed-watch');
    } else if (payment.status === 'held') {
      this.events.onAlert?.(`payment held for staff: ${payment.heldReason ?? 'unknown'}`, payment);
      await this.notifyPayer(tx, payment, 'held', {
        key: 'payment-held',
        args: { ref: payment.id },
      });
    }
  }

  private async notifyPayer(
    tx: Store,
    payment: PaymentRecord,
    what: string,
    message: Reply,
  ): Promise<void> {
    await tx.enqueue({
      kind: 'message',
      lane: 'reply',
      dedupeKey: `${what}:${payment.id}`,
      identityId: payment.identityId,
      payload: message,
      nextAttemptAt: this.clock.now(),
    });
  }

  private async notifyWatchers(tx: Store, payment: PaymentRecord, key: string): Promise<void> {
    for (const watch of await tx.takeWatches('payment', payment.id)) {
      await tx.enqueue({
        kind: 'message',
        lane: 'reply',
        dedupeKey: `watch:${payment.id}:${watch.identityId}`,
        identityId: watch.identityId,
        payload: { key, args: { biller: { biller: payment.billerId }, account: payment.account } },
        nextAttemptAt: this.clock.now(),
      });
    }
  }

  private async auditTransition(
    tx: Store,
    actor: string,
    from: PaymentRecord,
    to: PaymentStatus,
    detail: unknown,
  ): Promise<void> {
    await tx.audit({
      actor,
      entity: 'payment',
      entityId: from.id,
      action: 'transition',
      fromState: from.status,
      toState: to,
      detail,
    });
  }

  /**
   * Asks channels about payments still open past their deadline, on the schedule of docs/design.md §5;
   * never assumes failure. When the schedule runs out the payment is held for staff.
   */
  async reconcileDue(limit = 50): Promise<number> {
    const due = await this.store.paymentsToReconcile(this.clock.now(), limit);
    for (const payment of due) await this.reconcileOne(payment);
    return due.length;
  }

  private async reconcileOne(payment: PaymentRecord): Promise<void> {
    const port = this.channels.get(payment.channelId);
    const attempt = payment.reconcileAttempts + 1;
    let status: ProviderPaymentStatus | null = null;
    let amount: Qirsh | null = null;
    if (port) {
      try {
        if (payment.status === 'created' || payment.providerRef === null) {
          await this.callChannel(payment);
          const refreshed = await this.store.getPayment(payment.id);
          if (refreshed?.providerRef && refreshed.status === 'pending') {
            const answer = await port.status(refreshed.providerRef);
            status = answer.status;
            amount = answer.amountMinor ?? null;
          }
        } else {
          const answer = await port.status(payment.providerRef);
          status = answer.status;
          amount = answer.amountMinor ?? null;
        }
      } catch (error) {
        if (!(error instanceof PaymentChannelUnavailableError)) throw error;
      }
    }
    const current = await this.store.getPayment(payment.id);
    if (!current || FINAL.has(current.status) || current.status === 'held') return;
    if (status && status !== 'pending' && current.providerRef) {
      await this.applyEvent(
        current.channelId,
        {
          eventId: `reconcile:${current.id}:${attempt}`,
          providerRef: current.providerRef,
          reference: current.id,
          status,
          amountMinor: amount,
          occurredAt: null,
        },
        'reconcile',
      );
      return;
    }
    const nextOffset = RECONCILE_SCHEDULE_MINUTES[attempt];
    if (nextOffset === undefined) {
      await this.store.transaction(async (tx) => {
        const updated = await tx.updatePayment(current.id, current.status, {
          status: 'held',
          heldReason: 'reconciliation_exhausted',
          reconcileAttempts: attempt,
          nextReconcileAt: null,
        });
        if (!updated) return;
        await this.auditTransition(tx, 'reconciliation', current, 'held', { attempts: attempt });
        await this.afterTransition(tx, updated);
      });
      return;
    }
    await this.store.updatePayment(current.id, current.status, {
      reconcileAttempts: attempt,
      nextReconcileAt: new Date(current.deadlineAt.getTime() + nextOffset * 60_000),
    });
  }

  /** Staff decide a held payment (docs/design.md §6). Returns null when the payment is not held. */
  async resolveHeld(
    paymentId: string,
    status: 'succeeded' | 'failed',
    note: string,
    actor: string,
  ): Promise<PaymentRecord | null> {
    const result = await this.store.transaction(async (tx) => {
      const payment = await tx.getPayment(paymentId);
      if (!payment || payment.status !== 'held') return null;
      const patch: PaymentPatch = { status, heldReason: payment.heldReason, nextReconcileAt: null };
      if (status === 'failed') patch.openKey = null;
      const updated = await tx.updatePayment(payment.id, 'held', patch);
      if (!updated) return null;
      await tx.audit({
        actor,
        entity: 'payment',
        entityId: payment.id,
        action: 'resolve',
        fromState: 'held',
        toState: status,
        detail: { note, heldReason: payment.heldReason },
      });
      // A biller that refused the settlement (409) is not asked again.
      if (!(status === 'succeeded' && payment.heldReason === 'biller_conflict')) {
        await this.afterTransition(tx, updated);
      }
      return { updated, from: payment.status };
    });
    if (result) this.events.onTransition?.(result.updated, result.from);
    return result?.updated ?? null;
  }
}
