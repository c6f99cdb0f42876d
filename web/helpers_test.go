package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"ziyuan/catalog"
	"ziyuan/catalog/bleve"
	"ziyuan/market"
	"ziyuan/market/files"
	"ziyuan/market/markettest"
	"ziyuan/market/store"
	"ziyuan/market/store/storetest"
	"ziyuan/web"
)

// env is a server over a seeded database and a running ledger, with a bearer token for every
// demo account.
type env struct {
	*markettest.Env
	srv    *web.Server
	m      *market.Market
	db     *store.DB
	clock  *markettest.Clock
	tokens map[string]string
	users  map[string]market.User
	school string // 北京市海淀区实验小学
	// receipt is a ledger receipt, once a test has published something.
	receipt []byte
	// fx holds IDs made by a test's setup, by name.
	fx map[string]string
	// worker feeds the search engine from the outbox.
	worker *catalog.Worker
}

var secret = []byte("0123456789abcdef0123456789abcdef")

func newEnv(t testing.TB, db *store.DB) *env { return newEnvTB(t, db) }

func newEnvTB(t testing.TB, db *store.DB) *env { return newEnvWith(t, db, nil) }

func newEnvWith(t testing.TB, db *store.DB, configure func(*market.Options)) *env {
	t.Helper()
	me := markettest.NewWith(t, db, configure)
	// The search engine behind the outbox, as serve runs it.
	eng, err := bleve.OpenMemory(bleve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.EnsureIndex(context.Background()); err != nil {
		t.Fatal(err)
	}
	worker := catalog.NewWorker(db.DB, eng, catalog.WorkerOptions{PollInterval: 10 * time.Millisecond})
	wctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); worker.Run(wctx) }()
	t.Cleanup(func() { stop(); <-done; eng.Close() })
	e := &env{Env: me, m: me.M, db: db, clock: me.Clock, tokens: map[string]string{}, users: map[string]market.User{}, fx: map[string]string{},
		worker: worker}
	e.srv = newServer(e, eng)
	for _, a := range market.DemoAccounts() {
		var out struct {
			Token string      `json:"token"`
			User  market.User `json:"user"`
		}
		res := e.do(t, "POST", "/api/v1/auth/login", "", jsonBody(map[string]string{"login": a.Login, "password": market.DemoPassword}))
		decode(t, res, 200, &out)
		e.tokens[a.Login], e.users[a.Login] = out.Token, out.User
	}
	e.school = *e.users["li.teacher"].InstitutionID
	me.Clock.Advance(time.Minute)
	return e
}

// newServer builds the application over e's market with the given search engine.
func newServer(e *env, eng catalog.Engine) *web.Server {
	return web.New(web.Config{Market: e.m, Secret: secret, Clock: e.clock.Now, Ledger: e.Ledger,
		Inspector: files.NewInspector(files.Limits{MaxSize: 1 << 20}, e.TmpDir), Search: eng})
}

// openDB opens a fresh SQLite database with every schema.
func openDB(t testing.TB) *store.DB { return storetest.Open(t, store.SQLite, market.Schemas()...) }

func eachEnv(t *testing.T, fn func(t *testing.T, e *env)) {
	storetest.Each(t, market.Schemas(), func(t *testing.T, db *store.DB) {
		fn(t, newEnv(t, db))
	})
}

// body is a request body with its content type.
type body struct {
	contentType string
	data        []byte
}

func jsonBody(v any) *body {
	b, _ := json.Marshal(v)
	return &body{"application/json", b}
}

func rawBody(contentType, data string) *body { return &body{contentType, []byte(data)} }

