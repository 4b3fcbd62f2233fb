-- 0008: PostgreSQL keeps metric chunks uncompressed and inline up to a page (packed doubles do not compress;
-- pglz only burnt CPU on every log-batch). Nothing changes on SQLite.
-- @postgres
ALTER TABLE metric_chunks ALTER COLUMN points SET STORAGE EXTERNAL;
ALTER TABLE metric_chunks SET (toast_tuple_target = 8160);
-- @both
