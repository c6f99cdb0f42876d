-- The sequencer's and publisher's lease: at most one process holds it at a time (see the
-- PostgreSQL migration for the design). On SQLite the processes share one machine, and
-- expires_us comes from its clock.
CREATE TABLE ledger_leader (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    holder      TEXT NOT NULL,
    epoch       INTEGER NOT NULL CHECK (epoch >= 0),
    expires_us  INTEGER NOT NULL,
    acquired_at TEXT
);
INSERT INTO ledger_leader (id, holder, epoch, expires_us) VALUES (1, '', 0, 0);
