-- The catalog outbox: one row per change of the searchable catalog, written by market in the
-- transaction that makes the change and removed by the outbox worker once the engine has it.
CREATE TABLE catalog_outbox (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id           TEXT    NOT NULL,
    op               TEXT    NOT NULL CHECK (op IN ('upsert', 'delete')),
    payload          TEXT,
    created_us       INTEGER NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    claimed_by       TEXT,
    claimed_until_us INTEGER,
    dead_us          INTEGER
);
CREATE INDEX catalog_outbox_doc ON catalog_outbox (doc_id, seq);
