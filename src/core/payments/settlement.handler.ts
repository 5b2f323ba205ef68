/**
 * Posts a succeeded payment to its biller with the payment id as Idempotency-Key, retried
 * until the biller acknowledges (docs/design.md §5). A 409 (paid another way) holds it for staff.
 */
import { nextRetryAt } from '../outbox/retry.js';
import { BillerUnavailableError, type BillerPort } from '../ports/biller.port.js';
import type { Clock } from '../ports/clock.port.js';
import type { OutboxItemRecord, OutboxOutcome, PaymentRecord, Store } from '../ports/store.port.js';

export interface SettlementEvents {
  onAlert?(message: string, payment: PaymentRecord): void;
}

export class SettlementHandler {
  constructor(
    private readonly store: Store,
    private readonly billers: ReadonlyMap<string, BillerPort>,
    private readonly clock: Clock,
    private readonly events: SettlementEvents = {},
  ) {}

  /**
   * When the money moved: the channel's own time on the success it reported (the earliest, if
   * it reported more than one), else when Tasdeed recorded the success. Never the time of this
   * attempt, so every retry of one settlement carries the same paidAt.
   */
  private async paidAt(payment: PaymentRecord): Promise<Date> {
    let earliest: Date | null = null;
    for (const event of await this.store.paymentEvents(payment.id)) {
      if (event.status !== 'succeeded' || event.outcome === 'ignored' || !event.occurredAt)
        continue;
      if (!earliest || event.occurredAt < earliest) earliest = event.occurredAt;
    }
    return earliest ?? payment.updatedAt;
  }

  readonly handle = async (item: OutboxItemRecord): Promise<OutboxOutcome> => {
    const paymentId = (item.payload as { paymentId?: unknown } | null)?.paymentId;
    if (typeof paymentId !== 'string')
      return { status: 'failed', error: 'malformed settlement payload' };
    const payment = await this.store.getPayment(paymentId);
    if (!payment) return { status: 'failed', error: `no payment ${paymentId}` };
    if (payment.settlementStatus === 'acknowledged' || payment.settlementStatus === 'conflict') {
      return { status: 'done' };
    }
    const biller = this.billers.get(payment.billerId);
    const now = this.clock.now();
    const retry = (error: string): OutboxOutcome => ({
      status: 'retry',
      error,
      nextAttemptAt: nextRetryAt(now, item.attempts, true) ?? new Date(now.getTime() + 1_800_000),
    });
    if (!biller) return retry(`biller ${payment.billerId} is not configured`);
    try {
      const result = await biller.settle({
        billId: payment.billId,
        paymentId: payment.id,
        amountMinor: payment.confirmedAmountMinor ?? payment.amountMinor,
        channel: payment.channelId,
        providerRef: payment.providerRef ?? '',
        paidAt: await this.paidAt(payment),
      });
      await this.store.transaction(async (tx) => {
        const current = await tx.getPayment(payment.id);
        if (!current) return;
        if (result === 'acknowledged') {
          await tx.updatePayment(current.id, current.status, {
            settlementStatus: 'acknowledged',
            settledAt: now,
          });
          await tx.audit({
            actor: `biller:${payment.billerId}`,
            entity: 'payment',
            entityId: payment.id,
            action: 'settled',
          });
        } else {
          const updated = await tx.updatePayment(current.id, current.status, {
            settlementStatus: 'conflict',
            ...(current.status === 'succeeded'
              ? { status: 'held' as const, heldReason: 'biller_conflict' as const }
              : {}),
          });
          await tx.audit({
            actor: `biller:${payment.billerId}`,
            entity: 'payment',
            entityId: payment.id,
            action: 'settlement-conflict',
            fromState: current.status,
            toState: updated?.status ?? current.status,
          });
        }
      });
      if (result === 'conflict')
        this.events.onAlert?.('biller answered 409: bill already paid another way', payment);
      return { status: 'done' };
    } catch (error) {
      if (error instanceof BillerUnavailableError) return retry(error.message);
      throw error;
    }
  };
}
