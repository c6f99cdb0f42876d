package catalog

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
)

// FeedPosition is how far an index has followed the catalog feed: the follower's name and the
// last position applied. The zero value is an index that never followed it.
type FeedPosition struct {
	Follower string
	Pos      int64
}

// Positioned is an engine that keeps its FeedPosition with its own data, so that an index and
// the position it describes are kept or lost together: a deleted index directory takes its
// position with it and is rebuilt, instead of resuming from a position it no longer reflects.
type Positioned interface {
	Engine
	FeedPosition(ctx context.Context) (FeedPosition, error)
	SetFeedPosition(ctx context.Context, p FeedPosition) error
}

// FollowerOptions configure a Follower; zero values select the defaults.
type FollowerOptions struct {
	BatchSize    int           // changes read per step (default 500)
	PollInterval time.Duration // how often an idle follower looks for changes (default 200 ms)
	MinBackoff   time.Duration // first wait after a failure (default 100 ms)
	MaxBackoff   time.Duration // longest wait between retries (default 30 s)
	// Retain: a follower not seen for this long no longer holds changes back from pruning; if it
	// returns, it rebuilds its index. Default 24 h.
	Retain time.Duration
	// Heartbeat: how often an idle follower reports itself (default 30 s); pruning runs as often.
	Heartbeat time.Duration
	// Rebuild fills the engine from the source of truth (Reindex over the database). Start and
	// Rebuild call it for a new index and for one that fell behind the retained feed.
	Rebuild func(ctx context.Context) error
	Logger  *slog.Logger
	Now     func() time.Time
}

// Follower keeps one instance's own index up to date with every change of the catalog. The
// Worker hands each change to one worker, which suits an engine that all instances share
// (Meilisearch); an embedded index lives in each instance's data directory and needs every
// change. Followers give committed outbox rows dense positions under a lock (so positions follow
// commit order and no reader ever skips a row that commits late), read the feed from their
// index's position, apply it, and store the new position in the index. Applying is idempotent
// (upserts carry whole documents), so a crash between applying and storing the position only
// repeats work.
type Follower struct {
	db     *gorm.DB
	engine Positioned
	opts   FollowerOptions
	pg     bool
	wake   chan struct{}

	mu       sync.Mutex
	pos      FeedPosition
	started  bool
	lastBeat time.Time
	reported int64 // the position last reported, -1 before the first report
	stats    FollowerStats
}

// FollowerStats describe a follower.
type FollowerStats struct {
	Position  int64         // last position applied
	Behind    int64         // positioned changes not yet applied, plus those awaiting a position
	Lag       time.Duration // age of the oldest change not yet applied; 0 when up to date
	Processed uint64        // changes applied since start
	Failures  uint64        // engine calls that failed
	LastError string
}

// NewFollower returns a follower that applies the feed of db to engine.
func NewFollower(db *gorm.DB, engine Positioned, opts FollowerOptions) *Follower {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 500
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 200 * time.Millisecond
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 100 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 30 * time.Second
	}
	if opts.Retain <= 0 {
		opts.Retain = 24 * time.Hour
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Follower{db: db, engine: engine, opts: opts, pg: db.Dialector.Name() == "postgres", wake: make(chan struct{}, 1), reported: -1}
}

// Notify wakes an idle follower, e.g. right after a transaction that enqueued changes
// committed on this instance. It never blocks.
func (f *Follower) Notify() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// Start resumes from the index's position, or rebuilds the index when it has none (new or
// wiped) or has fallen behind the retained feed. It reports whether it rebuilt.
func (f *Follower) Start(ctx context.Context) (rebuilt bool, err error) {
	p, err := f.engine.FeedPosition(ctx)
	if err != nil {
		return false, fmt.Errorf("catalog feed: read the index's position: %w", err)
	}
	if p.Follower != "" {
		// Register and compare with the pruning horizon under the feed's lock, so that no
		// pruning can slip between the check and the registration.
		var pruned int64
		err := f.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			st, err := f.lockFeed(tx)
			if err != nil {
				return err
			}
			if pruned = st.PrunedThrough; p.Pos < pruned {
				return nil
			}
			return f.report(ctx, tx, p)
		})
		if err != nil {
			return false, fmt.Errorf("catalog feed: %w", err)
		}
		if p.Pos >= pruned {
			f.mu.Lock()
			f.pos, f.started, f.reported = p, true, p.Pos
			f.mu.Unlock()
			return false, nil
		}
		f.opts.Logger.WarnContext(ctx, "catalog feed: the index is behind the retained changes; rebuilding it",
			"position", p.Pos, "pruned_through", pruned)
	}
	return true, f.Rebuild(ctx)
}

