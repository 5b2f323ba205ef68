-- The SMS reply cap (SMS_REPLIES_PER_HOUR) counts the replies queued to a sender in the last
-- hour from the outbox, which every instance shares and a restart keeps: this index makes that
-- count a short range scan of the sender's last hour, however many rows they have had before.
CREATE INDEX "OutboxItem_identityId_createdAt_idx" ON "OutboxItem"("identityId", "createdAt");
