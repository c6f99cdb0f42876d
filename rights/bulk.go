package rights

import (
	"context"
	"fmt"
	"math/bits"
	"slices"

	"golang.org/x/mod/sumdb/tlog"
	"gorm.io/gorm"
)

// Bulk reads for exports that prove many entries at once (contribution records): dedupe keys to
// indexes in batches, and entries with inclusion proofs streamed in index order against one
// tree size, reading each stored hash once.

// IndexesOf returns the ledger indexes of the entries queued under keys. Keys that are unknown
// or still wait for the sequencer are absent from the result.
func (l *Log) IndexesOf(ctx context.Context, keys []string) (map[string]int64, error) {
	out := make(map[string]int64, len(keys))
	db := l.db.WithContext(ctx)
	const per = 500
	for start := 0; start < len(keys); start += per {
		chunk := keys[start:min(start+per, len(keys))]
		rows, err := db.Raw(`SELECT dedupe_key, idx FROM ledger_entries WHERE dedupe_key IN ? AND idx IS NOT NULL`, chunk).Rows()
		if err != nil {
			return nil, fmt.Errorf("look up ledger keys: %w", err)
		}
		for rows.Next() {
			var k string
			var idx int64
			if err := rows.Scan(&k, &idx); err != nil {
				rows.Close()
				return nil, fmt.Errorf("look up ledger keys: %w", err)
			}
			out[k] = idx
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("look up ledger keys: %w", err)
		}
	}
	return out, nil
}

// ProveEntries calls fn for each of indexes — ascending, distinct, each below size — with the
// entry's exact bytes and its inclusion proof in the tree of size entries (normally a signed
// checkpoint's size). Entries are read in index order in batches, and when many entries are
// proved the stored hashes are read block by block, each once, so that proving millions of
// entries costs about one pass over the ledger's tables. An entry whose bytes do not match its
// stored leaf hash is an ErrInconsistent error.
func (l *Log) ProveEntries(ctx context.Context, size int64, indexes []int64, fn func(ProvenEntry) error) error {
	if len(indexes) == 0 {
		return nil
	}
	st, err := readTree(l.db.WithContext(ctx), false)
	if err != nil {
		return err
	}
	if size <= 0 || size > st.Size {
		return fmt.Errorf("%w: the tree has %d entries, not %d", ErrNotFound, st.Size, size)
	}
	for i, x := range indexes {
		if x < 0 || x >= size || i > 0 && x <= indexes[i-1] {
			return fmt.Errorf("%w: indexes must ascend, each in [0, %d)", ErrInvalid, size)
		}
	}
	p := newProver(l.db.WithContext(ctx), size, int64(len(indexes)))
	const batch = 1024
	for start := 0; start < len(indexes); start += batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		idx := indexes[start:min(start+batch, len(indexes))]
		data, err := readEntryData(l.db.WithContext(ctx), idx)
		if err != nil {
			return err
		}
		for i, x := range idx {
			leaf, err := p.hash(0, x)
			if err != nil {
				return err
			}
			if tlog.RecordHash(data[i]) != leaf {
				return fmt.Errorf("%w: entry %d's bytes do not match its stored leaf hash (run fsck)", ErrInconsistent, x)
			}
			proof, err := p.prove(x)
			if err != nil {
				return err
			}
			if err := fn(ProvenEntry{Index: x, Data: data[i], Proof: proof}); err != nil {
				return err
			}
		}
	}
	return nil
}

