package rights

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// InclusionProof is the JSON shape of GET /ledger/entries/{index}/proof: the RFC 6962 audit
// path of entry Index in the tree of Size entries with root Root, and the signed checkpoint of
// that size when one was published.
type InclusionProof struct {
	Index      int64       `json:"index"`
	Size       int64       `json:"size"`
	Root       tlog.Hash   `json:"root"`
	Hashes     []tlog.Hash `json:"hashes"`
	Checkpoint string      `json:"checkpoint,omitempty"`
}

// ConsistencyProof is the JSON shape of GET /ledger/consistency: the proof that the tree of
// New entries extends the tree of Old entries.
type ConsistencyProof struct {
	Old    int64       `json:"old"`
	New    int64       `json:"new"`
	Hashes []tlog.Hash `json:"hashes"`
}

// InclusionProof proves entry index in the tree of the given size; size ≤ 0 means the latest
// checkpoint's size. An index that is integrated but not yet covered by that size gives
// ErrPending; an index or size beyond the tree gives ErrNotFound.
func (l *Log) InclusionProof(ctx context.Context, index, size int64) (InclusionProof, error) {
	db := l.db.WithContext(ctx)
	st, err := readTree(db, false)
	if err != nil {
		return InclusionProof{}, err
	}
	var cp *SignedCheckpoint
	if size <= 0 {
		c, err := l.Checkpoint(ctx)
		if err != nil {
			return InclusionProof{}, err
		}
		cp, size = &c, c.Size
	}
	if index < 0 {
		return InclusionProof{}, fmt.Errorf("%w: negative index", ErrInvalid)
	}
	if size > st.Size {
		return InclusionProof{}, fmt.Errorf("%w: the tree has %d entries, not %d", ErrNotFound, st.Size, size)
	}
	if index >= size {
		if index < st.Size {
			return InclusionProof{}, fmt.Errorf("%w: entry %d is not in the tree of size %d yet", ErrPending, index, size)
		}
		return InclusionProof{}, fmt.Errorf("%w: no ledger entry %d", ErrNotFound, index)
	}
	if cp == nil {
		if c, err := l.CheckpointAt(ctx, size); err == nil {
			cp = &c
		} else if !errors.Is(err, ErrNotFound) {
			return InclusionProof{}, err
		}
	}
	reader := hashReader{db}
	p := InclusionProof{Index: index, Size: size}
	if cp != nil {
		p.Root, p.Checkpoint = cp.Root, string(cp.Note)
	} else if p.Root, err = tlog.TreeHash(size, reader); err != nil {
		return InclusionProof{}, err
	}
	proof, err := tlog.ProveRecord(size, index, reader)
	if err != nil {
		return InclusionProof{}, err
	}
	p.Hashes = append([]tlog.Hash{}, proof...)
	return p, nil
}

// ConsistencyProof proves that the tree of newSize entries extends the tree of oldSize entries
// (0 ≤ old ≤ new ≤ the integrated size; equal sizes and old = 0 have empty proofs).
func (l *Log) ConsistencyProof(ctx context.Context, oldSize, newSize int64) (ConsistencyProof, error) {
	db := l.db.WithContext(ctx)
	if oldSize < 0 || oldSize > newSize {
		return ConsistencyProof{}, fmt.Errorf("%w: need 0 ≤ old ≤ new, got old=%d new=%d", ErrInvalid, oldSize, newSize)
	}
	st, err := readTree(db, false)
	if err != nil {
		return ConsistencyProof{}, err
	}
	if newSize > st.Size {
		return ConsistencyProof{}, fmt.Errorf("%w: the tree has %d entries, not %d", ErrNotFound, st.Size, newSize)
	}
	p := ConsistencyProof{Old: oldSize, New: newSize, Hashes: []tlog.Hash{}}
	if oldSize == 0 || oldSize == newSize {
		return p, nil
	}
	proof, err := tlog.ProveTree(newSize, oldSize, hashReader{db})
	if err != nil {
		return ConsistencyProof{}, err
	}
	p.Hashes = append(p.Hashes, proof...)
	return p, nil
}

// HashReader returns a tlog.HashReader over the stored hashes, for callers that compute many
// proofs at once (exports, tests) with the tlog functions directly.
func (l *Log) HashReader(ctx context.Context) tlog.HashReader {
	return hashReader{l.db.WithContext(ctx)}
}
