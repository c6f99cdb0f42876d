-- The catalog feed: with the embedded engine, every instance keeps its own index, so a change
-- must reach every index, not just one worker. Followers give outbox rows dense positions in
-- the order they commit (under the lock on catalog_feed), and each index remembers the position
-- it has applied. Rows stay until every live follower has passed them.
ALTER TABLE catalog_outbox ADD COLUMN pos BIGINT UNIQUE;
CREATE INDEX catalog_outbox_unpositioned ON catalog_outbox (seq) WHERE pos IS NULL;

-- last_pos: the highest position given out. pruned_through: rows up to here are deleted; an
-- index behind it has missed changes and is rebuilt.
CREATE TABLE catalog_feed (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    last_pos       BIGINT NOT NULL DEFAULT 0,
    pruned_through BIGINT NOT NULL DEFAULT 0
);
INSERT INTO catalog_feed (id) VALUES (1);

-- Followers report their position; pruning keeps what the slowest live follower still needs.
CREATE TABLE catalog_followers (
    name     TEXT PRIMARY KEY,
    pos      BIGINT NOT NULL,
    seen_us  BIGINT NOT NULL
);