// readEntryData reads the bytes of the integrated entries at idx (ascending), by range when
// they are dense and by list otherwise.
func readEntryData(db *gorm.DB, idx []int64) ([][]byte, error) {
	first, last := idx[0], idx[len(idx)-1]
	var q *gorm.DB
	if last-first+1 <= 4*int64(len(idx)) {
		q = db.Raw(`SELECT idx, data FROM ledger_entries WHERE idx >= ? AND idx <= ? ORDER BY idx`, first, last)
	} else {
		q = db.Raw(`SELECT idx, data FROM ledger_entries WHERE idx IN ? ORDER BY idx`, idx)
	}
	rows, err := q.Rows()
	if err != nil {
		return nil, fmt.Errorf("read ledger entries: %w", err)
	}
	defer rows.Close()
	out := make([][]byte, len(idx))
	j := 0
	for rows.Next() {
		var x int64
		var data []byte
		if err := rows.Scan(&x, &data); err != nil {
			return nil, fmt.Errorf("read ledger entries: %w", err)
		}
		for j < len(idx) && idx[j] < x {
			j++
		}
		if j < len(idx) && idx[j] == x {
			out[j] = data
			j++
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read ledger entries: %w", err)
	}
	for i, d := range out {
		if d == nil {
			return nil, fmt.Errorf("%w: ledger entry %d is missing", ErrInconsistent, idx[i])
		}
	}
	return out, nil
}

// prover computes RFC 6962 inclusion proofs in one tree size from stored hashes it caches:
// the lower levels a block of leaves at a time (a block's nodes are stored next to each other,
// so one range read fetches them), the few upper-level nodes individually, and the hashes of
// the tree's incomplete right edge once.
type prover struct {
	db   *gorm.DB
	size int64
	// blockBits is the log2 of the leaves per block; levels below it live in blocks.
	blockBits int
	blocks    map[int64][]tlog.Hash // block number → its stored hashes, from firstID
	order     []int64               // blocks in load order, for eviction
	upper     map[int64]tlog.Hash   // stored hash index → hash, for levels ≥ blockBits
	fringe    map[int64]tlog.Hash   // lo → hash of the incomplete subtree [lo, size)
}

// maxBlocks bounds the cached blocks: proofs come in index order, so old blocks are done with.
const maxBlocks = 8

func newProver(db *gorm.DB, size, count int64) *prover {
	// Dense proving reads every hash of a block of 4096 leaves at once; sparse proving (few
	// entries of a big log) would waste that, and reads blocks of 16 leaves.
	b := 12
	if count*(1<<12) < size {
		b = 4
	}
	return &prover{db: db, size: size, blockBits: b, blocks: map[int64][]tlog.Hash{},
		upper: map[int64]tlog.Hash{}, fringe: map[int64]tlog.Hash{}}
}

// prove returns the audit path of leaf n: the sibling hashes from the leaf up.
func (p *prover) prove(n int64) ([]tlog.Hash, error) {
	return p.path(0, p.size, n, make([]tlog.Hash, 0, 64))
}

func (p *prover) path(lo, hi, n int64, out []tlog.Hash) ([]tlog.Hash, error) {
	if lo+1 == hi {
		return out, nil
	}
	k := maxPow2Below(hi - lo)
	var err error
	var sib tlog.Hash
	if n < lo+k {
		if out, err = p.path(lo, lo+k, n, out); err != nil {
			return nil, err
		}
		sib, err = p.subtree(lo+k, hi)
	} else {
		if out, err = p.path(lo+k, hi, n, out); err != nil {
			return nil, err
		}
		sib, err = p.subtree(lo, lo+k)
	}
	if err != nil {
		return nil, err
	}
	return append(out, sib), nil
}

// maxPow2Below returns the largest power of two smaller than n (n ≥ 2).
func maxPow2Below(n int64) int64 { return 1 << (bits.Len64(uint64(n-1)) - 1) }

// subtree returns the hash of leaves [lo, hi): stored when the range is a complete, aligned
// subtree, computed (once) on the tree's right edge otherwise.
func (p *prover) subtree(lo, hi int64) (tlog.Hash, error) {
	width := hi - lo
	if width&(width-1) == 0 && lo%width == 0 {
		level := bits.TrailingZeros64(uint64(width))
		return p.hash(level, lo>>level)
	}
	if h, ok := p.fringe[lo]; ok && hi == p.size {
		return h, nil
	}
	k := maxPow2Below(width)
	left, err := p.subtree(lo, lo+k)
	if err != nil {
		return tlog.Hash{}, err
	}
	right, err := p.subtree(lo+k, hi)
	if err != nil {
		return tlog.Hash{}, err
	}
	h := tlog.NodeHash(left, right)
	if hi == p.size {
		p.fringe[lo] = h
	}
	return h, nil
}

// hash returns the stored hash of node n at level.
func (p *prover) hash(level int, n int64) (tlog.Hash, error) {
	id := tlog.StoredHashIndex(level, n)
	if level >= p.blockBits {
		if h, ok := p.upper[id]; ok {
			return h, nil
		}
		if err := p.loadUpper(level, n); err != nil {
			return tlog.Hash{}, err
		}
		h, ok := p.upper[id]
		if !ok {
			return tlog.Hash{}, fmt.Errorf("%w: stored hash %d (level %d, node %d) is missing", ErrInconsistent, id, level, n)
		}
		return h, nil
	}
	block := (n << level) >> p.blockBits
	hs, ok := p.blocks[block]
	if !ok {
		var err error
		if hs, err = p.loadBlock(block); err != nil {
			return tlog.Hash{}, err
		}
	}
	i := id - tlog.StoredHashIndex(0, block<<p.blockBits)
	if i < 0 || i >= int64(len(hs)) || hs[i] == (tlog.Hash{}) {
		return tlog.Hash{}, fmt.Errorf("%w: stored hash %d (level %d, node %d) is missing", ErrInconsistent, id, level, n)
	}
	return hs[i], nil
}

// loadBlock reads the stored hashes written while the leaves of block were appended: every
// node of the levels below blockBits over those leaves (and the upper nodes they completed).
func (p *prover) loadBlock(block int64) ([]tlog.Hash, error) {
	from := tlog.StoredHashIndex(0, block<<p.blockBits)
	end := min((block+1)<<p.blockBits, p.size)
	// The last leaf's own hash and the nodes it completes follow StoredHashIndex(0, end-1).
	to := tlog.StoredHashIndex(0, end-1) + int64(bits.TrailingZeros64(^uint64(end-1)))
	hs := make([]tlog.Hash, to-from+1)
	rows, err := p.db.Raw(`SELECT id, hash FROM ledger_hashes WHERE id >= ? AND id <= ?`, from, to).Rows()
	if err != nil {
		return nil, fmt.Errorf("read ledger hashes: %w", err)
	}
	defer rows.Close()
	var raw []byte
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id, &raw); err != nil {
			return nil, fmt.Errorf("read ledger hashes: %w", err)
		}
		if len(raw) != tlog.HashSize {
			return nil, fmt.Errorf("%w: stored hash %d has %d bytes", ErrInconsistent, id, len(raw))
		}
		copy(hs[id-from][:], raw)
		if level, _ := tlog.SplitStoredHashIndex(id); level >= p.blockBits {
			p.upper[id] = hs[id-from]
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read ledger hashes: %w", err)
	}
	if len(p.order) >= maxBlocks {
		delete(p.blocks, p.order[0])
		p.order = p.order[1:]
	}
	p.blocks[block] = hs
	p.order = append(p.order, block)
	return hs, nil
}

