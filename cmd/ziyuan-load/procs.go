package main

import (
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// proc is one child process. Children get their own process group, so that a Ctrl+C at the
// terminal reaches only the harness, which then stops them in order; and a parent-death
// signal, so that a harness killed outright does not leave servers behind.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // how it ended, once done is closed
}

func startProc(name string, argv, env []string, dir, logPath string, cred *syscall.Credential) (*proc, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = env, dir, f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: cred}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func (p *proc) signal(sig syscall.Signal) {
	if p.running() {
		_ = p.cmd.Process.Signal(sig)
	}
}

// wait reports whether the process ended within d.
func (p *proc) wait(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.done:
		return true
	case <-t.C:
		return false
	}
}

// stop sends sig and, if the process is still there after grace, SIGKILL.
func (p *proc) stop(sig syscall.Signal, grace time.Duration) {
	if p == nil || !p.running() {
		return
	}
	p.signal(sig)
	if !p.wait(grace) {
		p.signal(syscall.SIGKILL)
		<-p.done
	}
}

// freePort asks the kernel for a free loopback port. Each server keeps its port across
// restarts, so the port is chosen once, here, rather than by the server.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// childEnv is the harness's environment without Ziyuan's and the stores' settings, so that a
// developer's MEILI_URL or DATABASE_URL cannot leak into the cluster under test.
func childEnv(extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "ZIYUAN_") || strings.HasPrefix(k, "MEILI_") || strings.HasPrefix(k, "STRIPE_") ||
			strings.HasPrefix(k, "MINIO_") || k == "DATABASE_URL" {
			continue
		}
		out = append(out, kv)
	}
	return append(out, extra...)
}

// pgServer is a throwaway PostgreSQL cluster with the default (durable) settings: fsync,
// synchronous commits and full-page writes on, so that a restart is a real one.
type pgServer struct {
	bindir  string
	dir     string
	port    int
	cred    *syscall.Credential
	proc    *proc
	pids    []int
	version string
}

// findPGBinDir finds the server binaries as .ci/with-postgres does.
func findPGBinDir(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		d := strings.TrimSpace(string(out))
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgMajor(dirs[i]) < pgMajor(dirs[j]) })
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i], nil
		}
	}
	return "", errors.New("no PostgreSQL server binaries (initdb): run .ci/ensure-tools load, or install Debian's postgresql package")
}

func pgMajor(bindir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(bindir)))
	return n
}

