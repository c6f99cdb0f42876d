package main

import (
	"context"
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
)

// openSearch opens the search engine: Meilisearch when its URL is set, else the embedded bleve
// index in the data directory. fresh reports an index that must be rebuilt from the database.
func openSearch(ctx context.Context, s *settings, log *slog.Logger) (eng catalog.Engine, fresh bool, err error) {
	if s.MeiliURL != "" {
		m, err := meili.New(meili.Options{URL: s.MeiliURL, APIKey: s.MeiliKey})
		if err != nil {
			return nil, false, err
		}
		if err := m.EnsureIndex(ctx); err != nil {
			m.Close()
			return nil, false, fmt.Errorf("Meilisearch at %s: %w", s.MeiliURL, err)
		}
		return m, false, nil
	}
	b, err := bleve.Open(filepath.Join(s.Data, "search"), bleve.Options{Logger: log})
	if err != nil {
		return nil, false, err
	}
	if err := b.EnsureIndex(ctx); err != nil {
		b.Close()
		return nil, false, err
	}
	return b, b.Fresh(), nil
}

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
	s, err := parseFlags("reindex", env, args, nil)
	if err != nil {
		return err
	}
	log := s.logger(env.stderr)
	db, err := openStore(ctx, s, log)
	if err != nil {
		return err
	}
	defer db.Close()
	eng, _, err := openSearch(ctx, s, log)
	if err != nil {
		return err
	}
	defer eng.Close()
	m := market.New(db, market.Options{Logger: log})
	start := time.Now()
	st, err := reindex(ctx, m, eng, env.stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "search index rebuilt: %d documents indexed, %d stale ones removed, in %s\n", st.Indexed, st.Removed, time.Since(start).Round(time.Millisecond))
	return nil
}
