package files_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the package a leaf the market can import: nothing of the market, no
// web framework, no cgo.
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{if .CgoFiles}}cgo{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, cgo, _ := strings.Cut(line, " ")
		switch {
		case strings.HasPrefix(pkg, "ziyuan/") && !strings.HasPrefix(pkg, "ziyuan/market/files"):
			t.Errorf("imports %s", pkg)
		case strings.Contains(pkg, "fiber") || strings.HasPrefix(pkg, "net/http"):
			t.Errorf("imports %s", pkg)
		case cgo != "" && pkg != "runtime/cgo" && pkg != "net" && pkg != "os/user":
			t.Errorf("%s uses cgo", pkg)
		}
	}
}
