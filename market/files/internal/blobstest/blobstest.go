// Package blobstest is the contract every files.Blobs passes: the local directory store and the
// S3 store run the same table of behaviours, so the market can rely on them alike.
package blobstest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"ziyuan/market/files"
)

// Subject is a fresh, empty store under test.
type Subject struct {
	Blobs files.Blobs
	// Stored lists everything the store holds — blobs, temporary files, unfinished uploads — so
	// that a refused Put can be shown to leave nothing behind.
	Stored func(t *testing.T) []string
}

// Sum is the address of data.
func Sum(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// Run runs the contract, each behaviour on a store of its own from fresh.
func Run(t *testing.T, fresh func(t *testing.T) Subject) {
	t.Run("RoundTrip", func(t *testing.T) { roundTrip(t, fresh(t)) })
	t.Run("Refusals", func(t *testing.T) { refusals(t, fresh) })
	t.Run("CancelledMidway", func(t *testing.T) { cancelledMidway(t, fresh(t)) })
	t.Run("BadSums", func(t *testing.T) { badSums(t, fresh(t)) })
	t.Run("NotFound", func(t *testing.T) { notFound(t, fresh(t)) })
	t.Run("ConcurrentPuts", func(t *testing.T) { concurrentPuts(t, fresh(t)) })
	t.Run("Empty", func(t *testing.T) { empty(t, fresh(t)) })
}

func readAll(t *testing.T, b files.Blobs, sum string) []byte {
	t.Helper()
	rc, err := b.Open(context.Background(), sum)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return data
}

func roundTrip(t *testing.T, s Subject) {
	ctx := context.Background()
	data := []byte("二次函数教案 v1")
	sum := Sum(data)
	if ok, err := files.Exists(ctx, s.Blobs, sum); ok || err != nil {
		t.Fatalf("Exists before Put = %v, %v", ok, err)
	}
	if err := s.Blobs.Put(ctx, sum, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if got := readAll(t, s.Blobs, sum); !bytes.Equal(got, data) {
		t.Errorf("round trip gave %q", got)
	}
	if size, err := s.Blobs.Stat(ctx, sum); err != nil || size != int64(len(data)) {
		t.Errorf("Stat = %d, %v; want %d", size, err, len(data))
	}
	if ok, err := files.Exists(ctx, s.Blobs, sum); !ok || err != nil {
		t.Errorf("Exists after Put = %v, %v", ok, err)
	}
	if got := s.Stored(t); len(got) != 1 {
		t.Errorf("stored after one Put: %v", got)
	}
	// A second Put of a stored blob succeeds without reading its input.
	if err := s.Blobs.Put(ctx, sum, failingReader{errors.New("must not be read")}, int64(len(data))); err != nil {
		t.Errorf("second Put: %v", err)
	}
	if err := s.Blobs.Delete(ctx, sum); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if ok, _ := files.Exists(ctx, s.Blobs, sum); ok {
		t.Error("blob exists after Delete")
	}
	if err := s.Blobs.Delete(ctx, sum); err != nil {
		t.Errorf("deleting an absent blob: %v", err)
	}
	if got := s.Stored(t); len(got) != 0 {
		t.Errorf("left after Delete: %v", got)
	}
}

// failingReader fails every read.
type failingReader struct{ err error }

func (r failingReader) Read([]byte) (int, error) { return 0, r.err }

// brokenReader yields n bytes of data and then fails with err instead of ending.
type brokenReader struct {
	r   io.Reader
	err error
}

func breakAfter(data []byte, n int, err error) io.Reader {
	return &brokenReader{r: bytes.NewReader(data[:n]), err: err}
}

func (b *brokenReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		return n, b.err
	}
	return n, err
}

var errDisk = errors.New("blobstest: the disk went away")

func refusals(t *testing.T, fresh func(t *testing.T) Subject) {
	// Large enough to take many reads and network writes, so that a refusal at the end is not
	// one at the first read.
	big := bytes.Repeat([]byte("光合作用的原料、产物和条件。"), 100_000) // 4.2 MB
	sum := Sum(big)
	flipped := bytes.Clone(big)
	flipped[len(flipped)-1] ^= 1
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		sum  string
		r    io.Reader
		size int64
		want error
	}{
		{"other content", nil, Sum([]byte("other")), bytes.NewReader(big), int64(len(big)), files.ErrSumMismatch},
		{"last byte differs", nil, sum, bytes.NewReader(flipped), int64(len(big)), files.ErrSumMismatch},
		{"short", nil, sum, bytes.NewReader(big[:len(big)/2]), int64(len(big)), files.ErrSizeMismatch},
		{"one byte short", nil, sum, bytes.NewReader(big[:len(big)-1]), int64(len(big)), files.ErrSizeMismatch},
		{"one byte long", nil, sum, bytes.NewReader(append(bytes.Clone(big), '!')), int64(len(big)), files.ErrSizeMismatch},
		{"declared too small", nil, sum, bytes.NewReader(big), int64(len(big)) - 1, files.ErrSizeMismatch},
		{"negative size", nil, sum, bytes.NewReader(big), -1, files.ErrSizeMismatch},
		{"reader fails midway", nil, sum, breakAfter(big, len(big)/2, errDisk), int64(len(big)), errDisk},
		{"reader fails instead of ending", nil, sum, breakAfter(big, len(big), errDisk), int64(len(big)), errDisk},
		{"cancelled", cancelled, sum, bytes.NewReader(big), int64(len(big)), context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fresh(t)
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			err := s.Blobs.Put(ctx, tt.sum, tt.r, tt.size)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Put: %v, want %v", err, tt.want)
			}
			if got := s.Stored(t); len(got) != 0 {
				t.Errorf("a refused Put left %v", got)
			}
			if ok, _ := files.Exists(context.Background(), s.Blobs, tt.sum); ok {
				t.Errorf("blob %s exists after a refused Put", tt.sum)
			}
		})
	}
}