// Rebuild refills the index from the source of truth and resumes the feed where the rebuild
// began: it records the follower at the feed's head (so that nothing it needs is pruned
// meanwhile), rebuilds, and stores the head as the index's position. Changes without a position
// yet get later ones and are applied after the rebuild, so none is lost; ones the rebuild
// already saw are applied again, which is harmless.
func (f *Follower) Rebuild(ctx context.Context) error {
	if f.opts.Rebuild == nil {
		return errors.New("catalog feed: the index needs a rebuild but no Rebuild function is set")
	}
	p, err := f.engine.FeedPosition(ctx)
	if err != nil {
		return err
	}
	if p.Follower == "" {
		var b [8]byte
		crand.Read(b[:])
		p.Follower = hex.EncodeToString(b[:])
	}
	// Take the head and register there under the feed's lock: no positions are being given
	// out meanwhile (so everything up to the head has committed, and the rebuild will see it)
	// and no pruning can pass the head before this follower holds it back.
	err = f.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		st, err := f.lockFeed(tx)
		if err != nil {
			return err
		}
		p.Pos = st.LastPos
		return f.report(ctx, tx, p)
	})
	if err != nil {
		return fmt.Errorf("catalog feed: register: %w", err)
	}
	if err := f.opts.Rebuild(ctx); err != nil {
		return fmt.Errorf("catalog feed: rebuild the index: %w", err)
	}
	if err := f.engine.SetFeedPosition(ctx, p); err != nil {
		return fmt.Errorf("catalog feed: store the index's position: %w", err)
	}
	f.mu.Lock()
	f.pos, f.started = p, true
	f.mu.Unlock()
	return nil
}

// Run follows the feed until ctx ends, then returns nil. Call Start first.
func (f *Follower) Run(ctx context.Context) error {
	return pacing{poll: f.opts.PollInterval, minBackoff: f.opts.MinBackoff, maxBackoff: f.opts.MaxBackoff, wake: f.wake,
		failed: func(ctx context.Context, err error, wait time.Duration) {
			f.opts.Logger.WarnContext(ctx, "catalog feed: step failed; retrying", "err", err, "retry_in", wait)
		}}.run(ctx, f.Step)
}

// Drain applies the feed until it is caught up and returns how many changes it applied.
func (f *Follower) Drain(ctx context.Context) (int, error) { return drain(ctx, f.Step) }

type feedRow struct {
	Pos     int64
	DocID   string
	Op      string
	Payload *string
}

// Step gives waiting changes their positions, applies up to one batch past the index's
// position, and stores the new position. It returns how many changes it applied.
func (f *Follower) Step(ctx context.Context) (int, error) {
	f.mu.Lock()
	p, started := f.pos, f.started
	f.mu.Unlock()
	if !started {
		return 0, errors.New("catalog feed: Step before Start")
	}
	if _, err := f.assign(ctx, 1000); err != nil {
		return 0, err
	}
	var rows []feedRow
	if err := f.db.WithContext(ctx).Raw(`SELECT pos, doc_id, op, payload FROM catalog_outbox
WHERE pos > ? ORDER BY pos LIMIT ?`, p.Pos, f.opts.BatchSize).Scan(&rows).Error; err != nil {
		return 0, fmt.Errorf("catalog feed: read: %w", err)
	}
	if len(rows) == 0 {
		return 0, f.beat(ctx, false)
	}
	docs, ids := latestPerDocument(rows, f.opts.Logger)
	if err := applyChanges(ctx, f.engine, docs, ids); err != nil {
		f.mu.Lock()
		f.stats.Failures++
		f.stats.LastError = err.Error()
		f.mu.Unlock()
		return 0, err
	}
	p.Pos = rows[len(rows)-1].Pos
	if err := f.engine.SetFeedPosition(ctx, p); err != nil {
		return 0, fmt.Errorf("catalog feed: store the index's position: %w", err)
	}
	f.mu.Lock()
	f.pos = p
	f.stats.Processed += uint64(len(rows))
	f.mu.Unlock()
	return len(rows), f.beat(ctx, false)
}

