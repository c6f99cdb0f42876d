package catalog

import (
	"context"
	crand "crypto/rand"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
)

//go:embed schema
var schemaFS embed.FS

// SchemaFS returns the catalog's tables (the outbox) as versioned migrations, one directory per
// dialect ("sqlite", "postgres") of NNNN_name.sql files, for market/store.Source{Name:
// "catalog", FS: catalog.SchemaFS()}.
func SchemaFS() fs.FS {
	sub, err := fs.Sub(schemaFS, "schema")
	if err != nil {
		panic(err)
	}
	return sub
}

// Op is what a change does to the index.
type Op string

const (
	OpUpsert Op = "upsert"
	OpDelete Op = "delete"
)

// Change is one entry of the outbox: a document to add or replace, or an ID to remove.
type Change struct {
	Op       Op
	ID       string
	Document Document // for OpUpsert
}

// Upserted is the change that puts d into the index.
func Upserted(d Document) Change { return Change{Op: OpUpsert, ID: d.ID, Document: d} }

// Deleted is the change that removes a document (taken down, unpublished, deleted).
func Deleted(id string) Change { return Change{Op: OpDelete, ID: id} }

// Enqueue writes changes to the outbox inside the caller's transaction tx, so that they commit
// or roll back with the business change. Call it after writing the resource's own rows, so that
// two transactions changing one resource commit their outbox rows in order. The outbox worker
// applies them to the engine.
func Enqueue(ctx context.Context, tx *gorm.DB, changes ...Change) error {
	if len(changes) == 0 {
		return nil
	}
	now := time.Now().UnixMicro()
	var sql strings.Builder
	sql.WriteString("INSERT INTO catalog_outbox (doc_id, op, payload, created_us) VALUES ")
	args := make([]any, 0, 4*len(changes))
	for i, c := range changes {
		var payload *string
		switch c.Op {
		case OpUpsert:
			if c.ID != c.Document.ID {
				return ValidationError{{Field: "id", Value: c.ID, Reason: "change ID differs from the document's ID " + c.Document.ID}}
			}
			if err := c.Document.Validate(); err != nil {
				return err
			}
			b, err := json.Marshal(c.Document)
			if err != nil {
				return err
			}
			s := string(b)
			payload = &s
		case OpDelete:
			if c.ID == "" {
				return ValidationError{{Field: "id", Reason: "required"}}
			}
		default:
			return ValidationError{{Field: "op", Value: string(c.Op), Reason: "unknown change", Allowed: []string{string(OpUpsert), string(OpDelete)}}}
		}
		if i > 0 {
			sql.WriteString(", ")
		}
		sql.WriteString("(?, ?, ?, ?)")
		args = append(args, c.ID, string(c.Op), payload, now)
	}
	if err := tx.WithContext(ctx).Exec(sql.String(), args...).Error; err != nil {
		return fmt.Errorf("catalog outbox: enqueue: %w", err)
	}
	return nil
}

// WorkerOptions configure a Worker; zero values select the defaults.
type WorkerOptions struct {
	BatchSize    int           // changes per engine call (default 200)
	PollInterval time.Duration // how often an idle worker looks for changes (default 200ms)
	Lease        time.Duration // how long a claim holds before another worker may retry it (default 30s)
	MinBackoff   time.Duration // first wait after a failure (default 100ms)
	MaxBackoff   time.Duration // longest wait between retries (default 30s)
	// MaxAttempts: a single change that the engine rejects this many times with an error that is
	// not ErrUnavailable is set aside as dead (kept in the table, counted in Stats.Dead) so that
	// it cannot block the changes behind it. Default 10.
	MaxAttempts int
	Logger      *slog.Logger
	Now         func() time.Time
}

// Worker drains the outbox into an engine: at least once (a change is deleted only after the
// engine has it and Wait returned), idempotently (upserts carry the whole document), resuming
// after a restart (the table is the queue), in batches, backing off exponentially while the
// engine fails. Several workers may drain one database: rows are claimed with a lease, with FOR
// UPDATE SKIP LOCKED on PostgreSQL, and a change is only claimed when no earlier change of the
// same document is pending, so the changes of one document are applied in order.
type Worker struct {
	db     *gorm.DB
	engine Engine
	opts   WorkerOptions
	id     string
	pg     bool
	wake   chan struct{}

	mu    sync.Mutex
	stats Stats
	// isolate counts the coming claims that take one change at a time, after a batch failed for
	// a reason other than unavailability, so that one bad change is found and set aside.
	isolate int
}