// loadUpper reads node n at level together with the other upper nodes a proof through it
// needs: its ancestors' siblings, so that one query serves a whole block of leaves.
func (p *prover) loadUpper(level int, n int64) error {
	ids := []int64{tlog.StoredHashIndex(level, n)}
	leaf := n << level
	for l := p.blockBits; l < 63 && int64(1)<<l < p.size; l++ {
		sib := (leaf >> l) ^ 1
		if (sib+1)<<l <= p.size {
			ids = append(ids, tlog.StoredHashIndex(l, sib))
		}
	}
	// The complete subtrees of the right edge, which fringe hashes are made of.
	for l := 62; l >= p.blockBits; l-- {
		if p.size&(1<<l) != 0 {
			ids = append(ids, tlog.StoredHashIndex(l, (p.size>>l)-1))
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	missing := ids[:0:0]
	for _, id := range ids {
		if _, ok := p.upper[id]; !ok {
			missing = append(missing, id)
		}
	}
	got, err := readHashMap(p.db, missing)
	if err != nil {
		return err
	}
	for id, h := range got {
		p.upper[id] = h
	}
	return nil
}

// ScanKeys calls fn with the dedupe key and index of every entry integrated below size, in
// storage order: one sequential pass over the entries, for exports that need the indexes of
// a large part of the log (IndexesOf looks keys up one batch at a time).
func (l *Log) ScanKeys(ctx context.Context, size int64, fn func(key string, index int64) error) error {
	rows, err := l.db.WithContext(ctx).Raw(`SELECT dedupe_key, idx FROM ledger_entries`).Rows()
	if err != nil {
		return fmt.Errorf("scan ledger keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var idx *int64
		if err := rows.Scan(&k, &idx); err != nil {
			return fmt.Errorf("scan ledger keys: %w", err)
		}
		if idx != nil && *idx < size {
			if err := fn(k, *idx); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("scan ledger keys: %w", err)
	}
	return nil
}
