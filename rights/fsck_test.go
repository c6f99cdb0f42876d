package rights_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
	"gorm.io/gorm"

	"ziyuan/market/store"
	"ziyuan/market/store/storetest"
	"ziyuan/rights"
)

// TestTamperingIsDetected changes one byte of a stored entry or hash (or the tree state) and
// expects fsck to name the spot and proofs against the earlier signed checkpoint to fail.
func TestTamperingIsDetected(t *testing.T) {
	const size = 50
	cases := []struct {
		name      string
		tamper    func(t *testing.T, db *gorm.DB)
		index     int64 // where fsck should point
		hashIndex int64
		problem   string
		// prove is the entry whose proof against the signed checkpoint must now fail (-1: none).
		prove int64
	}{
		{
			name: "entry byte", index: 17, hashIndex: tlog.StoredHashIndex(0, 17), problem: "entry 17", prove: 17,
			tamper: func(t *testing.T, db *gorm.DB) {
				var data []byte
				db.Raw(`SELECT data FROM ledger_entries WHERE idx = 17`).Row().Scan(&data)
				// Still a canonical entry, so only the hashes can tell.
				data = bytes.Replace(data, []byte("000000000017"), []byte("000000000018"), 1)
				mustExec(t, db, `UPDATE ledger_entries SET data = ? WHERE idx = 17`, data)
			},
		},
		{
			name: "entry byte breaking the encoding", index: 3, hashIndex: -1, problem: "canonical", prove: 3,
			tamper: func(t *testing.T, db *gorm.DB) {
				var data []byte
				db.Raw(`SELECT data FROM ledger_entries WHERE idx = 3`).Row().Scan(&data)
				data[0] = 'Z'
				mustExec(t, db, `UPDATE ledger_entries SET data = ? WHERE idx = 3`, data)
			},
		},
		{
			name: "leaf hash", index: 17, hashIndex: tlog.StoredHashIndex(0, 17), problem: "stored leaf hash", prove: 16,
			tamper: func(t *testing.T, db *gorm.DB) { flipStoredHash(t, db, tlog.StoredHashIndex(0, 17)) },
		},
		{
			name: "interior hash", index: 7, hashIndex: tlog.StoredHashIndex(2, 1), problem: "level 2 node 1", prove: 0,
			tamper: func(t *testing.T, db *gorm.DB) { flipStoredHash(t, db, tlog.StoredHashIndex(2, 1)) },
		},
		{
			name: "missing entry", index: 30, hashIndex: -1, problem: "missing", prove: -1,
			tamper: func(t *testing.T, db *gorm.DB) { mustExec(t, db, `DELETE FROM ledger_entries WHERE idx = 30`) },
		},
		{
			name: "tree root", index: -1, hashIndex: -1, problem: "tree state's root", prove: -1,
			tamper: func(t *testing.T, db *gorm.DB) {
				mustExec(t, db, `UPDATE ledger_tree SET root = ? WHERE id = 1`, make([]byte, 32))
			},
		},
	}
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					ctx := context.Background()
					db := storetest.Open(t, d, sources...)
					lg := openLog(t, db.DB)
					enqueue(t, lg, 0, size)
					drain(t, lg)
					signed := mustPublish(t, lg)
					mustFsckOK(t, db.DB)
					if c.prove >= 0 {
						for i := range []int64{c.prove} {
							i := int64(i) + c.prove
							p, err := lg.InclusionProof(ctx, i, size)
							if err != nil {
								t.Fatal(err)
							}
							if _, err := signed.VerifyInclusion(i, mustData(t, lg, i), p.Hashes); err != nil {
								t.Fatalf("proof fails before tampering: %v", err)
							}
						}
					}
					c.tamper(t, db.DB)
					rep, err := rights.Fsck(ctx, db.DB)
					if err != nil {
						t.Fatal(err)
					}
					if rep.OK() || !strings.Contains(rep.Problem, c.problem) || rep.Index != c.index || rep.HashIndex != c.hashIndex {
						t.Fatalf("fsck = %+v; want problem about %q at index %d, hash %d", rep, c.problem, c.index, c.hashIndex)
					}
					if c.prove < 0 {
						return
					}
					// What the database now serves no longer verifies against the checkpoint.
					var data []byte
					db.Raw(`SELECT data FROM ledger_entries WHERE idx = ?`, c.prove).Row().Scan(&data)
					p, err := lg.InclusionProof(ctx, c.prove, size)
					if err == nil {
						_, err = signed.VerifyInclusion(c.prove, data, p.Hashes)
					}
					if err == nil {
						t.Fatalf("proof of entry %d still verifies after tampering", c.prove)
					}
					// Reading the entry notices too, instead of serving altered bytes.
					if c.name == "entry byte" {
						if _, err := lg.Entry(ctx, c.prove); !errors.Is(err, rights.ErrInconsistent) {
							t.Fatalf("Entry served a tampered entry: %v", err)
						}
					}
				})
			}
		})
	}
}

func mustExec(t *testing.T, db *gorm.DB, sql string, args ...any) {
	t.Helper()
	res := db.Exec(sql, args...)
	if res.Error != nil || res.RowsAffected != 1 {
		t.Fatalf("%s: %v (%d rows)", sql, res.Error, res.RowsAffected)
	}
}

func flipStoredHash(t *testing.T, db *gorm.DB, id int64) {
	t.Helper()
	var h []byte
	if err := db.Raw(`SELECT hash FROM ledger_hashes WHERE id = ?`, id).Row().Scan(&h); err != nil {
		t.Fatal(err)
	}
	h[5] ^= 0x10
	mustExec(t, db, `UPDATE ledger_hashes SET hash = ? WHERE id = ?`, h, id)
}
