package web_test

import (
	"context"
	"encoding/xml"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"ziyuan/market"
	"ziyuan/market/oai"
	"ziyuan/market/oai/oaitest"
	"ziyuan/web"
)

func init() {
	moreRouteCases = append(moreRouteCases, func() []routeCase {
		// OAI-PMH is public and read-only: everyone gets 200, by GET or by a form POST, with or
		// without a session (harvesters have no CSRF token, and need none).
		return []routeCase{
			{method: "GET", pattern: "/oai", path: fixed("/oai?verb=Identify"), want: statuses{"*": 200}},
			{method: "POST", pattern: "/oai", path: fixed("/oai"), body: func(*env, string) *body { return form("verb", "ListSets") },
				want: statuses{"*": 200}},
			{method: "GET", pattern: "/oai", page: true, path: fixed("/oai?verb=ListMetadataFormats"), want: statuses{"*": 200}},
			{method: "POST", pattern: "/oai", page: true, path: fixed("/oai"), body: func(*env, string) *body { return form("verb", "Identify") },
				want: statuses{"*": 200}},
		}
	})
}

// oaiServer is a server with small OAI-PMH pages, so that tests see resumption tokens.
func oaiServer(e *env, repositoryID string, pageSize int) *web.Server {
	return web.New(web.Config{Market: e.m, Secret: secret, Clock: e.clock.Now, Ledger: e.Ledger,
		OAI: web.OAIConfig{RepositoryID: repositoryID, PageSize: pageSize}})
}

// oaiGet sends a query (GET, or POST as a form) and checks the HTTP side of OAI-PMH: 200 and
// XML, whatever the arguments.
func oaiGet(t testing.TB, srv *web.Server, method, query string) []byte {
	t.Helper()
	req, _ := http.NewRequest(method, "http://ziyuan.test/oai", nil)
	if method == "GET" {
		req.URL.RawQuery = query
	} else {
		req.Body = io.NopCloser(strings.NewReader(query))
		req.ContentLength = int64(len(query))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := srv.App().Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	doc, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/xml") {
		t.Fatalf("%s /oai?%s: %d %s\n%s", method, query, res.StatusCode, res.Header.Get("Content-Type"), doc)
	}
	if err := oaitest.WellFormed(doc); err != nil {
		t.Fatalf("%s /oai?%s: %v\n%s", method, query, err, doc)
	}
	return doc
}

type oaiHeader struct {
	Status     string   `xml:"status,attr"`
	Identifier string   `xml:"identifier"`
	Datestamp  string   `xml:"datestamp"`
	Sets       []string `xml:"setSpec"`
}

type oaiList struct {
	Headers []oaiHeader `xml:"ListIdentifiers>header"`
	Records []struct {
		Header   oaiHeader `xml:"header"`
		Metadata *struct {
			Inner string `xml:",innerxml"`
		} `xml:"metadata"`
	} `xml:"ListRecords>record"`
	Got []struct {
		Header   oaiHeader `xml:"header"`
		Metadata *struct {
			Inner string `xml:",innerxml"`
		} `xml:"metadata"`
	} `xml:"GetRecord>record"`
	IDToken  string `xml:"ListIdentifiers>resumptionToken"`
	RecToken string `xml:"ListRecords>resumptionToken"`
}

func (l oaiList) token() string { return strings.TrimSpace(l.IDToken + l.RecToken) }

func parseList(t testing.TB, doc []byte) oaiList {
	t.Helper()
	var l oaiList
	if err := xml.Unmarshal(doc, &l); err != nil {
		t.Fatal(err)
	}
	return l
}

// listAll follows a list's resumption tokens and returns every header (ListIdentifiers) and the
// documents seen.
func listAll(t testing.TB, srv *web.Server, query string) ([]oaiHeader, [][]byte) {
	t.Helper()
	var heads []oaiHeader
	var docs [][]byte
	verb := url.Values{}
	q, _ := url.ParseQuery(query)
	verb.Set("verb", q.Get("verb"))
	for i := 0; query != ""; i++ {
		doc := oaiGet(t, srv, "GET", query)
		docs = append(docs, doc)
		l := parseList(t, doc)
		heads = append(heads, l.Headers...)
		for _, r := range l.Records {
			heads = append(heads, r.Header)
		}
		query = ""
		if tok := l.token(); tok != "" {
			query = "verb=" + verb.Get("verb") + "&resumptionToken=" + url.QueryEscape(tok)
		}
		if i > 100 {
			t.Fatal("the list does not end")
		}
	}
	return heads, docs
}

// oaiFixtures publishes what the OAI-PMH tests disseminate, on e: a lesson plan, a public-welfare
// courseware item with its textbook, a derivative, a paid item, a course, a work taken down
// after a complaint, and a draft that was never published.
type oaiFixtures struct {
	lesson, public, derived, paid, course, gone, draft string
}

