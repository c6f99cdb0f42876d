// Package s3test gives tests a bucket of their own on the MinIO server that `make test` starts
// (.ci/with-minio), a way to see everything a bucket holds, and a TCP relay that can cut the
// store off mid-test.
//
// Without ZIYUAN_TEST_S3_ENDPOINT the tests that need the server skip, unless
// ZIYUAN_REQUIRE_MINIO=1 (make test), where skipping would hide that they never ran: they fail.
// Their names start with TestMinIO so that .ci/gotest can count them.
package s3test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"net/url"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"ziyuan/market/files/s3blobs"
)

// Settings returns settings for a new, not yet created bucket on the test server; the bucket
// and everything in it are removed when the test ends.
func Settings(t testing.TB) s3blobs.Settings {
	t.Helper()
	endpoint := os.Getenv("ZIYUAN_TEST_S3_ENDPOINT")
	if endpoint == "" {
		if os.Getenv("ZIYUAN_REQUIRE_MINIO") == "1" {
			t.Fatal("ZIYUAN_TEST_S3_ENDPOINT is not set but ZIYUAN_REQUIRE_MINIO=1: run the tests with `make test` or .ci/with-minio")
		}
		t.Skip("MinIO tests skipped: run them with `.ci/with-minio go test …` (make test does)")
	}
	var b [8]byte
	rand.Read(b[:])
	s := s3blobs.Settings{
		Endpoint:  endpoint,
		Bucket:    "ziyuan-test-" + hex.EncodeToString(b[:]),
		AccessKey: os.Getenv("ZIYUAN_TEST_S3_ACCESS_KEY"),
		SecretKey: os.Getenv("ZIYUAN_TEST_S3_SECRET_KEY"),
	}
	t.Cleanup(func() { removeBucket(t, s) })
	return s
}

// New returns a store on a bucket of the test's own.
func New(t testing.TB) *s3blobs.Blobs {
	t.Helper()
	return Open(t, Settings(t))
}

