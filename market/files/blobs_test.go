package files_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"ziyuan/market/files"
)

func sumOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// walkFiles lists every regular file under dir.
func walkFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, strings.TrimPrefix(p, dir))
		}
		return nil
	})
	return out
}

func TestLocalBlobs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b, err := files.NewLocalBlobs(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("二次函数教案 v1")
	sum := sumOf(data)

	if ok, err := files.Exists(ctx, b, sum); ok || err != nil {
		t.Fatalf("Exists before Put = %v, %v", ok, err)
	}
	if _, err := b.Open(ctx, sum); !errors.Is(err, files.ErrBlobNotFound) {
		t.Fatalf("Open before Put: %v", err)
	}
	if err := b.Put(ctx, sum, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	want := "/sha256/" + sum[:2] + "/" + sum[2:4] + "/" + sum
	if got := walkFiles(t, dir); len(got) != 1 || got[0] != want {
		t.Errorf("files on disk %v, want [%s]", got, want)
	}
	rc, err := b.Open(ctx, sum)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, data) {
		t.Errorf("round trip gave %q", got)
	}
	if size, err := b.Stat(ctx, sum); err != nil || size != int64(len(data)) {
		t.Errorf("Stat = %d, %v", size, err)
	}

	// Idempotent: a second Put of the same blob succeeds without reading its input.
	if err := b.Put(ctx, sum, errReader{}, int64(len(data))); err != nil {
		t.Errorf("second Put: %v", err)
	}

	if err := b.Delete(ctx, sum); err != nil {
		t.Fatal(err)
	}
	if ok, _ := files.Exists(ctx, b, sum); ok {
		t.Error("blob exists after Delete")
	}
	if err := b.Delete(ctx, sum); err != nil {
		t.Errorf("deleting an absent blob: %v", err)
	}
	if got := walkFiles(t, dir); len(got) != 0 {
		t.Errorf("left after Delete: %v", got)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("must not be read") }

func TestLocalBlobsRefusals(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b, err := files.NewLocalBlobs(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("content")
	sum := sumOf(data)
	other := sumOf([]byte("other"))
	tests := []struct {
		name string
		sum  string
		data []byte
		size int64
		want error
	}{
		{"hash mismatch", other, data, int64(len(data)), files.ErrSumMismatch},
		{"short", sum, data[:3], int64(len(data)), files.ErrSizeMismatch},
		{"long", sum, append(bytes.Clone(data), "more"...), int64(len(data)), files.ErrSizeMismatch},
		{"negative size", sum, data, -1, files.ErrSizeMismatch},
		{"upper-case hex", strings.ToUpper(sum), data, int64(len(data)), files.ErrBadSum},
		{"traversal", "../../../../etc/passwd" + sum[22:], data, int64(len(data)), files.ErrBadSum},
		{"short hex", sum[:10], data, int64(len(data)), files.ErrBadSum},
		{"not hex", strings.Repeat("g", 64), data, int64(len(data)), files.ErrBadSum},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := b.Put(ctx, tt.sum, bytes.NewReader(tt.data), tt.size)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Put: %v, want %v", err, tt.want)
			}
			if got := walkFiles(t, dir); len(got) != 0 {
				t.Errorf("left behind: %v", got)
			}
		})
	}
	for _, op := range []func(string) error{
		func(s string) error { _, err := b.Open(ctx, s); return err },
		func(s string) error { _, err := b.Stat(ctx, s); return err },
		func(s string) error { return b.Delete(ctx, s) },
	} {
		if err := op("../x"); !errors.Is(err, files.ErrBadSum) {
			t.Errorf("bad sum accepted: %v", err)
		}
	}
}

func TestLocalBlobsConcurrentPuts(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b, err := files.NewLocalBlobs(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("并发写入同一个文件。"), 50_000) // 1.5 MB
	sum := sumOf(data)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			if err := b.Put(ctx, sum, bytes.NewReader(data), int64(len(data))); err != nil {
				errs <- err
			}
			// Readers during the puts see either nothing or the whole blob.
			if rc, err := b.Open(ctx, sum); err == nil {
				got, _ := io.ReadAll(rc)
				rc.Close()
				if !bytes.Equal(got, data) {
					errs <- errors.New("read a partial blob")
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := walkFiles(t, dir); len(got) != 1 {
		t.Errorf("files on disk: %v", got)
	}
}

func TestValidSum(t *testing.T) {
	if !files.ValidSum(sumOf(nil)) {
		t.Error("valid sum refused")
	}
	for _, s := range []string{"", "abc", strings.Repeat("A", 64), strings.Repeat("a", 63) + "/", strings.Repeat("a", 65)} {
		if files.ValidSum(s) {
			t.Errorf("ValidSum(%q) = true", s)
		}
	}
}
