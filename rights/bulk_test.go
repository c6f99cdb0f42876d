package rights_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
	"gorm.io/gorm"

	"ziyuan/market/store"
	"ziyuan/market/store/storetest"
	"ziyuan/rights"
)

// TestProveEntriesMatchesTlog: the bulk prover gives tlog's proofs, dense and sparse, in trees
// of sizes around its block boundaries, and the proofs verify against a signed checkpoint.
func TestProveEntriesMatchesTlog(t *testing.T) {
	storetest.Each(t, sources, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		lg := openLog(t, db.DB, func(c *rights.Config) { c.BatchSize = 1000 })
		const n = 4200
		enqueue(t, lg, 0, n)
		drain(t, lg)
		cp := mustPublish(t, lg)
		reader := lg.HashReader(ctx)
		for _, size := range []int64{1, 2, 3, 17, 4095, 4096, 4097, n} {
			var all []int64
			for i := range size {
				all = append(all, i)
			}
			sparse := []int64{0, size / 3, size - 1}
			sparse = slices.Compact(sparse)
			for _, idx := range [][]int64{all, sparse, {size - 1}} {
				got := 0
				err := lg.ProveEntries(ctx, size, idx, func(pe rights.ProvenEntry) error {
					want, err := tlog.ProveRecord(size, pe.Index, reader)
					if err != nil {
						return err
					}
					if !slices.Equal(pe.Proof, want) {
						return fmt.Errorf("size %d, entry %d: proof %v, tlog says %v", size, pe.Index, pe.Proof, want)
					}
					if pe.Index != idx[got] {
						return fmt.Errorf("entry %d came as number %d", pe.Index, got)
					}
					got++
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if got != len(idx) {
					t.Fatalf("size %d: %d of %d entries", size, got, len(idx))
				}
			}
		}
		var batch []rights.ProvenEntry
		if err := lg.ProveEntries(ctx, cp.Size, []int64{0, 1, 2048, 4096, n - 1}, func(pe rights.ProvenEntry) error {
			batch = append(batch, pe)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := rights.VerifyEntries(cp.Note, lg.VerifierKey(), batch); err != nil {
			t.Fatal(err)
		}
		keys := []string{"k-0", "k-4199", "no-such-key"}
		got, err := lg.IndexesOf(ctx, keys)
		if err != nil || len(got) != 2 || got["k-0"] != 0 || got["k-4199"] != 4199 {
			t.Fatalf("IndexesOf: %v %v", got, err)
		}
		seen := 0
		if err := lg.ScanKeys(ctx, 100, func(key string, idx int64) error {
			if key != fmt.Sprintf("k-%d", idx) || idx >= 100 {
				return fmt.Errorf("key %s at %d", key, idx)
			}
			seen++
			return nil
		}); err != nil || seen != 100 {
			t.Fatalf("ScanKeys: %d keys, %v", seen, err)
		}
		for _, bad := range [][]int64{{2, 1}, {1, 1}, {-1}, {n}} {
			if err := lg.ProveEntries(ctx, n, bad, func(rights.ProvenEntry) error { return nil }); !errors.Is(err, rights.ErrInvalid) {
				t.Fatalf("indexes %v: %v", bad, err)
			}
		}
		if err := lg.ProveEntries(ctx, n+1, []int64{0}, func(rights.ProvenEntry) error { return nil }); !errors.Is(err, rights.ErrNotFound) {
			t.Fatalf("size beyond the tree: %v", err)
		}
		// A changed entry byte is noticed, not proved.
		if err := db.Transaction(func(tx *gorm.DB) error {
			return tx.Exec(`UPDATE ledger_entries SET data = ? WHERE idx = 7`, []byte("tampered\n")).Error
		}); err != nil {
			t.Fatal(err)
		}
		if err := lg.ProveEntries(ctx, n, []int64{5, 7}, func(rights.ProvenEntry) error { return nil }); !errors.Is(err, rights.ErrInconsistent) {
			t.Fatalf("tampered entry: %v", err)
		}
	})
}
