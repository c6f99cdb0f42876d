package rights

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
	"gorm.io/gorm"
)

// Key is the ledger's Ed25519 signing key in golang.org/x/mod/sumdb/note form. Its name is the
// log's origin, as C2SP tlog-checkpoint recommends, so that a verifier key names the log it
// vouches for.
type Key struct {
	signer      note.Signer
	verifierKey string
}

// KeyFileName is the file LoadOrCreateKey keeps the private key in.
const KeyFileName = "ledger-signing.key"

// NewKey parses an encoded note signer key ("PRIVATE+KEY+name+hash+keydata", as given by a
// setting) and checks that its name is origin.
func NewKey(skey, origin string) (*Key, error) {
	skey = strings.TrimSpace(skey)
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("ledger signing key: %w", err)
	}
	if signer.Name() != origin {
		return nil, fmt.Errorf("ledger signing key is for origin %q, but the ledger origin is %q: a checkpoint's signature must name its log", signer.Name(), origin)
	}
	// note has no way to derive the verifier key from a signer key; the key data is the
	// algorithm byte (1 = Ed25519) and the 32-byte seed.
	parts := strings.SplitN(skey, "+", 5)
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != 1 {
		return nil, errors.New("ledger signing key: not an Ed25519 note key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(origin, pub)
	if err != nil {
		return nil, err
	}
	v, err := note.NewVerifier(vkey)
	if err != nil || v.KeyHash() != signer.KeyHash() {
		return nil, errors.New("ledger signing key: its key hash does not match its public key")
	}
	return &Key{signer: signer, verifierKey: vkey}, nil
}

// GenerateKey returns a new encoded signer key for origin, for operators who keep the key in a
// setting rather than in the data directory.
func GenerateKey(origin string) (string, error) {
	skey, _, err := note.GenerateKey(rand.Reader, origin)
	return skey, err
}

// LoadOrCreateKey loads the signing key from dir/ledger-signing.key, generating it on first
// start. The file is created with mode 0600, and an existing file that others can read is
// refused: whoever holds the key can sign a forked log in our name.
func LoadOrCreateKey(dir, origin string) (*Key, error) {
	path := filepath.Join(dir, KeyFileName)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		skey, err := GenerateKey(origin)
		if err != nil {
			return nil, fmt.Errorf("generate ledger signing key: %w", err)
		}
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create key directory: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			// Another process created it first; use theirs.
			return LoadOrCreateKey(dir, origin)
		}
		if err != nil {
			return nil, fmt.Errorf("create ledger signing key: %w", err)
		}
		_, werr := f.WriteString(skey + "\n")
		serr := f.Sync()
		cerr := f.Close()
		if err := errors.Join(werr, serr, cerr); err != nil {
			os.Remove(path)
			return nil, fmt.Errorf("write ledger signing key: %w", err)
		}
		return NewKey(skey, origin)
	}
	if err != nil {
		return nil, fmt.Errorf("read ledger signing key: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("ledger signing key %s has mode %04o; it must be readable by its owner only (chmod 600 %s)", path, fi.Mode().Perm(), path)
	}
	return NewKey(string(data), origin)
}

// Name is the key's name: the log's origin.
func (k *Key) Name() string { return k.signer.Name() }

// VerifierKey is the public key in note form, "name+hash+base64key".
func (k *Key) VerifierKey() string { return k.verifierKey }

// Checkpoint is the body of a C2SP tlog-checkpoint: the origin line, the tree size, the
// base64 root hash and optional extension lines.
type Checkpoint struct {
	Origin     string
	Size       int64
	Root       tlog.Hash
	Extensions []string
}

// Text returns the checkpoint body that is signed.
func (c Checkpoint) Text() string {
	var b strings.Builder
	b.WriteString(c.Origin + "\n" + strconv.FormatInt(c.Size, 10) + "\n" + c.Root.String() + "\n")
	for _, e := range c.Extensions {
		b.WriteString(e + "\n")
	}
	return b.String()
}

// ParseCheckpoint parses a checkpoint body (the note text, without signatures).
func ParseCheckpoint(text string) (Checkpoint, error) {
	var c Checkpoint
	if !strings.HasSuffix(text, "\n") {
		return c, fmt.Errorf("%w: checkpoint must end in a newline", ErrInvalid)
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return c, fmt.Errorf("%w: checkpoint needs origin, size and root lines", ErrInvalid)
	}
	c.Origin = lines[0]
	if c.Origin == "" {
		return c, fmt.Errorf("%w: checkpoint has an empty origin", ErrInvalid)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return c, fmt.Errorf("%w: checkpoint size %q is not a decimal number", ErrInvalid, lines[1])
	}
	c.Size = size
	root, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return c, fmt.Errorf("%w: checkpoint root %q is not a base64 SHA-256 hash", ErrInvalid, lines[2])
	}
	copy(c.Root[:], root)
	for _, e := range lines[3:] {
		if e == "" {
			return c, fmt.Errorf("%w: empty checkpoint extension line", ErrInvalid)
		}
		c.Extensions = append(c.Extensions, e)
	}
	return c, nil
}

