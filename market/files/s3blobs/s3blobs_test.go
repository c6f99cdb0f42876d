package s3blobs_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"ziyuan/market/files"
	"ziyuan/market/files/internal/blobstest"
	"ziyuan/market/files/s3blobs"
	"ziyuan/market/files/s3blobs/s3test"
)

func TestMinIOContract(t *testing.T) {
	blobstest.Run(t, func(t *testing.T) blobstest.Subject {
		s := s3test.Settings(t)
		b := s3test.Open(t, s)
		return blobstest.Subject{Blobs: b, Stored: func(t *testing.T) []string { return s3test.Stored(t, s) }}
	})
}

// TestMinIOLayout pins the keys: LocalBlobs' layout under the prefix, so that a blob directory
// can be copied into a bucket as it is, and stores with different prefixes share a bucket
// without seeing each other's blobs.
func TestMinIOLayout(t *testing.T) {
	ctx := context.Background()
	s := s3test.Settings(t)
	plain := s3test.Open(t, s)
	s.Prefix = "/school-a/blobs/"
	a := s3test.Open(t, s)
	s.Prefix = "school-b"
	bStore := s3test.Open(t, s)
	data := []byte("勾股定理教学设计")
	sum := blobstest.Sum(data)
	for _, b := range []*s3blobs.Blobs{plain, a} {
		if err := b.Put(ctx, sum, bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatal(err)
		}
	}
	tail := "sha256/" + sum[:2] + "/" + sum[2:4] + "/" + sum
	got := s3test.Stored(t, s)
	if want := []string{"school-a/blobs/" + tail, tail}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("keys %v, want %v", got, want)
	}
	if _, err := bStore.Stat(ctx, sum); !errors.Is(err, files.ErrBlobNotFound) {
		t.Errorf("another prefix sees the blob: %v", err)
	}
	if err := a.Delete(ctx, sum); err != nil {
		t.Fatal(err)
	}
	if got := s3test.Stored(t, s); len(got) != 1 || got[0] != tail {
		t.Errorf("deleting under a prefix left %v", got)
	}
}

func TestMinIONew(t *testing.T) {
	ctx := context.Background()
	s := s3test.Settings(t)
	if s3test.BucketExists(t, s) {
		t.Fatal("the test bucket exists before New")
	}
	s3test.Open(t, s)
	if !s3test.BucketExists(t, s) {
		t.Fatal("New did not create the bucket")
	}
	s3test.Open(t, s) // an existing bucket is used as it is

	wrong := s
	wrong.SecretKey = "not-the-secret-key"
	_, err := s3blobs.New(ctx, wrong)
	if err == nil || !strings.Contains(err.Error(), s.Bucket) || !strings.Contains(err.Error(), s.Endpoint) {
		t.Errorf("New with a wrong secret key: %v; want an error naming the bucket and the endpoint", err)
	}
}

// TestS3Settings checks that settings are refused before anything is sent.
func TestS3Settings(t *testing.T) {
	ok := s3blobs.Settings{Endpoint: "http://127.0.0.1:1", Bucket: "ziyuan", AccessKey: "k", SecretKey: "s"}
	tests := []struct {
		name   string
		change func(*s3blobs.Settings)
		says   string
	}{
		{"no endpoint", func(s *s3blobs.Settings) { s.Endpoint = "" }, "not an http"},
		{"no scheme", func(s *s3blobs.Settings) { s.Endpoint = "127.0.0.1:9000" }, "not an http"},
		{"host only", func(s *s3blobs.Settings) { s.Endpoint = "minio.internal" }, "not an http"},
		{"other scheme", func(s *s3blobs.Settings) { s.Endpoint = "ftp://minio.internal" }, "not an http"},
		{"with a path", func(s *s3blobs.Settings) { s.Endpoint = "http://minio.internal/ziyuan" }, "no path"},
		{"with credentials", func(s *s3blobs.Settings) { s.Endpoint = "http://user:pass@minio.internal" }, "no path, query or credentials"},
		{"bad bucket", func(s *s3blobs.Settings) { s.Bucket = "Not_A_Bucket" }, "bucket"},
		{"no bucket", func(s *s3blobs.Settings) { s.Bucket = "" }, "bucket"},
		{"no access key", func(s *s3blobs.Settings) { s.AccessKey = "" }, "access key"},
		{"no secret key", func(s *s3blobs.Settings) { s.SecretKey = "" }, "secret key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ok
			tt.change(&s)
			start := time.Now()
			_, err := s3blobs.New(context.Background(), s)
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("New: %v, want an error saying %q", err, tt.says)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("refusing bad settings took %s: it went to the network", d)
			}
		})
	}
}

