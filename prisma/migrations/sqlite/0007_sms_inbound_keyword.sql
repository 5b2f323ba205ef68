-- The whole-message keyword a gateway itself recognised in an inbound SMS (Twilio's OptOutType
-- when Advanced Opt-Out is on: stop, start or help). It is recorded with the message because
-- the message is acted on later, by the inbound worker; null when the gateway named none.
ALTER TABLE "SmsInbound" ADD COLUMN "keyword" TEXT;
