-- Telegram updates, recorded before they are acted on (DESIGN §3): the webhook answers 200 once
-- the row is written, a worker processes rows in update_id order, and a redelivered update_id
-- hits the primary key and acts once.
CREATE TABLE "TelegramUpdate" (
    "updateId" INTEGER NOT NULL PRIMARY KEY,
    "payload" TEXT NOT NULL,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "processedAt" TIMESTAMP(3),
    "error" TEXT
);
CREATE INDEX "TelegramUpdate_processedAt_updateId_idx" ON "TelegramUpdate"("processedAt", "updateId");
