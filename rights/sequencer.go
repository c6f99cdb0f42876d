package rights

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"
	"gorm.io/gorm"
)

// Integrate moves up to one batch of committed, queued entries into the tree and returns how
// many it integrated. Entries get the next dense indexes in queue order; their stored hashes,
// their indexes and the new tree state are written in one transaction, so a crash at any moment
// leaves either the old tree or the new one, never a mixture. Run calls it in a loop; tests and
// tools call it directly.
func (l *Log) Integrate(ctx context.Context) (int, error) {
	l.seqMu.Lock()
	defer l.seqMu.Unlock()
	var (
		n        int
		newSize  int64
		frontier map[int64]tlog.Hash
	)
	err := l.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := l.checkLease(tx); err != nil {
			return err
		}
		// The lease keeps other processes' sequencers out; the row lock is the second line, in
		// case two Logs of one database are driven by hand. On SQLite the transaction already
		// holds the write lock (BEGIN IMMEDIATE).
		st, err := readTree(tx, l.postgres)
		if err != nil {
			return err
		}
		var rows []struct {
			Seq  int64
			Data []byte
		}
		if err := tx.Raw(`SELECT seq, data FROM ledger_entries WHERE idx IS NULL ORDER BY seq LIMIT ?`, l.batchSize).
			Scan(&rows).Error; err != nil {
			return fmt.Errorf("read ledger queue: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		// The hashes StoredHashes and TreeHash read for a tree of size S are exactly the roots of
		// the complete subtrees of [0, S) — its right edge, at most 64 hashes. Keeping them in
		// memory turns the batch into pure computation plus three writes.
		mem := l.frontier
		if l.frontierSize != st.Size {
			if mem, err = loadFrontier(tx, st.Size); err != nil {
				return err
			}
		} else {
			mem = cloneHashes(mem)
		}
		reader := tlog.HashReaderFunc(func(ids []int64) ([]tlog.Hash, error) {
			out := make([]tlog.Hash, len(ids))
			for i, id := range ids {
				h, ok := mem[id]
				if !ok {
					return nil, fmt.Errorf("rights: sequencer lacks stored hash %d", id)
				}
				out[i] = h
			}
			return out, nil
		})
		hashIDs := make([]int64, 0, 2*len(rows)+8)
		hashes := make([]tlog.Hash, 0, 2*len(rows)+8)
		for i, r := range rows {
			idx := st.Size + int64(i)
			hs, err := tlog.StoredHashes(idx, r.Data, reader)
			if err != nil {
				return err
			}
			base := tlog.StoredHashIndex(0, idx)
			for j, h := range hs {
				mem[base+int64(j)] = h
				hashIDs = append(hashIDs, base+int64(j))
				hashes = append(hashes, h)
			}
		}
		newSize = st.Size + int64(len(rows))
		root, err := tlog.TreeHash(newSize, reader)
		if err != nil {
			return err
		}
		if err := assignIndexes(tx, st.Size, seqsOf(rows)); err != nil {
			return err
		}
		if err := insertHashes(tx, hashIDs, hashes); err != nil {
			return err
		}
		res := tx.Exec(`UPDATE ledger_tree SET size = ?, root = ?, updated_at = ? WHERE id = 1 AND size = ?`,
			newSize, root[:], l.now().UTC(), st.Size)
		if res.Error != nil {
			return fmt.Errorf("update ledger tree state: %w", res.Error)
		}
		if res.RowsAffected != 1 {
			return fmt.Errorf("%w: tree state changed under the sequencer", ErrInconsistent)
		}
		frontier = make(map[int64]tlog.Hash, 64)
		for _, id := range frontierIndexes(newSize) {
			frontier[id] = mem[id]
		}
		n = len(rows)
		return nil
	})
	if err != nil {
		// What the transaction computed may not have been committed: forget it.
		l.frontierSize, l.frontier = -1, nil
		return 0, err
	}
	if n > 0 {
		l.frontierSize, l.frontier = newSize, frontier
		l.notifyChanged()
	}
	return n, nil
}

func seqsOf(rows []struct {
	Seq  int64
	Data []byte
}) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = r.Seq
	}
	return out
}

