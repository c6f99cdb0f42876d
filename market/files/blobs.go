package files

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Blobs stores immutable blobs addressed by the lower-case hex SHA-256 of their content. It is
// the port the market needs; LocalBlobs implements it on a directory, and an S3-compatible store
// can implement it on a bucket (sum → key), which is why nothing here speaks of paths.
type Blobs interface {
	// Put stores size bytes from r under sum. It verifies both while reading and stores
	// nothing on a mismatch (ErrSumMismatch, ErrSizeMismatch). Putting a blob that exists is a
	// no-op success; r may then be left unread.
	Put(ctx context.Context, sum string, r io.Reader, size int64) error
	// Open returns the blob's content, or ErrBlobNotFound.
	Open(ctx context.Context, sum string) (io.ReadCloser, error)
	// Stat returns the blob's size, or ErrBlobNotFound.
	Stat(ctx context.Context, sum string) (int64, error)
	// Delete removes the blob; deleting an absent blob succeeds.
	Delete(ctx context.Context, sum string) error
}

// Blob errors. They are faults of the caller or of storage, never of the person uploading:
// the market reports them as internal errors (ErrBlobNotFound as not_found where a user asked
// for a file whose blob is gone, ErrUnavailable as unavailable).
var (
	ErrBlobNotFound = errors.New("files: blob not found")
	// ErrUnavailable marks a store that cannot be reached or does not answer in time (a remote
	// store's outage): trying again later may work.
	ErrUnavailable  = errors.New("files: blob store unavailable")
	ErrBadSum       = errors.New("files: blob address is not a lower-case hex SHA-256")
	ErrSumMismatch  = errors.New("files: content does not match its SHA-256")
	ErrSizeMismatch = errors.New("files: content does not match its declared size")
)

// Exists reports whether a blob is stored.
func Exists(ctx context.Context, b Blobs, sum string) (bool, error) {
	_, err := b.Stat(ctx, sum)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrBlobNotFound):
		return false, nil
	}
	return false, err
}

// ValidSum reports whether sum is 64 lower-case hex digits. Only such sums reach a file system
// or a bucket key: no separators, dots or other tricks can pass.
func ValidSum(sum string) bool {
	if len(sum) != sha256.Size*2 {
		return false
	}
	for i := 0; i < len(sum); i++ {
		c := sum[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// LocalBlobs keeps blobs in a directory as <dir>/sha256/ab/cd/<sum>: two levels of fan-out keep
// directories small with millions of blobs. Writes go to a temporary file in the blob's own
// directory, are verified, synced and renamed into place, so a blob path either holds the
// complete, verified content or does not exist, even across a crash.
type LocalBlobs struct {
	root string
}

// NewLocalBlobs opens (creating if needed) a blob directory.
func NewLocalBlobs(dir string) (*LocalBlobs, error) {
	root := filepath.Join(dir, "sha256")
	if err := os.MkdirAll(root, 0o750); err != nil {
		return nil, fmt.Errorf("files: blob directory: %w", err)
	}
	return &LocalBlobs{root: root}, nil
}

func (l *LocalBlobs) path(sum string) (string, error) {
	if !ValidSum(sum) {
		return "", fmt.Errorf("%w: %q", ErrBadSum, sum)
	}
	return filepath.Join(l.root, sum[0:2], sum[2:4], sum), nil
}

// Put implements Blobs.
func (l *LocalBlobs) Put(ctx context.Context, sum string, r io.Reader, size int64) (err error) {
	p, err := l.path(sum)
	if err != nil {
		return err
	}
	if size < 0 {
		return fmt.Errorf("%w: negative size %d", ErrSizeMismatch, size)
	}
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("files: blob directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".put-*")
	if err != nil {
		return fmt.Errorf("files: blob temporary file: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	// One byte past size tells an overlong stream from an exact one.
	n, err := io.Copy(io.MultiWriter(tmp, h), &ctxReader{ctx: ctx, r: io.LimitReader(r, size+1)})
	if err != nil {
		return fmt.Errorf("files: write blob %s: %w", sum, err)
	}
	if n != size {
		return fmt.Errorf("%w: %s: got %s bytes, declared %d", ErrSizeMismatch, sum, countString(n, size), size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		return fmt.Errorf("%w: declared %s, content %s", ErrSumMismatch, sum, got)
	}
	if err := tmp.Chmod(0o440); err != nil {
		return fmt.Errorf("files: write blob %s: %w", sum, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("files: sync blob %s: %w", sum, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("files: write blob %s: %w", sum, err)
	}
	// Concurrent puts of one blob rename identical, verified content: whichever lands last
	// replaces the other atomically, and readers see a complete file either way.
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("files: place blob %s: %w", sum, err)
	}
	return syncDir(dir)
}

func countString(n, size int64) string {
	if n > size {
		return fmt.Sprintf("more than %d", size)
	}
	return fmt.Sprint(n)
}

// syncDir makes a rename durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("files: sync blob directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("files: sync blob directory: %w", err)
	}
	return nil
}

// Open implements Blobs. The returned value is an *os.File, so it also supports Seek and Stat
// (http.ServeContent can serve ranges from it).
func (l *LocalBlobs) Open(ctx context.Context, sum string) (io.ReadCloser, error) {
	p, err := l.path(sum)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrBlobNotFound, sum)
	}
	return f, err
}

// Stat implements Blobs.
func (l *LocalBlobs) Stat(ctx context.Context, sum string) (int64, error) {
	p, err := l.path(sum)
	if err != nil {
		return 0, err
	}
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("%w: %s", ErrBlobNotFound, sum)
	}
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// Delete implements Blobs.
func (l *LocalBlobs) Delete(ctx context.Context, sum string) error {
	p, err := l.path(sum)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("files: delete blob %s: %w", sum, err)
	}
	return nil
}