// SignedCheckpoint is a checkpoint with its signed note, as served at /ledger/checkpoint.
type SignedCheckpoint struct {
	Checkpoint
	Note []byte
}

// OpenCheckpoint verifies a signed checkpoint note with verifierKey and parses it. The origin
// line must equal the key's name, so a key cannot vouch for another log's checkpoints.
func OpenCheckpoint(signed []byte, verifierKey string) (SignedCheckpoint, error) {
	v, err := note.NewVerifier(strings.TrimSpace(verifierKey))
	if err != nil {
		return SignedCheckpoint{}, fmt.Errorf("%w: verifier key: %v", ErrInvalid, err)
	}
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		return SignedCheckpoint{}, fmt.Errorf("%w: checkpoint signature: %v", ErrVerification, err)
	}
	c, err := ParseCheckpoint(n.Text)
	if err != nil {
		return SignedCheckpoint{}, err
	}
	if c.Origin != v.Name() {
		return SignedCheckpoint{}, fmt.Errorf("%w: checkpoint origin %q is not the key's log %q", ErrVerification, c.Origin, v.Name())
	}
	return SignedCheckpoint{Checkpoint: c, Note: bytes.Clone(signed)}, nil
}

// VerifyInclusion checks that data is the canonical entry at index in the tree c describes,
// given an inclusion proof, and returns the decoded entry. It is the one check every verifier
// here builds on: receipts, audits of a live log, and batches of proofs in contribution exports.
func (c Checkpoint) VerifyInclusion(index int64, data []byte, proof []tlog.Hash) (Entry, error) {
	if index < 0 || index >= c.Size {
		return Entry{}, fmt.Errorf("%w: index %d is outside the tree of size %d", ErrVerification, index, c.Size)
	}
	e, err := Decode(data)
	if err != nil {
		return Entry{}, fmt.Errorf("%w: entry %d: %v", ErrVerification, index, err)
	}
	if err := tlog.CheckRecord(proof, c.Size, c.Root, index, tlog.RecordHash(data)); err != nil {
		return Entry{}, fmt.Errorf("%w: entry %d is not proved to be in the tree of size %d: %v", ErrVerification, index, c.Size, err)
	}
	return e, nil
}

// VerifyConsistency checks that c's tree extends the older one, given a consistency proof.
func (c Checkpoint) VerifyConsistency(older Checkpoint, proof []tlog.Hash) error {
	if older.Origin != c.Origin {
		return fmt.Errorf("%w: checkpoints of different logs (%q, %q)", ErrVerification, older.Origin, c.Origin)
	}
	switch {
	case older.Size > c.Size:
		return fmt.Errorf("%w: the log shrank from %d to %d entries", ErrVerification, older.Size, c.Size)
	case older.Size == c.Size:
		if older.Root != c.Root {
			return fmt.Errorf("%w: two different trees of size %d", ErrVerification, c.Size)
		}
		return nil
	case older.Size == 0:
		return nil
	}
	if err := tlog.CheckTree(proof, c.Size, c.Root, older.Size, older.Root); err != nil {
		return fmt.Errorf("%w: the tree of size %d does not extend the one of size %d: %v", ErrVerification, c.Size, older.Size, err)
	}
	return nil
}

// Checkpoint returns the latest signed checkpoint, or ErrPending before the first one.
func (l *Log) Checkpoint(ctx context.Context) (SignedCheckpoint, error) {
	return latestCheckpoint(l.db.WithContext(ctx), l.key.VerifierKey())
}

// CheckpointAt returns the signed checkpoint of tree size size, or ErrNotFound if none was
// published at exactly that size.
func (l *Log) CheckpointAt(ctx context.Context, size int64) (SignedCheckpoint, error) {
	var rows []struct{ Note []byte }
	if err := l.db.WithContext(ctx).Raw(`SELECT note FROM ledger_checkpoints WHERE size = ?`, size).Scan(&rows).Error; err != nil {
		return SignedCheckpoint{}, fmt.Errorf("read ledger checkpoint: %w", err)
	}
	if len(rows) == 0 {
		return SignedCheckpoint{}, fmt.Errorf("%w: no checkpoint of size %d", ErrNotFound, size)
	}
	return OpenCheckpoint(rows[0].Note, l.key.VerifierKey())
}

