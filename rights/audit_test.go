package rights_test

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"ziyuan/market/store"
	"ziyuan/market/store/storetest"
	"ziyuan/rights"
)

// serveLedger is a stand-in for the web layer's ledger routes (API.md), just enough for the
// HTTP fetcher.
func serveLedger(t *testing.T, lg *testLog) *httptest.Server {
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, v any, err error) {
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		json.NewEncoder(w).Encode(v)
	}
	num := func(r *http.Request, name string) int64 {
		n, _ := strconv.ParseInt(r.URL.Query().Get(name), 10, 64)
		return n
	}
	mux.HandleFunc("GET /api/v1/ledger/checkpoint", func(w http.ResponseWriter, r *http.Request) {
		c, err := lg.Checkpoint(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Write(c.Note)
	})
	mux.HandleFunc("GET /api/v1/ledger/consistency", func(w http.ResponseWriter, r *http.Request) {
		p, err := lg.ConsistencyProof(r.Context(), num(r, "old"), num(r, "new"))
		reply(w, p, err)
	})
	mux.HandleFunc("GET /api/v1/ledger/entries/{i}", func(w http.ResponseWriter, r *http.Request) {
		i, _ := strconv.ParseInt(r.PathValue("i"), 10, 64)
		ev, err := lg.Entry(r.Context(), i)
		reply(w, ev, err)
	})
	mux.HandleFunc("GET /api/v1/ledger/entries/{i}/proof", func(w http.ResponseWriter, r *http.Request) {
		i, _ := strconv.ParseInt(r.PathValue("i"), 10, 64)
		p, err := lg.InclusionProof(r.Context(), i, num(r, "size"))
		reply(w, p, err)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// lyingFetcher alters one entry's bytes on the way.
type lyingFetcher struct {
	rights.Fetcher
	index int64
}

func (f lyingFetcher) ProvenEntry(ctx context.Context, index, size int64) (rights.ProvenEntry, error) {
	pe, err := f.Fetcher.ProvenEntry(ctx, index, size)
	if index == f.index {
		pe.Data = []byte(strings.Replace(string(pe.Data), "work.published", "work.taken_down", 1))
	}
	return pe, err
}

func TestAuditFollowsTheLog(t *testing.T) {
	storetest.Each(t, sources, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		lg := openLog(t, db.DB)
		f := rights.HTTPFetcher{BaseURL: serveLedger(t, lg).URL + "/api/v1"}
		state := filepath.Join(t.TempDir(), "audit-state")
		cfg := rights.AuditConfig{VerifierKey: lg.VerifierKey(), StateFile: state, Sample: 5, Rand: rand.New(rand.NewPCG(1, 2))}

		enqueue(t, lg, 0, 10)
		drain(t, lg)
		mustPublish(t, lg)
		rep, err := rights.Audit(ctx, f, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Size != 10 || rep.PreviousSize != -1 || len(rep.Audited) != 7 || rep.Audited[0] != 0 || rep.Audited[6] != 9 {
			t.Fatalf("first audit %+v", rep)
		}

		enqueue(t, lg, 10, 40)
		drain(t, lg)
		mustPublish(t, lg)
		rep, err = rights.Audit(ctx, f, cfg)
		if err != nil || rep.Size != 40 || rep.PreviousSize != 10 {
			t.Fatalf("second audit %+v %v", rep, err)
		}

		// A server that alters an entry is caught when the entry is sampled.
		cfg.Sample = 100
		if _, err := rights.Audit(ctx, lyingFetcher{f, 17}, cfg); !errors.Is(err, rights.ErrVerification) {
			t.Fatalf("altered entry: %v", err)
		}

		// A different log signed with the same key (a fork) is not consistent with the one
		// seen before.
		forkDB := storetest.Open(t, db.Dialect, sources...)
		fork := openLog(t, forkDB.DB, func(c *rights.Config) { c.Key = lg.key })
		enqueue(t, fork, 100, 150)
		drain(t, fork)
		mustPublish(t, fork)
		ff := rights.HTTPFetcher{BaseURL: serveLedger(t, fork).URL + "/api/v1"}
		if _, err := rights.Audit(ctx, ff, cfg); !errors.Is(err, rights.ErrVerification) || !strings.Contains(err.Error(), "not an extension") {
			t.Fatalf("fork: %v", err)
		}
		// A log that shrank (an old checkpoint served again) is caught as well.
		small := storetest.Open(t, db.Dialect, sources...)
		smallLog := openLog(t, small.DB, func(c *rights.Config) { c.Key = lg.key })
		enqueue(t, smallLog, 0, 10)
		drain(t, smallLog)
		mustPublish(t, smallLog)
		sf := rights.HTTPFetcher{BaseURL: serveLedger(t, smallLog).URL + "/api/v1"}
		if _, err := rights.Audit(ctx, sf, cfg); !errors.Is(err, rights.ErrVerification) || !strings.Contains(err.Error(), "shrank") {
			t.Fatalf("shrunk log: %v", err)
		}
		// Failed audits left the remembered checkpoint alone.
		rep, err = rights.Audit(ctx, f, cfg)
		if err != nil || rep.PreviousSize != 40 {
			t.Fatalf("audit after failures: %+v %v", rep, err)
		}
		// The wrong key fails at the signature.
		cfg.VerifierKey = newKey(t).VerifierKey()
		if _, err := rights.Audit(ctx, f, cfg); !errors.Is(err, rights.ErrVerification) {
			t.Fatalf("wrong key: %v", err)
		}
	})
}
