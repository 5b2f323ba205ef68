-- The bot serves private chats only: in a group every member shared one identity (one wallet
-- number, bills posted to everyone). A group is told so at most once; this row per chat is
-- what makes it once, across restarts and instances.
CREATE TABLE "TelegramGroupNotice" (
    "chatId" TEXT NOT NULL PRIMARY KEY,
    "notifiedAt" TIMESTAMP(3) NOT NULL
);

-- Identities created for groups before that rule (Telegram gives groups, supergroups and
-- channels negative chat ids; a private chat's id is the person's, positive) get no more
-- reminders or broadcasts.
UPDATE "Identity"
SET "optedOut" = true,
    "optedOutAt" = CURRENT_TIMESTAMP
WHERE "channel" = 'telegram' AND "address" LIKE '-%' AND "optedOut" = false;
