-- Failed staff logins per client address, the console form and the bearer API counted together
-- (5 in 15 minutes lock the address out). One row per address, counted and read back in one
-- INSERT ... ON CONFLICT ... RETURNING, so that parallel attempts cannot slip past the limit.
-- The window's start is Unix milliseconds, the same number on both databases.
CREATE TABLE "LoginThrottle" (
    "client" TEXT NOT NULL PRIMARY KEY,
    "failures" INTEGER NOT NULL,
    "windowStartMs" BIGINT NOT NULL
);

CREATE INDEX "LoginThrottle_windowStartMs_idx" ON "LoginThrottle"("windowStartMs");
