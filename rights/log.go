package rights

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/tlog"
	"gorm.io/gorm"
)

// Defaults of Config. The batch bounds come from DESIGN.md: ≤ 256 entries per batch and ≤ 250 ms
// from commit to integration; a checkpoint follows within a second.
const (
	DefaultBatchSize          = 256
	DefaultPollInterval       = 50 * time.Millisecond
	DefaultCheckpointInterval = 250 * time.Millisecond
	// DefaultOrigin is the checkpoint origin line when the operator sets none.
	DefaultOrigin = "ziyuan.local/ledger"
)

// Config configures a Log. DB and Key are required.
type Config struct {
	// DB is the database holding the schema of SchemaFS (SQLite or PostgreSQL).
	DB *gorm.DB
	// Key signs checkpoints; its name is the log's origin.
	Key *Key
	// CheckpointFile keeps a copy of the latest signed checkpoint outside the database, so that
	// a restored old backup is noticed at start (see CheckRollback). Production sets it to a
	// file in the data directory; empty disables the check, which only tests should do.
	CheckpointFile string
	// Now is the clock; nil means time.Now. Tests inject a fixed one.
	Now func() time.Time
	// Logger receives the sequencer's and publisher's transient errors; nil discards them.
	Logger *slog.Logger
	// BatchSize bounds a sequencer batch (default 256).
	BatchSize int
	// PollInterval is how often an idle sequencer looks for committed entries (default 50 ms).
	// Enqueue also wakes it, but the caller's transaction commits after Enqueue returns, so
	// polling is what bounds the delay.
	PollInterval time.Duration
	// CheckpointInterval is the publisher's pace (default 250 ms).
	CheckpointInterval time.Duration
	// LeaseDuration is how long the leader's lease lasts unrenewed (default
	// DefaultLeaseDuration); tests shorten it.
	LeaseDuration time.Duration
	// Holder names this process in the lease row; default host/pid/random.
	Holder string
}

// Log is the ledger: an append-only Merkle log in the database, its sequencer and checkpoint
// publisher, and the reads (entries, proofs, tiles, receipts) served from it. A Log is safe for
// concurrent use. Run exactly one Run per process; of several processes sharing a database,
// the one holding the lease (leader.go) integrates and signs.
type Log struct {
	db       *gorm.DB
	postgres bool
	key      *Key
	file     string
	now      func() time.Time
	logger   *slog.Logger

	batchSize          int
	pollInterval       time.Duration
	checkpointInterval time.Duration

	wake chan struct{}

	mu      sync.Mutex
	changed chan struct{} // closed and replaced whenever the tree grows

	// The sequencer's memory of the tree's right edge (see integrate); guarded by seqMu, which
	// also keeps two Integrate calls of one process from interleaving.
	seqMu        sync.Mutex
	frontierSize int64
	frontier     map[int64]tlog.Hash

	pubMu sync.Mutex // one Publish at a time

	holder  string
	lease   time.Duration
	leaseMu sync.Mutex
	elected bool  // Run has started: writes are fenced by the lease
	epoch   int64 // the lease held now; 0 while standing by
	// validUntil is when the lease ends at the latest by this process's clock.
	validUntil time.Time
}

