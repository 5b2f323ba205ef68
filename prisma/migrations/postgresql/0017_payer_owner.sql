-- The hourly limit of payment starts per payer number must not lock the number's owner out:
-- a stranger typing someone's number five times an hour blocked them. A payment records
-- whether its payer number was the starter's own, vouched for by the channel (an SMS sender's
-- number, a Telegram contact the person shared of themself); those are left out of the
-- per-number count, the owner being held by the per-subscriber limit. A subscriber records
-- whether the wallet number kept for later payments was vouched for that way.
ALTER TABLE "Subscriber" ADD COLUMN "walletVerified" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "Payment" ADD COLUMN "payerVerified" BOOLEAN NOT NULL DEFAULT false;
