package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// timeline records what happened when, for the report.
type timeline struct {
	mu     sync.Mutex
	events []tlEvent
}

type tlEvent struct {
	at   time.Time
	what string
}

func (t *timeline) add(format string, args ...any) { t.addAt(time.Now(), format, args...) }

func (t *timeline) addAt(at time.Time, format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.events = append(t.events, tlEvent{at, fmt.Sprintf(format, args...)})
}

func (t *timeline) list() []tlEvent {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := slices.Clone(t.events)
	slices.SortStableFunc(out, func(a, b tlEvent) int { return a.at.Compare(b.at) })
	return out
}

// window is the time a fault is allowed to cause errors: from its injection until the system
// was seen healthy again, plus the grace.
type window struct {
	fault     string
	from, to  time.Time
	recovered time.Duration // from injection to healthy again
	failed    string        // why the fault did not recover, if it did not
}

func (w window) contains(start, end time.Time) bool {
	return !end.Before(w.from) && !start.After(w.to)
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// runFaults injects the faults one after another at their offsets from t0. Each waits until
// the one before has recovered, so that their windows never overlap; a fault that comes late
// for that reason says so in the timeline.
func (h *harness) runFaults(ctx context.Context, t0, end time.Time) []window {
	type step struct {
		at   time.Duration
		name string
		run  func(context.Context) window
	}
	steps := []step{
		{h.cfg.KillAt, "SIGKILL of the ledger leader", h.faultKillLeader},
		{h.cfg.PGAt, "PostgreSQL restart", h.faultRestartPostgres},
		{h.cfg.MinIOAt, "MinIO unavailable", h.faultMinIO},
	}
	slices.SortStableFunc(steps, func(a, b step) int { return int(a.at - b.at) })
	var out []window
	for _, s := range steps {
		planned := t0.Add(s.at)
		if !sleepCtx(ctx, time.Until(planned)) {
			return out
		}
		if late := time.Since(planned); late > time.Second {
			h.tl.add("%s comes %.1fs late: the fault before it recovered only now", s.name, late.Seconds())
		}
		if time.Now().After(end) {
			h.tl.add("%s not injected: the run is over", s.name)
			out = append(out, window{fault: s.name, failed: "not injected before the end of the run"})
			continue
		}
		w := s.run(ctx)
		if ctx.Err() != nil {
			return out // interrupted: the harness is stopping everything
		}
		if w.failed != "" {
			h.logf("fault %q did not recover: %s", w.fault, w.failed)
			w.to = end.Add(time.Hour)
		}
		h.logf("%s: window %s, recovered in %.1fs", w.fault, w.to.Sub(w.from).Round(100*time.Millisecond), w.recovered.Seconds())
		out = append(out, w)
	}
	return out
}

// findLeader returns the running instance whose /metrics says it leads the ledger.
func (h *harness) findLeader(ctx context.Context, within time.Duration, except *instance) *instance {
	deadline := time.Now().Add(within)
	for {
		for _, in := range h.insts {
			if in != except && in.running() && in.leads(ctx) {
				return in
			}
		}
		if time.Now().After(deadline) || !sleepCtx(ctx, 50*time.Millisecond) {
			return nil
		}
	}
}

// waitReady waits until every running instance's /readyz answers 200 and its body contains
// want (e.g. "files: ok").
func (h *harness) waitReady(ctx context.Context, within time.Duration, want string) bool {
	deadline := time.Now().Add(within)
	for {
		all := true
		for _, in := range h.insts {
			if !in.running() {
				continue
			}
			status, body := getText(ctx, in.url+"/readyz", 2*time.Second)
			if status != http.StatusOK || !strings.Contains(body, want) {
				all = false
				break
			}
		}
		if all {
			return true
		}
		if time.Now().After(deadline) || !sleepCtx(ctx, 100*time.Millisecond) {
			return false
		}
	}
}

// faultKillLeader kills the ledger leader with SIGKILL, measures the takeover, and restarts
// the killed instance on its data directory after -restart-after. The window ends with the
// takeover: from then on the survivors serve everything; the restart is not part of it.
func (h *harness) faultKillLeader(ctx context.Context) window {
	w := window{fault: "SIGKILL of the ledger leader"}
	leader := h.findLeader(ctx, 15*time.Second, nil)
	if leader == nil {
		w.from, w.failed = time.Now(), "no instance led the ledger"
		h.tl.add("FAILED: no instance leads the ledger; nothing killed")
		return w
	}
	w.from = time.Now()
	p := leader.kill()
	h.tl.addAt(w.from, "SIGKILL %s (pid %d), the ledger leader", leader.name, p.pid())
	next := h.findLeader(ctx, 30*time.Second, leader)
	if next == nil {
		w.failed = "no other instance took over the ledger within 30 s"
		h.tl.add("FAILED: %s", w.failed)
		return w
	}
	took := time.Now()
	w.recovered, w.to = took.Sub(w.from), took.Add(h.cfg.Grace)
	h.tl.addAt(took, "%s leads the ledger: takeover %.2fs after the kill", next.name, w.recovered.Seconds())

	if !sleepCtx(ctx, time.Until(w.from.Add(h.cfg.RestartAfter))) {
		return w
	}
	began := time.Now()
	h.tl.addAt(began, "restarting %s on its data directory", leader.name)
	if err := leader.start(ctx, h.onExit); err != nil {
		w.failed = "the killed instance did not start again: " + err.Error()
		h.tl.add("FAILED: %s", w.failed)
		return w
	}
	index := "resumed its search index from its feed position"
	if strings.Contains(leader.logSince(), "building the search index") {
		index = "rebuilt its search index"
	}
	h.tl.add("%s ready again (pid %d), %.1fs after the restart; it %s", leader.name, leader.current().pid(), time.Since(began).Seconds(), index)
	if l := h.findLeader(ctx, 5*time.Second, nil); l != nil {
		h.tl.add("after the restart %s still leads the ledger", l.name)
	}
	return w
}

// faultRestartPostgres stops the postmaster (immediate: a crash; fast: a clean shutdown) and
// starts it again on the same data directory. The window ends when every instance's /readyz
// says the database answers and an instance leads the ledger again.
func (h *harness) faultRestartPostgres(ctx context.Context) window {
	w := window{fault: "PostgreSQL restart (" + h.cfg.PGMode + ")"}
	sig := "SIGINT, pg_ctl's fast mode"
	if h.cfg.PGMode == "immediate" {
		sig = "SIGQUIT, pg_ctl's immediate mode: every backend exits at once, as in a crash"
	}
	w.from = time.Now()
	h.tl.addAt(w.from, "PostgreSQL: stop with %s (pid %d)", sig, h.pg.proc.pid())
	h.pg.stop(h.cfg.PGMode)
	h.tl.add("PostgreSQL down, %.2fs after the stop signal", time.Since(w.from).Seconds())
	if err := h.pg.start(ctx); err != nil {
		w.failed = "PostgreSQL did not start again: " + err.Error()
		h.tl.add("FAILED: %s", w.failed)
		return w
	}
	recovery := ""
	if h.cfg.PGMode == "immediate" {
		recovery = " (after crash recovery from the WAL)"
	}
	h.tl.add("PostgreSQL accepting connections again%s, %.2fs after the stop signal (pid %d)", recovery, time.Since(w.from).Seconds(), h.pg.proc.pid())
	if !h.waitReady(ctx, 2*time.Minute, "database: ok") {
		w.failed = "instances not ready within 2 minutes of PostgreSQL's restart"
		h.tl.add("FAILED: %s", w.failed)
		return w
	}
	h.tl.add("every instance ready again (/readyz 200), %.2fs after the stop signal", time.Since(w.from).Seconds())
	l := h.findLeader(ctx, 30*time.Second, nil)
	if l == nil {
		w.failed = "no instance led the ledger within 30 s of PostgreSQL's restart"
		h.tl.add("FAILED: %s", w.failed)
		return w
	}
	ok := time.Now()
	h.tl.addAt(ok, "%s leads the ledger, %.2fs after the stop signal", l.name, ok.Sub(w.from).Seconds())
	w.recovered, w.to = ok.Sub(w.from), ok.Add(h.cfg.Grace)
	return w
}

// faultMinIO takes the store away for -minio-down. "stop" ends the process (SIGTERM) and
// starts a new one on the same port and data: the store refuses connections meanwhile, as in
// a crash or a restart. "pause" freezes it (SIGSTOP/SIGCONT): connections are accepted by the
// kernel but never answered, as with a hung store or a network partition. The window ends when
// every instance's /readyz reports "files: ok" again.
func (h *harness) faultMinIO(ctx context.Context) window {
	w := window{fault: "MinIO unavailable (" + h.cfg.MinIOMode + ")"}
	w.from = time.Now()
	if h.cfg.MinIOMode == "pause" {
		h.minio.pause()
		h.tl.addAt(w.from, "MinIO paused with SIGSTOP (pid %d)", h.minio.proc.pid())
	} else {
		pid := h.minio.proc.pid()
		h.minio.proc.stop(syscall.SIGTERM, 30*time.Second)
		h.tl.addAt(w.from, "MinIO stopped with SIGTERM (pid %d), down %.2fs after the signal", pid, time.Since(w.from).Seconds())
	}
	if !sleepCtx(ctx, time.Until(w.from.Add(h.cfg.MinIODown))) {
		if h.cfg.MinIOMode == "pause" {
			h.minio.resume()
		}
		return w
	}
	if h.cfg.MinIOMode == "pause" {
		h.minio.resume()
		h.tl.add("MinIO resumed with SIGCONT, %.1fs after the pause", time.Since(w.from).Seconds())
	} else {
		began := time.Now()
		if err := h.minio.start(ctx); err != nil {
			w.failed = "MinIO did not start again: " + err.Error()
			h.tl.add("FAILED: %s", w.failed)
			return w
		}
		h.tl.addAt(began, "MinIO starting again on the same port and data, %.1fs after the stop", began.Sub(w.from).Seconds())
		h.tl.add("MinIO live again (pid %d), %.1fs after the stop", h.minio.proc.pid(), time.Since(w.from).Seconds())
	}
	if !h.waitReady(ctx, 2*time.Minute, "files: ok") {
		w.failed = "instances did not report the files as ok within 2 minutes"
		h.tl.add("FAILED: %s", w.failed)
		return w
	}
	ok := time.Now()
	h.tl.addAt(ok, "every instance reports files: ok, %.1fs after MinIO went away", ok.Sub(w.from).Seconds())
	w.recovered, w.to = ok.Sub(w.from), ok.Add(h.cfg.Grace)
	return w
}
