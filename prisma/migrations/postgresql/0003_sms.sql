-- SMS (DESIGN §3): inbound messages are recorded before they are acted on, and the gateway's
-- own key (Twilio's MessageSid, the Android event id) makes a redelivered message act once.
-- Delivery receipts find their outbox row by the provider's message id; status events are
-- recorded once by their own key, so a repeated receipt changes nothing.
CREATE TABLE "SmsInbound" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "gateway" TEXT NOT NULL,
    "dedupeKey" TEXT NOT NULL,
    "fromAddress" TEXT NOT NULL,
    "toAddress" TEXT,
    "text" TEXT NOT NULL,
    "receivedAt" TIMESTAMP(3),
    "recordedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "processedAt" TIMESTAMP(3),
    "error" TEXT
);
CREATE UNIQUE INDEX "SmsInbound_dedupeKey_key" ON "SmsInbound"("dedupeKey");
CREATE INDEX "SmsInbound_processedAt_id_idx" ON "SmsInbound"("processedAt", "id");

CREATE TABLE "SmsStatusEvent" (
    "dedupeKey" TEXT NOT NULL PRIMARY KEY,
    "gateway" TEXT NOT NULL,
    "providerMessageId" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "errorCode" TEXT,
    "recordedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX "OutboxItem_providerMessageId_idx" ON "OutboxItem"("providerMessageId");
