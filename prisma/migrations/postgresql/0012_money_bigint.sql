-- Amounts are qirsh, and a bill, a payment or what a channel confirms can pass 2,147,483,647
-- qirsh (21.5 million pounds): a 32-bit INTEGER refused such a webhook ("out of range for type
-- integer"), answered 500, and the channel retried it for ever. BIGINT holds every amount up to
-- 2^53 - 1, the largest the application takes (a JavaScript number is exact up to there).
-- Widening an integer keeps every value; each table is rewritten once, under its lock.
ALTER TABLE "Bill" ALTER COLUMN "amountMinor" TYPE BIGINT;
ALTER TABLE "Payment"
    ALTER COLUMN "amountMinor" TYPE BIGINT,
    ALTER COLUMN "confirmedAmountMinor" TYPE BIGINT;
ALTER TABLE "PaymentEvent" ALTER COLUMN "amountMinor" TYPE BIGINT;
