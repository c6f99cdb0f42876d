// Package s3blobs keeps the marketplace's content-addressed blobs in an S3-compatible bucket
// (MinIO, Amazon S3, and the S3 APIs of Chinese clouds) and hands out presigned download links,
// so that file bytes go from the store straight to the browser. It implements files.Blobs with
// minio-go, which appears nowhere else.
package s3blobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"

	"ziyuan/market/files"
)

// Settings say where the bucket is.
type Settings struct {
	// Endpoint is the store's URL, http:// or https://, without a path: https://s3.amazonaws.com,
	// http://127.0.0.1:9000.
	Endpoint string
	// Bucket is created on first start when missing.
	Bucket    string
	AccessKey string
	SecretKey string
	// Region may stay empty: the bucket's region is then asked for once.
	Region string
	// Prefix puts the blobs under a folder of the bucket, so that one bucket can serve several
	// deployments (or tests).
	Prefix string
	// Timeout bounds how long a request may make no progress: a metadata request as a whole, an
	// upload or download between two reads of its body. Default 30 s. It is what turns an
	// unreachable or stalled store into an error rather than a hung upload.
	Timeout time.Duration
}

// defaultTimeout is generous for one small request to a store on the same network and still
// short enough for a person waiting on an upload.
const defaultTimeout = 30 * time.Second

// maxSinglePut is S3's limit for one PUT. Put never uses multipart uploads: one request is
// stored whole or not at all, which is what "store nothing on a mismatch" needs, and the
// marketplace's files (at most 200 MiB) are far below the limit.
const maxSinglePut = 5 << 30

// Blobs is a files.Blobs on a bucket. It is safe for concurrent use.
type Blobs struct {
	client  *minio.Client
	core    minio.Core
	bucket  string
	prefix  string
	timeout time.Duration
}

var _ files.Blobs = (*Blobs)(nil)

// New connects to the store and makes sure the bucket exists, creating it when missing. It
// fails with a clear error when the store cannot be reached or refuses the credentials, so a
// misconfigured server stops at start rather than at the first upload.
func New(ctx context.Context, s Settings) (*Blobs, error) {
	u, err := url.Parse(s.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("s3blobs: endpoint %q is not an http:// or https:// URL", s.Endpoint)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("s3blobs: endpoint %q must be a bare URL: no path, query or credentials (give the keys separately)", s.Endpoint)
	}
	if err := s3utils.CheckValidBucketName(s.Bucket); err != nil {
		return nil, fmt.Errorf("s3blobs: bucket %q: %w", s.Bucket, err)
	}
	if s.AccessKey == "" || s.SecretKey == "" {
		return nil, errors.New("s3blobs: the access key and the secret key are required")
	}
	if s.Timeout <= 0 {
		s.Timeout = defaultTimeout
	}
	secure := u.Scheme == "https"
	tr, err := minio.DefaultTransport(secure)
	if err != nil {
		return nil, fmt.Errorf("s3blobs: %w", err)
	}
	// minio-go's defaults (30 s to connect, a minute for response headers, ten retries) let an
	// unreachable store hold a request for many minutes.
	tr.DialContext = (&net.Dialer{Timeout: min(s.Timeout, 10*time.Second), KeepAlive: 30 * time.Second}).DialContext
	tr.ResponseHeaderTimeout = s.Timeout
	client, err := minio.New(u.Host, &minio.Options{
		Creds:      credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""),
		Secure:     secure,
		Region:     s.Region,
		Transport:  tr,
		MaxRetries: 3,
	})
	if err != nil {
		return nil, fmt.Errorf("s3blobs: %w", err)
	}
	b := &Blobs{client: client, core: minio.Core{Client: client}, bucket: s.Bucket, prefix: cleanPrefix(s.Prefix), timeout: s.Timeout}
	if err := b.ensureBucket(ctx, s.Region); err != nil {
		return nil, err
	}
	return b, nil
}

func cleanPrefix(p string) string {
	p = strings.Trim(p, "/")
	if p == "" {
		return ""
	}
	return p + "/"
}

