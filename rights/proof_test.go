package rights_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/tlog"

	"ziyuan/market/store"
	"ziyuan/market/store/storetest"
	"ziyuan/rights"
)

const maxProofSize = 300

// builtLog is a log of maxProofSize entries with everything a proof test needs in memory: the
// leaf bytes, every stored hash, and every prefix root computed independently of tlog.
type builtLog struct {
	lg     *testLog
	leaves [][]byte
	hashes tlog.HashReader // stored hashes read once from the database
	roots  []tlog.Hash     // roots[n] = RFC 6962 root of the first n leaves (merkle's hasher)
}

func buildLog(t *testing.T, db *store.DB) *builtLog {
	t.Helper()
	ctx := context.Background()
	// A small batch size and uneven enqueue groups exercise batch boundaries everywhere.
	lg := openLog(t, db.DB, func(c *rights.Config) { c.BatchSize = 7 })
	for n, step := 0, 1; n < maxProofSize; step = step%13 + 1 {
		end := min(n+step, maxProofSize)
		enqueue(t, lg, n, end)
		drain(t, lg)
		n = end
	}
	b := &builtLog{lg: lg}
	for i := range int64(maxProofSize) {
		b.leaves = append(b.leaves, mustData(t, lg, i))
	}
	ids := make([]int64, tlog.StoredHashCount(maxProofSize))
	for i := range ids {
		ids[i] = int64(i)
	}
	all, err := lg.HashReader(ctx).ReadHashes(ids)
	if err != nil {
		t.Fatal(err)
	}
	b.hashes = tlog.HashReaderFunc(func(want []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(want))
		for i, id := range want {
			if id < 0 || id >= int64(len(all)) {
				return nil, fmt.Errorf("no stored hash %d", id)
			}
			out[i] = all[id]
		}
		return out, nil
	})
	h := rfc6962.DefaultHasher
	leafHashes := make([][]byte, maxProofSize)
	for i, d := range b.leaves {
		leafHashes[i] = h.HashLeaf(d)
	}
	b.roots = make([]tlog.Hash, maxProofSize+1)
	for n := 1; n <= maxProofSize; n++ {
		copy(b.roots[n][:], mth(leafHashes[:n]))
	}
	st, err := lg.Tree(ctx)
	if err != nil || st.Size != maxProofSize || st.Root != b.roots[maxProofSize] {
		t.Fatalf("tree state %+v (%v), want size %d root %s", st, err, maxProofSize, b.roots[maxProofSize])
	}
	return b
}

