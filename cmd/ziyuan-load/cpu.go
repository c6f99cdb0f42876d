package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc's CPU times: 100 on every Linux Go runs on.
const clockTicks = 100

// cpuSnap is the CPU time used so far by every process, by the harness itself, and by the
// whole machine.
type cpuSnap struct {
	at      time.Time
	procs   map[int]procCPU
	self    float64
	machine float64
}

// procCPU is one process: its group (every child of the harness leads its own) and its parent
// (PostgreSQL's backends make themselves group leaders, so they are found by their parent).
type procCPU struct {
	pgrp, ppid int
	seconds    float64
}

func snapCPU() cpuSnap {
	s := cpuSnap{at: time.Now(), procs: map[int]procCPU{}}
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		// The command name is in parentheses and may hold spaces; the fields follow it.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 13 {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		ppid, _ := strconv.Atoi(f[1])
		pgrp, _ := strconv.Atoi(f[2])
		utime, _ := strconv.ParseFloat(f[11], 64)
		stime, _ := strconv.ParseFloat(f[12], 64)
		s.procs[pid] = procCPU{pgrp: pgrp, ppid: ppid, seconds: (utime + stime) / clockTicks}
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line)
		// user nice system idle iowait irq softirq steal: all but idle and iowait are work.
		for i, v := range f[1:min(len(f), 9)] {
			if i == 3 || i == 4 {
				continue
			}
			n, _ := strconv.ParseFloat(v, 64)
			s.machine += n / clockTicks
		}
	}
	return s
}

// cpuUse is the CPU time each part of the cluster used between two snapshots.
type cpuUse struct {
	parts   []cpuPart
	self    float64
	machine float64
	wall    time.Duration
}

type cpuPart struct {
	name    string
	seconds float64
}

// groups maps the process groups the harness started to names.
func (h *harness) groups() map[int]string {
	out := map[int]string{}
	for _, in := range h.insts {
		in.mu.Lock()
		for _, pid := range in.pids {
			out[pid] = "instances"
		}
		in.mu.Unlock()
	}
	for _, pid := range h.pg.pids {
		out[pid] = "PostgreSQL"
	}
	for _, pid := range h.minio.pids {
		out[pid] = "MinIO"
	}
	return out
}

func (h *harness) cpuBetween(a, b cpuSnap) cpuUse {
	u := cpuUse{self: b.self - a.self, machine: b.machine - a.machine, wall: b.at.Sub(a.at)}
	byName := map[string]float64{}
	groups := h.groups()
	for pid, p := range b.procs {
		name, ok := groups[p.pgrp]
		if !ok {
			name, ok = groups[p.ppid]
		}
		if !ok {
			continue
		}
		// A process that ended between the snapshots took its CPU time with it; one that
		// began counts from zero.
		byName[name] += p.seconds - a.procs[pid].seconds
	}
	for _, name := range []string{"instances", "PostgreSQL", "MinIO"} {
		u.parts = append(u.parts, cpuPart{name, byName[name]})
	}
	return u
}

func (u cpuUse) String() string {
	var parts []string
	ours := u.self
	core := func(s float64) string { return fmt.Sprintf("%.0f s (%.2f cores)", s, s/u.wall.Seconds()) }
	for _, p := range u.parts {
		parts = append(parts, p.name+" "+core(p.seconds))
		ours += p.seconds
	}
	parts = append(parts, "the harness "+core(u.self))
	return fmt.Sprintf("%s; everything else on the machine %s", strings.Join(parts, ", "), core(max(0, u.machine-ours)))
}