// TestS3Unreachable needs no server: a store that refuses connections or never answers is an
// error within the timeout, naming the endpoint, not a hang.
func TestS3Unreachable(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + closed.Addr().String()
	closed.Close()
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	for _, tt := range []struct {
		name, endpoint, says string
	}{
		{"refused", refused, "connection refused"},
		{"silent", "http://" + silent.Addr().String(), "no answer from"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := s3blobs.New(context.Background(), s3blobs.Settings{Endpoint: tt.endpoint, Bucket: "ziyuan",
				AccessKey: "k", SecretKey: "secret-key", Timeout: 500 * time.Millisecond})
			if err == nil || !strings.Contains(err.Error(), tt.says) || !strings.Contains(err.Error(), tt.endpoint) {
				t.Fatalf("New: %v; want an error saying %q and naming %s", err, tt.says, tt.endpoint)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("New took %s against an unreachable store", d)
			}
		})
	}
}

// TestMinIOStoreGoesAway cuts a store off that was there at start, before a request or in the
// middle of an upload: every operation fails within its timeout with a clear error, and
// nothing half-written remains.
func TestMinIOStoreGoesAway(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		breakIt func(*s3test.Relay)
		onlyPut bool
		says    string
	}{
		{"refused", (*s3test.Relay).Cut, false, "s3blobs:"},
		{"silent", (*s3test.Relay).Hang, false, "s3blobs:"},
		{"cut mid-upload", func(r *s3test.Relay) { r.CutAfter(1 << 20) }, true, "s3blobs: put"},
		{"stalled mid-upload", func(r *s3test.Relay) { r.HangAfter(1 << 20) }, true, "made no progress"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := s3test.Settings(t)
			relay, endpoint := s3test.NewRelay(t, s.Endpoint)
			viaRelay := s
			viaRelay.Endpoint, viaRelay.Timeout = endpoint, time.Second
			b := s3test.Open(t, viaRelay)
			kept := []byte("在断开之前存入")
			keptSum := blobstest.Sum(kept)
			if err := b.Put(ctx, keptSum, bytes.NewReader(kept), int64(len(kept))); err != nil {
				t.Fatal(err)
			}
			if err := b.Ready(ctx); err != nil {
				t.Fatalf("Ready before the store went away: %v", err)
			}
			tt.breakIt(relay)
			data := bytes.Repeat([]byte("断线时上传的课件。"), 200_000) // 5.4 MB
			sum := blobstest.Sum(data)
			ops := []struct {
				name string
				do   func() error
			}{
				{"Put", func() error { return b.Put(ctx, sum, bytes.NewReader(data), int64(len(data))) }},
				{"Stat", func() error { _, err := b.Stat(ctx, keptSum); return err }},
				{"Open", func() error { _, err := b.Open(ctx, keptSum); return err }},
				{"Delete", func() error { return b.Delete(ctx, keptSum) }},
				{"Ready", func() error { return b.Ready(ctx) }},
			}
			if tt.onlyPut {
				ops = ops[:1]
			}
			for _, op := range ops {
				start := time.Now()
				err := op.do()
				if err == nil || !errors.Is(err, files.ErrUnavailable) || !strings.Contains(err.Error(), tt.says) {
					t.Errorf("%s: %v; want an error saying %q", op.name, err, tt.says)
				}
				if d := time.Since(start); d > 15*time.Second {
					t.Errorf("%s took %s", op.name, d)
				}
				t.Logf("%s: %v (%s)", op.name, err, time.Since(start).Round(time.Millisecond))
			}
			want := "sha256/" + keptSum[:2] + "/" + keptSum[2:4] + "/" + keptSum
			if got := s3test.Stored(t, s); len(got) != 1 || got[0] != want {
				t.Errorf("the bucket holds %v, want only %s, stored before", got, want)
			}
		})
	}
}