func latestCheckpoint(db *gorm.DB, vkey string) (SignedCheckpoint, error) {
	var rows []struct{ Note []byte }
	if err := db.Raw(`SELECT note FROM ledger_checkpoints ORDER BY size DESC LIMIT 1`).Scan(&rows).Error; err != nil {
		return SignedCheckpoint{}, fmt.Errorf("read ledger checkpoint: %w", err)
	}
	if len(rows) == 0 {
		return SignedCheckpoint{}, fmt.Errorf("%w: no checkpoint has been published yet", ErrPending)
	}
	return OpenCheckpoint(rows[0].Note, vkey)
}

// Publish signs a checkpoint of the integrated tree if it has grown since the last one (or no
// checkpoint exists), stores it, and writes it to the checkpoint file. Before signing it
// recomputes the root from the stored hashes and proves the new tree consistent with the last
// checkpoint; if either check fails it signs nothing and returns an ErrInconsistent error.
// It reports whether it published.
func (l *Log) Publish(ctx context.Context) (SignedCheckpoint, bool, error) {
	l.pubMu.Lock()
	defer l.pubMu.Unlock()
	db := l.db.WithContext(ctx)
	vkey := l.key.VerifierKey()
	st, err := readTree(db, false)
	if err != nil {
		return SignedCheckpoint{}, false, err
	}
	prev, err := latestCheckpoint(db, vkey)
	hasPrev := err == nil
	if err != nil && !errors.Is(err, ErrPending) {
		return SignedCheckpoint{}, false, err
	}
	if l.file != "" {
		// The file may be ahead of the table (it survives database restores); the new tree
		// must extend whichever is newer.
		if fc, ok, err := readCheckpointFile(l.file, vkey); err != nil {
			return SignedCheckpoint{}, false, err
		} else if ok && (!hasPrev || fc.Size > prev.Size) {
			prev, hasPrev = fc, true
		}
	}
	if hasPrev && prev.Size == st.Size {
		if prev.Root != st.Root {
			return SignedCheckpoint{}, false, fmt.Errorf("%w: the tree of size %d has root %s but its checkpoint says %s", ErrInconsistent, st.Size, st.Root, prev.Root)
		}
		return prev, false, l.writeFileIfBehind(prev)
	}
	if hasPrev && prev.Size > st.Size {
		return SignedCheckpoint{}, false, fmt.Errorf("%w: the tree has %d entries but checkpoint %d was published", ErrInconsistent, st.Size, prev.Size)
	}
	reader := hashReader{db}
	root, err := tlog.TreeHash(st.Size, reader)
	if err != nil {
		return SignedCheckpoint{}, false, err
	}
	if root != st.Root {
		return SignedCheckpoint{}, false, fmt.Errorf("%w: stored hashes give root %s for size %d, the tree state says %s", ErrInconsistent, root, st.Size, st.Root)
	}
	if hasPrev && prev.Size > 0 {
		proof, err := tlog.ProveTree(st.Size, prev.Size, reader)
		if err != nil {
			return SignedCheckpoint{}, false, err
		}
		if err := tlog.CheckTree(proof, st.Size, st.Root, prev.Size, prev.Root); err != nil {
			return SignedCheckpoint{}, false, fmt.Errorf("%w: the tree of size %d is not consistent with checkpoint %d: %v", ErrInconsistent, st.Size, prev.Size, err)
		}
	}
	c := Checkpoint{Origin: l.key.Name(), Size: st.Size, Root: st.Root}
	var signed []byte
	err = db.Transaction(func(tx *gorm.DB) error {
		// Signing happens under the lease's fence: a process that lost the lease signs nothing.
		if err := l.checkLease(tx); err != nil {
			return err
		}
		var err error
		if signed, err = note.Sign(&note.Note{Text: c.Text()}, l.key.signer); err != nil {
			return fmt.Errorf("sign checkpoint: %w", err)
		}
		// Another process may publish the same size (two Logs driven by hand); Ed25519
		// signatures are deterministic, so its note is byte-identical and the conflict harmless.
		if err := tx.Exec(`INSERT INTO ledger_checkpoints (size, root, note, signed_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (size) DO NOTHING`, c.Size, c.Root[:], signed, l.now().UTC()).Error; err != nil {
			return fmt.Errorf("store checkpoint: %w", err)
		}
		return nil
	})
	if err != nil {
		return SignedCheckpoint{}, false, err
	}
	sc := SignedCheckpoint{Checkpoint: c, Note: signed}
	if err := l.writeFileIfBehind(sc); err != nil {
		return sc, true, err
	}
	return sc, true, nil
}

func (l *Log) writeFileIfBehind(c SignedCheckpoint) error {
	if l.file == "" {
		return nil
	}
	fc, ok, err := readCheckpointFile(l.file, l.key.VerifierKey())
	if err != nil {
		return err
	}
	if ok && fc.Size >= c.Size {
		return nil
	}
	return writeFileAtomic(l.file, c.Note)
}