func (b *Blobs) ensureBucket(ctx context.Context, region string) error {
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	where := fmt.Sprintf("bucket %q at %s", b.bucket, b.client.EndpointURL().Redacted())
	ok, err := b.client.BucketExists(ctx, b.bucket)
	if err != nil {
		return fmt.Errorf("s3blobs: %s: %w", where, b.classify(ctx, err))
	}
	if ok {
		return nil
	}
	err = b.client.MakeBucket(ctx, b.bucket, minio.MakeBucketOptions{Region: region})
	if code := minio.ToErrorResponse(err).Code; code == "BucketAlreadyOwnedByYou" {
		return nil // another instance starting at the same moment made it
	}
	if err != nil {
		return fmt.Errorf("s3blobs: %s is missing and could not be created: %w", where, b.classify(ctx, err))
	}
	return nil
}

// Ready reports whether the bucket answers, for a readiness probe: without its store a server
// can neither take uploads nor hand out downloads.
func (b *Blobs) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	ok, err := b.client.BucketExists(ctx, b.bucket)
	switch {
	case err != nil:
		return fmt.Errorf("s3blobs: bucket %q: %w", b.bucket, b.classify(ctx, err))
	case !ok:
		return fmt.Errorf("s3blobs: bucket %q is gone", b.bucket)
	}
	return nil
}

// key is where a blob lives: the layout of files.LocalBlobs (sha256/ab/cd/<sum>) under the
// prefix, so that a local blob directory can be copied into a bucket as it is.
func (b *Blobs) key(sum string) (string, error) {
	if !files.ValidSum(sum) {
		return "", fmt.Errorf("%w: %q", files.ErrBadSum, sum)
	}
	return b.prefix + "sha256/" + sum[0:2] + "/" + sum[2:4] + "/" + sum, nil
}

// classify marks the failures that mean the store is unavailable — unreachable, silent, too
// slow, overloaded — with files.ErrUnavailable, so that the market answers "try again later"
// rather than reporting an internal error, and names a timeout as such (minio-go reports a
// bare "context deadline exceeded"). ctx is the request's context.
func (b *Blobs) classify(ctx context.Context, err error) error {
	endpoint := b.client.EndpointURL().Redacted()
	switch {
	case errors.Is(err, errStalled):
		return fmt.Errorf("%w: %s: %w", files.ErrUnavailable, endpoint, err)
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("%w: no answer from %s within %s: %w", files.ErrUnavailable, endpoint, b.timeout, err)
	case ctx.Err() != nil:
		return err // the caller gave up
	}
	r := minio.ToErrorResponse(err)
	switch {
	case r.Code == "" && r.StatusCode == 0, // no answer at all: refused, reset, DNS
		r.StatusCode >= 500, r.Code == "SlowDown", r.Code == "XMinioServerNotInitialized":
		return fmt.Errorf("%w: %s: %w", files.ErrUnavailable, endpoint, err)
	}
	return err
}

func notFound(err error) bool {
	switch minio.ToErrorResponse(err).Code {
	case minio.NoSuchKey, "NotFound":
		return true
	}
	return false
}

// Stat implements files.Blobs.
func (b *Blobs) Stat(ctx context.Context, sum string) (int64, error) {
	key, err := b.key(sum)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	info, err := b.client.StatObject(ctx, b.bucket, key, minio.StatObjectOptions{})
	if notFound(err) {
		return 0, fmt.Errorf("%w: %s", files.ErrBlobNotFound, sum)
	}
	if err != nil {
		return 0, fmt.Errorf("s3blobs: stat %s: %w", key, b.classify(ctx, err))
	}
	return info.Size, nil
}

// Delete implements files.Blobs.
func (b *Blobs) Delete(ctx context.Context, sum string) error {
	key, err := b.key(sum)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	if err := b.client.RemoveObject(ctx, b.bucket, key, minio.RemoveObjectOptions{}); err != nil && !notFound(err) {
		return fmt.Errorf("s3blobs: delete %s: %w", key, b.classify(ctx, err))
	}
	return nil
}

// Open implements files.Blobs. The request is made at once, so a missing blob is reported
// here rather than at the first read; reading the body must go on making progress within
// the timeout.
func (b *Blobs) Open(ctx context.Context, sum string) (io.ReadCloser, error) {
	key, err := b.key(sum)
	if err != nil {
		return nil, err
	}
	w := newWatchdog(ctx, b.timeout)
	body, _, _, err := b.core.GetObject(w.ctx, b.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		w.stop()
		if notFound(err) {
			return nil, fmt.Errorf("%w: %s", files.ErrBlobNotFound, sum)
		}
		return nil, fmt.Errorf("s3blobs: open %s: %w", key, b.classify(ctx, w.explain(err)))
	}
	w.touch()
	return &download{body: body, w: w}, nil
}

