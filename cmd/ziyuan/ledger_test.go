package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// server runs `ziyuan serve` in-process on a free port until stop is called.
type server struct {
	url  string
	stop func() error
}

func startServe(t *testing.T, env envMap) (*server, error) {
	t.Helper()
	var out syncBuffer
	e := &environment{stdout: &out, stderr: io.Discard, getenv: env.get}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, e, []string{"serve", "--addr", "127.0.0.1:0"}) }()
	// Starting loads the Chinese segmenter's dictionary, which takes seconds under -race.
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); {
		if m := regexp.MustCompile(`http://\S+`).FindString(out.String()); m != "" {
			return &server{url: m, stop: func() error { cancel(); return <-done }}, nil
		}
		select {
		case err := <-done:
			cancel()
			return nil, err
		case <-time.After(25 * time.Millisecond):
		}
	}
	cancel()
	t.Fatalf("serve did not start: %q", out.String())
	return nil, nil
}

func call(t *testing.T, method, url, token string, body any, out any) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if out != nil {
		if b, ok := out.(*[]byte); ok {
			*b = data
		} else if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %s", method, url, data)
		}
	}
	return res.StatusCode
}

func token(t *testing.T, base, login string) string {
	t.Helper()
	var out struct{ Token string }
	if st := call(t, "POST", base+"/api/v1/auth/login", "", map[string]string{"login": login, "password": "ziyuan2026"}, &out); st != 200 {
		t.Fatalf("login %s: %d", login, st)
	}
	return out.Token
}

// TestLedgerLifecycle publishes through a real server, verifies a receipt with the CLI, audits
// the served log, and then restores an older copy of the database: the server must refuse to
// start, saying why.
func TestLedgerLifecycle(t *testing.T) {
	dir := t.TempDir()
	env := envMap{"ZIYUAN_DATA": dir, "ZIYUAN_LOG_FORMAT": "json"}
	if _, err := runCLI(t, env, "seed", "--demo", "--resources=false"); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(t.TempDir(), "old.db")
	copyFile(t, filepath.Join(dir, "ziyuan.db"), backup)

	srv, err := startServe(t, env)
	if err != nil {
		t.Fatal(err)
	}
	li, reviewer := token(t, srv.url, "li.teacher"), token(t, srv.url, "zhou.reviewer")
	meta := map[string]any{"title": "勾股定理复习", "summary": "复习课", "type": "课件", "stage": "初中", "grade": "八年级", "subject": "数学",
		"keywords": []string{"勾股定理"}, "offer": map[string]string{"license": "cc-by"}}
	var r struct{ ID string }
	if st := call(t, "POST", srv.url+"/api/v1/resources", li, meta, &r); st != 201 {
		t.Fatalf("create: %d", st)
	}
	// A lesson needs a file before review; a course (published below) does not.
	var raw []byte
	if st := call(t, "POST", srv.url+"/api/v1/resources/"+r.ID+"/submit", li, map[string]bool{"pledge": true}, &raw); st != 400 || !strings.Contains(string(raw), "文件") {
		t.Fatalf("submit without a file: %d %s", st, raw)
	}
	course := map[string]any{"title": "勾股定理网络课程", "summary": "四周的网络课程", "type": "网络课程", "stage": "初中", "grade": "八年级", "subject": "数学",
		"keywords": []string{"勾股定理"}, "offer": map[string]string{"license": "cc-by"},
		"course": map[string]any{"seats": 30, "starts_at": "2027-03-01T08:00:00Z", "ends_at": "2027-03-29T08:00:00Z"}}
	if st := call(t, "POST", srv.url+"/api/v1/resources", li, course, &r); st != 201 {
		t.Fatalf("create course: %d", st)
	}
	if st := call(t, "POST", srv.url+"/api/v1/resources/"+r.ID+"/submit", li, map[string]bool{"pledge": true}, nil); st != 200 {
		t.Fatalf("submit: %d", st)
	}
	decision := map[string]any{"decision": "approve", "checklist": map[string]bool{"political": true, "orientation": true, "scientific": true,
		"applicable": true, "normative": true, "timely": true, "public_interest": true}}
	if st := call(t, "POST", srv.url+"/api/v1/resources/"+r.ID+"/review", reviewer, decision, nil); st != 200 {
		t.Fatalf("approve: %d", st)
	}
	// Wait for a checkpoint covering both entries, then take a receipt.
	var receipt []byte
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if st := call(t, "GET", srv.url+"/api/v1/ledger/entries/0/receipt", "", nil, &receipt); st == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no receipt within 10 s")
		}
	}
	var key []byte
	call(t, "GET", srv.url+"/api/v1/ledger/key", "", nil, &key)
	state := filepath.Join(t.TempDir(), "audit")
	out, err := runCLI(t, env, "ledger", "verify", "--url", srv.url, "--key", strings.TrimSpace(string(key)), "--state", state)
	if err != nil || !strings.Contains(out, "verified: ziyuan.local/ledger") {
		t.Fatalf("ledger verify --url: %v\n%s", err, out)
	}
	if err := srv.stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}

	rfile := filepath.Join(t.TempDir(), "receipt.json")
	os.WriteFile(rfile, receipt, 0o600)
	out, err = runCLI(t, env, "ledger", "verify", "--receipt", rfile, "--key", strings.TrimSpace(string(key)))
	if err != nil || !strings.Contains(out, "work.registered") {
		t.Fatalf("ledger verify --receipt: %v\n%s", err, out)
	}
	if _, err := runCLI(t, env, "ledger", "verify", "--receipt", rfile); err == nil || exitCode(err) != 2 {
		t.Fatalf("verify without a key: %v", err)
	}
	tampered := bytes.Replace(receipt, []byte(`"index": 0`), []byte(`"index": 1`), 1)
	tampered = bytes.Replace(tampered, []byte(`"index":0`), []byte(`"index":1`), 1)
	if bytes.Equal(tampered, receipt) {
		t.Fatal("could not tamper with the receipt")
	}
	os.WriteFile(rfile, tampered, 0o600)
	if _, err := runCLI(t, env, "ledger", "verify", "--receipt", rfile, "--key", strings.TrimSpace(string(key))); err == nil || !strings.Contains(err.Error(), "NOT verify") {
		t.Fatalf("a tampered receipt: %v", err)
	}
	if out, err := runCLI(t, env, "ledger", "fsck"); err != nil || !strings.Contains(out, "ledger ok: 2 entries") {
		t.Fatalf("fsck: %v %q", err, out)
	}

	// Restore the backup taken before the publication: starting must be refused.
	for _, suffix := range []string{"-wal", "-shm"} {
		os.Remove(filepath.Join(dir, "ziyuan.db"+suffix))
	}
	copyFile(t, backup, filepath.Join(dir, "ziyuan.db"))
	_, err = startServe(t, env)
	if err == nil || !strings.Contains(err.Error(), "ledger rollback detected") || !strings.Contains(err.Error(), "covers 2 ledger entries") {
		t.Fatalf("serve on a rolled-back database: %v", err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
