package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"ziyuan/market"
	"ziyuan/rights"
)

// instance is one `ziyuan serve` process with its own data directory (and so its own search
// index) and a fixed address, which it keeps when it is restarted.
type instance struct {
	name    string
	bin     string
	data    string
	addr    string
	url     string
	env     []string
	logPath string

	mu         sync.Mutex
	proc       *proc
	killed     bool // by the harness: its exit is expected
	starts     int
	pids       []int // every process it ran, for the CPU accounting
	logOffset  int64 // the log's size when the current process started
	unexpected []string
}

func (in *instance) current() *proc {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.proc
}

// start runs the instance and waits until /readyz answers 200.
func (in *instance) start(ctx context.Context, onExit func(in *instance, p *proc)) error {
	var off int64
	if st, err := os.Stat(in.logPath); err == nil {
		off = st.Size()
	}
	p, err := startProc(in.name, []string{in.bin, "serve"}, in.env, in.data, in.logPath, nil)
	if err != nil {
		return err
	}
	in.mu.Lock()
	in.proc, in.killed, in.logOffset = p, false, off
	in.starts++
	in.pids = append(in.pids, p.pid())
	in.mu.Unlock()
	go func() {
		<-p.done
		onExit(in, p)
	}()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		if status, _ := getText(ctx, in.url+"/readyz", 2*time.Second); status == http.StatusOK {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !p.running() {
			return fmt.Errorf("%s exited during start: %v; log:\n%s", in.name, p.err, tail(in.logPath, 20))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready within 5 minutes; log:\n%s", in.name, tail(in.logPath, 20))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// kill ends the process at once, as a crash or the OOM killer would: no lease release, no
// graceful shutdown.
func (in *instance) kill() *proc {
	in.mu.Lock()
	p := in.proc
	in.killed = true
	in.mu.Unlock()
	p.signal(syscall.SIGKILL)
	<-p.done
	return p
}

func (in *instance) stop() {
	in.mu.Lock()
	p := in.proc
	in.killed = true
	in.mu.Unlock()
	if p != nil {
		p.stop(syscall.SIGTERM, 20*time.Second)
	}
}

func (in *instance) running() bool {
	p := in.current()
	return p != nil && p.running()
}

var leaderLine = regexp.MustCompile(`(?m)^ziyuan_ledger_leader 1$`)

// leads reports whether the instance's /metrics says it holds the ledger's lease.
func (in *instance) leads(ctx context.Context) bool {
	status, body := getText(ctx, in.url+"/metrics", 2*time.Second)
	return status == http.StatusOK && leaderLine.MatchString(body)
}

// logSince returns what the current process has logged.
func (in *instance) logSince() string {
	in.mu.Lock()
	off := in.logOffset
	in.mu.Unlock()
	f, err := os.Open(in.logPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	f.Seek(off, io.SeekStart)
	b, _ := io.ReadAll(f)
	return string(b)
}

// getText fetches a small text resource, returning its status (0 when unreachable) and body.
func getText(ctx context.Context, url string, timeout time.Duration) (int, string) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return 0, ""
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, ""
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	return res.StatusCode, string(b)
}

func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// harness owns everything the run starts.
type harness struct {
	cfg    config
	stderr io.Writer
	start  time.Time
	work   string

	bin   string
	pg    *pgServer
	minio *minioServer
	insts []*instance
	env   []string // the settings every ziyuan process shares
	users []*vuser

	unexpectedExits atomic.Int64
	tl              *timeline

	versions map[string]string
	setupDur time.Duration
}

func newHarness(cfg config, stderr io.Writer) (*harness, error) {
	bin, err := filepath.Abs(cfg.Ziyuan)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("no ziyuan binary at %s (make build)", bin)
	}
	return &harness{cfg: cfg, stderr: stderr, start: time.Now(), bin: bin, tl: &timeline{}, versions: map[string]string{}}, nil
}

func (h *harness) logf(format string, args ...any) {
	fmt.Fprintf(h.stderr, "%s ziyuan-load: %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// cleanup stops everything in reverse order of dependence and removes the work directory.
func (h *harness) cleanup() {
	for _, in := range h.insts {
		in.stop()
	}
	if h.minio != nil && h.minio.proc != nil {
		h.minio.stop()
	}
	if h.pg != nil && h.pg.proc != nil {
		h.pg.stop("fast")
	}
	if h.work == "" {
		return
	}
	if h.cfg.Keep {
		h.logf("kept the work directory %s", h.work)
		return
	}
	if err := os.RemoveAll(h.work); err != nil {
		h.logf("removing %s: %v", h.work, err)
	}
}

// setup starts PostgreSQL and MinIO, migrates and seeds, starts the instances, imports the
// simulated users and signs them in.
func (h *harness) setup(ctx context.Context) error {
	began := time.Now()
	pgBin, err := findPGBinDir(h.cfg.PGBinDir)
	if err != nil {
		return err
	}
	minioBin, err := findMinIO(h.cfg.MinIO)
	if err != nil {
		return err
	}
	if h.work, err = os.MkdirTemp("", "ziyuan-load-"); err != nil {
		return err
	}
	// The postgres user must be able to reach its directory inside.
	if err := os.Chmod(h.work, 0o755); err != nil {
		return err
	}
	h.logf("work directory %s", h.work)

	if h.pg, err = newPostgres(ctx, pgBin, h.work); err != nil {
		return err
	}
	if err := h.pg.start(ctx); err != nil {
		return err
	}
	h.versions["postgres"] = h.pg.version
	h.logf("%s on 127.0.0.1:%d (fsync, synchronous_commit and full_page_writes at their defaults: on)", h.pg.version, h.pg.port)

	if h.minio, err = newMinIO(minioBin, h.work, randHex); err != nil {
		return err
	}
	if err := h.minio.start(ctx); err != nil {
		return err
	}
	h.versions["minio"] = h.minio.version
	h.logf("MinIO on %s", h.minio.endpoint())

	const origin = "load.ziyuan.local/ledger"
	skey, err := rights.GenerateKey(origin)
	if err != nil {
		return err
	}
	h.env = childEnv("DATABASE_URL="+h.pg.url(), "ZIYUAN_SECRET="+randHex(32), "ZIYUAN_LEDGER_KEY="+skey,
		"ZIYUAN_LEDGER_ORIGIN="+origin, "ZIYUAN_LOG_FORMAT=json",
		"ZIYUAN_S3_ENDPOINT="+h.minio.endpoint(), "ZIYUAN_S3_BUCKET=ziyuan",
		"ZIYUAN_S3_ACCESS_KEY="+h.minio.access, "ZIYUAN_S3_SECRET_KEY="+h.minio.secret)

	h.logf("migrating and seeding the demo data (files into the bucket)")
	if out, err := h.cli(ctx, "migrate"); err != nil {
		return fmt.Errorf("migrate: %v\n%s", err, out)
	}
	if out, err := h.cli(ctx, "seed", "--demo"); err != nil {
		return fmt.Errorf("seed: %v\n%s", err, out)
	}

	for i := range h.cfg.Instances {
		port, err := freePort()
		if err != nil {
			return err
		}
		name := fmt.Sprintf("inst%d", i+1)
		data := filepath.Join(h.work, name)
		if err := os.MkdirAll(data, 0o700); err != nil {
			return err
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		h.insts = append(h.insts, &instance{name: name, bin: h.bin, data: data, addr: addr, url: "http://" + addr,
			env: append(append([]string{}, h.env...), "ZIYUAN_DATA="+data, "ZIYUAN_ADDR="+addr), logPath: filepath.Join(h.work, name+".log")})
	}
	h.logf("starting %d instances", len(h.insts))
	errs := make(chan error, len(h.insts))
	for _, in := range h.insts {
		go func() { errs <- in.start(ctx, h.onExit) }()
	}
	for range h.insts {
		if err := <-errs; err != nil {
			return err
		}
	}
	for _, in := range h.insts {
		h.logf("%s serving on %s (pid %d)", in.name, in.url, in.current().pid())
	}

	h.versions["ziyuan"] = gitDescribe()
	h.versions["go"] = runtime.Version()

	if err := h.createUsers(ctx); err != nil {
		return err
	}
	h.setupDur = time.Since(began)
	return nil
}

// onExit notes an instance that ended without the harness killing or stopping it.
func (h *harness) onExit(in *instance, p *proc) {
	in.mu.Lock()
	expected := in.killed && in.proc == p
	in.mu.Unlock()
	if expected {
		return
	}
	h.unexpectedExits.Add(1)
	msg := fmt.Sprintf("%s (pid %d) exited unexpectedly: %v", in.name, p.pid(), p.err)
	h.tl.add("%s", msg)
	h.logf("%s; log:\n%s", msg, tail(in.logPath, 30))
	in.mu.Lock()
	in.unexpected = append(in.unexpected, msg)
	in.mu.Unlock()
}

// cli runs a ziyuan command against the shared database with a data directory of its own.
func (h *harness) cli(ctx context.Context, args ...string) (string, error) {
	data := filepath.Join(h.work, "cli")
	cmd := exec.CommandContext(ctx, h.bin, args...)
	cmd.Env = append(append([]string{}, h.env...), "ZIYUAN_DATA="+data)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func gitDescribe() string {
	out, err := exec.Command("git", "describe", "--always", "--dirty").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// createUsers imports the simulated users as a roster of the demo primary school (created
// verified, as real-name rosters are) and signs each in on its home instance.
func (h *harness) createUsers(ctx context.Context) error {
	n := h.cfg.Users
	reviewers := max(1, n/50)
	publishers := max(1, n/20)
	admin, err := apiLogin(ctx, h.insts[0].url, "xiaoxue.admin", market.DemoPassword)
	if err != nil {
		return err
	}
	if admin.User.InstitutionID == nil {
		return errors.New("xiaoxue.admin has no institution")
	}
	var csv bytes.Buffer
	csv.WriteString("login,name,role,password,guardian_login,birth_date\n")
	const password = "Load2026test"
	for i := range n {
		u := &vuser{id: i, login: fmt.Sprintf("load.u%04d", i+1), home: i % len(h.insts)}
		role := "teacher"
		switch {
		case i < reviewers:
			u.kind, role = kindReviewer, "reviewer"
		case i < reviewers+publishers:
			u.kind = kindPublisher
		default:
			u.kind = kindBrowser
			if i%3 == 0 {
				role = "student" // older than 14: students claim and download too
			}
		}
		birth := ""
		if role == "student" {
			birth = "2009-03-01"
		}
		fmt.Fprintf(&csv, "%s,压测用户%04d,%s,%s,,%s\n", u.login, i+1, role, password, birth)
		h.users = append(h.users, u)
	}
	var rep struct {
		Created int
		Skipped int
		Errors  []struct {
			Line    int
			Message string
		}
	}
	status, body, err := apiCall(ctx, h.insts[0].url, admin.Token, "POST", "/api/v1/institutions/"+*admin.User.InstitutionID+"/roster", "text/csv", csv.Bytes())
	if err != nil || status != http.StatusOK {
		return fmt.Errorf("roster import: %d %v %s", status, err, body)
	}
	if err := json.Unmarshal(body, &rep); err != nil || len(rep.Errors) > 0 || rep.Created != n {
		return fmt.Errorf("roster import created %d of %d users: %s", rep.Created, n, body)
	}
	h.logf("imported %d users (%d reviewers, %d publishers, %d browsers); signing them in", n, reviewers, publishers, n-reviewers-publishers)
	// Each sign-in hashes a password with argon2id (19 MiB): a few at a time.
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for _, u := range h.users {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			res, err := apiLogin(ctx, h.insts[u.home].url, u.login, password)
			if err != nil {
				errs <- err
				return
			}
			u.token, u.userID = res.Token, res.User.ID
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

type loginResult struct {
	Token string
	User  market.User
}

func apiLogin(ctx context.Context, base, login, password string) (loginResult, error) {
	var out loginResult
	b, _ := json.Marshal(map[string]string{"login": login, "password": password})
	status, body, err := apiCall(ctx, base, "", "POST", "/api/v1/auth/login", "application/json", b)
	if err != nil || status != http.StatusOK {
		return out, fmt.Errorf("sign in %s: %d %v %s", login, status, err, body)
	}
	return out, json.Unmarshal(body, &out)
}

// apiCall is the setup's and checks' plain request, outside the measured workload.
func apiCall(ctx context.Context, base, token, method, path, contentType string, body []byte) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// serverLogSummary counts the ERROR records of every instance's log by message, for the report.
func (h *harness) serverLogSummary() map[string]int {
	out := map[string]int{}
	for _, in := range h.insts {
		f, err := os.Open(in.logPath)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var rec struct {
				Level string `json:"level"`
				Msg   string `json:"msg"`
			}
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Level == "ERROR" {
				out[rec.Msg]++
			}
		}
		f.Close()
	}
	return out
}
