-- The ledger's queue and entries share one table: a row is queued by Enqueue inside the caller's
-- transaction (idx NULL) and integrated by the sequencer, which assigns the next dense index. One
-- table means one unique dedupe key for the row's whole life, so a retry can never slip a second
-- copy in while the first is being integrated.
CREATE TABLE ledger_entries (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dedupe_key  TEXT NOT NULL UNIQUE,
    data        BYTEA NOT NULL,
    idx         BIGINT UNIQUE CHECK (idx >= 0),
    queued_at   TIMESTAMPTZ NOT NULL
);
-- The sequencer's work list stays small however large the log grows.
CREATE INDEX ledger_entries_pending ON ledger_entries(seq) WHERE idx IS NULL;

-- Merkle tree hashes, keyed by tlog.StoredHashIndex(level, n); written once, never updated.
CREATE TABLE ledger_hashes (
    id    BIGINT PRIMARY KEY,
    hash  BYTEA NOT NULL CHECK (length(hash) = 32)
);

-- The one-row tree state: how many entries are integrated and the root over them. The
-- sequencer locks this row, so sequencers in several processes take turns.
CREATE TABLE ledger_tree (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    size        BIGINT NOT NULL CHECK (size >= 0),
    root        BYTEA NOT NULL CHECK (length(root) = 32),
    updated_at  TIMESTAMPTZ NOT NULL
);
-- The root of the empty tree is SHA-256 of nothing (RFC 6962, section 2.1).
INSERT INTO ledger_tree (id, size, root, updated_at)
VALUES (1, 0, '\xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'::bytea, 'epoch');

-- Signed checkpoints, one per published tree size.
CREATE TABLE ledger_checkpoints (
    size       BIGINT PRIMARY KEY CHECK (size >= 0),
    root       BYTEA NOT NULL CHECK (length(root) = 32),
    note       BYTEA NOT NULL,
    signed_at  TIMESTAMPTZ NOT NULL
);

-- Near-duplicate detection: each document's MinHash signature, and its LSH band keys for
-- candidate lookup (a band key already mixes in the band number).
CREATE TABLE fingerprint_docs (
    doc_id     TEXT PRIMARY KEY,
    signature  BYTEA NOT NULL
);
CREATE TABLE fingerprint_bands (
    band_key  BIGINT NOT NULL,
    doc_id    TEXT NOT NULL REFERENCES fingerprint_docs(doc_id) ON DELETE CASCADE,
    PRIMARY KEY (band_key, doc_id)
);
CREATE INDEX fingerprint_bands_doc ON fingerprint_bands(doc_id);
