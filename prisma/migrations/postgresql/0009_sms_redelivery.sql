-- A delivery receipt that reports a temporary failure (no service, the SIM's sending limit,
-- Twilio 30001/30008) puts the sent SMS back in the queue, within the outbox's retry schedule.
-- "redeliveries" counts those times: a message sent again gets a new client message id, since
-- the phone would refuse the old one as a duplicate.
ALTER TABLE "OutboxItem" ADD COLUMN "redeliveries" INTEGER NOT NULL DEFAULT 0;

-- An outbox item that went out as several SMS (a turn whose replies do not fit one message):
-- one row per SMS, so that the receipt of every one of them is matched (the item itself keeps
-- the first one's id), and a resend sends only the SMS that did not get through.
CREATE TABLE "SmsPart" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "outboxItemId" INTEGER NOT NULL,
    "part" INTEGER NOT NULL,
    "providerMessageId" TEXT,
    "deliveryStatus" TEXT
);
CREATE UNIQUE INDEX "SmsPart_outboxItemId_part_key" ON "SmsPart"("outboxItemId", "part");
CREATE INDEX "SmsPart_providerMessageId_idx" ON "SmsPart"("providerMessageId");
