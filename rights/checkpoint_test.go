package rights_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
	"gorm.io/gorm"

	"ziyuan/market/store"
	"ziyuan/market/store/storetest"
	"ziyuan/rights"
)

func TestCheckpointIsSignedC2SPNote(t *testing.T) {
	storetest.Each(t, sources, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		lg := openLog(t, db.DB)
		first, published, err := lg.Publish(ctx)
		if err != nil || !published || first.Size != 0 {
			t.Fatalf("first publish: %+v %v %v", first, published, err)
		}
		enqueue(t, lg, 0, 3)
		drain(t, lg)
		c, published, err := lg.Publish(ctx)
		if err != nil || !published {
			t.Fatal(published, err)
		}
		// The note verifies with the public key through the note package itself.
		v, err := note.NewVerifier(lg.VerifierKey())
		if err != nil {
			t.Fatal(err)
		}
		n, err := note.Open(c.Note, note.VerifierList(v))
		if err != nil {
			t.Fatalf("signature does not verify: %v", err)
		}
		st, _ := lg.Tree(ctx)
		want := testOrigin + "\n3\n" + st.Root.String() + "\n"
		if n.Text != want {
			t.Fatalf("checkpoint body %q, want %q", n.Text, want)
		}
		if len(n.Sigs) != 1 || n.Sigs[0].Name != testOrigin {
			t.Fatalf("signatures %+v", n.Sigs)
		}
		// Nothing new: nothing published; the latest is served and kept in the file.
		if _, again, err := lg.Publish(ctx); err != nil || again {
			t.Fatalf("publish without growth: %v %v", again, err)
		}
		latest, err := lg.Checkpoint(ctx)
		if err != nil || string(latest.Note) != string(c.Note) {
			t.Fatalf("latest checkpoint %v", err)
		}
		file, err := os.ReadFile(lg.file)
		if err != nil || string(file) != string(c.Note) {
			t.Fatalf("checkpoint file not the latest note: %v", err)
		}
		// Another key does not verify it, and a changed body does not either.
		if _, err := rights.OpenCheckpoint(c.Note, newKey(t).VerifierKey()); !errors.Is(err, rights.ErrVerification) {
			t.Fatalf("other key: %v", err)
		}
		forged := strings.Replace(string(c.Note), "\n3\n", "\n4\n", 1)
		if _, err := rights.OpenCheckpoint([]byte(forged), lg.VerifierKey()); !errors.Is(err, rights.ErrVerification) {
			t.Fatalf("forged size: %v", err)
		}
	})
}

