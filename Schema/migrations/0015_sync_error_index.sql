-- 0015: the admin's error lists read the items in error alone.
--
-- `syncErrors`, the count behind its `totalCount`, and `syncErrorSummary` by code or by school
-- walk this index, newest first, and look up each item's section: every column they filter, sort
-- or count by is in it, so the items themselves are read only for the page's messages. The index
-- it replaces lacked the status and section columns, and SQLite probed every section of the
-- district for errors instead: on a district of 8,000 sections the first list after a restart,
-- with the file not yet in memory, passed the 10 s request deadline.
DROP INDEX sync_item_errors;
CREATE INDEX sync_item_errors ON sync_item(error_at, class_id, material_id, error_code, status) WHERE status = 'ERROR';