// assignIndexes gives the rows seqs[i] (ascending) the indexes first+i. A batch is the first
// pending rows by seq, so every maximal run of consecutive seqs in it covers all rows in its
// range, and one range UPDATE per run does the work (usually one statement per batch: a
// VALUES join cost SQLite a scan per row).
func assignIndexes(tx *gorm.DB, first int64, seqs []int64) error {
	for i := 0; i < len(seqs); {
		j := i + 1
		for j < len(seqs) && seqs[j] == seqs[j-1]+1 {
			j++
		}
		res := tx.Exec(`UPDATE ledger_entries SET idx = seq + ? WHERE seq >= ? AND seq <= ? AND idx IS NULL`,
			first+int64(i)-seqs[i], seqs[i], seqs[j-1])
		if res.Error != nil {
			return fmt.Errorf("assign ledger indexes: %w", res.Error)
		}
		if res.RowsAffected != int64(j-i) {
			return fmt.Errorf("%w: assigned %d of %d ledger indexes", ErrInconsistent, res.RowsAffected, j-i)
		}
		i = j
	}
	return nil
}

func insertHashes(tx *gorm.DB, ids []int64, hashes []tlog.Hash) error {
	const perStatement = 500 // 1000 parameters: far inside both databases' limits
	for len(ids) > 0 {
		k := min(len(ids), perStatement)
		var sb strings.Builder
		args := make([]any, 0, 2*k)
		sb.WriteString(`INSERT INTO ledger_hashes (id, hash) VALUES `)
		for i := range k {
			if i > 0 {
				sb.WriteString(",")
			}
			sb.WriteString("(?,?)")
			h := hashes[i]
			args = append(args, ids[i], h[:])
		}
		if err := tx.Exec(sb.String(), args...).Error; err != nil {
			return fmt.Errorf("store ledger hashes: %w", err)
		}
		ids, hashes = ids[k:], hashes[k:]
	}
	return nil
}

// frontierIndexes returns the stored-hash indexes of the complete subtrees that make up a tree
// of size n: for each set bit L of n, the node at level L ending where the next one starts.
func frontierIndexes(n int64) []int64 {
	var out []int64
	for level := 0; n>>level > 0; level++ {
		if n>>level&1 == 1 {
			out = append(out, tlog.StoredHashIndex(level, n>>level-1))
		}
	}
	return out
}

func loadFrontier(tx *gorm.DB, size int64) (map[int64]tlog.Hash, error) {
	ids := frontierIndexes(size)
	got, err := readHashMap(tx, ids)
	if err != nil {
		return nil, err
	}
	if len(got) != len(ids) {
		return nil, fmt.Errorf("%w: %d of the %d right-edge hashes of tree size %d are missing", ErrInconsistent, len(ids)-len(got), len(ids), size)
	}
	return got, nil
}

func cloneHashes(m map[int64]tlog.Hash) map[int64]tlog.Hash {
	out := make(map[int64]tlog.Hash, len(m)+600)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Run takes part in the election of the ledger's leader until ctx ends (then it returns nil):
// it waits for the lease (see DefaultLeaseDuration), runs the sequencer and the checkpoint
// publisher while it holds it, and stands by again when it loses it. Any number of processes
// sharing a database may run it; exactly one integrates and signs at a time. It returns early
// only when the publisher finds the log inconsistent: the caller should then stop serving
// writes, since signing on would fork the log. Transient database errors are logged and
// retried.
func (l *Log) Run(ctx context.Context) error {
	l.setEpoch(0, time.Time{})
	for {
		epoch, validUntil, err := l.awaitLease(ctx)
		if err != nil {
			return nil
		}
		err = l.lead(ctx, epoch, validUntil)
		if errors.Is(err, ErrInconsistent) {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		l.logger.WarnContext(ctx, "ledger: lost the lease; standing by", "epoch", epoch, "err", err)
	}
}

// RunSequencer integrates queued entries until ctx ends: a full batch is followed at once by
// the next, otherwise it waits for Enqueue's wake-up or the poll interval.
func (l *Log) RunSequencer(ctx context.Context) error {
	backoff := l.pollInterval
	for {
		n, err := l.Integrate(ctx)
		if ctx.Err() != nil {
			return nil
		}
		wait := l.pollInterval
		switch {
		case errors.Is(err, ErrNotLeader):
			// The lease keeper notices the loss too and ends this term; until then, wait.
			wait = backoff
		case err != nil:
			l.logger.ErrorContext(ctx, "ledger sequencer: integrate failed; retrying", "err", err, "retry_in", backoff)
			wait = backoff
			backoff = min(2*backoff, 5*time.Second)
		case n == l.batchSize:
			backoff = l.pollInterval
			continue
		default:
			backoff = l.pollInterval
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-l.wake:
			t.Stop()
			// The enqueuing transaction commits after Enqueue returns; a short pause lets it
			// (and its neighbours) commit, so one batch takes them all.
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(2 * time.Millisecond):
			}
		case <-t.C:
		}
	}
}
