package web_test

import (
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"testing"
)

var fiberParam = regexp.MustCompile(`:([A-Za-z_]+)`)

// TestOpenAPIDocumentsEveryRoute keeps /api/openapi.json and the router in step, both ways.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	e := newEnv(t, openDB(t))
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	decode(t, e.do(t, "GET", "/api/openapi.json", "", nil), 200, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	registered := map[string]bool{}
	for _, r := range e.srv.App().GetRoutes(true) {
		if r.Method == "HEAD" || !(strings.HasPrefix(r.Path, "/api/") || r.Path == "/healthz" || r.Path == "/readyz" || r.Path == "/metrics") {
			continue
		}
		registered[r.Method+" "+fiberParam.ReplaceAllString(r.Path, "{$1}")] = true
	}
	var missing, stale []string
	for k := range registered {
		if !documented[k] {
			missing = append(missing, k)
		}
	}
	for k := range documented {
		if !registered[k] {
			stale = append(stale, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	if len(missing) > 0 || len(stale) > 0 {
		t.Fatalf("OpenAPI document out of step: undocumented routes %v; documented but not served %v", missing, stale)
	}
}