func TestMinIOPresign(t *testing.T) {
	ctx := context.Background()
	s := s3test.Settings(t)
	b := s3test.Open(t, s)
	data := []byte("# 光合作用\n\n绿色植物在光下制造有机物。\n")
	sum := blobstest.Sum(data)
	if err := b.Put(ctx, sum, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, fileName, mimeType, wantType string
	}{
		{"chinese", "光合作用.md", "text/markdown; charset=utf-8", "text/markdown; charset=utf-8"},
		{"quotes", `the "best" lesson.pdf`, "application/pdf", "application/pdf"},
		{"newlines", "a\r\nContent-Type: text/html\r\n\r\n<script>.md", "text/plain", "text/plain"},
		{"slashes", `../..\etc/passwd`, "text/plain", "text/plain"},
		{"separators", "100% 完成; a=b, @home.md", "text/markdown", "text/markdown"},
		{"very long", strings.Repeat("很长的文件名", 100) + ".pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation",
			"application/vnd.openxmlformats-officedocument.presentationml.presentation"},
		{"no type", "file", "", "application/octet-stream"},
		{"header in type", "x.txt", "text/plain\r\nX-Injected: 1", "application/octet-stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			link, err := b.Presign(ctx, sum, tt.fileName, tt.mimeType, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if u, err := url.Parse(link); err != nil || u.Scheme+"://"+u.Host != s.Endpoint {
				t.Fatalf("link %q is not on the store %s", link, s.Endpoint)
			}
			res, err := http.Get(link)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || !bytes.Equal(got, data) {
				t.Fatalf("GET presigned: %d %q", res.StatusCode, got)
			}
			if ct := res.Header.Get("Content-Type"); ct != tt.wantType {
				t.Errorf("Content-Type %q, want %q", ct, tt.wantType)
			}
			cd := res.Header.Get("Content-Disposition")
			if cd != files.Attachment(tt.fileName) {
				t.Errorf("Content-Disposition %q, want %q", cd, files.Attachment(tt.fileName))
			}
			if disp, params, err := mime.ParseMediaType(cd); err != nil || disp != "attachment" || params["filename"] != tt.fileName {
				t.Errorf("Content-Disposition %q parses as %q %q (%v)", cd, disp, params, err)
			}
			if res.Header.Get("X-Injected") != "" {
				t.Error("a header was injected through the MIME type")
			}
		})
	}

	t.Run("tampered", func(t *testing.T) {
		link, err := b.Presign(ctx, sum, "教案.md", "text/markdown", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(link)
		q := u.Query()
		q.Set("response-content-type", "text/html")
		u.RawQuery = q.Encode()
		if status := get(t, u.String()); status != http.StatusForbidden {
			t.Errorf("a link with a changed response type: %d, want 403", status)
		}
	})
	t.Run("expired", func(t *testing.T) {
		link, err := b.Presign(ctx, sum, "教案.md", "text/markdown", time.Second)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(2100 * time.Millisecond)
		if status := get(t, link); status != http.StatusForbidden {
			t.Errorf("an expired link: %d, want 403", status)
		}
	})
	t.Run("bad sum", func(t *testing.T) {
		if _, err := b.Presign(ctx, "../"+sum[3:], "x", "text/plain", time.Minute); !errors.Is(err, files.ErrBadSum) {
			t.Errorf("Presign: %v, want ErrBadSum", err)
		}
	})
}

func get(t *testing.T, link string) int {
	t.Helper()
	res, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// TestS3PutOnTheWire watches Put from the server's side, without MinIO: the declared sum goes
// out as the signed x-amz-content-sha256 (the store verifies it too), and on a mismatch the
// body stops short of its Content-Length, so no store could take the request as complete.
func TestS3PutOnTheWire(t *testing.T) {
	type put struct {
		sha256       string
		length, read int64
		complete     bool
	}
	puts := make(chan put, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/ziyuan/" && r.Method == http.MethodHead:
			w.WriteHeader(http.StatusOK)
		case r.Method == http.MethodHead:
			w.WriteHeader(http.StatusNotFound)
		case r.Method == http.MethodPut:
			n, err := io.Copy(io.Discard, r.Body)
			puts <- put{r.Header.Get("X-Amz-Content-Sha256"), r.ContentLength, n, err == nil}
			w.Header().Set("ETag", `"0"`)
			w.WriteHeader(http.StatusOK)
		default:
			http.Error(w, "unexpected", http.StatusBadRequest)
		}
	}))
	defer srv.Close()
	b, err := s3blobs.New(context.Background(), s3blobs.Settings{Endpoint: srv.URL, Bucket: "ziyuan", Region: "us-east-1",
		AccessKey: "k", SecretKey: "secret-key"})
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("课堂练习"), 100_000)
	sum := blobstest.Sum(data)
	flipped := bytes.Clone(data)
	flipped[len(flipped)-1] ^= 1

	if err := b.Put(context.Background(), sum, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	if got := <-puts; got != (put{sum, int64(len(data)), int64(len(data)), true}) {
		t.Errorf("a good Put arrived as %+v", got)
	}
	if err := b.Put(context.Background(), sum, bytes.NewReader(flipped), int64(len(data))); !errors.Is(err, files.ErrSumMismatch) {
		t.Fatalf("Put of other content: %v", err)
	}
	select {
	case got := <-puts:
		if got.complete || got.read >= got.length {
			t.Errorf("a refused Put reached the server whole: %+v", got)
		}
	case <-time.After(10 * time.Second):
		t.Error("the server never saw the refused Put end")
	}
}
