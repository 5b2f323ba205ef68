-- Instances sharing the database (DESIGN §10): each writes a heartbeat; the live count splits
-- every provider rate limit between them, so the fleet together stays within it.
CREATE TABLE "Instance" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "startedAt" TIMESTAMP(3) NOT NULL,
    "seenAt" TIMESTAMP(3) NOT NULL
);
