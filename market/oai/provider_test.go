package oai_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"ziyuan/catalog"
	"ziyuan/market"
	"ziyuan/market/oai"
	"ziyuan/market/oai/oaitest"
)

// fakeRepo is an in-memory Repository, so that the protocol can be tested without a database
// (web's tests run it over the real one).
type fakeRepo struct {
	recs []market.OAIRecord
}

func (f *fakeRepo) match(q market.OAIQuery, r market.OAIRecord) bool {
	return (q.From.IsZero() || !r.Datestamp.Before(q.From)) && (q.Before.IsZero() || r.Datestamp.Before(q.Before)) &&
		(q.Stage == "" || r.Stage == q.Stage) && (q.Subject == "" || r.Subject == q.Subject)
}

func (f *fakeRepo) sorted() []market.OAIRecord {
	out := slices.Clone(f.recs)
	slices.SortFunc(out, func(a, b market.OAIRecord) int {
		if c := a.Datestamp.Compare(b.Datestamp); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

func (f *fakeRepo) OAIRecords(_ context.Context, q market.OAIQuery) ([]market.OAIRecord, error) {
	var out []market.OAIRecord
	for _, r := range f.sorted() {
		if !f.match(q, r) {
			continue
		}
		if c := q.After; c != nil && (r.Datestamp.Before(c.Datestamp) || r.Datestamp.Equal(c.Datestamp) && r.ID <= c.ID) {
			continue
		}
		out = append(out, r)
		if len(out) == q.Limit {
			break
		}
	}
	return out, nil
}

func (f *fakeRepo) OAICount(_ context.Context, q market.OAIQuery) (int64, error) {
	n := int64(0)
	for _, r := range f.recs {
		if f.match(q, r) {
			n++
		}
	}
	return n, nil
}

func (f *fakeRepo) OAIRecord(_ context.Context, id string) (market.OAIRecord, error) {
	for _, r := range f.recs {
		if r.ID == id {
			return r, nil
		}
	}
	return market.OAIRecord{}, market.Errorf(market.CodeNotFound, market.MsgNotFound, "record")
}

func (f *fakeRepo) OAIEarliest(context.Context) (time.Time, bool, error) {
	s := f.sorted()
	if len(s) == 0 {
		return time.Time{}, false, nil
	}
	return s[0].Datestamp, true, nil
}

var t0 = time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)

func record(i int, title, stage, grade, subject string) market.OAIRecord {
	id := fmt.Sprintf("0190a5f2-0000-7000-8000-%012d", i)
	return market.OAIRecord{ID: id, Datestamp: t0.Add(time.Duration(i) * time.Hour), Stage: stage, Subject: subject, Version: 1,
		Meta: market.Meta{Title: title, Summary: title + "的简介", Type: "教案", Stage: stage, Grade: grade, Subject: subject,
			Language: "zh", Keywords: []string{"示例", "测试"}, Offer: market.Offer{License: "cc-by"}},
		Author: "李老师", Institution: "实验小学", Files: []market.FileInfo{{Name: "a.pdf", Size: 10, MIME: "application/pdf"}},
		CreatedAt: t0, PublishedAt: t0.Add(time.Duration(i) * time.Hour)}
}

func fixtures() *fakeRepo {
	r := &fakeRepo{}
	for i := range 7 {
		r.recs = append(r.recs, record(i, fmt.Sprintf("第%d课教案", i), "初中", "八年级", "数学"))
	}
	r.recs = append(r.recs, record(7, "古诗两首", "小学", "三年级", "语文"))
	gone := record(8, "已下架", "初中", "七年级", "数学")
	gone.Deleted = true
	r.recs = append(r.recs, gone)
	return r
}

type harness struct {
	t   *testing.T
	p   *oai.Provider
	now time.Time
}

func newHarness(t *testing.T, repo oai.Repository, tax *catalog.Taxonomy) *harness {
	h := &harness{t: t, now: t0.Add(48 * time.Hour)}
	p, err := oai.NewProvider(repo, oai.Config{RepositoryID: "ziyuan.test", Key: []byte("0123456789abcdef0123456789abcdef"),
		Taxonomy: tax, PageSize: 3, Clock: func() time.Time { return h.now }})
	if err != nil {
		t.Fatal(err)
	}
	h.p = p
	return h
}

func (h *harness) get(query string) []byte {
	h.t.Helper()
	args, err := url.ParseQuery(query)
	doc, serr := h.p.Serve(context.Background(), oai.Request{BaseURL: "http://ziyuan.test/oai", SiteURL: "http://ziyuan.test", Args: args, ArgsErr: err})
	if serr != nil {
		h.t.Fatalf("%s: %v", query, serr)
	}
	if err := oaitest.WellFormed(doc); err != nil {
		h.t.Fatalf("%s: %v\n%s", query, err, doc)
	}
	return doc
}

// TestProviderEveryVerbValidates runs every verb (and the paging of the lists) on both formats
// and validates all answers against the schemas.
func TestProviderEveryVerbValidates(t *testing.T) {
	h := newHarness(t, fixtures(), catalog.DefaultTaxonomy())
	docs := map[string][]byte{}
	for _, q := range []string{
		"verb=Identify",
		"verb=ListMetadataFormats",
		"verb=ListMetadataFormats&identifier=oai:ziyuan.test:0190a5f2-0000-7000-8000-000000000001",
		"verb=ListSets",
		"verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:ziyuan.test:0190a5f2-0000-7000-8000-000000000001",
		"verb=GetRecord&metadataPrefix=lom&identifier=oai:ziyuan.test:0190a5f2-0000-7000-8000-000000000001",
		"verb=GetRecord&metadataPrefix=lom&identifier=oai:ziyuan.test:0190a5f2-0000-7000-8000-000000000008",
		"verb=ListRecords&metadataPrefix=oai_dc&set=stage:primary-school",
		"verb=ListIdentifiers&metadataPrefix=lom&from=2026-09-01&until=2026-09-02",
	} {
		docs[q] = h.get(q)
	}
	for _, verb := range []string{"ListRecords", "ListIdentifiers"} {
		for _, prefix := range []string{"oai_dc", "lom"} {
			q := "verb=" + verb + "&metadataPrefix=" + prefix
			for page := 0; q != ""; page++ {
				doc := h.get(q)
				docs[fmt.Sprintf("%s-%s-%d", verb, prefix, page)] = doc
				tok := resumptionToken(t, doc)
				q = ""
				if tok != "" {
					q = "verb=" + verb + "&resumptionToken=" + url.QueryEscape(tok)
				}
				if page > 5 {
					t.Fatal("the list does not end")
				}
			}
		}
	}
	for name, doc := range docs {
		if c := oaitest.ErrorCode(doc); c != "" {
			t.Errorf("%s: error %s\n%s", name, c, doc)
		}
	}
	oaitest.Validate(t, docs)
}

func resumptionToken(t *testing.T, doc []byte) string {
	t.Helper()
	var env struct {
		Lists []struct {
			Token *string `xml:"resumptionToken"`
		} `xml:",any"`
	}
	if err := xml.Unmarshal(doc, &env); err != nil {
		t.Fatal(err)
	}
	for _, l := range env.Lists {
		if l.Token != nil {
			return strings.TrimSpace(*l.Token)
		}
	}
	return ""
}

// TestProviderNoSetHierarchy covers the one error our real repository never gives: a provider
// without a taxonomy has no sets.
func TestProviderNoSetHierarchy(t *testing.T) {
	h := newHarness(t, fixtures(), nil)
	docs := map[string][]byte{}
	for _, q := range []string{"verb=ListSets", "verb=ListRecords&metadataPrefix=oai_dc&set=stage", "verb=ListIdentifiers&metadataPrefix=oai_dc&set=subject:mathematics"} {
		doc := h.get(q)
		if c := oaitest.ErrorCode(doc); c != oai.ErrNoSetHierarchy {
			t.Errorf("%s: %q, want noSetHierarchy\n%s", q, c, doc)
		}
		docs[q] = doc
	}
	oaitest.Validate(t, docs)
}

// TestProviderErrors gives every error condition of the protocol (noSetHierarchy aside, above)
// and validates the answers: errors are documents too, with HTTP 200 (web checks the status).
func TestProviderErrors(t *testing.T) {
	h := newHarness(t, fixtures(), catalog.DefaultTaxonomy())
	first := h.get("verb=ListRecords&metadataPrefix=oai_dc")
	tok := resumptionToken(t, first)
	if tok == "" {
		t.Fatal("no resumption token on the first page")
	}
	tampered := []byte(tok)
	tampered[5] ^= 1
	const id = "oai:ziyuan.test:0190a5f2-0000-7000-8000-000000000001"
	cases := []struct{ query, code string }{
		{"", oai.ErrBadVerb},
		{"verb=Frobnicate", oai.ErrBadVerb},
		{"verb=Identify&verb=ListSets", oai.ErrBadVerb},
		{"verb=Identify&set=stage", oai.ErrBadArgument},
		{"verb=Identify&x=%zz", oai.ErrBadArgument},
		{"verb=ListRecords", oai.ErrBadArgument},
		{"verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=lom", oai.ErrBadArgument},
		{"verb=ListRecords&metadataPrefix=oai%20dc", oai.ErrBadArgument},
		{"verb=ListRecords&metadataPrefix=oai_dc&from=2026-13-01", oai.ErrBadArgument},
		{"verb=ListRecords&metadataPrefix=oai_dc&from=2026-09-01T08:00:00.5Z", oai.ErrBadArgument},
		{"verb=ListRecords&metadataPrefix=oai_dc&from=2026-09-01T08:00:00%2B08:00", oai.ErrBadArgument},
		{"verb=ListRecords&metadataPrefix=oai_dc&from=0000-01-01", oai.ErrBadArgument},
		{"verb=ListRecords&metadataPrefix=oai_dc&from=2026-09-01&until=2026-09-02T00:00:00Z", oai.ErrBadArgument},
		{"verb=ListRecords&metadataPrefix=oai_dc&from=2026-09-03&until=2026-09-02", oai.ErrBadArgument},
		{"verb=ListRecords&metadataPrefix=oai_dc&set=stage::x", oai.ErrBadArgument},
		{"verb=ListRecords&metadataPrefix=oai_dc&resumptionToken=" + url.QueryEscape(tok), oai.ErrBadArgument},
		{"verb=ListIdentifiers&metadataPrefix=oai_dc&identifier=" + id, oai.ErrBadArgument},
		{"verb=GetRecord&metadataPrefix=oai_dc", oai.ErrBadArgument},
		{"verb=GetRecord&identifier=" + id, oai.ErrBadArgument},
		{"verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:ziyuan.test:a%20b", oai.ErrBadArgument},
		{"verb=GetRecord&metadataPrefix=oai_dc&identifier=%01", oai.ErrBadArgument},
		{"verb=ListMetadataFormats&identifier=%3Cx%3E", oai.ErrBadArgument},
		{"verb=ListRecords&resumptionToken=garbage", oai.ErrBadResumptionToken},
		{"verb=ListRecords&resumptionToken=" + url.QueryEscape(string(tampered)), oai.ErrBadResumptionToken},
		{"verb=ListIdentifiers&resumptionToken=" + url.QueryEscape(tok), oai.ErrBadResumptionToken},
		{"verb=ListSets&resumptionToken=x", oai.ErrBadResumptionToken},
		{"verb=ListRecords&metadataPrefix=marc21", oai.ErrCannotDisseminateFormat},
		{"verb=GetRecord&metadataPrefix=marc21&identifier=" + id, oai.ErrCannotDisseminateFormat},
		{"verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:elsewhere.org:0190a5f2-0000-7000-8000-000000000001", oai.ErrIDDoesNotExist},
		{"verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:ziyuan.test:42", oai.ErrIDDoesNotExist},
		{"verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:ziyuan.test:0190a5f2-0000-7000-8000-000000000099", oai.ErrIDDoesNotExist},
		{"verb=ListMetadataFormats&identifier=http://example.org/x", oai.ErrIDDoesNotExist},
		{"verb=ListRecords&metadataPrefix=oai_dc&from=2030-01-01", oai.ErrNoRecordsMatch},
		{"verb=ListIdentifiers&metadataPrefix=lom&until=2020-01-01T00:00:00Z", oai.ErrNoRecordsMatch},
		{"verb=ListRecords&metadataPrefix=oai_dc&set=stage:undergraduate", oai.ErrNoRecordsMatch},
		{"verb=ListRecords&metadataPrefix=oai_dc&set=stage:nowhere", oai.ErrNoRecordsMatch},
		{"verb=ListMetadataFormats&identifier=oai:ziyuan.test:0190a5f2-0000-7000-8000-000000000008", oai.ErrNoMetadataFormats},
	}
	docs := map[string][]byte{}
	for i, c := range cases {
		doc := h.get(c.query)
		if got := oaitest.ErrorCode(doc); got != c.code {
			t.Errorf("%q: error %q, want %q\n%s", c.query, got, c.code, doc)
		}
		// badVerb and badArgument answers must not echo the arguments (section 3.2).
		if (c.code == oai.ErrBadVerb || c.code == oai.ErrBadArgument) && strings.Contains(string(doc), "<request verb=") {
			t.Errorf("%q: the request element echoes arguments\n%s", c.query, doc)
		}
		docs[fmt.Sprintf("case%02d", i)] = doc
	}
	h.now = h.now.Add(2 * time.Hour)
	expired := h.get("verb=ListRecords&resumptionToken=" + url.QueryEscape(tok))
	if oaitest.ErrorCode(expired) != oai.ErrBadResumptionToken || !strings.Contains(string(expired), "expired") {
		t.Errorf("an expired token: %s", expired)
	}
	docs["expired"] = expired
	oaitest.Validate(t, docs)
}

// TestProviderLists checks what the lists hold: every record once in (datestamp, id) order
// across pages, the cursor and complete list size, deleted headers, sets and date windows.
func TestProviderLists(t *testing.T) {
	h := newHarness(t, fixtures(), catalog.DefaultTaxonomy())
	type header struct {
		Status     string   `xml:"status,attr"`
		Identifier string   `xml:"identifier"`
		Datestamp  string   `xml:"datestamp"`
		Sets       []string `xml:"setSpec"`
	}
	var env struct {
		List struct {
			Headers []header `xml:"header"`
			Token   struct {
				Value  string `xml:",chardata"`
				Size   string `xml:"completeListSize,attr"`
				Cursor string `xml:"cursor,attr"`
			} `xml:"resumptionToken"`
		} `xml:"ListIdentifiers"`
	}
	var all []header
	q := "verb=ListIdentifiers&metadataPrefix=oai_dc"
	var cursors []string
	for q != "" {
		env.List.Headers, env.List.Token.Value = nil, ""
		if err := xml.Unmarshal(h.get(q), &env); err != nil {
			t.Fatal(err)
		}
		all = append(all, env.List.Headers...)
		cursors = append(cursors, env.List.Token.Cursor+"/"+env.List.Token.Size)
		q = ""
		if env.List.Token.Value != "" {
			q = "verb=ListIdentifiers&resumptionToken=" + url.QueryEscape(env.List.Token.Value)
		}
	}
	if len(all) != 9 || strings.Join(cursors, " ") != "0/9 3/9 6/9" {
		t.Fatalf("%d headers, cursors %v", len(all), cursors)
	}
	for i, hd := range all {
		want := fmt.Sprintf("oai:ziyuan.test:0190a5f2-0000-7000-8000-%012d", i)
		if hd.Identifier != want || hd.Datestamp != t0.Add(time.Duration(i)*time.Hour).Format("2006-01-02T15:04:05Z") {
			t.Errorf("header %d: %+v", i, hd)
		}
		if (hd.Status == "deleted") != (i == 8) {
			t.Errorf("header %d status %q", i, hd.Status)
		}
	}
	if got := strings.Join(all[7].Sets, " "); got != "stage:primary-school stage:primary-school:chinese subject:chinese" {
		t.Errorf("sets of a primary Chinese lesson: %s", got)
	}
	count := func(q string) int {
		doc := h.get(q)
		return strings.Count(string(doc), "<header")
	}
	for q, want := range map[string]int{
		"verb=ListIdentifiers&metadataPrefix=oai_dc&set=subject:chinese":                                  1,
		"verb=ListIdentifiers&metadataPrefix=oai_dc&set=stage:junior-secondary:mathematics":               3, // first page of 8
		"verb=ListIdentifiers&metadataPrefix=oai_dc&from=2026-09-01T10:00:00Z&until=2026-09-01T11:00:00Z": 2,
		"verb=ListIdentifiers&metadataPrefix=oai_dc&from=2026-09-01T10:00:01Z&until=2026-09-01T11:00:00Z": 1,
		"verb=ListIdentifiers&metadataPrefix=oai_dc&until=2026-09-01":                                     3, // a whole day, paged
	} {
		if got := count(q); got != want {
			t.Errorf("%s: %d headers, want %d", q, got, want)
		}
	}
}

// TestProviderOddArgumentsStayValid feeds arguments a fuzzer likes and requires schema-valid
// answers: whatever a request holds, what we echo must fit the request element's types.
func TestProviderOddArgumentsStayValid(t *testing.T) {
	h := newHarness(t, fixtures(), catalog.DefaultTaxonomy())
	docs := map[string][]byte{}
	for i, q := range []string{
		"verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:ziyuan.test:%7Bx%7D",
		"verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:ziyuan.test:%5Cx%5E%7C",
		"verb=GetRecord&metadataPrefix=oai_dc&identifier=%E4%B8%AD%E6%96%87",
		"verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:ziyuan.test:%25zz",
		"verb=GetRecord&metadataPrefix=oai_dc&identifier=%23frag",
		"verb=GetRecord&metadataPrefix=oai_dc&identifier=::::",
		"verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:ziyuan.test:%EF%BF%BE",
		"verb=ListMetadataFormats&identifier=http://[::1",
		"verb=ListRecords&resumptionToken=%E2%80%8B%F0%9F%98%80",
		"verb=ListRecords&resumptionToken=%0A%0D%09",
		"verb=ListRecords&metadataPrefix=oai_dc&set=!~*'()",
		"verb=ListRecords&metadataPrefix=!~*'()",
		"verb=ListRecords&metadataPrefix=oai_dc&from=9999-12-31T23:59:59Z",
		"verb=ListRecords&metadataPrefix=oai_dc&until=0001-01-01",
		"verb=Identify&verb=%00",
		"verb=%FF",
	} {
		docs[fmt.Sprintf("odd%02d", i)] = h.get(q)
	}
	oaitest.Validate(t, docs)
}

// TestProviderOddRecordsStayValid disseminates records holding what market lets through but XML
// and the schemas do not like: control characters, markup, a language that is no tag, no
// institution, no files.
func TestProviderOddRecordsStayValid(t *testing.T) {
	odd := record(1, "标题\x01<b>&amp;\"'\uFFFE", "初中", "八年级", "数学")
	odd.Meta.Language = "中文"
	odd.Meta.Summary = "第一行\r\n第二行\t]]>"
	odd.Meta.Keywords = []string{"<script>", "a\x7fb"}
	odd.Meta.Chapter = "第三章 & 附录"
	odd.Author, odd.Institution, odd.Files = "", "", nil
	odd.Meta.Offer = market.Offer{License: "paid", Prices: &market.Prices{Personal: 100}}
	h := newHarness(t, &fakeRepo{recs: []market.OAIRecord{odd}}, catalog.DefaultTaxonomy())
	docs := map[string][]byte{}
	for _, prefix := range []string{"oai_dc", "lom"} {
		docs[prefix] = h.get("verb=GetRecord&metadataPrefix=" + prefix + "&identifier=oai:ziyuan.test:" + odd.ID)
		if c := oaitest.ErrorCode(docs[prefix]); c != "" {
			t.Fatalf("%s: %s", prefix, c)
		}
	}
	oaitest.Validate(t, docs)
}
