package market_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"ziyuan/market"
	"ziyuan/market/files/s3blobs/s3test"
	"ziyuan/market/markettest"
	"ziyuan/market/store"
	"ziyuan/market/store/storetest"
)

// TestMinIOUploadFailsCleanly publishes through an S3 store that fails: a file that cannot be
// read to its end, and a store that goes away or stops answering. Each upload is a clear error
// (unavailable when the store is down, within the store's timeout), and none leaves a
// resource or a blob behind; an existing file's download fails the same way, not with a hang.
func TestMinIOUploadFailsCleanly(t *testing.T) {
	s := s3test.Settings(t)
	relay, endpoint := s3test.NewRelay(t, s.Endpoint)
	via := s
	via.Endpoint, via.Timeout = endpoint, time.Second
	blobs := s3test.Open(t, via)
	e := markettest.NewWith(t, storetest.Open(t, store.SQLite, market.Schemas()...), func(o *market.Options) { o.Blobs = blobs })
	published := publish(t, e, "li.teacher", lessonMeta("勾股定理", "cc-by"), textUpload("勾股定理.txt", lessonText))
	stored := s3test.Stored(t, s)
	if len(stored) != 1 {
		t.Fatalf("the published file is stored as %v", stored)
	}
	resources := func() int64 {
		var n int64
		if err := e.DB.Raw("SELECT COUNT(*) FROM resources").Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := resources()
	leftNothing := func(t *testing.T) {
		t.Helper()
		if n := resources(); n != before {
			t.Errorf("%d resources after a failed upload, want %d", n, before)
		}
		if got := s3test.Stored(t, s); strings.Join(got, " ") != strings.Join(stored, " ") {
			t.Errorf("the bucket holds %v after a failed upload, want %v", got, stored)
		}
	}

	t.Run("file unreadable midway", func(t *testing.T) {
		broken := textUpload("第二课.txt", strings.Repeat("一元二次方程的解法。", 10_000))
		broken.Open = func() (io.ReadCloser, error) {
			return io.NopCloser(io.MultiReader(strings.NewReader("一元二次方程"), errorReader{errors.New("disk failure")})), nil
		}
		// The first file is stored before the second fails, and must be taken back.
		_, err := e.M.CreateResource(e.As(t, "li.teacher"), lessonMeta("两个文件", "cc-by"),
			[]market.Upload{textUpload("第一课.txt", "全新的第一课内容，尚未存储。"), broken})
		wantCode(t, err, market.CodeInternal)
		leftNothing(t)
	})
	for _, tt := range []struct {
		name    string
		breakIt func()
	}{
		{"store gone", relay.Cut},
		{"store silent", relay.Hang},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.breakIt()
			start := time.Now()
			_, err := e.M.CreateResource(e.As(t, "li.teacher"), lessonMeta("断线上传", "cc-by"),
				[]market.Upload{textUpload("断线.txt", "上传时存储服务不可用。")})
			wantCode(t, err, market.CodeUnavailable)
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("the failed upload took %s", d)
			}
			// The download is authorised and recorded as before; only the link fails.
			ctx := e.As(t, "chen.teacher")
			f, err := e.M.Download(ctx, published.ID, "")
			wantCode(t, err, "")
			_, _, err = e.M.DownloadLink(ctx, f, 5*time.Minute)
			wantCode(t, err, market.CodeUnavailable)
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("upload and download took %s", d)
			}
		})
	}
	relay.Cut()
	leftNothing(t)
}

type errorReader struct{ err error }

func (r errorReader) Read([]byte) (int, error) { return 0, r.err }

// TestMinIODownloadLink checks the market's side of presigned downloads: a store that offers
// links gives one for an authorised file, a blob that has gone is not_found, and the local
// store offers none.
func TestMinIODownloadLink(t *testing.T) {
	blobs := s3test.New(t)
	e := markettest.NewWith(t, storetest.Open(t, store.SQLite, market.Schemas()...), func(o *market.Options) { o.Blobs = blobs })
	r := publish(t, e, "li.teacher", lessonMeta("勾股定理", "cc-by"), textUpload("勾股定理.txt", lessonText))
	ctx := e.As(t, "chen.teacher")
	f, err := e.M.Download(ctx, r.ID, "")
	wantCode(t, err, "")
	link, ok, err := e.M.DownloadLink(ctx, f, 5*time.Minute)
	if err != nil || !ok || !strings.Contains(link, f.SHA256) || !strings.Contains(link, "X-Amz-Signature=") {
		t.Fatalf("DownloadLink = %q, %v, %v", link, ok, err)
	}
	if err := blobs.Delete(context.Background(), f.SHA256); err != nil {
		t.Fatal(err)
	}
	_, _, err = e.M.DownloadLink(ctx, f, 5*time.Minute)
	wantCode(t, err, market.CodeNotFound)

	local := markettest.New(t, storetest.Open(t, store.SQLite, market.Schemas()...))
	if link, ok, err := local.M.DownloadLink(ctx, f, 5*time.Minute); ok || err != nil || link != "" {
		t.Errorf("the local store offers a link: %q, %v, %v", link, ok, err)
	}
}