// mth is RFC 6962's Merkle Tree Hash, written out with the independent library's hasher.
func mth(leaves [][]byte) []byte {
	if len(leaves) == 1 {
		return leaves[0]
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	return rfc6962.DefaultHasher.HashChildren(mth(leaves[:k]), mth(leaves[k:]))
}

func raw(p []tlog.Hash) [][]byte {
	out := make([][]byte, len(p))
	for i := range p {
		out[i] = bytes.Clone(p[i][:])
	}
	return out
}

func TestProofsVerifyForEveryTreeSize(t *testing.T) {
	storetest.Each(t, sources, func(t *testing.T, db *store.DB) {
		b := buildLog(t, db)
		h := rfc6962.DefaultHasher
		for n := int64(1); n <= maxProofSize; n++ {
			root := b.roots[n]
			got, err := tlog.TreeHash(n, b.hashes)
			if err != nil || got != root {
				t.Fatalf("size %d: stored hashes give root %s, independent root %s (%v)", n, got, root, err)
			}
			for i := range n {
				leaf := tlog.RecordHash(b.leaves[i])
				if !bytes.Equal(leaf[:], h.HashLeaf(b.leaves[i])) {
					t.Fatalf("leaf %d: tlog and RFC 6962 leaf hashes differ", i)
				}
				p, err := tlog.ProveRecord(n, i, b.hashes)
				if err != nil {
					t.Fatal(err)
				}
				if err := tlog.CheckRecord(p, n, root, i, leaf); err != nil {
					t.Fatalf("inclusion %d in %d (tlog): %v", i, n, err)
				}
				if err := proof.VerifyInclusion(h, uint64(i), uint64(n), leaf[:], raw(p), root[:]); err != nil {
					t.Fatalf("inclusion %d in %d (merkle): %v", i, n, err)
				}
			}
			for m := int64(1); m <= n; m++ {
				p, err := tlog.ProveTree(n, m, b.hashes)
				if err != nil {
					t.Fatal(err)
				}
				if err := tlog.CheckTree(p, n, root, m, b.roots[m]); err != nil {
					t.Fatalf("consistency %d→%d (tlog): %v", m, n, err)
				}
				if err := proof.VerifyConsistency(h, uint64(m), uint64(n), raw(p), b.roots[m][:], root[:]); err != nil {
					t.Fatalf("consistency %d→%d (merkle): %v", m, n, err)
				}
			}
		}
		// The served proofs (each read from the database on request) agree, for a spread of
		// indexes and sizes.
		ctx := context.Background()
		for n := int64(1); n <= maxProofSize; n++ {
			for _, i := range uniq(0, n/2, n-1) {
				p, err := b.lg.InclusionProof(ctx, i, n)
				if err != nil {
					t.Fatal(err)
				}
				leaf := tlog.RecordHash(b.leaves[i])
				if p.Index != i || p.Size != n || p.Root != b.roots[n] {
					t.Fatalf("InclusionProof(%d, %d) = %+v", i, n, p)
				}
				if err := proof.VerifyInclusion(h, uint64(i), uint64(n), leaf[:], raw(p.Hashes), b.roots[n][:]); err != nil {
					t.Fatalf("served inclusion %d in %d: %v", i, n, err)
				}
			}
			for _, m := range uniq(1, n/2, n-1, n) {
				if m < 1 {
					continue
				}
				p, err := b.lg.ConsistencyProof(ctx, m, n)
				if err != nil {
					t.Fatal(err)
				}
				if err := proof.VerifyConsistency(h, uint64(m), uint64(n), raw(p.Hashes), b.roots[m][:], b.roots[n][:]); err != nil {
					t.Fatalf("served consistency %d→%d: %v", m, n, err)
				}
			}
		}
	})
}

func uniq(xs ...int64) []int64 {
	var out []int64
	seen := map[int64]bool{}
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func flipBit(p []tlog.Hash, k, bit int) []tlog.Hash {
	out := append([]tlog.Hash(nil), p...)
	out[k][bit/8] ^= 1 << (bit % 8)
	return out
}

// TestCorruptedProofsFail checks that every kind of damage to a proof is rejected by both
// verifiers, across all tree sizes.
func TestCorruptedProofsFail(t *testing.T) {
	storetest.Each(t, sources, func(t *testing.T, db *store.DB) {
		b := buildLog(t, db)
		h := rfc6962.DefaultHasher
		rejects := func(what string, p []tlog.Hash, i, n int64, leaf tlog.Hash, root tlog.Hash) {
			t.Helper()
			if tlog.CheckRecord(p, n, root, i, leaf) == nil {
				t.Fatalf("tlog accepted inclusion proof with %s", what)
			}
			if i >= 0 && n >= 0 && proof.VerifyInclusion(h, uint64(i), uint64(n), leaf[:], raw(p), root[:]) == nil {
				t.Fatalf("merkle accepted inclusion proof with %s", what)
			}
		}
		rejectsTree := func(what string, p []tlog.Hash, m, n int64, oldRoot, newRoot tlog.Hash) {
			t.Helper()
			if tlog.CheckTree(p, n, newRoot, m, oldRoot) == nil {
				t.Fatalf("tlog accepted consistency proof with %s", what)
			}
			if m >= 0 && n >= 0 && proof.VerifyConsistency(h, uint64(m), uint64(n), raw(p), oldRoot[:], newRoot[:]) == nil {
				t.Fatalf("merkle accepted consistency proof with %s", what)
			}
		}
		checked := 0
		for n := int64(1); n <= maxProofSize; n++ {
			for _, i := range uniq(0, (n*7)%n, n/2, n-1) {
				p, _ := tlog.ProveRecord(n, i, b.hashes)
				leaf := tlog.RecordHash(b.leaves[i])
				root := b.roots[n]
				for k := range p {
					for _, bit := range []int{0, (k*37 + int(n)) % 256, 255} {
						rejects(fmt.Sprintf("hash %d bit %d flipped (i=%d n=%d)", k, bit, i, n), flipBit(p, k, bit), i, n, leaf, root)
					}
				}
				rejects("index+1", p, i+1, n, leaf, root)
				if i > 0 {
					rejects("index-1", p, i-1, n, leaf, root)
				}
				if n > 1 && i < n-1 {
					rejects("size-1", p, i, n-1, leaf, b.roots[n-1])
				}
				if n < maxProofSize {
					rejects("size+1", p, i, n+1, leaf, b.roots[n+1])
				}
				if len(p) > 0 {
					rejects("truncated", p[:len(p)-1], i, n, leaf, root)
					rejects("first hash dropped", p[1:], i, n, leaf, root)
					rejects("other leaf", p, i, n, tlog.RecordHash(b.leaves[(i+1)%n]), root)
				}
				rejects("extended", append(append([]tlog.Hash(nil), p...), tlog.Hash{}), i, n, leaf, root)
				if n > 1 {
					rejects("other root", p, i, n, leaf, b.roots[n-1])
				}
				checked++
			}
			for _, m := range uniq(1, n/2, n-1) {
				if m < 1 || m >= n {
					continue
				}
				p, _ := tlog.ProveTree(n, m, b.hashes)
				for k := range p {
					for _, bit := range []int{0, (k*53 + int(m)) % 256, 255} {
						rejectsTree(fmt.Sprintf("hash %d bit %d flipped (m=%d n=%d)", k, bit, m, n), flipBit(p, k, bit), m, n, b.roots[m], b.roots[n])
					}
				}
				rejectsTree("swapped roots", p, m, n, b.roots[n], b.roots[m])
				if m > 1 {
					rejectsTree("old size-1", p, m-1, n, b.roots[m-1], b.roots[n])
				}
				if m+1 < n {
					rejectsTree("old size+1", p, m+1, n, b.roots[m+1], b.roots[n])
				}
				if n < maxProofSize {
					rejectsTree("new size+1", p, m, n+1, b.roots[m], b.roots[n+1])
				}
				rejectsTree("truncated", p[:len(p)-1], m, n, b.roots[m], b.roots[n])
				rejectsTree("extended", append(append([]tlog.Hash(nil), p...), b.roots[m]), m, n, b.roots[m], b.roots[n])
				checked++
			}
		}
		if checked < 1000 {
			t.Fatalf("only %d proofs corrupted", checked)
		}
	})
}

func TestProofRequestErrors(t *testing.T) {
	storetest.Each(t, sources, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		lg := openLog(t, db.DB)
		if _, err := lg.InclusionProof(ctx, 0, 0); !errors.Is(err, rights.ErrPending) {
			t.Fatalf("proof before any checkpoint: %v", err)
		}
		enqueue(t, lg, 0, 5)
		drain(t, lg)
		mustPublish(t, lg)
		enqueue(t, lg, 5, 8)
		drain(t, lg)
		cases := []struct {
			name        string
			index, size int64
			want        error
		}{
			{"negative index", -1, 5, rights.ErrInvalid},
			{"beyond tree", 9, 0, rights.ErrNotFound},
			{"size beyond tree", 0, 9, rights.ErrNotFound},
			{"integrated, not checkpointed", 6, 0, rights.ErrPending},
		}
		for _, c := range cases {
			if _, err := lg.InclusionProof(ctx, c.index, c.size); !errors.Is(err, c.want) {
				t.Errorf("%s: %v, want %v", c.name, err, c.want)
			}
		}
		p, err := lg.InclusionProof(ctx, 2, 0)
		if err != nil || p.Size != 5 || p.Checkpoint == "" {
			t.Fatalf("default size should be the latest checkpoint's (5) with its note: %+v %v", p, err)
		}
		if _, err := lg.ConsistencyProof(ctx, 6, 5); !errors.Is(err, rights.ErrInvalid) {
			t.Errorf("old > new: %v", err)
		}
		if _, err := lg.ConsistencyProof(ctx, 1, 9); !errors.Is(err, rights.ErrNotFound) {
			t.Errorf("new beyond tree: %v", err)
		}
		if _, err := lg.Entry(ctx, 8); !errors.Is(err, rights.ErrNotFound) {
			t.Errorf("entry beyond tree: %v", err)
		}
	})
}
