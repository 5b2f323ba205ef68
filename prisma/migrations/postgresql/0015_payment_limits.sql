-- Payment limits (TASDEED_MAX_OPEN_PAYMENTS, TASDEED_PAYMENT_STARTS_PER_HOUR) count a
-- subscriber's payments and a payer number's payments of the last hour before each new one:
-- these indexes make both counts short range scans, however many payments came before.
CREATE INDEX "Payment_subscriberId_createdAt_idx" ON "Payment"("subscriberId", "createdAt");
CREATE INDEX "Payment_payerAddress_createdAt_idx" ON "Payment"("payerAddress", "createdAt");
