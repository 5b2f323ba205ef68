-- Initial schema, PostgreSQL dialect (mirrors prisma/schema.prisma and sqlite/0001_init.sql).
CREATE TABLE "Subscriber" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "language" TEXT NOT NULL DEFAULT 'ar',
    "governorate" TEXT,
    "remindersEnabled" BOOLEAN NOT NULL DEFAULT true,
    "showOldPounds" BOOLEAN NOT NULL DEFAULT false,
    "lastPaymentChannel" TEXT,
    "walletNumber" TEXT,
    "pending" TEXT,
    "pendingAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL
);

CREATE TABLE "Identity" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "subscriberId" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    "optedOut" BOOLEAN NOT NULL DEFAULT false,
    "optedOutAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Identity_subscriberId_fkey" FOREIGN KEY ("subscriberId") REFERENCES "Subscriber" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "Identity_channel_address_key" ON "Identity"("channel", "address");
CREATE INDEX "Identity_subscriberId_idx" ON "Identity"("subscriberId");

CREATE TABLE "FollowedAccount" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "subscriberId" TEXT NOT NULL,
    "billerId" TEXT NOT NULL,
    "account" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "FollowedAccount_subscriberId_fkey" FOREIGN KEY ("subscriberId") REFERENCES "Subscriber" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "FollowedAccount_subscriberId_billerId_account_key" ON "FollowedAccount"("subscriberId", "billerId", "account");
CREATE INDEX "FollowedAccount_billerId_account_idx" ON "FollowedAccount"("billerId", "account");

CREATE TABLE "BillAccount" (
    "billerId" TEXT NOT NULL,
    "account" TEXT NOT NULL,
    "holder" TEXT NOT NULL,
    "governorate" TEXT NOT NULL,
    "fetchedAt" TIMESTAMP(3) NOT NULL,
    PRIMARY KEY ("billerId", "account")
);

CREATE TABLE "Bill" (
    "billerId" TEXT NOT NULL,
    "billId" TEXT NOT NULL,
    "account" TEXT NOT NULL,
    "period" TEXT NOT NULL,
    "amountMinor" INTEGER NOT NULL,
    "currency" TEXT NOT NULL,
    "dueDate" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "fetchedAt" TIMESTAMP(3) NOT NULL,
    PRIMARY KEY ("billerId", "billId")
);
CREATE INDEX "Bill_billerId_account_idx" ON "Bill"("billerId", "account");

CREATE TABLE "Coverage" (
    "billerId" TEXT NOT NULL,
    "governorate" TEXT NOT NULL,
    "available" BOOLEAN NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedBy" TEXT NOT NULL DEFAULT 'catalogue',
    PRIMARY KEY ("billerId", "governorate")
);

CREATE TABLE "Payment" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "subscriberId" TEXT NOT NULL,
    "identityId" TEXT NOT NULL,
    "billerId" TEXT NOT NULL,
    "account" TEXT NOT NULL,
    "billId" TEXT NOT NULL,
    "amountMinor" INTEGER NOT NULL,
    "currency" TEXT NOT NULL,
    "channelId" TEXT NOT NULL,
    "payerAddress" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "heldReason" TEXT,
    "openKey" TEXT,
    "providerRef" TEXT,
    "instructions" TEXT,
    "confirmedAmountMinor" INTEGER,
    "deadlineAt" TIMESTAMP(3) NOT NULL,
    "reconcileAttempts" INTEGER NOT NULL DEFAULT 0,
    "nextReconcileAt" TIMESTAMP(3),
    "settlementStatus" TEXT NOT NULL DEFAULT 'none',
    "settledAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL
);
CREATE UNIQUE INDEX "Payment_openKey_key" ON "Payment"("openKey");
CREATE INDEX "Payment_status_nextReconcileAt_idx" ON "Payment"("status", "nextReconcileAt");
CREATE INDEX "Payment_billerId_billId_idx" ON "Payment"("billerId", "billId");
CREATE INDEX "Payment_channelId_providerRef_idx" ON "Payment"("channelId", "providerRef");

CREATE TABLE "PaymentEvent" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "channelId" TEXT NOT NULL,
    "eventId" TEXT NOT NULL,
    "paymentId" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "amountMinor" INTEGER,
    "occurredAt" TIMESTAMP(3),
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "outcome" TEXT NOT NULL
);
CREATE UNIQUE INDEX "PaymentEvent_channelId_eventId_key" ON "PaymentEvent"("channelId", "eventId");
CREATE INDEX "PaymentEvent_paymentId_idx" ON "PaymentEvent"("paymentId");

CREATE TABLE "AuditLog" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor" TEXT NOT NULL,
    "entity" TEXT NOT NULL,
    "entityId" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "fromState" TEXT,
    "toState" TEXT,
    "detail" TEXT
);
CREATE INDEX "AuditLog_entity_entityId_idx" ON "AuditLog"("entity", "entityId");
-- The audit log is append-only: the database itself refuses edits and deletions.
CREATE FUNCTION "AuditLog_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'AuditLog is append-only';
END;
$$;
CREATE TRIGGER "AuditLog_no_update" BEFORE UPDATE ON "AuditLog"
  FOR EACH ROW EXECUTE FUNCTION "AuditLog_append_only"();
CREATE TRIGGER "AuditLog_no_delete" BEFORE DELETE ON "AuditLog"
  FOR EACH ROW EXECUTE FUNCTION "AuditLog_append_only"();

CREATE TABLE "OutboxItem" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "kind" TEXT NOT NULL,
    "lane" TEXT NOT NULL,
    "dedupeKey" TEXT,
    "identityId" TEXT,
    "channel" TEXT,
    "address" TEXT,
    "payload" TEXT NOT NULL,
    "text" TEXT,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "leaseOwner" TEXT,
    "leaseUntil" TIMESTAMP(3),
    "lastError" TEXT,
    "providerMessageId" TEXT,
    "deliveryStatus" TEXT,
    "broadcastId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "doneAt" TIMESTAMP(3)
);
CREATE UNIQUE INDEX "OutboxItem_dedupeKey_key" ON "OutboxItem"("dedupeKey");
CREATE INDEX "OutboxItem_status_lane_nextAttemptAt_idx" ON "OutboxItem"("status", "lane", "nextAttemptAt");
CREATE INDEX "OutboxItem_identityId_id_idx" ON "OutboxItem"("identityId", "id");
CREATE INDEX "OutboxItem_broadcastId_status_idx" ON "OutboxItem"("broadcastId", "status");

CREATE TABLE "Watch" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "kind" TEXT NOT NULL,
    "target" TEXT NOT NULL,
    "subscriberId" TEXT NOT NULL,
    "identityId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX "Watch_kind_target_identityId_key" ON "Watch"("kind", "target", "identityId");
