package web_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"ziyuan/market/oai/oaitest"
)

// FuzzOAIArguments sends arbitrary OAI-PMH arguments, as a query string and as a form body, to a
// server over a real database with records in it: never a 500 (nor any status but 200), never a
// document encoding/xml cannot parse.
func FuzzOAIArguments(f *testing.F) {
	e := newEnv(f, openDB(f))
	lesson := e.publishSample(f, "模糊测试教案")
	for _, s := range []string{
		"verb=Identify", "verb=ListSets", "verb=ListMetadataFormats&identifier=oai:ziyuan.test:" + lesson,
		"verb=GetRecord&metadataPrefix=lom&identifier=oai:ziyuan.test:" + lesson,
		"verb=ListRecords&metadataPrefix=oai_dc&from=2026-01-01&until=2027-01-01&set=stage:junior-secondary:mathematics",
		"verb=ListIdentifiers&resumptionToken=eyJ2IjoiTGlzdElkZW50aWZpZXJzIn0.AAAA",
		"verb=ListRecords&metadataPrefix=oai_dc&from=2026-09-01T08:00:00Z&until=2026-09-01",
		"verb=GetRecord&identifier=%00%01%FF&metadataPrefix=%3C%3E", "verb=%E2%80%8B", "verb=Identify;x=1", "%zz=1&verb=Identify",
		"verb=ListSets&verb=ListSets", "verb=ListRecords&set=" + strings.Repeat("a:", 300), "verb=GetRecord&identifier=oai:ziyuan.test:%EF%BF%BE&metadataPrefix=oai_dc",
		"", "&&&", "=", "verb=ListRecords&metadataPrefix=oai_dc&set=" + strings.Repeat("x", 20000),
	} {
		f.Add(s)
	}
	srv := oaiServer(e, "ziyuan.test", 2)
	f.Fuzz(func(t *testing.T, raw string) {
		post := httptest.NewRequest("POST", "/oai", strings.NewReader(raw))
		post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		reqs := []*http.Request{post}
		// As a client would send it: bytes a URL cannot carry are escaped. A request line
		// longer than the server's 16 KiB read buffer is refused before any handler runs, so
		// only the POST carries arguments that long.
		if q := escapeForURL(raw); len(q) <= 12<<10 {
			get := httptest.NewRequest("GET", "/oai", nil)
			get.URL.RawQuery = q
			reqs = append(reqs, get)
		}
		for _, req := range reqs {
			res, err := srv.App().Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			doc, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Fatalf("%s %q: status %d\n%s", req.Method, raw, res.StatusCode, doc)
			}
			if err := oaitest.WellFormed(doc); err != nil {
				t.Fatalf("%s %q: %v\n%s", req.Method, raw, err, doc)
			}
		}
	})
}

// escapeForURL percent-encodes the bytes that may not appear in a request line.
func escapeForURL(s string) string {
	var b bytes.Buffer
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '#' {
			b.WriteString("%" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])))
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}
