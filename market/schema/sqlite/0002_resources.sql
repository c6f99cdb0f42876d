-- A resource is the lasting identity of a work; each submission of its content is a version.
-- The public version stays public while a newer one waits for review.
CREATE TABLE resources (
    id                   TEXT PRIMARY KEY,
    owner_id             TEXT NOT NULL REFERENCES users(id),
    institution_id       TEXT REFERENCES institutions(id),
    status               TEXT NOT NULL CHECK (status IN ('draft','pending_review','published','rejected','taken_down')),
    current_version_id   TEXT NOT NULL,
    published_version_id TEXT,
    downloads            INTEGER NOT NULL DEFAULT 0,
    rating_count         INTEGER NOT NULL DEFAULT 0,
    rating_sum           INTEGER NOT NULL DEFAULT 0,
    created_at           DATETIME NOT NULL,
    updated_at           DATETIME NOT NULL,
    published_at         DATETIME
);
CREATE INDEX resources_owner ON resources(owner_id, status);
CREATE INDEX resources_status ON resources(status, updated_at);

CREATE TABLE resource_versions (
    id                 TEXT PRIMARY KEY,
    resource_id        TEXT NOT NULL REFERENCES resources(id),
    number             INTEGER NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('draft','pending_review','approved','rejected','superseded')),
    title              TEXT NOT NULL,
    summary            TEXT NOT NULL,
    body               TEXT NOT NULL DEFAULT '',
    type               TEXT NOT NULL,
    stage              TEXT NOT NULL,
    grade              TEXT NOT NULL DEFAULT '',
    subject            TEXT NOT NULL,
    edition            TEXT NOT NULL DEFAULT '',
    volume             TEXT NOT NULL DEFAULT '',
    chapter            TEXT NOT NULL DEFAULT '',
    language           TEXT NOT NULL DEFAULT 'zh',
    keywords           TEXT NOT NULL DEFAULT '[]',
    license            TEXT NOT NULL,
    price_personal     INTEGER NOT NULL DEFAULT 0,
    price_classroom    INTEGER NOT NULL DEFAULT 0,
    price_institution  INTEGER NOT NULL DEFAULT 0,
    course_seats       INTEGER NOT NULL DEFAULT 0,
    course_starts_at   DATETIME,
    course_ends_at     DATETIME,
    content_sha256     TEXT NOT NULL DEFAULT '',
    pledged_at         DATETIME,
    submitted_at       DATETIME,
    decided_at         DATETIME,
    decided_by         TEXT,
    decision_reason    TEXT NOT NULL DEFAULT '',
    checklist          TEXT NOT NULL DEFAULT '',
    created_at         DATETIME NOT NULL,
    updated_at         DATETIME NOT NULL,
    UNIQUE (resource_id, number)
);
CREATE INDEX resource_versions_review ON resource_versions(status, submitted_at);

CREATE TABLE version_files (
    version_id  TEXT NOT NULL REFERENCES resource_versions(id),
    position    INTEGER NOT NULL,
    sha256      TEXT NOT NULL,
    name        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    mime        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    text        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (version_id, position)
);
CREATE INDEX version_files_sha ON version_files(sha256);

-- Near duplicates found at submission, shown to the reviewer beside the new work.
CREATE TABLE version_similar (
    version_id   TEXT NOT NULL REFERENCES resource_versions(id),
    resource_id  TEXT NOT NULL REFERENCES resources(id),
    similarity   REAL NOT NULL,
    PRIMARY KEY (version_id, resource_id)
);

CREATE TABLE resource_parents (
    resource_id TEXT NOT NULL REFERENCES resources(id),
    parent_id   TEXT NOT NULL REFERENCES resources(id),
    PRIMARY KEY (resource_id, parent_id)
);
CREATE INDEX resource_parents_parent ON resource_parents(parent_id);

-- The ledger entries behind a resource or licence, by their dedupe keys (indexes come from rights).
CREATE TABLE ledger_refs (
    subject_id  TEXT NOT NULL,
    entry_key   TEXT NOT NULL,
    entry_type  TEXT NOT NULL,
    created_at  DATETIME NOT NULL,
    PRIMARY KEY (subject_id, entry_key)
);

CREATE TABLE licenses (
    id             TEXT PRIMARY KEY,
    resource_id    TEXT NOT NULL REFERENCES resources(id),
    holder_id      TEXT NOT NULL REFERENCES users(id),
    scope          TEXT NOT NULL CHECK (scope IN ('free','personal','classroom','institution','course')),
    source         TEXT NOT NULL CHECK (source IN ('claim','order','enrolment','author')),
    license        TEXT NOT NULL,
    price_fen      INTEGER NOT NULL DEFAULT 0,
    order_id       TEXT,
    status         TEXT NOT NULL CHECK (status IN ('active','revoked')),
    granted_at     DATETIME NOT NULL,
    revoked_at     DATETIME,
    revoke_reason  TEXT NOT NULL DEFAULT ''
);
-- One free claim per user and item makes claiming idempotent under concurrency.
CREATE UNIQUE INDEX licenses_one_claim ON licenses(resource_id, holder_id) WHERE source IN ('claim','enrolment');
CREATE INDEX licenses_holder ON licenses(holder_id, status);
CREATE INDEX licenses_resource ON licenses(resource_id, status);

CREATE TABLE downloads (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    resource_id  TEXT NOT NULL REFERENCES resources(id),
    user_id      TEXT NOT NULL REFERENCES users(id),
    sha256       TEXT NOT NULL,
    at           DATETIME NOT NULL
);
CREATE INDEX downloads_resource_user ON downloads(resource_id, user_id);

CREATE TABLE ratings (
    resource_id  TEXT NOT NULL REFERENCES resources(id),
    user_id      TEXT NOT NULL REFERENCES users(id),
    stars        INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),
    text         TEXT NOT NULL DEFAULT '',
    created_at   DATETIME NOT NULL,
    updated_at   DATETIME NOT NULL,
    PRIMARY KEY (resource_id, user_id)
);

CREATE TABLE complaints (
    id               TEXT PRIMARY KEY,
    resource_id      TEXT NOT NULL REFERENCES resources(id),
    complainant_id   TEXT NOT NULL REFERENCES users(id),
    reason           TEXT NOT NULL,
    evidence_index   INTEGER,
    status           TEXT NOT NULL CHECK (status IN ('open','upheld','dismissed')),
    decided_by       TEXT,
    decided_at       DATETIME,
    decision_reason  TEXT NOT NULL DEFAULT '',
    created_at       DATETIME NOT NULL
);
CREATE INDEX complaints_status ON complaints(status, created_at);