// do sends a request as the holder of token ("" for anonymous).
func (e *env) do(t testing.TB, method, path, token string, b *body, headers ...string) *http.Response {
	t.Helper()
	var r io.Reader
	if b != nil {
		r = bytes.NewReader(b.data)
	}
	req := httptest.NewRequest(method, path, r)
	if b != nil {
		req.Header.Set("Content-Type", b.contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := e.srv.App().Test(req, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return res
}

func decode(t testing.TB, res *http.Response, status int, v any) {
	t.Helper()
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != status {
		what := "response"
		if res.Request != nil {
			what = res.Request.Method + " " + res.Request.URL.String()
		}
		t.Fatalf("%s: status %d, want %d: %s", what, res.StatusCode, status, b)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
	}
}

type apiError struct {
	Error struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		RequestID string `json:"request_id"`
	} `json:"error"`
}

// wantError checks status and error code, and that the message is a sentence, not a stack.
func wantError(t testing.TB, res *http.Response, status int, code string) apiError {
	t.Helper()
	var e apiError
	decode(t, res, status, &e)
	if e.Error.Code != code || e.Error.Message == "" || strings.Contains(e.Error.Message, "goroutine") {
		t.Fatalf("error %+v, want code %s", e.Error, code)
	}
	return e
}

// browser is a cookie-keeping client for the page flows.
type browser struct {
	e       *env
	cookies map[string]string
}

func (e *env) browser() *browser { return &browser{e: e, cookies: map[string]string{}} }

func (b *browser) do(t testing.TB, method, path string, form map[string]string) (*http.Response, string) {
	t.Helper()
	var r io.Reader
	if form != nil {
		vals := url.Values{}
		for k, v := range form {
			vals.Set(k, v)
		}
		r = strings.NewReader(vals.Encode())
	}
	req := httptest.NewRequest(method, path, r)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return b.send(t, req)
}

func (b *browser) send(t testing.TB, req *http.Request) (*http.Response, string) {
	t.Helper()
	for k, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	res, err := b.e.srv.App().Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	data, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res, string(data)
}

var csrfPattern = regexp.MustCompile(`name="csrf-token" content="([^"]+)"`)

// csrf fetches path and returns its form token.
func (b *browser) csrf(t testing.TB, path string) string {
	t.Helper()
	_, page := b.do(t, "GET", path, nil)
	m := csrfPattern.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on %s", path)
	}
	return m[1]
}

func (b *browser) login(t testing.TB, login string) {
	t.Helper()
	tok := b.csrf(t, "/login")
	res, _ := b.do(t, "POST", "/login", map[string]string{"_csrf": tok, "login": login, "password": market.DemoPassword})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login %s: status %d", login, res.StatusCode)
	}
}

// ctx returns a context acting as nobody, for direct reads through market.
func (e *env) ctx() context.Context { return context.Background() }

// listen serves the app on a loopback port until the test ends and returns its base URL.
func (e *env) listen(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go e.srv.Serve(ln)
	t.Cleanup(func() { e.srv.Shutdown(context.Background()) })
	return "http://" + ln.Addr().String()
}

func encodeGBKString(t testing.TB, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// publishSample publishes a small lesson plan by li.teacher (reviewed by zhou.reviewer) and
// waits until a signed checkpoint covers its ledger entries.
func (e *env) publishSample(t testing.TB, title string) string {
	t.Helper()
	return e.publishAs(t, "li.teacher", sampleMeta(title))
}

func sampleMeta(title string) market.Meta {
	return market.Meta{Title: title, Summary: "示例教案", Type: "教案", Stage: "初中", Grade: "八年级", Subject: "数学",
		Keywords: []string{"示例"}, Offer: market.Offer{License: "cc-by"}}
}

// draftAs creates a draft with one text file as owner.
func (e *env) draftAs(t testing.TB, owner string, meta market.Meta) string {
	t.Helper()
	text := meta.Title + "：教学目标、教学过程与课堂练习。"
	sum := sha256.Sum256([]byte(text))
	up := market.Upload{Name: "教案.txt", Size: int64(len(text)), SHA256: hex.EncodeToString(sum[:]), MIME: "text/plain; charset=utf-8",
		Kind: "text", Text: text, Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(text)), nil }}
	r, err := e.m.CreateResource(e.As(t, owner), meta, []market.Upload{up})
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}

// publishAs creates, submits and approves a resource and waits for its ledger entries.
func (e *env) publishAs(t testing.TB, owner string, meta market.Meta) string {
	t.Helper()
	id := e.draftAs(t, owner, meta)
	r := market.Resource{ID: id}
	if _, err := e.m.Submit(e.As(t, owner), r.ID, true); err != nil {
		t.Fatal(err)
	}
	approve := market.Decision{Decision: "approve", Checklist: map[string]bool{}}
	for _, item := range market.ChecklistItems {
		approve.Checklist[item] = true
	}
	if _, err := e.m.Decide(e.As(t, "zhou.reviewer"), r.ID, approve); err != nil {
		t.Fatal(err)
	}
	e.waitCheckpoint(t)
	return r.ID
}

// waitCheckpoint waits until the latest signed checkpoint covers every queued ledger entry.
func (e *env) waitCheckpoint(t testing.TB) int64 {
	t.Helper()
	ctx := context.Background()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var queued int64
		e.db.Raw("SELECT COUNT(*) FROM ledger_entries").Scan(&queued)
		cp, err := e.Ledger.Checkpoint(ctx)
		if err == nil && cp.Size == queued {
			return cp.Size
		}
	}
	t.Fatal("no checkpoint covers the ledger")
	return 0
}

// chinaTime is the zone pages and statements use.
func chinaTime() *time.Location { return time.FixedZone("CST", 8*60*60) }