// latestPerDocument keeps the last change of each document in a batch: every change carries the
// document's whole state, so the last one is the document's state after the batch, and applying
// only it keeps each document's changes in order even though upserts and deletes go to the
// engine in two calls. A row that cannot be read is logged and skipped: it cannot become
// readable, and holding the feed back for it would stop every index.
func latestPerDocument(rows []feedRow, log *slog.Logger) ([]Document, []string) {
	last := make(map[string]int, len(rows))
	for i, r := range rows {
		last[r.DocID] = i
	}
	var docs []Document
	var ids []string
	for i, r := range rows {
		if last[r.DocID] != i {
			continue
		}
		switch Op(r.Op) {
		case OpUpsert:
			var d Document
			if r.Payload == nil || json.Unmarshal([]byte(*r.Payload), &d) != nil {
				log.Error("catalog feed: unreadable change skipped", "pos", r.Pos, "doc_id", r.DocID)
				continue
			}
			docs = append(docs, d)
		case OpDelete:
			ids = append(ids, r.DocID)
		default:
			log.Error("catalog feed: unknown change skipped", "pos", r.Pos, "doc_id", r.DocID, "op", r.Op)
		}
	}
	return docs, ids
}

// assign gives up to limit committed changes without a position the next positions, in the
// order of their sequence numbers, and returns how many. The lock on catalog_feed makes
// assigners take turns, so the positions of one call are all visible before a later call's
// positions exist: a reader at position P never misses a change that later gets a position
// below P. Changes of one document commit in order (their transactions lock the resource), so
// their positions are in order too.
func (f *Follower) assign(ctx context.Context, limit int) (int, error) {
	// Most polls find nothing to do: look before taking the lock (on SQLite, the write lock).
	var waiting []int64
	if err := f.db.WithContext(ctx).Raw(`SELECT seq FROM catalog_outbox WHERE pos IS NULL LIMIT 1`).Scan(&waiting).Error; err != nil {
		return 0, fmt.Errorf("catalog feed: %w", err)
	}
	if len(waiting) == 0 {
		return 0, nil
	}
	n := 0
	err := f.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		st, err := f.lockFeed(tx)
		if err != nil {
			return err
		}
		last := st.LastPos
		var seqs []int64
		if err := tx.Raw(`SELECT seq FROM catalog_outbox WHERE pos IS NULL ORDER BY seq LIMIT ?`, limit).Scan(&seqs).Error; err != nil {
			return err
		}
		if len(seqs) == 0 {
			return nil
		}
		const chunk = 400
		for start := 0; start < len(seqs); start += chunk {
			part := seqs[start:min(start+chunk, len(seqs))]
			var sql strings.Builder
			sql.WriteString("UPDATE catalog_outbox SET pos = CASE seq")
			args := make([]any, 0, 2*len(part)+1)
			for i, s := range part {
				sql.WriteString(" WHEN ? THEN CAST(? AS BIGINT)")
				args = append(args, s, last+int64(start+i+1))
			}
			sql.WriteString(" END WHERE seq IN ?")
			args = append(args, part)
			if err := tx.Exec(sql.String(), args...).Error; err != nil {
				return err
			}
		}
		n = len(seqs)
		return tx.Exec(`UPDATE catalog_feed SET last_pos = ? WHERE id = 1`, last+int64(n)).Error
	})
	if err != nil {
		return 0, fmt.Errorf("catalog feed: assign positions: %w", err)
	}
	return n, nil
}

type feedState struct {
	LastPos       int64
	PrunedThrough int64
}