// Stats describe a worker and the queue it drains.
type Stats struct {
	Pending       int64         // changes waiting (not dead)
	Dead          int64         // changes set aside after MaxAttempts rejections
	Lag           time.Duration // age of the oldest pending change; 0 when the queue is empty
	Processed     uint64        // changes applied by this worker
	Batches       uint64        // engine calls that succeeded
	Failures      uint64        // engine calls that failed
	Consecutive   int           // failures since the last success
	LastError     string
	LastErrorAt   time.Time
	LastSuccessAt time.Time
}

// NewWorker returns a worker that applies the outbox of db to engine.
func NewWorker(db *gorm.DB, engine Engine, opts WorkerOptions) *Worker {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 200
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 200 * time.Millisecond
	}
	if opts.Lease <= 0 {
		opts.Lease = 30 * time.Second
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 100 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 30 * time.Second
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 10
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	var b [8]byte
	crand.Read(b[:])
	return &Worker{db: db, engine: engine, opts: opts, id: hex.EncodeToString(b[:]),
		pg: db.Dialector.Name() == "postgres", wake: make(chan struct{}, 1)}
}

// Notify wakes an idle worker, e.g. right after a transaction that enqueued changes committed.
// It never blocks.
func (w *Worker) Notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run drains the outbox until ctx is cancelled, then returns nil.
func (w *Worker) Run(ctx context.Context) error {
	return pacing{poll: w.opts.PollInterval, minBackoff: w.opts.MinBackoff, maxBackoff: w.opts.MaxBackoff, wake: w.wake,
		failed: func(ctx context.Context, err error, wait time.Duration) {
			w.opts.Logger.WarnContext(ctx, "catalog outbox: engine call failed; retrying", "err", err, "retry_in", wait)
		}}.run(ctx, w.Step)
}

// Drain applies pending changes until none is left and returns how many it applied; it stops at
// the first failure. For tests, start-up catch-up and the CLI.
func (w *Worker) Drain(ctx context.Context) (int, error) { return drain(ctx, w.Step) }

type outboxRow struct {
	Seq      int64
	DocID    string
	Op       string
	Payload  *string
	Attempts int
}

// Step claims one batch, applies it and reports how many changes it applied (0 when the queue is
// empty or every pending change is claimed by another worker).
func (w *Worker) Step(ctx context.Context) (int, error) {
	limit := w.opts.BatchSize
	w.mu.Lock()
	if w.isolate > 0 {
		limit = 1
		w.isolate--
	}
	w.mu.Unlock()
	rows, err := w.claim(ctx, limit)
	if err != nil {
		return 0, err
	}
	if len(rows) == 0 {
		return 0, nil
	}
	seqs := make([]int64, len(rows))
	var docs []Document
	var ids []string
	var bad []int64
	for i, r := range rows {
		seqs[i] = r.Seq
		switch Op(r.Op) {
		case OpUpsert:
			var d Document
			if r.Payload == nil || json.Unmarshal([]byte(*r.Payload), &d) != nil {
				bad = append(bad, r.Seq)
				continue
			}
			docs = append(docs, d)
		case OpDelete:
			ids = append(ids, r.DocID)
		default:
			bad = append(bad, r.Seq)
		}
	}
	if len(bad) > 0 {
		// unreadable rows cannot become readable: set them aside at once
		if err := w.bury(ctx, bad, "unreadable outbox row"); err != nil {
			return 0, err
		}
	}
	actx, cancel := context.WithTimeout(ctx, w.opts.Lease/2)
	err = applyChanges(actx, w.engine, docs, ids)
	cancel()
	if err != nil {
		w.failed(ctx, rows, err)
		return 0, err
	}
	if err := w.db.WithContext(ctx).Exec("DELETE FROM catalog_outbox WHERE seq IN ? AND claimed_by = ?", seqs, w.id).Error; err != nil {
		// the engine has the changes; they will be applied once more after the lease: harmless
		return 0, fmt.Errorf("catalog outbox: delete applied rows: %w", err)
	}
	w.mu.Lock()
	w.stats.Processed += uint64(len(rows) - len(bad))
	w.stats.Batches++
	w.stats.Consecutive = 0
	w.stats.LastSuccessAt = w.opts.Now()
	w.mu.Unlock()
	return len(rows), nil
}

