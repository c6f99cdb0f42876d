-- The catalog feed (see the PostgreSQL migration): dense positions for outbox rows, so that
-- every instance's embedded index can follow every change.
ALTER TABLE catalog_outbox ADD COLUMN pos INTEGER;
CREATE UNIQUE INDEX catalog_outbox_pos ON catalog_outbox (pos);
CREATE INDEX catalog_outbox_unpositioned ON catalog_outbox (seq) WHERE pos IS NULL;

CREATE TABLE catalog_feed (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    last_pos       INTEGER NOT NULL DEFAULT 0,
    pruned_through INTEGER NOT NULL DEFAULT 0
);
INSERT INTO catalog_feed (id) VALUES (1);

CREATE TABLE catalog_followers (
    name     TEXT PRIMARY KEY,
    pos      INTEGER NOT NULL,
    seen_us  INTEGER NOT NULL
);
