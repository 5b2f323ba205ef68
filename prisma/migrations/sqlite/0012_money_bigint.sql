-- Nothing to change on SQLite: an INTEGER column already holds 64-bit integers, so amounts past
-- 2,147,483,647 qirsh were always stored exactly. PostgreSQL's 0012 widens its money columns
-- from INTEGER to BIGINT; this file keeps the two histories numbered alike.
SELECT 1;