func (w *Worker) claim(ctx context.Context, limit int) ([]outboxRow, error) {
	now := w.opts.Now().UnixMicro()
	lock := ""
	if w.pg {
		lock = " FOR UPDATE OF o SKIP LOCKED"
	}
	sql := `UPDATE catalog_outbox SET claimed_by = ?, claimed_until_us = ?
WHERE seq IN (
  SELECT o.seq FROM catalog_outbox o
  WHERE o.dead_us IS NULL
    AND (o.claimed_until_us IS NULL OR o.claimed_until_us < ?)
    AND NOT EXISTS (SELECT 1 FROM catalog_outbox p
                    WHERE p.doc_id = o.doc_id AND p.seq < o.seq AND p.dead_us IS NULL)
  ORDER BY o.seq
  LIMIT ?` + lock + `)
RETURNING seq, doc_id, op, payload, attempts`
	var rows []outboxRow
	err := w.db.WithContext(ctx).Raw(sql, w.id, now+w.opts.Lease.Microseconds(), now, limit).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("catalog outbox: claim: %w", err)
	}
	slices.SortFunc(rows, func(a, b outboxRow) int { return int(a.Seq - b.Seq) })
	return rows, nil
}

func (w *Worker) failed(ctx context.Context, rows []outboxRow, cause error) {
	msg := cause.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	w.mu.Lock()
	w.stats.Failures++
	w.stats.Consecutive++
	w.stats.LastError = msg
	w.stats.LastErrorAt = w.opts.Now()
	unavailable := errors.Is(cause, ErrUnavailable) || errors.Is(cause, context.DeadlineExceeded)
	if !unavailable && len(rows) > 1 {
		w.isolate = len(rows)
	}
	w.mu.Unlock()
	// release the claim at once so that the retry does not wait for the lease
	seqs := make([]int64, len(rows))
	for i, r := range rows {
		seqs[i] = r.Seq
	}
	db := w.db.WithContext(context.WithoutCancel(ctx))
	if !unavailable && len(rows) == 1 && rows[0].Attempts+1 >= w.opts.MaxAttempts {
		w.opts.Logger.ErrorContext(ctx, "catalog outbox: change set aside after repeated rejection",
			"doc_id", rows[0].DocID, "seq", rows[0].Seq, "err", cause)
		w.bury(context.WithoutCancel(ctx), seqs, msg)
		return
	}
	inc := 1
	if unavailable {
		inc = 0 // an engine that is down says nothing about the change
	}
	db.Exec(`UPDATE catalog_outbox SET claimed_by = NULL, claimed_until_us = NULL,
attempts = attempts + ?, last_error = ? WHERE seq IN ? AND claimed_by = ?`, inc, msg, seqs, w.id)
}

func (w *Worker) bury(ctx context.Context, seqs []int64, msg string) error {
	err := w.db.WithContext(ctx).Exec(`UPDATE catalog_outbox SET dead_us = ?, last_error = ?, claimed_by = NULL,
claimed_until_us = NULL, attempts = attempts + 1 WHERE seq IN ?`, w.opts.Now().UnixMicro(), msg, seqs).Error
	if err != nil {
		return fmt.Errorf("catalog outbox: set aside: %w", err)
	}
	return nil
}

// Stats returns the worker's counters and the state of the queue.
func (w *Worker) Stats(ctx context.Context) (Stats, error) {
	var agg struct {
		Pending int64
		Dead    int64
		Oldest  *int64
	}
	err := w.db.WithContext(ctx).Raw(`SELECT
  COUNT(CASE WHEN dead_us IS NULL THEN 1 END) AS pending,
  COUNT(dead_us) AS dead,
  MIN(CASE WHEN dead_us IS NULL THEN created_us END) AS oldest
FROM catalog_outbox`).Scan(&agg).Error
	w.mu.Lock()
	s := w.stats
	w.mu.Unlock()
	if err != nil {
		return s, fmt.Errorf("catalog outbox: stats: %w", err)
	}
	s.Pending, s.Dead = agg.Pending, agg.Dead
	if agg.Oldest != nil {
		s.Lag = max(0, w.opts.Now().Sub(time.UnixMicro(*agg.Oldest)))
	}
	return s, nil
}

// Lag is the age of the oldest pending change (0 when the index is up to date): the metric to
// export and alert on.
func (w *Worker) Lag(ctx context.Context) (time.Duration, error) {
	s, err := w.Stats(ctx)
	return s.Lag, err
}
