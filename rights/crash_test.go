package rights_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"ziyuan/market/store"
	"ziyuan/rights"
)

const crashChildEnv = "ZIYUAN_RIGHTS_CRASH_CHILD"

// TestMain turns the test binary into the crash test's child process when asked to.
func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir, os.Getenv("ZIYUAN_RIGHTS_CRASH_RUN"))
		os.Exit(3) // crashChild only returns on failure
	}
	os.Exit(m.Run())
}

// crashChild appends under load until it is killed: four writers enqueue one entry per
// transaction (some keys twice) while the sequencer and publisher run, and each key is
// printed only after its transaction committed.
func crashChild(dir, run string) {
	ctx := context.Background()
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "crash child:", err)
	}
	db, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		fail(err)
		return
	}
	if _, err := store.Migrate(ctx, db, sources...); err != nil {
		fail(err)
		return
	}
	key, err := rights.LoadOrCreateKey(dir, testOrigin)
	if err != nil {
		fail(err)
		return
	}
	lg, err := rights.Open(ctx, rights.Config{DB: db.DB, Key: key, CheckpointFile: filepath.Join(dir, "ledger-checkpoint"),
		PollInterval: 2 * time.Millisecond, CheckpointInterval: 20 * time.Millisecond, BatchSize: 16})
	if err != nil {
		fail(err)
		return
	}
	go func() {
		if err := lg.Run(ctx); err != nil {
			fail(err)
			os.Exit(4)
		}
	}()
	var out sync.Mutex
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				k := fmt.Sprintf("r%s-w%d-%d", run, w, n)
				if n%5 == 4 {
					k = fmt.Sprintf("r%s-w%d-%d", run, w, n-1) // a retry of a committed key
				}
				e := workEntry(n)
				e.Subjects = append(e.Subjects, rights.Subject{Role: "author", ID: k})
				err := db.Transaction(func(tx *gorm.DB) error {
					_, err := lg.Enqueue(ctx, tx, e, k)
					return err
				})
				if err != nil {
					fail(err)
					os.Exit(5)
				}
				out.Lock()
				fmt.Fprintln(os.Stdout, k)
				out.Unlock()
			}
		}()
	}
	wg.Wait()
}

func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test re-executes the test binary")
	}
	dir := t.TempDir()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, 7))
	committed := map[string]bool{}
	ctx := context.Background()
	const runs = 5
	for run := range runs {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, "ZIYUAN_RIGHTS_CRASH_RUN="+strconv.Itoa(run))
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		// Let it get going, then kill it at a random moment.
		warm := 20 + rnd.IntN(200)
		deadline := time.After(60 * time.Second)
		for got := 0; got < warm; got++ {
			select {
			case k, ok := <-lines:
				if !ok {
					t.Fatalf("run %d: child exited after %d commits", run, got)
				}
				committed[k] = true
			case <-deadline:
				cmd.Process.Kill()
				t.Fatalf("run %d: child too slow", run)
			}
		}
		time.Sleep(time.Duration(rnd.IntN(150)) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil { // SIGKILL
			t.Fatal(err)
		}
		for k := range lines {
			committed[k] = true
		}
		cmd.Wait()

		// Restart: the log is whole and every acknowledged entry is there exactly once.
		db, err := store.Open(ctx, store.Config{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		rep := mustFsckOK(t, db.DB)
		key, err := rights.LoadOrCreateKey(dir, testOrigin)
		if err != nil {
			t.Fatal(err)
		}
		if err := rights.CheckRollback(ctx, db.DB, filepath.Join(dir, "ledger-checkpoint"), key.VerifierKey()); err != nil {
			t.Fatalf("run %d: checkpoint file after crash: %v", run, err)
		}
		checkCommitted(t, db.DB, committed, false)
		t.Logf("run %d: %d keys acknowledged so far; tree %d, %d queued", run, len(committed), rep.TreeSize, rep.Pending)
		db.Close()
	}
	// A final sequencer run integrates the rest; then every acknowledged key has an index.
	db, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	key, _ := rights.LoadOrCreateKey(dir, testOrigin)
	lg, err := rights.Open(ctx, rights.Config{DB: db.DB, Key: key, CheckpointFile: filepath.Join(dir, "ledger-checkpoint")})
	if err != nil {
		t.Fatal(err)
	}
	drain(t, &testLog{Log: lg, db: db.DB})
	rep := mustFsckOK(t, db.DB)
	if rep.Pending != 0 {
		t.Fatalf("%d entries still queued", rep.Pending)
	}
	checkCommitted(t, db.DB, committed, true)
}

func checkCommitted(t *testing.T, db *gorm.DB, committed map[string]bool, integrated bool) {
	t.Helper()
	var rows []struct {
		DedupeKey string
		Idx       *int64
	}
	if err := db.Raw(`SELECT dedupe_key, idx FROM ledger_entries`).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	idxs := map[int64]bool{}
	var maxIdx int64 = -1
	for _, r := range rows {
		count[r.DedupeKey]++
		if r.Idx != nil {
			if idxs[*r.Idx] {
				t.Fatalf("index %d assigned twice", *r.Idx)
			}
			idxs[*r.Idx] = true
			maxIdx = max(maxIdx, *r.Idx)
		} else if integrated {
			t.Fatalf("entry %s not integrated", r.DedupeKey)
		}
	}
	if int64(len(idxs)) != maxIdx+1 {
		t.Fatalf("indexes not dense: %d indexes up to %d", len(idxs), maxIdx)
	}
	for k := range committed {
		if count[k] != 1 {
			t.Fatalf("acknowledged key %s present %d times", k, count[k])
		}
	}
}
