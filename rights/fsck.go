package rights

import (
	"context"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
	"gorm.io/gorm"
)

// FsckReport is the outcome of Fsck. Problem is empty when the stored log is whole; otherwise
// it describes the first difference found, and Index / HashIndex locate it (-1 when not
// applicable).
type FsckReport struct {
	TreeSize int64
	Entries  int64 // integrated entries checked
	Hashes   int64 // stored hashes checked
	Pending  int64 // queued entries not yet integrated
	Problem  string
	// Index is the entry where the difference shows, or -1.
	Index int64
	// HashIndex is the stored-hash index (tlog.StoredHashIndex) where it shows, or -1.
	HashIndex int64
}

// OK reports whether fsck found no difference.
func (r FsckReport) OK() bool { return r.Problem == "" }

func (r FsckReport) String() string {
	if r.OK() {
		return fmt.Sprintf("ledger ok: %d entries, %d stored hashes, tree size %d, %d queued", r.Entries, r.Hashes, r.TreeSize, r.Pending)
	}
	return "ledger damaged: " + r.Problem
}

const fsckChunk = 4096

// Fsck recomputes the tree from the stored entry bytes alone and compares it with everything
// stored: entry indexes dense from 0, every entry canonical, every stored hash, no hash beyond
// the tree, and the tree state's size and root. It returns the first difference in the report;
// the error is for failures to read. It reads in chunks, so it works on large logs, but it
// does not lock out the sequencer: run it on a quiet log (the CLI runs it with the server
// stopped) or expect a moving tree size.
func Fsck(ctx context.Context, db *gorm.DB) (FsckReport, error) {
	db = db.WithContext(ctx)
	rep := FsckReport{Index: -1, HashIndex: -1}
	st, err := readTree(db, false)
	if err != nil {
		return rep, err
	}
	rep.TreeSize = st.Size
	if err := db.Raw(`SELECT COUNT(*) FROM ledger_entries WHERE idx IS NULL`).Scan(&rep.Pending).Error; err != nil {
		return rep, err
	}
	// The recomputation's own memory of the right edge of the tree; it never reads a stored
	// hash, so stored damage cannot hide itself.
	mem := map[int64]tlog.Hash{}
	reader := tlog.HashReaderFunc(func(ids []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ids))
		for i, id := range ids {
			h, ok := mem[id]
			if !ok {
				return nil, fmt.Errorf("fsck: missing recomputed hash %d", id)
			}
			out[i] = h
		}
		return out, nil
	})
	fail := func(index, hashIndex int64, format string, args ...any) (FsckReport, error) {
		rep.Problem = fmt.Sprintf(format, args...)
		rep.Index, rep.HashIndex = index, hashIndex
		return rep, nil
	}
	for start := int64(0); start < st.Size; start += fsckChunk {
		end := min(start+fsckChunk, st.Size)
		var entries []struct {
			Idx  int64
			Data []byte
		}
		if err := db.Raw(`SELECT idx, data FROM ledger_entries WHERE idx >= ? AND idx < ? ORDER BY idx`, start, end).
			Scan(&entries).Error; err != nil {
			return rep, fmt.Errorf("read ledger entries: %w", err)
		}
		lo, hi := tlog.StoredHashIndex(0, start), tlog.StoredHashIndex(0, end)
		var stored []struct {
			ID   int64
			Hash []byte
		}
		if err := db.Raw(`SELECT id, hash FROM ledger_hashes WHERE id >= ? AND id < ? ORDER BY id`, lo, hi).
			Scan(&stored).Error; err != nil {
			return rep, fmt.Errorf("read ledger hashes: %w", err)
		}
		k := 0 // next stored hash to compare
		for i, e := range entries {
			want := start + int64(i)
			if e.Idx != want {
				return fail(want, -1, "entry index %d is missing (the next stored entry is %d): indexes are not dense", want, e.Idx)
			}
			if _, err := Decode(e.Data); err != nil {
				return fail(want, -1, "entry %d does not decode canonically: %v", want, err)
			}
			hs, err := tlog.StoredHashes(want, e.Data, reader)
			if err != nil {
				return rep, err
			}
			base := tlog.StoredHashIndex(0, want)
			for j, h := range hs {
				id := base + int64(j)
				mem[id] = h
				if k >= len(stored) || stored[k].ID != id {
					return fail(want, id, "stored hash %d (%s) is missing", id, describeHash(id))
				}
				if string(stored[k].Hash) != string(h[:]) {
					if j == 0 {
						return fail(want, id, "entry %d: its bytes hash to %s but the stored leaf hash is %s (the entry or its hash was changed)",
							want, h, hashString(stored[k].Hash))
					}
					return fail(want, id, "stored hash %d (%s) is %s, but the entries give %s", id, describeHash(id), hashString(stored[k].Hash), h)
				}
				k++
				rep.Hashes++
			}
			rep.Entries++
		}
		if int64(len(entries)) != end-start {
			missing := start + int64(len(entries))
			return fail(missing, -1, "entry index %d is missing: the tree state says %d entries but the database has fewer", missing, st.Size)
		}
		// Keep only the right edge the next records need.
		keep := make(map[int64]tlog.Hash, 64)
		for _, id := range frontierIndexes(end) {
			keep[id] = mem[id]
		}
		mem = keep
	}
	var extra struct {
		Entries int64
		Hashes  int64
	}
	if err := db.Raw(`SELECT COUNT(*) FROM ledger_entries WHERE idx >= ?`, st.Size).Scan(&extra.Entries).Error; err != nil {
		return rep, err
	}
	if extra.Entries > 0 {
		return fail(st.Size, -1, "%d entries have indexes at or beyond the tree size %d", extra.Entries, st.Size)
	}
	if err := db.Raw(`SELECT COUNT(*) FROM ledger_hashes WHERE id >= ?`, tlog.StoredHashCount(st.Size)).Scan(&extra.Hashes).Error; err != nil {
		return rep, err
	}
	if extra.Hashes > 0 {
		return fail(-1, tlog.StoredHashCount(st.Size), "%d stored hashes lie beyond the tree of size %d", extra.Hashes, st.Size)
	}
	root, err := tlog.TreeHash(st.Size, reader)
	if err != nil {
		return rep, err
	}
	if root != st.Root {
		return fail(-1, -1, "the tree state's root %s is not the root %s of the stored entries", st.Root, root)
	}
	return rep, nil
}

// Fsck runs Fsck on the log's database.
func (l *Log) Fsck(ctx context.Context) (FsckReport, error) { return Fsck(ctx, l.db) }

func describeHash(id int64) string {
	level, n := tlog.SplitStoredHashIndex(id)
	lo := n << level
	return fmt.Sprintf("level %d node %d, over entries %d..%d", level, n, lo, lo+(1<<level)-1)
}

func hashString(b []byte) string {
	if len(b) != tlog.HashSize {
		return fmt.Sprintf("<%d bytes>", len(b))
	}
	var h tlog.Hash
	copy(h[:], b)
	return h.String()
}
