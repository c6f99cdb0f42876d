package web_test

import (
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"ziyuan/market"
	"ziyuan/market/files"
	"ziyuan/market/files/s3blobs/s3test"
)

// TestMinIODownload runs a download end to end with the files in MinIO: publish with a file,
// claim, and the download redirects to a presigned URL of the store that yields the file as a
// named attachment. The market still decides first: no link for who may not download.
func TestMinIODownload(t *testing.T) {
	blobs := s3test.New(t)
	e := newEnvWith(t, openDB(t), func(o *market.Options) { o.Blobs = blobs })
	endpoint := os.Getenv("ZIYUAN_TEST_S3_ENDPOINT")

	const name = "光合作用 教学设计.md"
	var r market.Resource
	decode(t, e.do(t, "POST", "/api/v1/resources", e.tokens["li.teacher"],
		multipartResource(t, sampleMeta("光合作用教学设计"), map[string][]byte{name: []byte(lessonMarkdown)})), 201, &r)
	if len(r.Files) != 1 || r.Files[0].Name != name {
		t.Fatalf("created %+v", r.Files)
	}
	// A draft is not for others: refused before any link exists.
	wantError(t, e.do(t, "GET", "/api/v1/resources/"+r.ID+"/download", e.tokens["chen.teacher"], nil), 404, "not_found")
	decode(t, e.do(t, "POST", "/api/v1/resources/"+r.ID+"/submit", e.tokens["li.teacher"], jsonBody(map[string]bool{"pledge": true})), 200, nil)
	decode(t, e.do(t, "POST", "/api/v1/resources/"+r.ID+"/review", e.tokens["zhou.reviewer"], jsonBody(approveDecision())), 200, nil)
	decode(t, e.do(t, "POST", "/api/v1/resources/"+r.ID+"/claim", e.tokens["chen.teacher"], nil), 201, nil)
	wantError(t, e.do(t, "GET", "/api/v1/resources/"+r.ID+"/download", "", nil), 401, "unauthenticated")

	fetch := func(t *testing.T, res *http.Response) {
		t.Helper()
		link := res.Header.Get("Location")
		if res.StatusCode != http.StatusFound || !strings.HasPrefix(link, endpoint+"/") || res.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("download: %d, Location %q, Cache-Control %q; want 302 to %s", res.StatusCode, link, res.Header.Get("Cache-Control"), endpoint)
		}
		if u, _ := url.Parse(link); !strings.Contains(u.Path, r.Files[0].SHA256) || u.Query().Get("X-Amz-Expires") != "300" {
			t.Errorf("link %q is not a presigned link to the file for 5 minutes", link)
		}
		got, err := http.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(got.Body)
		got.Body.Close()
		if got.StatusCode != 200 || string(data) != lessonMarkdown {
			t.Fatalf("GET %s: %d %q", link, got.StatusCode, data)
		}
		if ct := got.Header.Get("Content-Type"); ct != r.Files[0].MIME {
			t.Errorf("Content-Type %q, want %q", ct, r.Files[0].MIME)
		}
		if _, params, err := mime.ParseMediaType(got.Header.Get("Content-Disposition")); err != nil || params["filename"] != name ||
			got.Header.Get("Content-Disposition") != files.Attachment(name) {
			t.Errorf("Content-Disposition %q (%v)", got.Header.Get("Content-Disposition"), err)
		}
	}
	t.Run("api", func(t *testing.T) {
		fetch(t, e.do(t, "GET", "/api/v1/resources/"+r.ID+"/download", e.tokens["chen.teacher"], nil))
	})
	t.Run("page", func(t *testing.T) {
		b := e.browser()
		b.login(t, "sun.student")
		res, _ := b.do(t, "GET", "/resources/"+r.ID+"/download", nil)
		fetch(t, res)
	})
	var after market.Resource
	decode(t, e.do(t, "GET", "/api/v1/resources/"+r.ID, "", nil), 200, &after)
	if after.Downloads != 2 {
		t.Errorf("downloads = %d, want 2 (the claimant and the student)", after.Downloads)
	}
}
