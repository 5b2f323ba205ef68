-- A delivery receipt can come before the message it reports on is recorded (a turn's first SMS
-- while the next ones wait for the rate limit; an Android request that timed out, taken by the
-- phone, and answered 409 on its retry). Such a receipt is kept, and applied when the message's
-- provider id is recorded: so it is looked up by that id, and keeps how its failure was
-- classified ("temporary", "permanent", "opted-out") and why, to decide then whether the
-- message goes again.
ALTER TABLE "SmsStatusEvent" ADD COLUMN "failure" TEXT;
ALTER TABLE "SmsStatusEvent" ADD COLUMN "failureError" TEXT;
CREATE INDEX "SmsStatusEvent_providerMessageId_idx" ON "SmsStatusEvent"("providerMessageId");