// download is a blob's body whose reads keep the watchdog quiet.
type download struct {
	body io.ReadCloser
	w    *watchdog
}

func (d *download) Read(p []byte) (int, error) {
	n, err := d.body.Read(p)
	d.w.touch()
	if err != nil && err != io.EOF {
		err = d.w.explain(err)
	}
	return n, err
}

func (d *download) Close() error {
	err := d.body.Close()
	d.w.stop()
	return err
}

// Put implements files.Blobs. The content is streamed in one PUT whose body is checked while
// it is sent: the last byte is held back until the source has ended at the declared size with
// the declared SHA-256, so on any mismatch or read error the store receives less than the
// Content-Length it was promised and keeps nothing. The declared sum also goes out as the
// signed x-amz-content-sha256, which the store verifies on its own.
func (b *Blobs) Put(ctx context.Context, sum string, r io.Reader, size int64) error {
	key, err := b.key(sum)
	if err != nil {
		return err
	}
	if size < 0 {
		return fmt.Errorf("%w: negative size %d", files.ErrSizeMismatch, size)
	}
	if size > maxSinglePut {
		return fmt.Errorf("s3blobs: put %s: %d bytes is more than one S3 upload takes (%d)", key, size, int64(maxSinglePut))
	}
	switch _, err := b.Stat(ctx, sum); {
	case err == nil:
		return nil
	case !errors.Is(err, files.ErrBlobNotFound):
		return err
	}
	w := newWatchdog(ctx, b.timeout)
	defer w.stop()
	v := &verifier{ctx: w.ctx, touch: w.touch, src: r, want: sum, size: size, h: sha256.New()}
	if size == 0 {
		// An empty body is never read by the HTTP client, so check it before sending.
		if err := v.verifyEnd(); err != nil {
			return err
		}
	}
	_, err = b.core.PutObject(w.ctx, b.bucket, key, v, size, "", sum, minio.PutObjectOptions{
		ContentType: "application/octet-stream",
		// The declared sum goes out as x-amz-content-sha256 instead of a streaming signature.
		DisableContentSha256: true,
	})
	// The HTTP client may still hold the body in another goroutine; after this no read
	// reaches r, which belongs to the caller again.
	verr, ok := v.finish()
	switch {
	case errors.Is(verr, errStalled) || errors.Is(verr, context.DeadlineExceeded) || errors.Is(verr, context.Canceled):
		return fmt.Errorf("s3blobs: put %s: %w", key, b.classify(ctx, verr))
	case verr != nil:
		return verr
	case err != nil && minio.ToErrorResponse(err).Code == "XAmzContentSHA256Mismatch":
		return fmt.Errorf("%w: %s: the store computed another SHA-256", files.ErrSumMismatch, sum)
	case err != nil:
		return fmt.Errorf("s3blobs: put %s: %w", key, b.classify(ctx, w.explain(err)))
	case !ok:
		// Unreachable unless the HTTP client sent a body it did not read from v: take back
		// whatever was stored rather than keep an unverified blob.
		b.Delete(context.WithoutCancel(ctx), sum)
		return fmt.Errorf("s3blobs: put %s: the upload ended before its content was verified", key)
	}
	return nil
}

// verifier passes size bytes of src through while hashing them, and holds the last byte back
// until it has seen src end there with the wanted sum. Errors are sticky and reported both
// to the reader (the HTTP client, which then abandons the request) and to Put.
type verifier struct {
	ctx   context.Context
	touch func()
	want  string
	size  int64

	mu       sync.Mutex
	src      io.Reader
	h        hash.Hash
	n        int64 // bytes handed out
	err      error
	verified bool
	done     bool
}