// Open returns the Log on cfg.DB after checking that the database has not been rolled back
// behind the checkpoint kept in cfg.CheckpointFile (a *RollbackError says why it refuses).
func Open(ctx context.Context, cfg Config) (*Log, error) {
	if cfg.DB == nil {
		return nil, errors.New("rights: Config.DB is nil")
	}
	if cfg.Key == nil {
		return nil, errors.New("rights: Config.Key is nil: the ledger needs its signing key")
	}
	l := &Log{
		db:                 cfg.DB,
		postgres:           cfg.DB.Dialector.Name() == "postgres",
		key:                cfg.Key,
		file:               cfg.CheckpointFile,
		now:                cfg.Now,
		logger:             cfg.Logger,
		batchSize:          cfg.BatchSize,
		pollInterval:       cfg.PollInterval,
		checkpointInterval: cfg.CheckpointInterval,
		wake:               make(chan struct{}, 1),
		changed:            make(chan struct{}),
		frontierSize:       -1,
		holder:             cfg.Holder,
		lease:              cfg.LeaseDuration,
	}
	if l.holder == "" {
		l.holder = newHolder()
	}
	if l.lease <= 0 {
		l.lease = DefaultLeaseDuration
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.logger == nil {
		l.logger = slog.New(slog.DiscardHandler)
	}
	if l.batchSize <= 0 {
		l.batchSize = DefaultBatchSize
	}
	if l.pollInterval <= 0 {
		l.pollInterval = DefaultPollInterval
	}
	if l.checkpointInterval <= 0 {
		l.checkpointInterval = DefaultCheckpointInterval
	}
	if l.file != "" {
		if err := CheckRollback(ctx, cfg.DB, l.file, cfg.Key.VerifierKey()); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// Origin is the checkpoint origin line (the signing key's name).
func (l *Log) Origin() string { return l.key.Name() }

// VerifierKey is the public note verifier key, "name+hash+base64key", served at /ledger/key.
func (l *Log) VerifierKey() string { return l.key.VerifierKey() }

// Queued describes an enqueued entry.
type Queued struct {
	Key string
	// Seq is the row's position in the queue; it orders integration but is not the index.
	Seq int64
	// Index is the entry's ledger index, or -1 while the entry waits for the sequencer.
	Index int64
	// Existing reports that the key was already queued, so this call changed nothing.
	Existing bool
}

// Integrated reports whether the entry has its ledger index.
func (q Queued) Integrated() bool { return q.Index >= 0 }

// maxKeyLen bounds dedupe keys; they are business keys such as "license.granted:<uuid>".
const maxKeyLen = 200

// Enqueue queues e for the ledger inside the caller's transaction tx, so that the business
// change and its ledger entry commit or roll back together (the outbox pattern). key makes the
// call idempotent: a second Enqueue with the same key changes nothing — even if the entry
// differs, e.g. in its time — and returns the first one's Queued with Existing set. A zero
// e.Time is filled from the log's clock. Parents must already be integrated, with matching
// leaf hashes.
func (l *Log) Enqueue(ctx context.Context, tx *gorm.DB, e Entry, key string) (Queued, error) {
	if key == "" || len(key) > maxKeyLen || !utf8.ValidString(key) || strings.ContainsFunc(key, isControl) {
		return Queued{}, fmt.Errorf("%w: dedupe key must be 1 to %d printable bytes", ErrInvalid, maxKeyLen)
	}
	if e.Time.IsZero() {
		e.Time = l.now()
	}
	data, err := Encode(e)
	if err != nil {
		return Queued{}, err
	}
	tx = tx.WithContext(ctx)
	if err := checkParents(tx, e.Parents); err != nil {
		return Queued{}, err
	}
	var seqs []int64
	err = tx.Raw(`INSERT INTO ledger_entries (dedupe_key, data, queued_at) VALUES (?, ?, ?)
		ON CONFLICT (dedupe_key) DO NOTHING RETURNING seq`, key, data, l.now().UTC()).Scan(&seqs).Error
	if err != nil {
		return Queued{}, fmt.Errorf("enqueue ledger entry: %w", err)
	}
	if len(seqs) == 1 {
		select {
		case l.wake <- struct{}{}:
		default:
		}
		return Queued{Key: key, Seq: seqs[0], Index: -1}, nil
	}
	q, err := lookup(tx, key)
	if err != nil {
		return Queued{}, fmt.Errorf("enqueue ledger entry: key %q conflicted but cannot be read: %w", key, err)
	}
	q.Existing = true
	return q, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func checkParents(tx *gorm.DB, parents []Parent) error {
	if len(parents) == 0 {
		return nil
	}
	ids := make([]int64, len(parents))
	for i, p := range parents {
		ids[i] = tlog.StoredHashIndex(0, p.Index)
	}
	got, err := readHashMap(tx, ids)
	if err != nil {
		return err
	}
	for _, p := range parents {
		h, ok := got[tlog.StoredHashIndex(0, p.Index)]
		if !ok {
			return fmt.Errorf("%w: parent entry %d is not in the ledger (yet)", ErrInvalid, p.Index)
		}
		if h != p.LeafHash {
			return fmt.Errorf("%w: parent entry %d has leaf hash %s, not %s", ErrInvalid, p.Index, h, p.LeafHash)
		}
	}
	return nil
}

// Lookup returns the state of the entry queued under key, or ErrNotFound.
func (l *Log) Lookup(ctx context.Context, key string) (Queued, error) {
	return lookup(l.db.WithContext(ctx), key)
}

func lookup(db *gorm.DB, key string) (Queued, error) {
	var rows []struct {
		Seq int64
		Idx *int64
	}
	if err := db.Raw(`SELECT seq, idx FROM ledger_entries WHERE dedupe_key = ?`, key).Scan(&rows).Error; err != nil {
		return Queued{}, err
	}
	if len(rows) == 0 {
		return Queued{}, fmt.Errorf("%w: no ledger entry with key %q", ErrNotFound, key)
	}
	q := Queued{Key: key, Seq: rows[0].Seq, Index: -1}
	if rows[0].Idx != nil {
		q.Index = *rows[0].Idx
	}
	return q, nil
}

// IndexOf returns the ledger index of the entry queued under key: ErrPending while it waits
// for the sequencer, ErrNotFound when no such key was committed.
func (l *Log) IndexOf(ctx context.Context, key string) (int64, error) {
	q, err := l.Lookup(ctx, key)
	if err != nil {
		return -1, err
	}
	if !q.Integrated() {
		return -1, fmt.Errorf("%w: entry %q is queued", ErrPending, key)
	}
	return q.Index, nil
}

// WaitIndexed blocks until the entry queued under key is integrated and returns its index.
// It wakes on this process's sequencer and also polls, for sequencers in other processes.
func (l *Log) WaitIndexed(ctx context.Context, key string) (int64, error) {
	for {
		ch := l.changedChan()
		idx, err := l.IndexOf(ctx, key)
		if !errors.Is(err, ErrPending) && !errors.Is(err, ErrNotFound) {
			return idx, err
		}
		t := time.NewTimer(l.pollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return -1, ctx.Err()
		case <-ch:
			t.Stop()
		case <-t.C:
		}
	}
}

func (l *Log) changedChan() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.changed
}

func (l *Log) notifyChanged() {
	l.mu.Lock()
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
}

// TreeState is the integrated tree: its size and root hash.
type TreeState struct {
	Size int64
	Root tlog.Hash
}

// Tree returns the integrated tree, which may be ahead of the latest checkpoint.
func (l *Log) Tree(ctx context.Context) (TreeState, error) {
	return readTree(l.db.WithContext(ctx), false)
}

func readTree(db *gorm.DB, forUpdate bool) (TreeState, error) {
	q := `SELECT size, root FROM ledger_tree WHERE id = 1`
	if forUpdate {
		q += ` FOR UPDATE`
	}
	var rows []struct {
		Size int64
		Root []byte
	}
	if err := db.Raw(q).Scan(&rows).Error; err != nil {
		return TreeState{}, fmt.Errorf("read ledger tree state: %w", err)
	}
	if len(rows) != 1 || len(rows[0].Root) != tlog.HashSize {
		return TreeState{}, fmt.Errorf("%w: the ledger_tree row is missing or malformed", ErrInconsistent)
	}
	var st TreeState
	st.Size = rows[0].Size
	copy(st.Root[:], rows[0].Root)
	return st, nil
}

// hashReader reads stored hashes from the database. Stored hashes are written once and never
// change, so reads need no snapshot beyond "indexes within a committed tree".
type hashReader struct{ db *gorm.DB }

func (r hashReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	got, err := readHashMap(r.db, indexes)
	if err != nil {
		return nil, err
	}
	out := make([]tlog.Hash, len(indexes))
	for i, id := range indexes {
		h, ok := got[id]
		if !ok {
			level, n := tlog.SplitStoredHashIndex(id)
			return nil, fmt.Errorf("%w: stored hash %d (level %d, node %d) is missing", ErrInconsistent, id, level, n)
		}
		out[i] = h
	}
	return out, nil
}

func readHashMap(db *gorm.DB, ids []int64) (map[int64]tlog.Hash, error) {
	out := make(map[int64]tlog.Hash, len(ids))
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 1000)]
		ids = ids[len(chunk):]
		var rows []struct {
			ID   int64
			Hash []byte
		}
		if err := db.Raw(`SELECT id, hash FROM ledger_hashes WHERE id IN ?`, chunk).Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("read ledger hashes: %w", err)
		}
		for _, r := range rows {
			if len(r.Hash) != tlog.HashSize {
				return nil, fmt.Errorf("%w: stored hash %d has %d bytes", ErrInconsistent, r.ID, len(r.Hash))
			}
			var h tlog.Hash
			copy(h[:], r.Hash)
			out[r.ID] = h
		}
	}
	return out, nil
}

