-- Reminders and broadcasts (DESIGN §7) through the one outbox (§8).
-- A bulk row may be urgent (a broadcast staff marked urgent goes out in quiet hours); the
-- dispatcher claims bulk rows in quiet hours only when they are.
ALTER TABLE "OutboxItem" ADD COLUMN "urgent" BOOLEAN NOT NULL DEFAULT false;

-- Reminder planning looks bills up by due date.
CREATE INDEX "Bill_dueDate_status_idx" ON "Bill"("dueDate", "status");

-- A staff broadcast. Its recipients are outbox rows (kind 'broadcast', dedupe key
-- 'bc:<id>:<identityId>'), written in batches in identity id order; planCursor is the last
-- identity id written, so planning resumes after a crash where it stopped.
CREATE TABLE "Broadcast" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "textAr" TEXT NOT NULL,
    "textEn" TEXT,
    "audience" TEXT NOT NULL,
    "channels" TEXT NOT NULL,
    "urgent" BOOLEAN NOT NULL DEFAULT false,
    "status" TEXT NOT NULL,
    "recipients" INTEGER NOT NULL DEFAULT 0,
    "smsPartsPerMessage" INTEGER NOT NULL DEFAULT 0,
    "smsPartsTotal" INTEGER NOT NULL DEFAULT 0,
    "planCursor" TEXT,
    "createdBy" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "cancelledAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3)
);
CREATE INDEX "Broadcast_status_idx" ON "Broadcast"("status");

-- One row per run of a scheduled job and slot (e.g. reminders, 2026-11-25T10): a tick that
-- finds its slot taken does nothing, so ticks may repeat, overlap or run on several instances.
CREATE TABLE "JobRun" (
    "job" TEXT NOT NULL,
    "slot" TEXT NOT NULL,
    "owner" TEXT NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL,
    "finishedAt" TIMESTAMP(3),
    "result" TEXT,
    PRIMARY KEY ("job", "slot")
);