func TestParseCheckpoint(t *testing.T) {
	root := tlog.RecordHash([]byte("x"))
	good := "example.org/log\n12\n" + root.String() + "\n"
	c, err := rights.ParseCheckpoint(good + "ext one\n")
	if err != nil || c.Size != 12 || c.Root != root || len(c.Extensions) != 1 || c.Text() != good+"ext one\n" {
		t.Fatalf("%+v %v", c, err)
	}
	for name, in := range map[string]string{
		"no newline":    strings.TrimSuffix(good, "\n"),
		"short":         "example.org/log\n12\n",
		"signed size":   "example.org/log\n+12\n" + root.String() + "\n",
		"leading zero":  "example.org/log\n012\n" + root.String() + "\n",
		"short root":    "example.org/log\n12\nAAAA\n",
		"empty origin":  "\n12\n" + root.String() + "\n",
		"empty ext":     good + "\n",
		"negative size": "example.org/log\n-1\n" + root.String() + "\n",
	} {
		if _, err := rights.ParseCheckpoint(in); !errors.Is(err, rights.ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestRunPublishesCheckpointCoveringNewEntries(t *testing.T) {
	storetest.Each(t, sources, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		lg := openLog(t, db.DB)
		done := make(chan error, 1)
		go func() { done <- lg.Run(ctx) }()
		enqueue(t, lg, 0, 1)
		idx, err := lg.WaitIndexed(ctx, "k-0")
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			c, err := lg.Checkpoint(ctx)
			if err == nil && c.Size > idx {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no checkpoint covers entry %d: %v", idx, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if _, err := lg.Receipt(ctx, idx); err != nil {
			t.Fatal(err)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

func TestLoadOrCreateKey(t *testing.T) {
	dir := t.TempDir()
	k1, err := rights.LoadOrCreateKey(dir, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, rights.KeyFileName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	k2, err := rights.LoadOrCreateKey(dir, testOrigin)
	if err != nil || k2.VerifierKey() != k1.VerifierKey() {
		t.Fatalf("reloaded a different key: %v", err)
	}
	if _, err := rights.LoadOrCreateKey(dir, "other.origin/ledger"); err == nil {
		t.Fatal("accepted a key named for another origin")
	}
	os.Chmod(filepath.Join(dir, rights.KeyFileName), 0o644)
	if _, err := rights.LoadOrCreateKey(dir, testOrigin); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable key accepted: %v", err)
	}
	// A key given by setting works the same way and signs verifiable notes.
	skey, _ := rights.GenerateKey(testOrigin)
	k3, err := rights.NewKey(skey, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := note.NewVerifier(k3.VerifierKey()); err != nil || v.Name() != testOrigin {
		t.Fatalf("verifier key %q: %v", k3.VerifierKey(), err)
	}
	if _, err := rights.NewKey("PRIVATE+KEY+nonsense", testOrigin); err == nil {
		t.Fatal("accepted a malformed key")
	}
}

// truncateLedger rewinds the ledger tables to their state at size n, as a restored backup.
func truncateLedger(t *testing.T, db *gorm.DB, n int64) {
	t.Helper()
	reader := hashReaderOf(db)
	root, err := tlog.TreeHash(n, reader)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Transaction(func(tx *gorm.DB) error {
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`DELETE FROM ledger_entries WHERE idx >= ?`, []any{n}},
			{`DELETE FROM ledger_hashes WHERE id >= ?`, []any{tlog.StoredHashCount(n)}},
			{`DELETE FROM ledger_checkpoints WHERE size > ?`, []any{n}},
			{`UPDATE ledger_tree SET size = ?, root = ? WHERE id = 1`, []any{n, root[:]}},
		} {
			if err := tx.Exec(q.sql, q.args...).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func hashReaderOf(db *gorm.DB) tlog.HashReader {
	return tlog.HashReaderFunc(func(ids []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ids))
		for i, id := range ids {
			var b []byte
			if err := db.Raw(`SELECT hash FROM ledger_hashes WHERE id = ?`, id).Row().Scan(&b); err != nil {
				return nil, err
			}
			copy(out[i][:], b)
		}
		return out, nil
	})
}

func TestRollbackIsRefused(t *testing.T) {
	storetest.Each(t, sources, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		lg := openLog(t, db.DB)
		enqueue(t, lg, 0, 10)
		drain(t, lg)
		mustPublish(t, lg)
		enqueue(t, lg, 10, 20)
		drain(t, lg)
		mustPublish(t, lg)
		reopen := func() error {
			_, err := rights.Open(ctx, rights.Config{DB: db.DB, Key: lg.key, CheckpointFile: lg.file})
			return err
		}
		if err := reopen(); err != nil {
			t.Fatalf("reopen of an intact ledger: %v", err)
		}

		// The database goes back to its state at 10 entries, as a restored backup would.
		truncateLedger(t, db.DB, 10)
		err := reopen()
		var rb *rights.RollbackError
		if !errors.As(err, &rb) || !rb.Behind || rb.CheckpointSize != 20 || rb.DatabaseSize != 10 {
			t.Fatalf("open after rollback: %v", err)
		}
		for _, want := range []string{"rollback", "covers 20", "has only 10", "older backup", "fork"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("message lacks %q: %s", want, err)
			}
		}
		if !errors.Is(err, rights.ErrInconsistent) {
			t.Error("RollbackError is not ErrInconsistent")
		}

		// Other entries appended to the old copy give a tree of the right size but a different
		// history: refused as well.
		for i := 10; i < 25; i++ {
			e := workEntry(1000 + i)
			if err := db.Transaction(func(tx *gorm.DB) error {
				_, err := lg.Enqueue(ctx, tx, e, "fork-"+e.Subjects[0].ID)
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		drain(t, lg)
		err = reopen()
		if !errors.As(err, &rb) || rb.Behind || !strings.Contains(err.Error(), "root hash") {
			t.Fatalf("open after fork: %v", err)
		}
		// The publisher of the running log also refuses to sign the forked tree.
		if _, _, err := lg.Publish(ctx); !errors.Is(err, rights.ErrInconsistent) {
			t.Fatalf("publish on a forked tree: %v", err)
		}
	})
}

// TestRollbackOfSQLiteFileIsRefused restores an actual older copy of the SQLite database file.
func TestRollbackOfSQLiteFileIsRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Migrate(ctx, db, sources...); err != nil {
		t.Fatal(err)
	}
	key := newKey(t)
	file := filepath.Join(dir, "ledger-checkpoint")
	open := func(db *store.DB) (*testLog, error) {
		lg, err := rights.Open(ctx, rights.Config{DB: db.DB, Key: key, CheckpointFile: file})
		if err != nil {
			return nil, err
		}
		return &testLog{Log: lg, db: db.DB, key: key, file: file}, nil
	}
	lg, err := open(db)
	if err != nil {
		t.Fatal(err)
	}
	enqueue(t, lg, 0, 10)
	drain(t, lg)
	mustPublish(t, lg)
	backup := filepath.Join(t.TempDir(), "backup.db")
	if err := db.Exec(`VACUUM INTO ?`, backup).Error; err != nil {
		t.Fatal(err)
	}
	enqueue(t, lg, 10, 20)
	drain(t, lg)
	mustPublish(t, lg)
	db.Close()

	for _, suffix := range []string{"-wal", "-shm"} {
		os.Remove(filepath.Join(dir, "ziyuan.db"+suffix))
	}
	data, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ziyuan.db"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err = store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = open(db)
	var rb *rights.RollbackError
	if !errors.As(err, &rb) || !rb.Behind || rb.CheckpointSize != 20 || rb.DatabaseSize != 10 {
		t.Fatalf("open on restored backup: %v", err)
	}
	if !strings.Contains(err.Error(), "Restore the newest database backup") {
		t.Errorf("message does not say what to do: %s", err)
	}
}