// cancelAfter yields data, calling cancel once n bytes have been read.
type cancelAfter struct {
	r      io.Reader
	n      int
	cancel func()
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	if c.n -= k; c.n <= 0 {
		c.cancel()
	}
	return k, err
}

func cancelledMidway(t *testing.T, s Subject) {
	data := bytes.Repeat([]byte("上传到一半时取消。"), 200_000) // 5.4 MB
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err := s.Blobs.Put(ctx, Sum(data), &cancelAfter{r: bytes.NewReader(data), n: len(data) / 3, cancel: cancel}, int64(len(data)))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Put: %v, want context.Canceled", err)
	}
	if got := s.Stored(t); len(got) != 0 {
		t.Errorf("a cancelled Put left %v", got)
	}
}

func badSums(t *testing.T, s Subject) {
	ctx := context.Background()
	data := []byte("content")
	sum := Sum(data)
	for _, bad := range []string{
		strings.ToUpper(sum), "../../../../etc/passwd" + sum[22:], sum[:10], strings.Repeat("g", 64),
		"", sum + "0", sum[:63] + "/", "sha256/" + sum[7:],
	} {
		t.Run(fmt.Sprintf("%.12q", bad), func(t *testing.T) {
			ops := map[string]error{
				"Put":    s.Blobs.Put(ctx, bad, bytes.NewReader(data), int64(len(data))),
				"Delete": s.Blobs.Delete(ctx, bad),
			}
			_, ops["Stat"] = s.Blobs.Stat(ctx, bad)
			_, ops["Open"] = s.Blobs.Open(ctx, bad)
			for op, err := range ops {
				if !errors.Is(err, files.ErrBadSum) {
					t.Errorf("%s(%q): %v, want ErrBadSum", op, bad, err)
				}
			}
		})
	}
	if got := s.Stored(t); len(got) != 0 {
		t.Errorf("bad sums stored %v", got)
	}
}

func notFound(t *testing.T, s Subject) {
	ctx := context.Background()
	sum := Sum([]byte("never stored"))
	if _, err := s.Blobs.Open(ctx, sum); !errors.Is(err, files.ErrBlobNotFound) {
		t.Errorf("Open: %v, want ErrBlobNotFound", err)
	}
	if _, err := s.Blobs.Stat(ctx, sum); !errors.Is(err, files.ErrBlobNotFound) {
		t.Errorf("Stat: %v, want ErrBlobNotFound", err)
	}
	if ok, err := files.Exists(ctx, s.Blobs, sum); ok || err != nil {
		t.Errorf("Exists = %v, %v", ok, err)
	}
	if err := s.Blobs.Delete(ctx, sum); err != nil {
		t.Errorf("Delete: %v", err)
	}
}

func concurrentPuts(t *testing.T, s Subject) {
	ctx := context.Background()
	data := bytes.Repeat([]byte("并发写入同一个文件。"), 50_000) // 1.5 MB
	sum := Sum(data)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 8 {
		wg.Go(func() {
			if err := s.Blobs.Put(ctx, sum, bytes.NewReader(data), int64(len(data))); err != nil {
				errs <- err
			}
			// Readers during the puts see either nothing or the whole blob.
			rc, err := s.Blobs.Open(ctx, sum)
			if err != nil {
				errs <- fmt.Errorf("open after Put: %w", err)
				return
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || !bytes.Equal(got, data) {
				errs <- fmt.Errorf("read %d bytes of %d (%v)", len(got), len(data), err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := s.Stored(t); len(got) != 1 {
		t.Errorf("stored after concurrent puts: %v", got)
	}
}

func empty(t *testing.T, s Subject) {
	ctx := context.Background()
	sum := Sum(nil)
	if err := s.Blobs.Put(ctx, Sum([]byte("x")), bytes.NewReader(nil), 0); !errors.Is(err, files.ErrSumMismatch) {
		t.Errorf("empty content under another sum: %v", err)
	}
	if err := s.Blobs.Put(ctx, sum, strings.NewReader("x"), 0); !errors.Is(err, files.ErrSizeMismatch) {
		t.Errorf("content declared empty: %v", err)
	}
	if got := s.Stored(t); len(got) != 0 {
		t.Errorf("refused empty puts left %v", got)
	}
	if err := s.Blobs.Put(ctx, sum, bytes.NewReader(nil), 0); err != nil {
		t.Fatalf("Put empty: %v", err)
	}
	if size, err := s.Blobs.Stat(ctx, sum); size != 0 || err != nil {
		t.Errorf("Stat = %d, %v", size, err)
	}
	if got := readAll(t, s.Blobs, sum); len(got) != 0 {
		t.Errorf("empty blob reads %q", got)
	}
}
