package rights_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"ziyuan/market/store"
	"ziyuan/rights"
)

const testOrigin = "test.ziyuan.local/ledger"

var sources = []store.Source{{Name: "rights", FS: rights.SchemaFS()}}

var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// fixedClock is an injectable clock that advances a millisecond per call, so entries differ.
func fixedClock() func() time.Time {
	var n atomic.Int64
	return func() time.Time {
		return t0.Add(time.Duration(n.Add(1)) * time.Millisecond)
	}
}

func newKey(t testing.TB) *rights.Key {
	t.Helper()
	skey, err := rights.GenerateKey(testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	k, err := rights.NewKey(skey, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

type testLog struct {
	*rights.Log
	db   *gorm.DB
	key  *rights.Key
	file string
}

func openLog(t testing.TB, db *gorm.DB, mod ...func(*rights.Config)) *testLog {
	t.Helper()
	cfg := rights.Config{
		DB:             db,
		Key:            newKey(t),
		CheckpointFile: filepath.Join(t.TempDir(), "ledger-checkpoint"),
		Now:            fixedClock(),
	}
	for _, m := range mod {
		m(&cfg)
	}
	lg, err := rights.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &testLog{Log: lg, db: db, key: cfg.Key, file: cfg.CheckpointFile}
}

func workEntry(i int) rights.Entry {
	return rights.Entry{
		Type:     rights.WorkPublished,
		Time:     t0.Add(time.Duration(i) * time.Second),
		Subjects: []rights.Subject{{Role: "work", ID: fmt.Sprintf("0190c7e2-8c3e-7000-8000-%012d", i)}},
	}
}

// enqueue adds entries [from, to) in one transaction.
func enqueue(t testing.TB, lg *testLog, from, to int) {
	t.Helper()
	ctx := context.Background()
	err := lg.db.Transaction(func(tx *gorm.DB) error {
		for i := from; i < to; i++ {
			if _, err := lg.Enqueue(ctx, tx, workEntry(i), fmt.Sprintf("k-%d", i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// drain integrates until the queue is empty and returns how many entries it integrated.
func drain(t testing.TB, lg *testLog) int {
	t.Helper()
	total := 0
	for {
		n, err := lg.Integrate(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return total
		}
		total += n
	}
}

func mustPublish(t testing.TB, lg *testLog) rights.SignedCheckpoint {
	t.Helper()
	c, _, err := lg.Publish(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustFsckOK(t testing.TB, db *gorm.DB) rights.FsckReport {
	t.Helper()
	rep, err := rights.Fsck(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("fsck: %s", rep.Problem)
	}
	return rep
}