// Open returns a store with the given settings, failing the test when it cannot.
func Open(t testing.TB, s s3blobs.Settings) *s3blobs.Blobs {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := s3blobs.New(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func client(t testing.TB, s s3blobs.Settings) *minio.Client {
	t.Helper()
	u, err := url.Parse(s.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	c, err := minio.New(u.Host, &minio.Options{Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""), Secure: u.Scheme == "https"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// BucketExists reports whether the settings' bucket exists.
func BucketExists(t testing.TB, s s3blobs.Settings) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ok, err := client(t, s).BucketExists(ctx, s.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// Stored lists everything in the settings' bucket, whatever the prefix: object keys, and
// "upload:" plus the key of each unfinished multipart upload. A bucket that does not exist
// holds nothing.
func Stored(t testing.TB, s s3blobs.Settings) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := client(t, s)
	if ok, err := c.BucketExists(ctx, s.Bucket); err != nil {
		t.Fatal(err)
	} else if !ok {
		return nil
	}
	var out []string
	for o := range c.ListObjects(ctx, s.Bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		out = append(out, o.Key)
	}
	for u := range c.ListIncompleteUploads(ctx, s.Bucket, "", true) {
		if u.Err != nil {
			t.Fatal(u.Err)
		}
		out = append(out, "upload:"+u.Key)
	}
	sort.Strings(out)
	return out
}

func removeBucket(t testing.TB, s s3blobs.Settings) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := client(t, s)
	if ok, err := c.BucketExists(ctx, s.Bucket); err != nil || !ok {
		return
	}
	objects := make(chan minio.ObjectInfo)
	go func() {
		defer close(objects)
		for o := range c.ListObjects(ctx, s.Bucket, minio.ListObjectsOptions{Recursive: true}) {
			if o.Err == nil {
				objects <- o
			}
		}
	}()
	for e := range c.RemoveObjects(ctx, s.Bucket, objects, minio.RemoveObjectsOptions{}) {
		t.Logf("remove %s: %v", e.ObjectName, e.Err)
	}
	if err := c.RemoveBucket(ctx, s.Bucket); err != nil {
		t.Logf("remove bucket %s: %v", s.Bucket, err)
	}
}

// Relay forwards TCP connections to a server until it is cut, so a test can make a store that
// was reachable at start disappear, or hang without answering.
type Relay struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	mode  relayMode
	conns map[net.Conn]bool
	wg    sync.WaitGroup
	// A byte budget for what clients send, and what happens when it is spent.
	limited bool
	budget  int64
	then    relayMode
	// stopped is closed when the relay closes, releasing connections it holds hanging.
	stopped chan struct{}
}

type relayMode int

const (
	forward relayMode = iota
	refuse
	hang
)

// NewRelay relays to the host of endpoint (an http:// URL) and returns the relay with its
// own endpoint URL. It stops when the test ends.
func NewRelay(t testing.TB, endpoint string) (*Relay, string) {
	t.Helper()
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &Relay{ln: ln, target: u.Host, conns: map[net.Conn]bool{}, stopped: make(chan struct{})}
	r.wg.Go(r.accept)
	t.Cleanup(r.close)
	return r, u.Scheme + "://" + ln.Addr().String()
}

func (r *Relay) accept() {
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		r.mu.Lock()
		mode := r.mode
		if mode == refuse {
			r.mu.Unlock()
			c.Close()
			continue
		}
		r.conns[c] = true
		r.mu.Unlock()
		if mode == hang {
			// Read and drop whatever comes, never answer: a store that has stopped responding.
			r.wg.Go(func() { io.Copy(io.Discard, c) })
			continue
		}
		r.wg.Go(func() { r.pipe(c) })
	}
}

func (r *Relay) pipe(c net.Conn) {
	s, err := net.DialTimeout("tcp", r.target, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	r.mu.Lock()
	if r.mode != forward {
		r.mu.Unlock()
		c.Close()
		s.Close()
		return
	}
	r.conns[s] = true
	r.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { io.Copy(s, &upstream{r: r, c: c}); done <- struct{}{} }()
	go func() { io.Copy(c, s); done <- struct{}{} }()
	<-done
	c.Close()
	s.Close()
	<-done
	r.mu.Lock()
	delete(r.conns, c)
	delete(r.conns, s)
	r.mu.Unlock()
}

// upstream reads what a client sends, counting it against the relay's budget: once a
// limit set by CutAfter or HangAfter is spent, the relay cuts or hangs mid-request.
type upstream struct {
	r *Relay
	c net.Conn
}

func (u *upstream) Read(p []byte) (int, error) {
	u.r.mu.Lock()
	limited, left, then := u.r.limited, u.r.budget, u.r.then
	u.r.mu.Unlock()
	if limited && left <= 0 {
		if then == hang {
			// Stop reading: the client's writes block once the socket buffers are full.
			<-u.r.stopped
			return 0, io.EOF
		}
		u.r.set(refuse)
		return 0, io.EOF
	}
	if limited && int64(len(p)) > left {
		p = p[:left]
	}
	n, err := u.c.Read(p)
	u.r.mu.Lock()
	u.r.budget -= int64(n)
	u.r.mu.Unlock()
	return n, err
}

// CutAfter forwards n more bytes from clients, then drops every connection and refuses new
// ones: a store that goes away in the middle of an upload.
func (r *Relay) CutAfter(n int64) { r.limit(n, refuse) }

// HangAfter forwards n more bytes from clients, then stops reading from them without closing
// anything: a store that stalls in the middle of an upload.
func (r *Relay) HangAfter(n int64) { r.limit(n, hang) }

func (r *Relay) limit(n int64, then relayMode) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.limited, r.budget, r.then = true, n, then
}

// Cut drops every open connection; later ones are refused at once.
func (r *Relay) Cut() { r.set(refuse) }

// Hang drops every open connection; later ones are accepted and never answered.
func (r *Relay) Hang() { r.set(hang) }

func (r *Relay) set(m relayMode) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mode = m
	for c := range r.conns {
		c.Close()
		delete(r.conns, c)
	}
}

func (r *Relay) close() {
	close(r.stopped)
	r.ln.Close()
	r.set(refuse)
	r.wg.Wait()
}