func publishOAIFixtures(t *testing.T, e *env) oaiFixtures {
	t.Helper()
	var f oaiFixtures
	f.lesson = e.publishNow(t, "li.teacher", sampleMeta("勾股定理教案"))
	e.clock.Advance(time.Minute)
	pub := sampleMeta("古诗两首课件")
	pub.Type, pub.Stage, pub.Grade, pub.Subject = "课件", "小学", "三年级", "语文"
	pub.Edition, pub.Volume, pub.Chapter = "部编版", "上册", "第一单元 古诗"
	pub.Keywords = []string{"古诗", "朗读", "<b>&\"引号\""}
	pub.Offer = market.Offer{License: "public"}
	f.public = e.publishNow(t, "gongyi.editor", pub)
	e.clock.Advance(time.Minute)
	der := sampleMeta("勾股定理教案（改编）")
	der.Parents = []string{f.lesson}
	f.derived = e.publishNow(t, "chen.teacher", der)
	e.clock.Advance(time.Minute)
	paid := sampleMeta("勾股定理精品习题")
	paid.Type = "练习"
	paid.Offer = market.Offer{License: "paid", Prices: &market.Prices{Personal: 990}}
	f.paid = e.publishNow(t, "xuehai.vendor", paid)
	e.clock.Advance(time.Minute)
	course := sampleMeta("勾股定理网络课程")
	course.Type = "网络课程"
	course.Course = &market.Course{Seats: 30, StartsAt: e.clock.Now().Add(time.Hour), EndsAt: e.clock.Now().Add(48 * time.Hour)}
	f.course = e.publishNow(t, "chen.teacher", course)
	e.clock.Advance(time.Minute)
	f.gone = e.publishNow(t, "li.teacher", sampleMeta("将被下架的教案"))
	e.clock.Advance(time.Minute)
	e.takeDown(t, f.gone)
	f.draft = e.draftAs(t, "li.teacher", sampleMeta("从未发布的草稿"))
	return f
}

