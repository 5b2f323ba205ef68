-- The bot serves private chats only: in a group every member shared one identity (one wallet
-- number, bills posted to everyone). A group is told so at most once; this row per chat is
-- what makes it once, across restarts and instances.
CREATE TABLE "TelegramGroupNotice" (
    "chatId" TEXT NOT NULL PRIMARY KEY,
    "notifiedAt" DATETIME NOT NULL
);

-- Identities created for groups before that rule (Telegram gives groups, supergroups and
-- channels negative chat ids; a private chat's id is the person's, positive) get no more
-- reminders or broadcasts. Datetimes are integer milliseconds here (see src/db/sqlite.ts).
UPDATE "Identity"
SET "optedOut" = true,
    "optedOutAt" = CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER)
WHERE "channel" = 'telegram' AND "address" LIKE '-%' AND "optedOut" = false;
