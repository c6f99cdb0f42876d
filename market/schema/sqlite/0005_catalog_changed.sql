-- When a resource's search document last changed (set in the transaction that queues the change in
-- the catalog outbox; NULL for resources that never entered the catalog). updated_at cannot tell:
-- a download, for one, changes the document without touching it. A rebuild of a shared index
-- re-delivers the resources changed since it began, which the old index got meanwhile.
ALTER TABLE resources ADD COLUMN catalog_changed_at DATETIME;
UPDATE resources SET catalog_changed_at = updated_at WHERE published_version_id IS NOT NULL;
CREATE INDEX resources_catalog_changed ON resources(catalog_changed_at);
