-- The sequencer's and publisher's lease: at most one process holds it at a time. epoch grows by
-- one on every change of holder and fences the old holder out: integrating and signing check,
-- inside their own transaction and under FOR SHARE, that the row still names them with their
-- epoch and an unexpired lease, so a process that lost the lease can never write the tree or a
-- checkpoint again. expires_us is the database's clock (microseconds since 1970), not a process's,
-- so instances with skewed clocks agree on when a lease ends.
CREATE TABLE ledger_leader (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    holder      TEXT NOT NULL,
    epoch       BIGINT NOT NULL CHECK (epoch >= 0),
    expires_us  BIGINT NOT NULL,
    acquired_at TIMESTAMPTZ
);
INSERT INTO ledger_leader (id, holder, epoch, expires_us) VALUES (1, '', 0, 0);