// RunPublisher publishes checkpoints at the configured pace until ctx ends. It returns early
// only for an ErrInconsistent failure, which must stop the ledger.
func (l *Log) RunPublisher(ctx context.Context) error {
	t := time.NewTicker(l.checkpointInterval)
	defer t.Stop()
	for {
		if _, _, err := l.Publish(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, ErrInconsistent) {
				l.logger.ErrorContext(ctx, "ledger publisher: refusing to sign", "err", err)
				return err
			}
			if !errors.Is(err, ErrNotLeader) { // the lease keeper ends the term; wait for it
				l.logger.ErrorContext(ctx, "ledger publisher: publish failed; retrying", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// readCheckpointFile reads and verifies the checkpoint file; ok is false when there is none.
func readCheckpointFile(path, vkey string) (SignedCheckpoint, bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return SignedCheckpoint{}, false, nil
	}
	if err != nil {
		return SignedCheckpoint{}, false, fmt.Errorf("read checkpoint file: %w", err)
	}
	c, err := OpenCheckpoint(data, vkey)
	if err != nil {
		return SignedCheckpoint{}, false, fmt.Errorf("%w: the checkpoint file %s does not verify with the ledger key (was the key or the file replaced?): %v", ErrInconsistent, path, err)
	}
	return c, true, nil
}

// writeFileAtomic replaces path with data so that a crash leaves the old or the new content,
// never a torn file: write a temporary file in the same directory, sync, rename, sync the
// directory.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write checkpoint file: %w", err)
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write checkpoint file: %w", err)
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write checkpoint file: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// RollbackError is the refusal to start on a database whose ledger is behind, or disagrees
// with, the last checkpoint this server published. Its message is meant for the operator.
type RollbackError struct {
	File           string
	CheckpointSize int64
	CheckpointRoot tlog.Hash
	DatabaseSize   int64
	// DatabaseRoot is the database's root at CheckpointSize when it has that many entries.
	DatabaseRoot tlog.Hash
	Behind       bool
}

func (e *RollbackError) Error() string {
	if e.Behind {
		return fmt.Sprintf("ledger rollback detected, refusing to start: the last checkpoint this server signed "+
			"(kept in %s) covers %d ledger entries, but the database's ledger has only %d. "+
			"The database was probably restored from an older backup, or lost committed writes. "+
			"Starting now would give ledger indexes %d and later to different entries than the ones already published, "+
			"forking the public log and invalidating receipts that teachers hold. "+
			"Restore the newest database backup (its ledger must have at least %d entries) and start again. "+
			"Do not delete the checkpoint file to get past this check.",
			e.File, e.CheckpointSize, e.DatabaseSize, e.DatabaseSize, e.CheckpointSize)
	}
	return fmt.Sprintf("ledger inconsistency detected, refusing to start: the last checkpoint this server signed "+
		"(kept in %s) says the first %d ledger entries have root hash %s, but the database's ledger gives %s for them. "+
		"The database is not the one the checkpoint was published from (a different or tampered copy). "+
		"Starting would fork the public log. Restore the database that matches the checkpoint, "+
		"and run `ziyuan ledger fsck` to find the first difference.",
		e.File, e.CheckpointSize, e.CheckpointRoot, e.DatabaseRoot)
}

// Unwrap lets errors.Is(err, ErrInconsistent) match.
func (e *RollbackError) Unwrap() error { return ErrInconsistent }

// CheckRollback compares the database's ledger with the checkpoint kept in file (if the file
// exists): the tree must have at least the checkpoint's size and the same root at that size,
// and the tree state must be consistent with it. Otherwise it returns a *RollbackError. Open
// calls it; the CLI can call it on its own.
func CheckRollback(ctx context.Context, db *gorm.DB, file, verifierKey string) error {
	fc, ok, err := readCheckpointFile(file, verifierKey)
	if err != nil || !ok {
		return err
	}
	db = db.WithContext(ctx)
	st, err := readTree(db, false)
	if err != nil {
		return err
	}
	rb := &RollbackError{File: file, CheckpointSize: fc.Size, CheckpointRoot: fc.Root, DatabaseSize: st.Size}
	if st.Size < fc.Size {
		rb.Behind = true
		return rb
	}
	reader := hashReader{db}
	root, err := tlog.TreeHash(fc.Size, reader)
	if err != nil {
		return fmt.Errorf("check ledger against checkpoint file: %w", err)
	}
	if root != fc.Root {
		rb.DatabaseRoot = root
		return rb
	}
	if st.Size > fc.Size && fc.Size > 0 {
		proof, err := tlog.ProveTree(st.Size, fc.Size, reader)
		if err != nil {
			return fmt.Errorf("check ledger against checkpoint file: %w", err)
		}
		if err := tlog.CheckTree(proof, st.Size, st.Root, fc.Size, fc.Root); err != nil {
			rb.DatabaseRoot = st.Root
			return rb
		}
	}
	return nil
}
