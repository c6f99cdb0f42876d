package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"ziyuan/market"
	"ziyuan/market/store"
	"ziyuan/market/store/storetest"
	"ziyuan/web"
)

var cheap = market.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a server over a seeded database, with a bearer token for every demo account.
type env struct {
	srv    *web.Server
	m      *market.Market
	db     *store.DB
	clock  *testClock
	tokens map[string]string
	users  map[string]market.User
	school string // 北京市海淀区实验小学
}

var secret = []byte("0123456789abcdef0123456789abcdef")

func newEnv(t *testing.T, db *store.DB) *env { return newEnvTB(t, db) }

func newEnvTB(t testing.TB, db *store.DB) *env {
	t.Helper()
	clock := &testClock{t: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)}
	m := market.New(db, market.Options{Clock: clock.Now, Argon2: cheap})
	if _, err := m.SeedDemo(context.Background()); err != nil {
		t.Fatal(err)
	}
	e := &env{srv: web.New(web.Config{Market: m, Secret: secret, Clock: clock.Now}), m: m, db: db, clock: clock,
		tokens: map[string]string{}, users: map[string]market.User{}}
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
	clock.Advance(time.Minute)
	return e
}

func eachEnv(t *testing.T, fn func(t *testing.T, e *env)) {
	storetest.Each(t, []store.Source{market.Schema()}, func(t *testing.T, db *store.DB) {
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