func (v *verifier) Read(p []byte) (int, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.touch()
	switch {
	case v.err != nil:
		return 0, v.err
	case v.done:
		return 0, errors.New("s3blobs: read after the upload ended")
	case v.n == v.size:
		return 0, io.EOF
	case len(p) == 0:
		return 0, nil
	}
	if v.ctx.Err() != nil {
		// The cause says whether the caller gave up or the watchdog stopped a stalled upload.
		return 0, v.fail(context.Cause(v.ctx))
	}
	if left := v.size - v.n; left > 1 {
		p = p[:min(int64(len(p)), left-1)]
		n, err := v.src.Read(p)
		v.h.Write(p[:n])
		v.n += int64(n)
		switch {
		case err == io.EOF:
			return n, v.fail(fmt.Errorf("%w: %s: got %d bytes, declared %d", files.ErrSizeMismatch, v.want, v.n, v.size))
		case err != nil:
			return n, v.fail(fmt.Errorf("s3blobs: read the content of %s: %w", v.want, err))
		}
		return n, nil
	}
	var last [1]byte
	if _, err := io.ReadFull(v.src, last[:]); err != nil {
		if err == io.EOF {
			return 0, v.fail(fmt.Errorf("%w: %s: got %d bytes, declared %d", files.ErrSizeMismatch, v.want, v.n, v.size))
		}
		return 0, v.fail(fmt.Errorf("s3blobs: read the content of %s: %w", v.want, err))
	}
	v.h.Write(last[:])
	if err := v.verifyEnd(); err != nil {
		return 0, err
	}
	p[0] = last[0]
	v.n++
	return 1, nil
}

// verifyEnd checks that src has nothing after the declared size and that the content hashed
// so far has the wanted sum. It is called with the last byte read but not yet handed out.
func (v *verifier) verifyEnd() error {
	var extra [1]byte
	switch n, err := io.ReadFull(v.src, extra[:]); {
	case n > 0:
		return v.fail(fmt.Errorf("%w: %s: more than the declared %d bytes", files.ErrSizeMismatch, v.want, v.size))
	case err != io.EOF:
		return v.fail(fmt.Errorf("s3blobs: read the content of %s: %w", v.want, err))
	}
	if got := hex.EncodeToString(v.h.Sum(nil)); got != v.want {
		return v.fail(fmt.Errorf("%w: declared %s, content %s", files.ErrSumMismatch, v.want, got))
	}
	v.verified = true
	return nil
}

func (v *verifier) fail(err error) error {
	v.err = err
	return err
}

// finish stops further reads and says how the body went: its error, and whether every byte
// was handed out after verification.
func (v *verifier) finish() (error, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.done = true
	return v.err, v.verified && v.n == v.size
}

// watchdog cancels its context when nothing has happened for a while. An upload to a store
// that stops reading blocks in a socket write where no deadline reaches; cancelling the
// request's context does.
type watchdog struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	timer  *time.Timer
	after  time.Duration
}

var errStalled = errors.New("the store made no progress")

func newWatchdog(ctx context.Context, after time.Duration) *watchdog {
	w := &watchdog{after: after}
	w.ctx, w.cancel = context.WithCancelCause(ctx)
	w.timer = time.AfterFunc(after, func() { w.cancel(fmt.Errorf("%w for %s", errStalled, after)) })
	return w
}

func (w *watchdog) touch() { w.timer.Reset(w.after) }

func (w *watchdog) stop() {
	w.timer.Stop()
	w.cancel(context.Canceled)
}

// explain replaces the bare "context canceled" of a request the watchdog stopped by the reason.
func (w *watchdog) explain(err error) error {
	if cause := context.Cause(w.ctx); errors.Is(cause, errStalled) {
		return fmt.Errorf("%w (%v)", cause, err)
	}
	return err
}

// Presign returns a URL that fetches the blob directly from the store until ttl has passed,
// with the response headers of a download: Content-Disposition (files.Attachment of fileName)
// and Content-Type. The URL carries its own signature, so it is handed only to a user the
// market has authorised. It needs no request to the store.
func (b *Blobs) Presign(ctx context.Context, sum, fileName, mimeType string, ttl time.Duration) (string, error) {
	key, err := b.key(sum)
	if err != nil {
		return "", err
	}
	if _, _, err := mime.ParseMediaType(mimeType); err != nil {
		mimeType = "application/octet-stream"
	}
	q := url.Values{
		"response-content-disposition": {files.Attachment(fileName)},
		"response-content-type":        {mimeType},
		"response-cache-control":       {"private, max-age=" + fmt.Sprint(int(ttl.Seconds()))},
	}
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	u, err := b.client.PresignedGetObject(ctx, b.bucket, key, ttl, q)
	if err != nil {
		return "", fmt.Errorf("s3blobs: presign %s: %w", key, err)
	}
	return u.String(), nil
}
