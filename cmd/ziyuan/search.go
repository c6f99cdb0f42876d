package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"ziyuan/catalog"
	"ziyuan/catalog/bleve"
	"ziyuan/catalog/meili"
	"ziyuan/market"
	"ziyuan/market/store"
)

// openSearch opens the search engine: Meilisearch when its URL is set, else the embedded bleve
// index in the data directory. failFast turns off the Meilisearch client's own retries, for
// serve: a reader should get 503 with Retry-After at once during an outage, not after seconds
// of retrying, and the outbox worker retries with its own backoff.
func openSearch(ctx context.Context, s *settings, log *slog.Logger, failFast bool) (catalog.Engine, error) {
	if s.MeiliURL != "" {
		m, err := meili.New(meili.Options{URL: s.MeiliURL, APIKey: s.MeiliKey, DisableRetries: failFast})
		if err != nil {
			return nil, err
		}
		if err := m.EnsureIndex(ctx); err != nil {
			m.Close()
			return nil, fmt.Errorf("search engine: Meilisearch at %s: %w", s.MeiliURL, err)
		}
		return m, nil
	}
	b, err := bleve.Open(filepath.Join(s.Data, "search"), bleve.Options{Logger: log})
	if err != nil {
		return nil, err
	}
	if err := b.EnsureIndex(ctx); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// indexer keeps the search index up to date with the database.
type indexer interface {
	// Start catches up, rebuilding the index first when it needs it.
	Start(ctx context.Context) error
	Run(ctx context.Context) error
	Notify()
	Lag(ctx context.Context) (time.Duration, error)
}

// newIndexer picks how changes reach the index. An embedded index lives in each instance's
// data directory, so every instance follows every change (catalog.Follower); an engine that
// all instances share takes each change once, from whichever instance's worker claims it
// (catalog.Worker). Changes are applied through apply (the cached engine, so that this
// instance's cache forgets what changed); rebuild refills the index.
func newIndexer(db *store.DB, index, apply catalog.Engine, log *slog.Logger, rebuild func(context.Context) error) indexer {
	if p, ok := index.(catalog.Positioned); ok {
		f := catalog.NewFollower(db.DB, positionedVia{Positioned: p, apply: apply}, catalog.FollowerOptions{Logger: log, Rebuild: rebuild})
		return followerIndexer{f}
	}
	return workerIndexer{catalog.NewWorker(db.DB, apply, catalog.WorkerOptions{Logger: log})}
}

// positionedVia applies writes through the cache but keeps the position in the index.
type positionedVia struct {
	catalog.Positioned
	apply catalog.Engine
}

func (p positionedVia) Upsert(ctx context.Context, docs ...catalog.Document) error {
	return p.apply.Upsert(ctx, docs...)
}
func (p positionedVia) Delete(ctx context.Context, ids ...string) error {
	return p.apply.Delete(ctx, ids...)
}
func (p positionedVia) Wait(ctx context.Context) error { return p.apply.Wait(ctx) }

type followerIndexer struct{ *catalog.Follower }

func (f followerIndexer) Start(ctx context.Context) error {
	_, err := f.Follower.Start(ctx)
	return err
}

type workerIndexer struct{ *catalog.Worker }

// Start has nothing to do: the worker drains what waits once it runs, and a shared engine is
// rebuilt with `ziyuan reindex`, not on start, since other instances serve from it.
func (w workerIndexer) Start(ctx context.Context) error { return nil }

// reindex rebuilds the index from the database, drawing progress on w.
func reindex(ctx context.Context, m *market.Market, eng catalog.Engine, w io.Writer) (catalog.ReindexStats, error) {
	src, err := m.CatalogSource(ctx)
	if err != nil {
		return catalog.ReindexStats{}, err
	}
	bar := newProgress(w, "reindex", src.Total)
	st, err := catalog.Reindex(ctx, src, eng, bar.set)
	bar.done()
	return st, err
}

// progress draws a bar on a terminal and plain lines (every 10 %) elsewhere.
type progress struct {
	w        io.Writer
	label    string
	total    int
	terminal bool
	lastTen  int
	start    time.Time
}

func newProgress(w io.Writer, label string, total int) *progress {
	p := &progress{w: w, label: label, total: total, lastTen: -1, start: time.Now()}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

func (p *progress) set(done, total int) {
	if total > 0 {
		p.total = total
	}
	pct := 100
	if p.total > 0 {
		pct = done * 100 / p.total
	}
	if p.terminal {
		const width = 30
		filled := pct * width / 100
		fmt.Fprintf(p.w, "\r%s [%s%s] %3d%% %d/%d", p.label, strings.Repeat("█", filled), strings.Repeat("░", width-filled), pct, done, p.total)
		return
	}
	if pct/10 != p.lastTen {
		p.lastTen = pct / 10
		fmt.Fprintf(p.w, "%s: %d/%d (%d%%)\n", p.label, done, p.total, pct)
	}
}

func (p *progress) done() {
	if p.terminal {
		fmt.Fprintln(p.w)
	}
}

func cmdReindex(ctx context.Context, env *environment, args []string) error {
	var inPlace bool
	var margin time.Duration
	s, err := parseFlags("reindex", env, args, func(fs *flag.FlagSet) {
		fs.BoolVar(&inPlace, "in-place", false, "Meilisearch: rewrite the live index instead of building a new one and swapping it in "+
			"(searches see old and new documents mixed meanwhile); the embedded index is always rebuilt in place")
		fs.DurationVar(&margin, "margin", 5*time.Minute, "Meilisearch: also re-deliver the resources changed this long before the build "+
			"began (transactions that committed late, instances whose clocks differ)")
	})
	if err != nil {
		return err
	}
	if margin < 0 {
		return usageError{"--margin cannot be negative"}
	}
	log := s.logger(env.stderr)
	db, err := openStore(ctx, s, log)
	if err != nil {
		return err
	}
	defer db.Close()
	eng, err := openSearch(ctx, s, log, false)
	if err != nil {
		return err
	}
	defer eng.Close()
	m := market.New(db, market.Options{Logger: log})
	if mi, ok := eng.(*meili.Engine); ok && !inPlace {
		return reindexAside(ctx, env, m, mi, margin)
	}
	start := time.Now()
	var st catalog.ReindexStats
	rebuild := func(ctx context.Context) (err error) {
		st, err = reindex(ctx, m, eng, env.stderr)
		return err
	}
	if p, ok := eng.(catalog.Positioned); ok {
		// An embedded index also records where in the feed the rebuild began, so that serve
		// resumes from there instead of rebuilding again.
		err = catalog.NewFollower(db.DB, p, catalog.FollowerOptions{Logger: log, Rebuild: rebuild}).Rebuild(ctx)
	} else {
		err = rebuild(ctx)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "search index rebuilt: %d documents indexed, %d stale ones removed, in %s\n", st.Indexed, st.Removed, time.Since(start).Round(time.Millisecond))
	return nil
}

// reindexAside rebuilds a Meilisearch index while the site runs: searches are answered from the
// live index until a new one, built beside it, is swapped in. The workers of the running
// instances go on applying changes to the live index meanwhile, so the new index is brought level
// with them before the swap (directly: no worker writes to it yet) and, once it is live, they are
// re-delivered through the outbox, where their order with concurrent changes is kept; only the
// second step is needed for correctness, the first keeps the swap from showing older documents
// until the workers have applied the re-delivered ones.
func reindexAside(ctx context.Context, env *environment, m *market.Market, eng *meili.Engine, margin time.Duration) error {
	out := env.stdout
	start := time.Now()
	since := start.Add(-margin)
	live, next := eng.Index(), eng.Index()+"_"+start.UTC().Format("20060102_150405")
	sinceText := since.UTC().Format(time.RFC3339)
	fmt.Fprintf(out, "building the new index %s beside the live index %s (searches use %s meanwhile)\n", next, live, live)
	var st catalog.ReindexStats
	err := eng.Rebuild(ctx, next, meili.RebuildSteps{
		Fill: func(ctx context.Context, idx catalog.Engine) (err error) {
			if st, err = reindex(ctx, m, idx, env.stderr); err != nil {
				return err
			}
			caught, err := catalog.ApplyChanges(ctx, idx, m.CatalogChangesSince(ctx, since))
			if err != nil {
				return fmt.Errorf("catch up with the changes made since %s: %w", sinceText, err)
			}
			fmt.Fprintf(out, "indexed %d documents; caught up with %d resources changed since %s\n", st.Indexed, caught, sinceText)
			return nil
		},
		Swapped: func(ctx context.Context) error {
			fmt.Fprintf(out, "swapped: %s now serves the new index\n", live)
			red, err := m.RedeliverCatalog(ctx, since)
			if err != nil {
				return fmt.Errorf("re-deliver the changes made since %s (%d documents and %d removals queued before the failure; "+
					"run `ziyuan reindex` again): %w", sinceText, red.Upserts, red.Deletes, err)
			}
			fmt.Fprintf(out, "re-delivered through the outbox: %d documents and %d removals changed since %s; "+
				"the workers of the running instances apply them\n", red.Upserts, red.Deletes, sinceText)
			return nil
		},
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "deleted the old index\nsearch index rebuilt without downtime: %d documents indexed, in %s\n", st.Indexed,
		time.Since(start).Round(time.Millisecond))
	return nil
}