// newPostgres runs initdb in root/postgres. PostgreSQL refuses to run as root, so as root the
// cluster belongs to the postgres user, as in .ci/with-postgres.
func newPostgres(ctx context.Context, bindir, root string) (*pgServer, error) {
	p := &pgServer{bindir: bindir, dir: filepath.Join(root, "postgres")}
	if err := os.MkdirAll(p.dir, 0o700); err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, errors.New("running as root but there is no postgres user to run PostgreSQL as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(p.dir, uid, gid); err != nil {
			return nil, err
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	p.port = port
	out, err := p.command(ctx, "initdb", "-D", filepath.Join(p.dir, "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
	if err != nil {
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	if out, err := exec.CommandContext(ctx, filepath.Join(bindir, "postgres"), "--version").Output(); err == nil {
		p.version = strings.Replace(strings.TrimSpace(string(out)), "postgres (PostgreSQL)", "PostgreSQL", 1)
	}
	return p, nil
}

func (p *pgServer) command(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(p.bindir, name), args...)
	cmd.Dir = p.dir
	cmd.Env = childEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	return cmd.CombinedOutput()
}

func (p *pgServer) url() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
}

// start runs the postmaster itself as the child (not through pg_ctl, which detaches it), so
// the harness holds its PID, and waits until it accepts connections.
func (p *pgServer) start(ctx context.Context) error {
	argv := []string{filepath.Join(p.bindir, "postgres"), "-D", filepath.Join(p.dir, "data"), "-p", strconv.Itoa(p.port),
		"-k", p.dir, "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"}
	pr, err := startProc("postgres", argv, childEnv(), p.dir, filepath.Join(p.dir, "server.log"), p.cred)
	if err != nil {
		return err
	}
	p.proc = pr
	p.pids = append(p.pids, pr.pid())
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if _, err := p.command(ctx, "pg_isready", "-q", "-h", "127.0.0.1", "-p", strconv.Itoa(p.port), "-U", "postgres"); err == nil {
			return nil
		}
		if !pr.running() {
			return fmt.Errorf("postgres exited: %v (see %s)", pr.err, filepath.Join(p.dir, "server.log"))
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return errors.New("postgres did not accept connections within 2 minutes")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop shuts the postmaster down: SIGINT is pg_ctl's "fast" mode (clients are disconnected,
// a shutdown checkpoint is written), SIGQUIT its "immediate" mode (every process exits at
// once, like a crash, and the next start replays the WAL).
func (p *pgServer) stop(mode string) {
	sig := syscall.SIGINT
	if mode == "immediate" {
		sig = syscall.SIGQUIT
	}
	p.proc.stop(sig, time.Minute)
}

// minioServer is a MinIO server with throwaway data and credentials on a fixed loopback port.
type minioServer struct {
	bin            string
	dir            string
	port           int
	access, secret string
	proc           *proc
	pids           []int
	paused         atomic.Bool
	version        string
}

// findMinIO looks for the binary as .ci/with-minio does: PATH, then the tool cache.
func findMinIO(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if p, err := exec.LookPath("minio"); err == nil {
		return p, nil
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		cache = filepath.Join(os.Getenv("HOME"), ".cache")
	}
	p := filepath.Join(cache, "ziyuan", "bin", "minio")
	if _, err := os.Stat(p); err != nil {
		return "", errors.New("no minio binary: run .ci/ensure-tools load")
	}
	return p, nil
}

func newMinIO(bin, root string, randHex func(int) string) (*minioServer, error) {
	m := &minioServer{bin: bin, dir: filepath.Join(root, "minio"), access: "load-" + randHex(6), secret: randHex(20)}
	for _, d := range []string{"data", "certs"} {
		if err := os.MkdirAll(filepath.Join(m.dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	m.port = port
	// A `go install`ed MinIO calls itself DEVELOPMENT; its module version says which it is.
	if bi, err := buildinfo.ReadFile(bin); err == nil && bi.Main.Version != "" {
		m.version = bi.Main.Path + "@" + bi.Main.Version
	} else if out, err := exec.Command(bin, "--version").Output(); err == nil {
		m.version, _, _ = strings.Cut(strings.TrimSpace(string(out)), "\n")
	}
	return m, nil
}

func (m *minioServer) endpoint() string { return fmt.Sprintf("http://127.0.0.1:%d", m.port) }

// start runs MinIO on its port and data directory and waits for its liveness probe. No
// console, no update checks, certificates looked for in the work directory, not ~/.minio.
func (m *minioServer) start(ctx context.Context) error {
	argv := []string{m.bin, "server", "--address", fmt.Sprintf("127.0.0.1:%d", m.port), "--certs-dir", filepath.Join(m.dir, "certs"), filepath.Join(m.dir, "data")}
	env := childEnv("MINIO_ROOT_USER="+m.access, "MINIO_ROOT_PASSWORD="+m.secret, "MINIO_BROWSER=off", "MINIO_UPDATE=off")
	pr, err := startProc("minio", argv, env, m.dir, filepath.Join(m.dir, "server.log"), nil)
	if err != nil {
		return err
	}
	m.proc = pr
	m.pids = append(m.pids, pr.pid())
	deadline := time.Now().Add(2 * time.Minute)
	for !m.live(ctx) {
		if !pr.running() {
			return fmt.Errorf("minio exited: %v (see %s)", pr.err, filepath.Join(m.dir, "server.log"))
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return errors.New("minio did not answer within 2 minutes")
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

func (m *minioServer) live(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", m.endpoint()+"/minio/health/live", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

func (m *minioServer) stop() {
	if m.paused.Swap(false) {
		m.proc.signal(syscall.SIGCONT)
	}
	m.proc.stop(syscall.SIGTERM, 30*time.Second)
}

func (m *minioServer) pause() {
	m.paused.Store(true)
	m.proc.signal(syscall.SIGSTOP)
}

func (m *minioServer) resume() {
	m.paused.Store(false)
	m.proc.signal(syscall.SIGCONT)
}
