// Package markettest builds a complete, running market for tests: a fresh database on each
// dialect with every schema, the ledger with its sequencer and checkpoint publisher, the local
// blob store in a temporary directory, the demo accounts, and contexts acting as each of them.
package markettest

import (
	"context"
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"ziyuan/market"
	"ziyuan/market/files"
	"ziyuan/market/store"
	"ziyuan/market/store/storetest"
	"ziyuan/rights"
)

// Cheap keeps argon2id fast in tests; production uses market.DefaultArgon2.
var Cheap = market.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}

// Clock is a settable clock.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts at 2026-09-01 08:00 UTC, the first day of a school year.
func NewClock() *Clock { return &Clock{t: time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Env is a seeded market with a running ledger.
type Env struct {
	M      *market.Market
	DB     *store.DB
	Ledger *rights.Log
	Blobs  *files.LocalBlobs
	// BlobDir is where Blobs keeps its files; TmpDir is the upload inspector's scratch space.
	BlobDir, TmpDir string
	Clock           *Clock
	// Users are the demo accounts by login; Insts the demo institutions' IDs by code.
	Users map[string]market.User
	Insts map[string]string
}

// Each runs fn on a fresh Env per dialect.
func Each(t *testing.T, fn func(t *testing.T, e *Env)) {
	storetest.Each(t, market.Schemas(), func(t *testing.T, db *store.DB) { fn(t, New(t, db)) })
}

// New builds an Env on a migrated database.
func New(t testing.TB, db *store.DB) *Env { return NewWith(t, db, nil) }

// NewWith is New with a chance to change the market's options (payment providers, say).
func NewWith(t testing.TB, db *store.DB, configure func(*market.Options)) *Env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	key, err := rights.LoadOrCreateKey(dir, "ziyuan.test/ledger")
	if err != nil {
		t.Fatal(err)
	}
	clock := NewClock()
	lg, err := rights.Open(ctx, rights.Config{DB: db.DB, Key: key, CheckpointFile: filepath.Join(dir, "checkpoint"),
		PollInterval: 5 * time.Millisecond, CheckpointInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); lg.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	blobDir, tmpDir := filepath.Join(dir, "blobs"), filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmpDir, 0o700); err != nil {
		t.Fatal(err)
	}
	blobs, err := files.NewLocalBlobs(blobDir)
	if err != nil {
		t.Fatal(err)
	}
	opts := market.Options{Clock: clock.Now, Argon2: Cheap, Ledger: lg, Blobs: blobs}
	if configure != nil {
		configure(&opts)
	}
	m := market.New(db, opts)
	if _, err := m.SeedDemo(ctx); err != nil {
		t.Fatalf("seed: %v", err)
	}
	e := &Env{M: m, DB: db, Ledger: lg, Blobs: blobs, BlobDir: blobDir, TmpDir: tmpDir, Clock: clock,
		Users: map[string]market.User{}, Insts: map[string]string{}}
	for _, a := range market.DemoAccounts() {
		u, err := m.Login(ctx, a.Login, market.DemoPassword)
		if err != nil {
			t.Fatalf("login %s: %v", a.Login, err)
		}
		e.Users[a.Login] = u
		if u.InstitutionID != nil && a.Institution != "" {
			e.Insts[a.Institution] = *u.InstitutionID
		}
	}
	clock.Advance(time.Minute)
	return e
}

// As returns a context acting as the user login (a demo account or one a test created).
func (e *Env) As(t testing.TB, login string) context.Context {
	t.Helper()
	base := market.WithActor(context.Background(), market.Actor{IP: netip.MustParseAddr("203.0.113.7"), RequestID: "test"})
	u, ok := e.Users[login]
	if !ok {
		ctx, err := e.M.ActAs(base, login)
		if err != nil {
			t.Fatalf("act as %s: %v", login, err)
		}
		return ctx
	}
	a, err := e.M.ActorFor(base, u.ID)
	if err != nil {
		t.Fatalf("actor %s: %v", login, err)
	}
	return market.WithActor(base, a)
}

// BlobCount counts the files stored under the blob directory, to prove that refused uploads
// leave nothing behind.
func (e *Env) BlobCount(t testing.TB) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(e.BlobDir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return n
}
