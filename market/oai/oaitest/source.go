package oaitest

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// Source is a repository that is not Ziyuan, serving the canned Dublin Core answers in
// testdata/oai-pmh/source: five records over two pages, the second in GBK, one deleted, two that
// cannot be mapped. Its first request for the second page gets a 503 with Retry-After: 1, as a
// busy repository answers.
type Source struct {
	URL string
	mu  sync.Mutex
	// Requests counts the requests by verb (a resumed list counts under "resume").
	requests map[string]int
	busy     bool
}

// Requests returns how many requests of a kind the source got.
func (s *Source) Requests(kind string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[kind]
}

// NewSource starts the source until the test ends.
func NewSource(t testing.TB) *Source {
	t.Helper()
	dir := filepath.Join(SchemaDir(), "source")
	src := &Source{requests: map[string]int{}, busy: true}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		file := ""
		kind := q.Get("verb")
		switch {
		case q.Get("resumptionToken") == "page-2":
			kind, file = "resume", "ListRecords-2.xml"
		case kind == "ListRecords" && q.Get("metadataPrefix") == "oai_dc":
			file = "ListRecords-1.xml"
		case kind == "Identify", kind == "ListMetadataFormats":
			file = kind + ".xml"
		}
		src.mu.Lock()
		src.requests[kind]++
		busy := kind == "resume" && src.busy
		src.busy = src.busy && !busy
		src.mu.Unlock()
		if busy {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		if file == "" {
			http.Error(w, "the fixture source knows no such request", http.StatusBadRequest)
			return
		}
		body, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if file == "ListRecords-2.xml" {
			if body, err = simplifiedchinese.GBK.NewEncoder().Bytes(body); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
		w.Header().Set("Content-Type", "text/xml")
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	src.URL = srv.URL + "/oai"
	return src
}
