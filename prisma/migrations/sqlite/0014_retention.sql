-- TASDEED_RETENTION_DAYS: a daily job deletes processed inbound rows, finished outbox rows and
-- delivery receipts older than the retention, 1,000 rows at a time. These indexes make each
-- batch a range of the rows old enough instead of a scan of the table (processed Telegram
-- updates and SMS already have theirs: ("processedAt", …) from 0002 and 0003).
CREATE INDEX "OutboxItem_doneAt_idx" ON "OutboxItem"("doneAt");
CREATE INDEX "SmsStatusEvent_recordedAt_idx" ON "SmsStatusEvent"("recordedAt");

-- A broadcast's progress is counted from its recipient rows. Before its rows are deleted the
-- counts are kept here (JSON, as GET /admin/broadcasts/:id gives them), and read from here after.
ALTER TABLE "Broadcast" ADD COLUMN "foldedCounts" TEXT;
