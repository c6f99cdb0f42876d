package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"ziyuan/market"
	"ziyuan/market/files"
	"ziyuan/market/store"
	"ziyuan/rights"
)

// contributionData fills a data directory as a running server would: the demo accounts, two
// works by li.teacher claimed by others and a derivative by chen.teacher, all in the ledger
// under a signed checkpoint. It returns the ledger's verifier key.
func contributionData(t *testing.T, dir string) string {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := store.Migrate(ctx, db, market.Schemas()...); err != nil {
		t.Fatal(err)
	}
	key, err := rights.LoadOrCreateKey(dir, "ziyuan.local/ledger")
	if err != nil {
		t.Fatal(err)
	}
	lg, err := rights.Open(ctx, rights.Config{DB: db.DB, Key: key, CheckpointFile: filepath.Join(dir, "ledger-checkpoint"),
		PollInterval: 5 * time.Millisecond, CheckpointInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	lctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); lg.Run(lctx) }()
	defer func() { stop(); <-done }()
	blobs, err := files.NewLocalBlobs(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 10, 8, 2, 0, 0, 0, time.UTC)
	m := market.New(db, market.Options{Ledger: lg, Blobs: blobs, Argon2: market.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1},
		Clock: func() time.Time { now = now.Add(time.Second); return now }})
	if _, err := m.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	as := func(login string) context.Context {
		c, err := m.ActAs(ctx, login)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	approve := market.Decision{Decision: "approve", Checklist: map[string]bool{}}
	for _, item := range market.ChecklistItems {
		approve.Checklist[item] = true
	}
	publish := func(owner, title string, parents ...string) string {
		text := title + "：教学目标、教学过程与课堂练习。"
		sum := sha256.Sum256([]byte(text))
		up := market.Upload{Name: "教案.txt", Size: int64(len(text)), SHA256: hex.EncodeToString(sum[:]), MIME: "text/plain; charset=utf-8",
			Kind: "text", Text: text, Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(text)), nil }}
		meta := market.Meta{Title: title, Summary: "示例", Type: "教案", Stage: "初中", Grade: "八年级", Subject: "数学",
			Keywords: []string{"示例"}, Offer: market.Offer{License: "cc-by"}, Parents: parents}
		r, err := m.CreateResource(as(owner), meta, []market.Upload{up})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Submit(as(owner), r.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Decide(as("zhou.reviewer"), r.ID, approve); err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	w1 := publish("li.teacher", "一元一次方程")
	w2 := publish("li.teacher", "二元一次方程组")
	for _, login := range []string{"zhang.xiaoming", "sun.student", "chen.teacher"} {
		if _, _, err := m.Claim(as(login), w1); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := m.Claim(as("sun.student"), w2); err != nil {
		t.Fatal(err)
	}
	publish("chen.teacher", "一元一次方程应用题", w1)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var queued int64
		db.Raw("SELECT COUNT(*) FROM ledger_entries").Scan(&queued)
		if cp, err := lg.Checkpoint(ctx); err == nil && cp.Size == queued {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint covers the ledger")
		}
	}
	return lg.VerifierKey()
}

func TestExportContributionsAndVerify(t *testing.T) {
	dir := t.TempDir()
	key := contributionData(t, dir)
	env := map[string]string{"ZIYUAN_DATA": dir}
	out := filepath.Join(t.TempDir(), "october.json")
	res, err := runCLI(t, env, "export", "contributions", "--from", "2026-10-01", "--to", "2026-11-01", "--format", "json", "--out", out)
	if err != nil || !strings.Contains(res, "written to "+out) || !strings.Contains(res, "ledger verify --export") {
		t.Fatalf("export: %v\n%s", err, res)
	}
	res, err = runCLI(t, env, "ledger", "verify", "--export", out, "--key", key)
	if err != nil || !strings.Contains(res, "verified: contribution export 2026-10-01 to 2026-11-01") ||
		!strings.Contains(res, "李老师: published 2, adoptions 4, derivatives 1") || strings.Contains(res, "WARNING") {
		t.Fatalf("verify: %v\n%s", err, res)
	}
	if res, err := runCLI(t, env, "ledger", "verify", "--export", out); err != nil || !strings.Contains(res, "WARNING") {
		t.Fatalf("verify without a key: %v\n%s", err, res)
	}
	data, _ := os.ReadFile(out)
	edited := filepath.Join(t.TempDir(), "edited.json")
	os.WriteFile(edited, bytes.Replace(data, []byte(`"adoptions":4,`), []byte(`"adoptions":5,`), 1), 0o600)
	if res, err := runCLI(t, env, "ledger", "verify", "--export", edited, "--key", key); err == nil || !strings.Contains(err.Error(), "adoptions is 5, but its entries give 4") {
		t.Fatalf("an edited count: %v\n%s", err, res)
	}

	// The other formats, and the refusals.
	xlsx := filepath.Join(t.TempDir(), "october.xlsx")
	if _, err := runCLI(t, env, "export", "contributions", "--from", "2026-10-01", "--to", "2026-11-01", "--format", "xlsx", "--out", xlsx); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenFile(xlsx)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if sheets := f.GetSheetList(); len(sheets) < 3 || sheets[0] != "汇总" {
		t.Fatalf("sheets %v", sheets)
	}
	csv := filepath.Join(t.TempDir(), "october.csv")
	if _, err := runCLI(t, env, "export", "contributions", "--from", "2026-10-01", "--to", "2026-11-01", "--format", "csv", "--out", csv); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(csv); !bytes.HasPrefix(b, []byte("\xEF\xBB\xBF机构,教师")) {
		t.Fatalf("CSV %q", b)
	}
	for _, args := range [][]string{
		{"export"},
		{"export", "contributions", "--from", "2026-10-01", "--to", "2026-11-01", "--format", "pdf", "--out", csv},
		{"export", "contributions", "--to", "2026-11-01", "--format", "csv", "--out", csv},
		{"ledger", "verify", "--export", out, "--receipt", out},
	} {
		if _, err := runCLI(t, env, args...); err == nil || exitCode(err) != 2 {
			t.Errorf("ziyuan %v: %v, want a usage error", args, err)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.csv")
	if _, err := runCLI(t, env, "export", "contributions", "--from", "2026-11-01", "--to", "2026-10-01", "--format", "csv", "--out", bad); err == nil {
		t.Fatal("a reversed period was accepted")
	}
	if _, err := os.Stat(bad); err == nil {
		t.Fatal("a failed export left a file")
	}
}
