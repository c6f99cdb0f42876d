package files_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ziyuan/market/files"
	"ziyuan/market/files/internal/blobstest"
)

// walkFiles lists every regular file under dir, temporary files included.
func walkFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, strings.TrimPrefix(p, dir))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLocalBlobsContract(t *testing.T) {
	blobstest.Run(t, func(t *testing.T) blobstest.Subject {
		dir := t.TempDir()
		b, err := files.NewLocalBlobs(dir)
		if err != nil {
			t.Fatal(err)
		}
		return blobstest.Subject{Blobs: b, Stored: func(t *testing.T) []string { return walkFiles(t, dir) }}
	})
}

// TestLocalBlobsLayout pins the directory layout: operators back it up and copy it into a
// bucket (s3blobs uses the same keys), so it must not change by accident.
func TestLocalBlobsLayout(t *testing.T) {
	dir := t.TempDir()
	b, err := files.NewLocalBlobs(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("二次函数教案 v1")
	sum := blobstest.Sum(data)
	if err := b.Put(context.Background(), sum, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	want := "/sha256/" + sum[:2] + "/" + sum[2:4] + "/" + sum
	if got := walkFiles(t, dir); len(got) != 1 || got[0] != want {
		t.Errorf("files on disk %v, want [%s]", got, want)
	}
}

func TestValidSum(t *testing.T) {
	if !files.ValidSum(blobstest.Sum(nil)) {
		t.Error("valid sum refused")
	}
	for _, s := range []string{"", "abc", strings.Repeat("A", 64), strings.Repeat("a", 63) + "/", strings.Repeat("a", 65)} {
		if files.ValidSum(s) {
			t.Errorf("ValidSum(%q) = true", s)
		}
	}
}
