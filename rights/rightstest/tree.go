// Package rightstest builds large ledgers quickly for benchmarks: the stored hashes and tree
// state of a log of synthetic entries, written in bulk instead of through the sequencer.
package rightstest

import (
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
	"gorm.io/gorm"
)

// WriteSyntheticTree stores the hashes and tree state of a log of n entries "entry <i>\n" in
// db (which holds the rights schema and an empty log). The entries themselves are not stored:
// proofs, checkpoints and tiles read only hashes.
func WriteSyntheticTree(db *gorm.DB, n int64) error {
	mem := make([]tlog.Hash, 0, tlog.StoredHashCount(n))
	reader := tlog.HashReaderFunc(func(ids []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ids))
		for i, id := range ids {
			out[i] = mem[id]
		}
		return out, nil
	})
	for i := range n {
		hs, err := tlog.StoredHashes(i, fmt.Appendf(nil, "entry %d\n", i), reader)
		if err != nil {
			return err
		}
		mem = append(mem, hs...)
	}
	root, err := tlog.TreeHash(n, reader)
	if err != nil {
		return err
	}
	return db.Transaction(func(tx *gorm.DB) error {
		const per = 500
		for start := 0; start < len(mem); start += per {
			end := min(start+per, len(mem))
			var sb strings.Builder
			args := make([]any, 0, 2*(end-start))
			sb.WriteString(`INSERT INTO ledger_hashes (id, hash) VALUES `)
			for i := start; i < end; i++ {
				if i > start {
					sb.WriteString(",")
				}
				sb.WriteString("(?,?)")
				args = append(args, int64(i), mem[i][:])
			}
			if err := tx.Exec(sb.String(), args...).Error; err != nil {
				return err
			}
		}
		return tx.Exec(`UPDATE ledger_tree SET size = ?, root = ? WHERE id = 1`, n, root[:]).Error
	})
}
