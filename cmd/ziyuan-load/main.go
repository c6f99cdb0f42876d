// Command ziyuan-load is the load and fault harness (issue 9). It starts its own PostgreSQL,
// MinIO and three `ziyuan serve` instances on loopback, loads the demo data and a roster of
// simulated users, and runs those users against the instances while it kills the ledger
// leader, restarts PostgreSQL and takes MinIO away. Afterwards it checks that nothing the
// servers acknowledged was lost, writes a markdown report, stops everything it started and
// removes its data. `make load` runs it; docs/performance.md holds the committed report.
//
// It exits non-zero when a post-run check fails or a request failed outside the fault windows.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// config is the command line.
type config struct {
	Users     int
	Duration  time.Duration
	Think     time.Duration
	RampUp    time.Duration
	Report    string
	Ziyuan    string
	MinIO     string
	PGBinDir  string
	Instances int
	Keep      bool
	Seed      uint64

	Faults       bool
	Grace        time.Duration
	KillAt       time.Duration
	RestartAfter time.Duration
	PGAt         time.Duration
	PGMode       string
	MinIOAt      time.Duration
	MinIODown    time.Duration
	MinIOMode    string
}

func parseConfig(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("ziyuan-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.Users, "users", 200, "concurrent simulated users")
	fs.DurationVar(&c.Duration, "duration", 5*time.Minute, "how long the workload runs")
	fs.DurationVar(&c.Think, "think", 2*time.Second, "mean think time between a user's actions (exponentially distributed)")
	fs.DurationVar(&c.RampUp, "ramp-up", 0, "users start evenly spread over this time (default: a twentieth of -duration, at most 15s)")
	fs.StringVar(&c.Report, "report", "load-report.md", "markdown report to write (also printed)")
	fs.StringVar(&c.Ziyuan, "ziyuan", "bin/ziyuan", "the ziyuan binary to run")
	fs.StringVar(&c.MinIO, "minio", "", "the minio binary (default: minio on PATH, then the tool cache)")
	fs.StringVar(&c.PGBinDir, "pg-bindir", "", "PostgreSQL server binaries (default: pg_config --bindir, then /usr/lib/postgresql/*/bin)")
	fs.IntVar(&c.Instances, "instances", 3, "ziyuan serve instances")
	fs.BoolVar(&c.Keep, "keep", false, "keep the work directory (databases, logs) instead of removing it")
	fs.Uint64Var(&c.Seed, "seed", 0, "random seed of the workload (default: from the clock)")
	fs.BoolVar(&c.Faults, "faults", true, "inject the faults")
	fs.DurationVar(&c.Grace, "grace", 5*time.Second, "a fault window lasts until the system is healthy again plus this")
	fs.DurationVar(&c.KillAt, "kill-at", 0, "when to SIGKILL the ledger leader (default: 20% into the run)")
	fs.DurationVar(&c.RestartAfter, "restart-after", 0, "when to restart the killed instance, after the kill (default: 20s, at most 7% of the run)")
	fs.DurationVar(&c.PGAt, "pg-at", 0, "when to restart PostgreSQL (default: 45% into the run)")
	fs.StringVar(&c.PGMode, "pg-mode", "immediate", "PostgreSQL stop mode: immediate (a crash: recovery from the WAL on start) or fast (clean shutdown)")
	fs.DurationVar(&c.MinIOAt, "minio-at", 0, "when to take MinIO away (default: 70% into the run)")
	fs.DurationVar(&c.MinIODown, "minio-down", 0, "how long MinIO is unavailable (default: 20s, at most 7% of the run)")
	fs.StringVar(&c.MinIOMode, "minio-mode", "stop", "stop (SIGTERM, then a new process on the same port and data) or pause (SIGSTOP/SIGCONT: a hung store)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if c.Users < 3 {
		return c, errors.New("-users must be at least 3 (a browser, a publisher and a reviewer)")
	}
	if c.Instances < 2 {
		return c, errors.New("-instances must be at least 2: killing the leader needs a survivor")
	}
	if c.PGMode != "immediate" && c.PGMode != "fast" {
		return c, fmt.Errorf("-pg-mode %q: want immediate or fast", c.PGMode)
	}
	if c.MinIOMode != "stop" && c.MinIOMode != "pause" {
		return c, fmt.Errorf("-minio-mode %q: want stop or pause", c.MinIOMode)
	}
	frac := func(f float64) time.Duration { return time.Duration(float64(c.Duration) * f).Round(time.Second) }
	if c.RampUp == 0 {
		c.RampUp = min(frac(0.05), 15*time.Second)
	}
	if c.KillAt == 0 {
		c.KillAt = frac(0.20)
	}
	if c.RestartAfter == 0 {
		c.RestartAfter = min(20*time.Second, frac(0.07))
	}
	if c.PGAt == 0 {
		c.PGAt = frac(0.45)
	}
	if c.MinIOAt == 0 {
		c.MinIOAt = frac(0.70)
	}
	if c.MinIODown == 0 {
		c.MinIODown = min(20*time.Second, frac(0.07))
	}
	if c.Seed == 0 {
		c.Seed = uint64(time.Now().UnixNano())
	}
	return c, nil
}

func main() {
	cfg, err := parseConfig(os.Args[1:], os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "ziyuan-load:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Stdout, os.Stderr); err != nil {
		if ctx.Err() != nil {
			err = errors.New("interrupted; everything it started is stopped and removed")
		}
		fmt.Fprintln(os.Stderr, "ziyuan-load:", err)
		stop()
		os.Exit(1)
	}
}

// errFailed says the run completed but its report shows a failure.
var errFailed = errors.New("the run failed: see the report")

// run sets the cluster up, runs the workload with the faults, checks and reports. Whatever
// happens, everything it started is stopped and its work directory removed on return.
func run(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	h, err := newHarness(cfg, stderr)
	if err != nil {
		return err
	}
	defer h.cleanup()
	if err := h.setup(ctx); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	res, err := h.runWorkload(ctx)
	if err != nil {
		return err
	}
	checks := h.postChecks(ctx, res)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	rep := h.report(res, checks)
	fmt.Fprint(stdout, rep.markdown)
	if cfg.Report != "" {
		if err := os.WriteFile(cfg.Report, []byte(rep.markdown), 0o644); err != nil {
			return err
		}
		h.logf("report written to %s", cfg.Report)
	}
	if !rep.passed {
		return errFailed
	}
	return nil
}
