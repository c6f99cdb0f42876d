-- OAI-PMH harvesting. A harvest source is a repository's base URL with an optional set; it
-- remembers where the last complete harvest ended (the source's own responseDate, so that our
-- clock and theirs never have to agree), and the next harvest asks only for what changed since.
CREATE TABLE harvest_sources (
    id                 TEXT PRIMARY KEY,
    base_url           TEXT NOT NULL,
    set_spec           TEXT NOT NULL DEFAULT '',
    repository_name    TEXT NOT NULL DEFAULT '',
    last_response_date TIMESTAMPTZ,
    last_harvest_at    TIMESTAMPTZ,
    created_at         TIMESTAMPTZ NOT NULL,
    UNIQUE (base_url, set_spec)
);

-- One row per record imported from a source, keyed by the source's OAI identifier (whatever set
-- it came through), so that harvesting again updates the same resource instead of copying it.
-- The creator and publisher are the source's: the local owner is the harvest account.
CREATE TABLE harvest_records (
    base_url     TEXT NOT NULL,
    identifier   TEXT NOT NULL,
    resource_id  TEXT NOT NULL REFERENCES resources(id),
    source_id    TEXT NOT NULL REFERENCES harvest_sources(id),
    datestamp    TIMESTAMPTZ NOT NULL,
    meta_hash    TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('active','deleted')),
    creator      TEXT NOT NULL DEFAULT '',
    publisher    TEXT NOT NULL DEFAULT '',
    source_url   TEXT NOT NULL DEFAULT '',
    parents      TEXT NOT NULL DEFAULT '[]',
    imported_at  TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (base_url, identifier)
);
CREATE UNIQUE INDEX harvest_records_resource ON harvest_records(resource_id);
