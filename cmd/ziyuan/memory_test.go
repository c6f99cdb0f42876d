package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMemoryLimitFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		read func(string) int64
		body string
		want int64
	}{
		{"meminfo", memTotal, "MemFree:   100 kB\nMemTotal:       24684168 kB\nBuffers: 1 kB\n", 24684168 << 10},
		{"meminfo without MemTotal", memTotal, "MemFree: 100 kB\n", 0},
		{"meminfo garbled", memTotal, "MemTotal: lots\n", 0},
		{"cgroup v2 limit", cgroupLimit, "8589934592\n", 8 << 30},
		{"cgroup v2 unlimited", cgroupLimit, "max\n", 0},
		{"cgroup v1 unlimited", cgroupLimit, "9223372036854771712\n", 0},
		{"cgroup empty", cgroupLimit, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.read(write("f", tt.body)); got != tt.want {
				t.Fatalf("got %d, want %d", got, tt.want)
			}
		})
	}
	if memTotal(filepath.Join(dir, "missing")) != 0 || cgroupLimit(filepath.Join(dir, "missing")) != 0 {
		t.Fatal("a missing file must read as no limit")
	}
}