// lockFeed reads the feed's state and holds it until tx ends: giving out positions,
// registering followers and pruning take turns on it (on SQLite, the transaction's write lock
// already does this).
func (f *Follower) lockFeed(tx *gorm.DB) (feedState, error) {
	q := `SELECT last_pos, pruned_through FROM catalog_feed WHERE id = 1`
	if f.pg {
		q += ` FOR UPDATE`
	}
	var st feedState
	if err := tx.Raw(q).Scan(&st).Error; err != nil {
		return st, err
	}
	return st, nil
}

// report records the follower's position for pruning.
func (f *Follower) report(ctx context.Context, db *gorm.DB, p FeedPosition) error {
	now := f.opts.Now().UnixMicro()
	err := db.WithContext(ctx).Exec(`INSERT INTO catalog_followers (name, pos, seen_us) VALUES (?, ?, ?)
ON CONFLICT (name) DO UPDATE SET pos = excluded.pos, seen_us = excluded.seen_us`, p.Follower, p.Pos, now).Error
	if err != nil {
		return fmt.Errorf("catalog feed: report position: %w", err)
	}
	return nil
}

// beat reports the position when it moved and, when idle, once per heartbeat; with the
// heartbeat it also prunes.
func (f *Follower) beat(ctx context.Context, force bool) error {
	f.mu.Lock()
	p, due := f.pos, force || f.opts.Now().Sub(f.lastBeat) >= f.opts.Heartbeat
	moved := p.Pos != f.reported
	if due {
		f.lastBeat = f.opts.Now()
	}
	f.mu.Unlock()
	if !due && !moved {
		return nil
	}
	if err := f.report(ctx, f.db, p); err != nil {
		return err
	}
	f.mu.Lock()
	f.reported = p.Pos
	f.mu.Unlock()
	if due {
		return f.Prune(ctx)
	}
	return nil
}

// Prune deletes the changes every live follower has applied and forgets followers not seen
// within Retain. Any follower may run it; it is idempotent.
func (f *Follower) Prune(ctx context.Context) error {
	cutoff := f.opts.Now().Add(-f.opts.Retain).UnixMicro()
	return f.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		st, err := f.lockFeed(tx)
		if err != nil {
			return err
		}
		pruned := st.PrunedThrough
		if err := tx.Exec(`DELETE FROM catalog_followers WHERE seen_us < ?`, cutoff).Error; err != nil {
			return err
		}
		var low *int64
		if err := tx.Raw(`SELECT MIN(pos) FROM catalog_followers`).Scan(&low).Error; err != nil {
			return err
		}
		if low == nil || *low <= pruned {
			return nil
		}
		if err := tx.Exec(`DELETE FROM catalog_outbox WHERE pos IS NOT NULL AND pos <= ?`, *low).Error; err != nil {
			return err
		}
		return tx.Exec(`UPDATE catalog_feed SET pruned_through = ? WHERE id = 1`, *low).Error
	})
}

// Stats returns the follower's counters and how far behind the feed it is.
func (f *Follower) Stats(ctx context.Context) (FollowerStats, error) {
	f.mu.Lock()
	s, p := f.stats, f.pos
	f.mu.Unlock()
	s.Position = p.Pos
	var agg struct {
		Behind int64
		Oldest *int64
	}
	err := f.db.WithContext(ctx).Raw(`SELECT COUNT(*) AS behind, MIN(created_us) AS oldest FROM catalog_outbox
WHERE pos > ? OR pos IS NULL`, p.Pos).Scan(&agg).Error
	if err != nil {
		return s, fmt.Errorf("catalog feed: stats: %w", err)
	}
	s.Behind = agg.Behind
	if agg.Oldest != nil {
		s.Lag = max(0, f.opts.Now().Sub(time.UnixMicro(*agg.Oldest)))
	}
	return s, nil
}

// Lag is the age of the oldest change this index has not applied: the metric to alert on.
func (f *Follower) Lag(ctx context.Context) (time.Duration, error) {
	s, err := f.Stats(ctx)
	return s.Lag, err
}
