package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"ziyuan/market/files/s3blobs"
	"ziyuan/market/files/s3blobs/s3test"
	"ziyuan/market/store/storetest"
)

// runCLI runs the command line in-process with the given environment.
func runCLI(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	e := &environment{stdout: &out, stderr: io.Discard, getenv: func(k string) string { return env[k] }}
	err := run(context.Background(), e, args)
	return out.String(), err
}

func TestMigrateSeedAndAdminCreate(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"ZIYUAN_DATA": dir}
	out, err := runCLI(t, env, "migrate")
	if err != nil || !strings.Contains(out, "applied market 0001_accounts") {
		t.Fatalf("migrate: %v %q", err, out)
	}
	if out, _ := runCLI(t, env, "migrate"); !strings.Contains(out, "up to date") {
		t.Fatalf("second migrate: %q", out)
	}
	out, err = runCLI(t, env, "seed", "--demo")
	if err != nil || !strings.Contains(out, "resources published") || !strings.Contains(out, "li.teacher") {
		t.Fatalf("seed: %v %q", err, out)
	}
	if out, err := runCLI(t, env, "ledger", "fsck"); err != nil || !strings.Contains(out, "ledger ok") || strings.Contains(out, " 0 entries") {
		t.Fatalf("fsck after the demo seed: %v %q", err, out)
	}
	if out, err := runCLI(t, env, "seed", "--demo"); err != nil || !strings.Contains(out, "already present") {
		t.Fatalf("second seed: %v %q", err, out)
	}
	if _, err := runCLI(t, env, "admin", "create", "--login", "ops", "--password", "weak"); err == nil || !strings.Contains(err.Error(), "8 characters") {
		t.Fatalf("weak admin password: %v", err)
	}
	out, err = runCLI(t, env, "admin", "create", "--login", "ops", "--password", "Strong2026ops")
	if err != nil || !strings.Contains(out, "created platform administrator ops") {
		t.Fatalf("admin create: %v %q", err, out)
	}
	if _, err := runCLI(t, env, "admin", "create", "--login", "ops", "--password", "Strong2026ops"); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("duplicate admin: %v", err)
	}
	st, err := os.Stat(filepath.Join(dir, "ziyuan.db"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("database file mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
}

func TestMigrateOnPostgres(t *testing.T) {
	url := storetest.NewPostgresDatabase(t)
	env := map[string]string{"DATABASE_URL": url, "ZIYUAN_DATA": t.TempDir()}
	for range 2 {
		if _, err := runCLI(t, env, "migrate"); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := runCLI(t, env, "seed", "--demo", "--resources=false"); err != nil || !strings.Contains(out, "demo data loaded") {
		t.Fatalf("seed on PostgreSQL: %v %q", err, out)
	}
}

func TestUsageErrors(t *testing.T) {
	cases := [][]string{
		{},
		{"frobnicate"},
		{"seed"},
		{"admin"},
		{"admin", "create"},
		{"serve", "--no-such-flag"},
		{"migrate", "extra"},
	}
	for _, args := range cases {
		_, err := runCLI(t, map[string]string{"ZIYUAN_DATA": t.TempDir()}, args...)
		if err == nil || exitCode(err) != 2 {
			t.Errorf("ziyuan %v: err %v, want a usage error", args, err)
		}
	}
	out, err := runCLI(t, nil, "help")
	if err != nil || !strings.Contains(out, "ZIYUAN_DATA") || !strings.Contains(out, "DATABASE_URL") {
		t.Fatalf("help: %v\n%s", err, out)
	}
}

func TestSettingsPreferFlagsOverEnvironment(t *testing.T) {
	e := &environment{stdout: io.Discard, stderr: io.Discard, getenv: func(k string) string {
		return map[string]string{"ZIYUAN_ADDR": ":9000", "ZIYUAN_DATA": "/env/data"}[k]
	}}
	s, err := parseFlags("serve", e, []string{"--data", "/flag/data"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Addr != ":9000" || s.Data != "/flag/data" || s.DatabaseURL != "" {
		t.Fatalf("settings %+v", s)
	}
	if _, err := (&settings{Secret: "too short"}).secret(); err == nil {
		t.Fatal("short secret accepted")
	}
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "secret.key")
	k1, err := loadOrCreateKey(path, 32)
	if err != nil || len(k1) != 32 {
		t.Fatalf("create: %v", err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key mode %v, want 0600", st.Mode().Perm())
	}
	k2, err := loadOrCreateKey(path, 32)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatal("key changed on second load")
	}
	os.Chmod(path, 0o644)
	if _, err := loadOrCreateKey(path, 32); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable key accepted: %v", err)
	}
	os.Chmod(path, 0o600)
	os.WriteFile(path, []byte("short"), 0o600)
	if _, err := loadOrCreateKey(path, 32); err == nil {
		t.Fatal("truncated key accepted")
	}
}

// TestLayout enforces DESIGN.md's dependency rules: vendor SDKs only in their adapters, Fiber
// only in web, the ledger, catalog and billing free of the rest of Ziyuan, and a doc comment on
// every package.
func TestLayout(t *testing.T) {
	cmd := exec.Command("go", "list", "-f", "{{.ImportPath}}|{{.Doc}}|{{join .Imports \" \"}}", "ziyuan/...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	forbidden := []struct{ module, allowedIn string }{
		{"github.com/gofiber/", "ziyuan/web"},
		{"github.com/stripe/stripe-go", "ziyuan/billing/stripe"},
		{"github.com/meilisearch/meilisearch-go", "ziyuan/catalog/meili"},
		{"github.com/blevesearch/", "ziyuan/catalog/bleve"},
		{"github.com/minio/", "ziyuan/market/files/s3blobs"},
	}
	leaves := []string{"ziyuan/rights", "ziyuan/catalog", "ziyuan/billing"}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.SplitN(line, "|", 3)
		pkg, doc, imports := parts[0], parts[1], strings.Fields(parts[2])
		if doc == "" {
			t.Errorf("%s has no package doc comment", pkg)
		}
		for _, imp := range imports {
			for _, f := range forbidden {
				if strings.HasPrefix(imp, f.module) && pkg != f.allowedIn && !strings.HasPrefix(pkg, f.allowedIn+"/") {
					t.Errorf("%s imports %s, allowed only in %s", pkg, imp, f.allowedIn)
				}
			}
			for _, leaf := range leaves {
				if (pkg == leaf || strings.HasPrefix(pkg, leaf+"/")) && strings.HasPrefix(imp, "ziyuan/") && !strings.HasPrefix(imp, leaf) {
					t.Errorf("%s imports %s: %s must not depend on the rest of Ziyuan", pkg, imp, leaf)
				}
			}
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServeStartsAndStopsGracefully(t *testing.T) {
	dir := t.TempDir()
	var out syncBuffer
	e := &environment{stdout: &out, stderr: io.Discard, getenv: envMap{"ZIYUAN_DATA": dir, "ZIYUAN_ADDR": "127.0.0.1:0"}.get}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, e, []string{"serve"}) }()
	url := ""
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline) && url == ""; {
		if m := regexp.MustCompile(`http://\S+`).FindString(out.String()); m != "" {
			url = m
		}
		time.Sleep(25 * time.Millisecond)
	}
	if url == "" {
		cancel()
		t.Fatalf("serve printed no URL: %q (%v)", out.String(), <-done)
	}
	res, err := http.Get(url + "/readyz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("readyz: %v %v", res, err)
	}
	res.Body.Close()
	if st, err := os.Stat(filepath.Join(dir, "secret.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("secret key: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after shutdown", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
}

type envMap map[string]string

func (m envMap) get(k string) string { return m[k] }

// s3Env is the environment of a server whose files go to a bucket of the test's own.
func s3Env(t *testing.T) (envMap, s3blobs.Settings) {
	s := s3test.Settings(t)
	s.Prefix = "demo"
	return envMap{"ZIYUAN_DATA": t.TempDir(), "ZIYUAN_ADDR": "127.0.0.1:0", "ZIYUAN_S3_ENDPOINT": s.Endpoint, "ZIYUAN_S3_BUCKET": s.Bucket,
		"ZIYUAN_S3_ACCESS_KEY": s.AccessKey, "ZIYUAN_S3_SECRET_KEY": s.SecretKey, "ZIYUAN_S3_PREFIX": s.Prefix}, s
}

// TestMinIOSeedAndServe checks the wiring: with ZIYUAN_S3_ENDPOINT the demo seed puts its files
// in the bucket, under the prefix, and none in the data directory, and serve starts on it.
func TestMinIOSeedAndServe(t *testing.T) {
	env, s := s3Env(t)
	out, err := runCLI(t, env, "seed", "--demo")
	if err != nil || !strings.Contains(out, "resources published") {
		t.Fatalf("seed: %v %q", err, out)
	}
	stored := s3test.Stored(t, s)
	if len(stored) < 100 {
		t.Fatalf("the demo seed stored %d files in the bucket", len(stored))
	}
	for _, k := range stored {
		if !strings.HasPrefix(k, "demo/sha256/") {
			t.Errorf("stored %s outside the prefix", k)
		}
	}
	if local, _ := filepath.Glob(filepath.Join(env["ZIYUAN_DATA"], "blobs", "sha256", "*")); len(local) != 0 {
		t.Errorf("files in the data directory too: %v", local)
	}

	var log syncBuffer
	e := &environment{stdout: &log, stderr: io.Discard, getenv: env.get}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, e, []string{"serve"}) }()
	defer func() { cancel(); <-done }()
	url := ""
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline) && url == ""; time.Sleep(25 * time.Millisecond) {
		url = regexp.MustCompile(`http://localhost:[0-9]+`).FindString(log.String())
	}
	if url == "" || !strings.Contains(log.String(), "files: S3 bucket "+s.Bucket) {
		t.Fatalf("serve said %q", log.String())
	}
	res, err := http.Get(url + "/readyz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("readyz: %v %v", res, err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), "files: ok") {
		t.Errorf("readyz does not report the bucket: %q", body)
	}
}

// TestS3EndpointUnreachable: a configured store that does not answer stops serve at start
// with an error naming it, rather than failing every upload later.
func TestS3EndpointUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + ln.Addr().String()
	ln.Close()
	env := map[string]string{"ZIYUAN_DATA": t.TempDir(), "ZIYUAN_ADDR": "127.0.0.1:0", "ZIYUAN_S3_ENDPOINT": endpoint,
		"ZIYUAN_S3_ACCESS_KEY": "k", "ZIYUAN_S3_SECRET_KEY": "secret-key"}
	for _, args := range [][]string{{"serve"}, {"seed", "--demo"}} {
		start := time.Now()
		_, err := runCLI(t, env, args...)
		if err == nil || !strings.Contains(err.Error(), endpoint) || !strings.Contains(err.Error(), `bucket "ziyuan"`) {
			t.Errorf("%s with an unreachable store: %v", args[0], err)
		}
		if d := time.Since(start); d > 30*time.Second {
			t.Errorf("%s took %s to give up", args[0], d)
		}
		t.Logf("%s: %v (%s)", args[0], err, time.Since(start))
	}
}
