-- Claims take due rows oldest first by (nextAttemptAt, id) within lane, status and urgency; this
-- index serves them and the "when is the next row due" probe in order, without a sort, so a
-- claim costs the same with a million rows queued (the old (status, lane, nextAttemptAt) index
-- made every claim sort all due rows: ~170 ms each at 1,000,000 queued).
DROP INDEX "OutboxItem_status_lane_nextAttemptAt_idx";
CREATE INDEX "OutboxItem_lane_status_urgent_nextAttemptAt_id_idx" ON "OutboxItem"("lane", "status", "urgent", "nextAttemptAt", "id");
