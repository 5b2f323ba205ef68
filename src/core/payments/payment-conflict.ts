/**
 * Two events for one payment applied at the same moment: each read the payment in the same
 * state, and the other one moved it first, so this one's transaction is rolled back with
 * nothing written. Applying the event again reads the new state and decides anew; the webhook
 * answers 503 with Retry-After so that the channel sends it again (never 409, which tells a
 * channel not to retry).
 */
export class PaymentChangedConcurrently extends Error {
  readonly code = 'PAYMENT.CHANGED_CONCURRENTLY';

  constructor(readonly paymentId: string) {
    super(`payment ${paymentId} changed concurrently: another event was applied first`);
    this.name = 'PaymentChangedConcurrently';
  }
}