// Entry returns the integrated entry at index with its exact bytes and leaf hash.
func (l *Log) Entry(ctx context.Context, index int64) (EntryView, error) {
	db := l.db.WithContext(ctx)
	if index < 0 {
		return EntryView{}, fmt.Errorf("%w: negative index", ErrInvalid)
	}
	var rows []struct{ Data []byte }
	if err := db.Raw(`SELECT data FROM ledger_entries WHERE idx = ?`, index).Scan(&rows).Error; err != nil {
		return EntryView{}, fmt.Errorf("read ledger entry: %w", err)
	}
	if len(rows) == 0 {
		return EntryView{}, fmt.Errorf("%w: no ledger entry %d", ErrNotFound, index)
	}
	hs, err := hashReader{db}.ReadHashes([]int64{tlog.StoredHashIndex(0, index)})
	if err != nil {
		return EntryView{}, err
	}
	data := rows[0].Data
	if tlog.RecordHash(data) != hs[0] {
		return EntryView{}, fmt.Errorf("%w: entry %d's bytes do not match its stored leaf hash (run fsck)", ErrInconsistent, index)
	}
	e, err := Decode(data)
	if err != nil {
		return EntryView{}, fmt.Errorf("%w: stored entry %d does not decode: %v", ErrInconsistent, index, err)
	}
	return EntryView{Index: index, LeafHash: hs[0], Entry: e, Data: data}, nil
}
