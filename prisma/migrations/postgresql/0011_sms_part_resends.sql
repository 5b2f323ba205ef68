-- A part of a turn sent again because a receipt reported it failed is a new SMS, and needs a
-- new client message id: the Android gateway answers 409 to an id it has, and that answer
-- counts as sent. "resends" counts those times per part and goes into its id. A part retried
-- because its request got no answer keeps its id, so that the phone, if it took it, refuses
-- the second copy.
ALTER TABLE "SmsPart" ADD COLUMN "resends" INTEGER NOT NULL DEFAULT 0;