// publishNow creates, submits and approves a resource like publishAs, without waiting for a
// signed checkpoint: these tests read metadata, not proofs.
func (e *env) publishNow(t testing.TB, owner string, meta market.Meta) string {
	t.Helper()
	id := e.draftAs(t, owner, meta)
	if _, err := e.m.Submit(e.As(t, owner), id, true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Decide(e.As(t, "zhou.reviewer"), id, approveDecision()); err != nil {
		t.Fatal(err)
	}
	return id
}

// takeDown upholds a complaint against a resource.
func (e *env) takeDown(t testing.TB, id string) {
	t.Helper()
	complainant := "chen.teacher"
	if r, err := e.m.Resource(e.As(t, "admin"), id); err == nil && r.OwnerID == e.users["chen.teacher"].ID {
		complainant = "li.teacher"
	}
	c, err := e.m.FileComplaint(e.As(t, complainant), id, "抄袭了我的教学设计", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.DecideComplaint(e.As(t, "admin"), c.ID, "uphold", "侵权属实"); err != nil {
		t.Fatal(err)
	}
}

// TestOAIProviderOverTheMarket runs the provider over the real database: what is disseminated
// (published works, taken-down ones as deleted, never drafts), every verb's answer valid against
// the schemas, GET and POST alike, and datestamps that move only when the public metadata does.
func TestOAIProviderOverTheMarket(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		f := publishOAIFixtures(t, e)
		srv := oaiServer(e, "ziyuan.test", 2)
		id := func(r string) string { return "oai:ziyuan.test:" + r }
		docs := map[string][]byte{}

		heads, pages := listAll(t, srv, "verb=ListIdentifiers&metadataPrefix=oai_dc")
		var got []string
		for i, h := range heads {
			got = append(got, h.Identifier)
			if (h.Status == "deleted") != (h.Identifier == id(f.gone)) {
				t.Errorf("header %s status %q", h.Identifier, h.Status)
			}
			if i > 0 && h.Datestamp < heads[i-1].Datestamp {
				t.Errorf("datestamps out of order: %v", heads)
			}
		}
		want := []string{id(f.lesson), id(f.public), id(f.derived), id(f.paid), id(f.course), id(f.gone)}
		if !sameSet(got, want) {
			t.Fatalf("identifiers %v, want %v", got, want)
		}
		for i, d := range pages {
			docs["ListIdentifiers-"+string(rune('a'+i))] = d
		}
		for _, prefix := range []string{"oai_dc", "lom"} {
			_, pages := listAll(t, srv, "verb=ListRecords&metadataPrefix="+prefix)
			for i, d := range pages {
				docs["ListRecords-"+prefix+"-"+string(rune('a'+i))] = d
			}
			for _, r := range []string{f.lesson, f.public, f.derived, f.paid, f.gone} {
				docs["GetRecord-"+prefix+"-"+r] = oaiGet(t, srv, "GET", "verb=GetRecord&metadataPrefix="+prefix+"&identifier="+id(r))
			}
		}
		for _, q := range []string{"verb=Identify", "verb=ListMetadataFormats", "verb=ListSets",
			"verb=ListMetadataFormats&identifier=" + id(f.lesson), "verb=ListRecords&metadataPrefix=lom&set=stage:primary-school"} {
			docs[q] = oaiGet(t, srv, "GET", q)
			if post := oaiGet(t, srv, "POST", q); string(post) != string(docs[q]) {
				t.Errorf("POST %s answers differently from GET:\n%s\n%s", q, post, docs[q])
			}
		}

		// What a record says.
		dc := string(docs["GetRecord-oai_dc-"+f.public])
		for _, s := range []string{"<dc:title xml:lang=\"zh\">古诗两首课件</dc:title>", "<dc:creator>公益资源编辑</dc:creator>",
			"<dc:publisher>国家中小学智慧教育公益资源中心</dc:publisher>", "学段：小学", "年级：三年级", "学科：语文", "教材版本：部编版",
			"册次：上册", "章节：第一单元 古诗", "&lt;b&gt;&amp;&#34;引号&#34;", "<dc:type>课件</dc:type>", "<dc:format>text/plain</dc:format>",
			"http://ziyuan.test/resources/" + f.public, "公益", "<setSpec>stage:primary-school:chinese</setSpec>"} {
			if !strings.Contains(dc, s) {
				t.Errorf("oai_dc record lacks %q:\n%s", s, dc)
			}
		}
		lom := string(docs["GetRecord-lom-"+f.derived])
		for _, s := range []string{"<value>isbasedon</value>", "<entry>" + id(f.lesson) + "</entry>", "FN:陈老师", "<value>narrative text</value>",
			"https://creativecommons.org/licenses/by/4.0/"} {
			if !strings.Contains(lom, s) {
				t.Errorf("lom record lacks %q:\n%s", s, lom)
			}
		}
		if l := parseList(t, docs["GetRecord-lom-"+f.gone]); len(l.Got) != 1 || l.Got[0].Header.Status != "deleted" || l.Got[0].Metadata != nil {
			t.Errorf("a taken-down work: %s", docs["GetRecord-lom-"+f.gone])
		}
		if l := parseList(t, docs["verb=ListRecords&metadataPrefix=lom&set=stage:primary-school"]); len(l.Records) != 1 || l.Records[0].Header.Identifier != id(f.public) {
			t.Errorf("set stage:primary-school: %+v", l.Records)
		}

		// Every error code that the real repository can give, with HTTP 200, valid.
		errs := map[string]string{
			"verb=Nonsense": oai.ErrBadVerb,
			"verb=ListRecords&metadataPrefix=oai_dc&until=yesterday":         oai.ErrBadArgument,
			"verb=ListRecords&resumptionToken=forged.token":                  oai.ErrBadResumptionToken,
			"verb=GetRecord&metadataPrefix=mods&identifier=" + id(f.lesson):  oai.ErrCannotDisseminateFormat,
			"verb=GetRecord&metadataPrefix=oai_dc&identifier=" + id(f.draft): oai.ErrIDDoesNotExist,
			"verb=ListIdentifiers&metadataPrefix=lom&from=2099-01-01":        oai.ErrNoRecordsMatch,
			"verb=ListMetadataFormats&identifier=" + id(f.gone):              oai.ErrNoMetadataFormats,
		}
		for q, code := range errs {
			doc := oaiGet(t, srv, "GET", q)
			if c := oaitest.ErrorCode(doc); c != code {
				t.Errorf("%s: error %q, want %q", q, c, code)
			}
			docs["error-"+code] = doc
		}
		oaitest.Validate(t, docs)

		// A pending update changes nothing harvesters see; its approval does.
		before := parseList(t, oaiGet(t, srv, "GET", "verb=GetRecord&metadataPrefix=oai_dc&identifier="+id(f.lesson))).Got[0].Header.Datestamp
		e.clock.Advance(time.Hour)
		newTitle := "勾股定理教案（第二版）"
		if _, err := e.m.UpdateResource(e.As(t, "li.teacher"), f.lesson, market.MetaPatch{Title: &newTitle}, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := e.m.Submit(e.As(t, "li.teacher"), f.lesson, true); err != nil {
			t.Fatal(err)
		}
		pending := oaiGet(t, srv, "GET", "verb=GetRecord&metadataPrefix=oai_dc&identifier="+id(f.lesson))
		if d := parseList(t, pending).Got[0].Header.Datestamp; d != before || strings.Contains(string(pending), newTitle) {
			t.Errorf("a pending update shows: datestamp %s (was %s)\n%s", d, before, pending)
		}
		from := e.clock.Now().UTC().Format("2006-01-02T15:04:05Z")
		if _, err := e.m.Decide(e.As(t, "zhou.reviewer"), f.lesson, approveDecision()); err != nil {
			t.Fatal(err)
		}
		changed, _ := listAll(t, srv, "verb=ListIdentifiers&metadataPrefix=oai_dc&from="+from)
		if len(changed) != 1 || changed[0].Identifier != id(f.lesson) || changed[0].Datestamp != from {
			t.Errorf("changed since %s: %+v", from, changed)
		}
	})
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// serveOn serves srv on a loopback port until the test ends and returns its base URL.
func serveOn(t testing.TB, srv *web.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	return "http://" + ln.Addr().String()
}
