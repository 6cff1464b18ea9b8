-- unionops: no-transaction
-- The statistical report (queries.statistics) finds the members a subtree ever held by their
-- file entries' unions; without this index every report scans the whole city's member file.
-- Built concurrently: member_file_entries is the largest table (a city: millions of rows).
DROP INDEX CONCURRENTLY IF EXISTS member_file_entries_union;
CREATE INDEX CONCURRENTLY IF NOT EXISTS member_file_entries_union ON member_file_entries (union_id, member_id);
