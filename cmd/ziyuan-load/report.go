package main

import (
	"bufio"
	"fmt"
	"maps"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

type report struct {
	markdown string
	passed   bool
}

// opStats are one operation's figures.
type opStats struct {
	count, ok          int
	errIn, errOut      int
	p50, p95, p99, max time.Duration
}

func computeStats(samples []sample, windows []window) (map[string]*opStats, *opStats, []sample, []sample) {
	byOp := map[string][]time.Duration{}
	stats := map[string]*opStats{}
	all := &opStats{}
	var allDur []time.Duration
	var errsIn, errsOut []sample
	for _, s := range samples {
		st := stats[s.op]
		if st == nil {
			st = &opStats{}
			stats[s.op] = st
		}
		st.count++
		all.count++
		if s.err == "" {
			st.ok++
			all.ok++
			byOp[s.op] = append(byOp[s.op], s.dur)
			allDur = append(allDur, s.dur)
			continue
		}
		inWindow := false
		for _, w := range windows {
			if w.contains(s.start, s.start.Add(s.dur)) {
				inWindow = true
				break
			}
		}
		if inWindow {
			st.errIn++
			all.errIn++
			errsIn = append(errsIn, s)
		} else {
			st.errOut++
			all.errOut++
			errsOut = append(errsOut, s)
		}
	}
	fill := func(st *opStats, d []time.Duration) {
		slices.Sort(d)
		st.p50, st.p95, st.p99 = percentile(d, 50), percentile(d, 95), percentile(d, 99)
		if len(d) > 0 {
			st.max = d[len(d)-1]
		}
	}
	for op, d := range byOp {
		fill(stats[op], d)
	}
	fill(all, allDur)
	return stats, all, errsIn, errsOut
}

func ms(d time.Duration) string {
	switch {
	case d == 0:
		return "–"
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	case d < 10*time.Second:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

func offset(t0, t time.Time) string {
	d := t.Sub(t0)
	sign := "+"
	if d < 0 {
		sign, d = "−", -d
	}
	return fmt.Sprintf("t%s%d:%06.3f", sign, int(d.Minutes()), d.Seconds()-60*float64(int(d.Minutes())))
}

// clock writes a whole-second offset as m:ss.
func clock(d time.Duration) string {
	sec := int(d.Round(time.Second).Seconds())
	return fmt.Sprintf("%d:%02d", sec/60, sec%60)
}

// machine describes the host from /proc, as far as it can be read.
func machine() (cpu, mem, load string) {
	cpu = runtime.GOARCH
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		fmt.Sscanf(strings.TrimPrefix(strings.SplitN(string(b), "\n", 2)[0], "MemTotal:"), "%d", &kb)
		mem = fmt.Sprintf("%.0f GiB", float64(kb)/(1<<20))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(b))
		if len(f) >= 3 {
			load = strings.Join(f[:3], " ")
		}
	}
	return cpu, mem, load
}

func (h *harness) report(res *runResult, checks []check) report {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	stats, all, errsIn, errsOut := computeStats(res.samples, res.windows)
	cpu, mem, load := machine()
	passed := all.errOut == 0
	lost := 0
	for _, c := range checks {
		passed = passed && c.ok
		lost += c.lost
	}
	cfg := h.cfg
	publishers, reviewers := 0, 0
	for _, u := range h.users {
		switch u.kind {
		case kindPublisher:
			publishers++
		case kindReviewer:
			reviewers++
		}
	}
	verdict := "PASSED"
	if !passed {
		verdict = "FAILED"
	}

	p("**Result: %s** — %d operations, %d errors outside the fault windows, %d inside them; lost acknowledged writes: **%d**.\n\n",
		verdict, all.count, all.errOut, all.errIn, lost)
	p("#### Setup\n\n| | |\n|---|---|\n")
	p("| run | %s, %s |\n", h.start.UTC().Format("2006-01-02 15:04 MST"), strings.Join(os.Args[1:], " "))
	p("| machine | %s, %d cores, %s; load average %s at the end (the machine is shared) |\n", cpu, runtime.NumCPU(), mem, load)
	p("| software | ziyuan %s, %s, %s, MinIO %s |\n", h.versions["ziyuan"], h.versions["go"], h.versions["postgres"], h.versions["minio"])
	p("| cluster | %d `ziyuan serve` instances on loopback sharing one PostgreSQL (default durability: fsync, synchronous_commit, full_page_writes on) and one MinIO bucket; each with its own data directory and bleve index |\n", len(h.insts))
	p("| balancing | each user pinned to a home instance; instances failing `/readyz` (every 250 ms) or refusing a connection are skipped until healthy; only a request that could not connect is sent again |\n")
	p("| data | demo seed (%d published resources, files in the bucket) plus %d roster users |\n", res.seeded, len(h.users))
	p("| users | %d: %d browsing, %d also publishing, %d reviewing; think time exponential, mean %s; ramp-up %s |\n",
		len(h.users), len(h.users)-publishers-reviewers, publishers, reviewers, cfg.Think, cfg.RampUp)
	p("| duration | %s of workload (setup took %s) |\n", cfg.Duration, h.setupDur.Round(time.Second))
	if cfg.Faults {
		p("| faults | SIGKILL of the ledger leader at %s (restart %s later); PostgreSQL restart (%s) at %s; MinIO %s for %s at %s; grace %s |\n",
			cfg.KillAt, cfg.RestartAfter, cfg.PGMode, cfg.PGAt, map[string]string{"stop": "stopped", "pause": "paused"}[cfg.MinIOMode], cfg.MinIODown, cfg.MinIOAt, cfg.Grace)
	} else {
		p("| faults | none (-faults=false) |\n")
	}

	secs := cfg.Duration.Seconds()
	p("\n#### Throughput and latency\n\nLatencies are of successful operations, over the whole run (fault windows included); a download is the API's redirect plus fetching and hashing the file from MinIO.\n\n")
	p("| operation | count | ok/s | p50 | p95 | p99 | max | errors in fault windows | errors outside |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	ops := slices.Clone(opOrder)
	for op := range stats {
		if !slices.Contains(ops, op) {
			ops = append(ops, op)
		}
	}
	for _, op := range ops {
		st := stats[op]
		if st == nil {
			continue
		}
		p("| %s | %d | %.1f | %s | %s | %s | %s | %d | %d |\n", op, st.count, float64(st.ok)/secs, ms(st.p50), ms(st.p95), ms(st.p99), ms(st.max), st.errIn, st.errOut)
	}
	p("| **all** | **%d** | **%.1f** | %s | %s | %s | %s | **%d** | **%d** |\n", all.count, float64(all.ok)/secs, ms(all.p50), ms(all.p95), ms(all.p99), ms(all.max), all.errIn, all.errOut)
	p("\nCPU time used during the workload (processes that were killed or restarted take theirs with them): %s.\n", res.cpu)

	bucket := max(5*time.Second, (cfg.Duration / 20).Round(time.Second))
	p("\n#### Over time\n\nOperations by when they started, in %s intervals.\n\n| interval | ok/s | errors | p50 | p95 | faults in the interval |\n|---|---:|---:|---:|---:|---|\n", bucket)
	n := int((cfg.Duration + bucket - 1) / bucket)
	okDur := make([][]time.Duration, n)
	errCount := make([]int, n)
	for _, s := range res.samples {
		i := int(s.start.Sub(res.t0) / bucket)
		if i < 0 || i >= n {
			continue
		}
		if s.err != "" {
			errCount[i]++
		} else {
			okDur[i] = append(okDur[i], s.dur)
		}
	}
	for i := range n {
		from, to := res.t0.Add(time.Duration(i)*bucket), res.t0.Add(time.Duration(i+1)*bucket)
		var faults []string
		for _, w := range res.windows {
			if w.failed == "" && w.contains(from, to) {
				faults = append(faults, w.fault)
			}
		}
		d := okDur[i]
		slices.Sort(d)
		p("| %s–%s | %.1f | %d | %s | %s | %s |\n", clock(from.Sub(res.t0)), clock(to.Sub(res.t0)), float64(len(d))/bucket.Seconds(), errCount[i],
			ms(percentile(d, 50)), ms(percentile(d, 95)), strings.Join(faults, ", "))
	}

	p("\n#### Fault timeline\n\nOffsets from the start of the workload.\n\n| when | event |\n|---|---|\n")
	for _, e := range h.tl.list() {
		p("| %s | %s |\n", offset(res.t0, e.at), e.what)
	}
	if len(res.windows) > 0 {
		p("\nFault windows (injection until healthy again, plus %s grace); an operation counts as inside when its time overlaps one:\n\n", cfg.Grace)
		p("| fault | from | to | healthy again after | errors inside |\n|---|---|---|---:|---:|\n")
		for _, w := range res.windows {
			n := 0
			for _, s := range errsIn {
				if w.contains(s.start, s.start.Add(s.dur)) {
					n++
				}
			}
			to, rec := offset(res.t0, w.to), fmt.Sprintf("%.2f s", w.recovered.Seconds())
			if w.failed != "" {
				to, rec = "—", "**did not recover**: "+w.failed
			}
			p("| %s | %s | %s | %s | %d |\n", w.fault, offset(res.t0, w.from), to, rec, n)
		}
	}

	p("\n#### Errors\n\n")
	if len(errsOut) == 0 {
		p("Outside the fault windows: **none**.\n\n")
	} else {
		p("Outside the fault windows: **%d**:\n\n| when | operation | instance | error |\n|---|---|---|---|\n", len(errsOut))
		for i, s := range errsOut {
			if i == 30 {
				p("| … | %d more | | |\n", len(errsOut)-30)
				break
			}
			p("| %s | %s | %s | %s |\n", offset(res.t0, s.start), s.op, s.backend, mdEscape(shorten(s.err)))
		}
		p("\n")
	}
	if len(errsIn) > 0 {
		p("Inside the fault windows, by window and kind (the first of each kind shown):\n\n| window | operation | count | first | example |\n|---|---|---:|---|---|\n")
		type key struct{ window, op, kind string }
		counts := map[key]int{}
		first := map[key]sample{}
		var order []key
		for _, s := range errsIn {
			wname := ""
			for _, w := range res.windows {
				if w.contains(s.start, s.start.Add(s.dur)) {
					wname = w.fault
					break
				}
			}
			k := key{wname, s.op, errKind(s.err)}
			if counts[k] == 0 {
				order = append(order, k)
				first[k] = s
			}
			counts[k]++
		}
		for _, k := range order {
			s := first[k]
			p("| %s | %s | %d | %s | %s |\n", k.window, k.op, counts[k], offset(res.t0, s.start), mdEscape(shorten(s.err)))
		}
		p("\n")
	}
	logged := h.serverLogSummary()
	if len(logged) > 0 {
		p("ERROR records in the instances' logs, by message: ")
		var parts []string
		for _, msg := range slices.Sorted(maps.Keys(logged)) {
			parts = append(parts, fmt.Sprintf("%q × %d", msg, logged[msg]))
		}
		p("%s.\n\n", strings.Join(parts, ", "))
	}

	p("#### Post-run checks\n\n| check | result | figures |\n|---|---|---|\n")
	for _, c := range checks {
		state := "ok"
		if !c.ok {
			state = "**FAILED**"
		}
		p("| %s | %s | %s |\n", c.name, state, mdEscape(c.figure))
	}
	p("| errors outside the fault windows | %s | %d |\n", map[bool]string{true: "ok", false: "**FAILED**"}[all.errOut == 0], all.errOut)
	p("\nLost acknowledged writes: **%d** (claims, publications and approvals the servers acknowledged but the database or the ledger does not hold).\n", lost)
	return report{markdown: b.String(), passed: passed}
}

// errKind groups error messages: the status and the error code of the body, or the kind of
// transport failure without the URL.
func errKind(msg string) string {
	if i := strings.Index(msg, `"code":"`); i >= 0 {
		rest := msg[i+8:]
		if j := strings.IndexByte(rest, '"'); j >= 0 {
			return msg[:min(3, len(msg))] + " " + rest[:j]
		}
	}
	if len(msg) >= 4 && msg[3] == ' ' && strings.Trim(msg[:3], "0123456789") == "" {
		switch rest := strings.TrimSpace(msg[4:]); {
		case rest == "":
			return msg[:3] + " with an empty body"
		case strings.HasPrefix(rest, "<"):
			return msg[:3] + " error page"
		}
	}
	parts := strings.Split(quotedURL.ReplaceAllString(msg, "URL"), ": ")
	if len(parts) == 1 {
		return parts[0]
	}
	return parts[0] + ": " + parts[len(parts)-1]
}

var quotedURL = regexp.MustCompile(`"https?://[^"]*"`)

// shorten drops the query of URLs in a message (presigned links are long) and cuts it.
func shorten(msg string) string {
	msg = regexp.MustCompile(`("https?://[^"?]*)\?[^"]*"`).ReplaceAllString(msg, `$1?…"`)
	if len(msg) > 220 {
		msg = msg[:220]
		for !utf8.ValidString(msg) {
			msg = msg[:len(msg)-1]
		}
		msg += "…"
	}
	return msg
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
