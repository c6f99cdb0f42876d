package web_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/text/encoding/simplifiedchinese"

	"ziyuan/market"
)

// countUsers counts accounts, to prove that refused input changed nothing.
func countUsers(t *testing.T, e *env) int64 {
	t.Helper()
	var n int64
	if err := e.db.Raw("SELECT COUNT(*) FROM users").Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestBadJSONIsRefusedAndChangesNothing(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		before := countUsers(t, e)
		huge := `{"login":"a","password":"` + strings.Repeat("x", 2<<20) + `"}`
		cases := []struct {
			name     string
			body     *body
			status   int
			code     string
			mentions string
		}{
			{"malformed", rawBody("application/json", `{"login":`), 400, "invalid", ""},
			{"not an object", rawBody("application/json", `[1,2]`), 400, "invalid", ""},
			{"syntax", rawBody("application/json", `{"login" "x"}`), 400, "invalid", "offset"},
			{"unknown field", rawBody("application/json", `{"login":"x","password":"Reg2026ab","name":"n","role":"teacher","admin":true}`), 400, "invalid", "admin"},
			{"wrong type", rawBody("application/json", `{"login":5,"password":"Reg2026ab","name":"n","role":"teacher"}`), 400, "invalid", "login"},
			{"trailing data", rawBody("application/json", `{"login":"x1x","password":"Reg2026ab","name":"n","role":"teacher"} {}`), 400, "invalid", ""},
			{"empty", rawBody("application/json", ``), 400, "invalid", ""},
			{"oversized", rawBody("application/json", huge), 413, "too_large", ""},
			{"not json", rawBody("text/plain", `login=x`), 415, "unsupported_media_type", ""},
			{"bad role", jsonBody(map[string]string{"login": "x1x", "password": "Reg2026ab", "name": "n", "role": "platform_admin"}), 400, "invalid", "platform_admin"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				res := e.do(t, "POST", "/api/v1/auth/register", "", c.body)
				got := wantError(t, res, c.status, c.code)
				if c.mentions != "" && !strings.Contains(got.Error.Message, c.mentions) {
					t.Errorf("message %q does not mention %q", got.Error.Message, c.mentions)
				}
				if got.Error.RequestID == "" || res.Header.Get("X-Request-ID") != got.Error.RequestID {
					t.Errorf("request ID %q, header %q", got.Error.RequestID, res.Header.Get("X-Request-ID"))
				}
			})
		}
		if after := countUsers(t, e); after != before {
			t.Fatalf("refused registrations changed the user count %d → %d", before, after)
		}
	})
}

// TestBodyOverServerLimit goes through a real connection: the server refuses a body whose
// declared length is over the limit before reading it or running any handler.
func TestBodyOverServerLimit(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		base := e.listen(t)
		conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", 300<<20)
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		wantError(t, res, 413, "too_large")
	})
}

func TestErrorMessagesFollowLanguage(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		zh := wantError(t, e.do(t, "GET", "/api/v1/me", "", nil), 401, "unauthenticated")
		en := wantError(t, e.do(t, "GET", "/api/v1/me", "", nil, "Accept-Language", "en-US,en;q=0.9"), 401, "unauthenticated")
		if zh.Error.Message != "请先登录。" || en.Error.Message != "Please sign in." {
			t.Fatalf("messages zh %q en %q", zh.Error.Message, en.Error.Message)
		}
	})
}

func TestRosterUploads(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		admin := e.tokens["xiaoxue.admin"]
		path := "/api/v1/institutions/" + e.school + "/roster"
		gbk, _ := simplifiedchinese.GBK.NewEncoder().Bytes([]byte("账号,姓名,角色,密码\ngbk.one,欧阳修,学生,Stud2026a\ngbk.two,司马光,teacher,weak\n"))
		var rep struct {
			Created int `json:"created"`
			Skipped int `json:"skipped"`
			Errors  []struct {
				Line    int    `json:"line"`
				Message string `json:"message"`
			} `json:"errors"`
		}
		decode(t, e.do(t, "POST", path, admin, &body{"text/csv", gbk}), 200, &rep)
		if rep.Created != 1 || len(rep.Errors) != 1 || rep.Errors[0].Line != 3 || !strings.Contains(rep.Errors[0].Message, "密码") {
			t.Fatalf("GBK roster report %+v", rep)
		}
		var me market.User
		res := e.do(t, "POST", "/api/v1/auth/login", "", jsonBody(map[string]string{"login": "gbk.one", "password": "Stud2026a"}))
		var login struct{ User market.User }
		decode(t, res, 200, &login)
		me = login.User
		if me.Name != "欧阳修" || !me.Verified {
			t.Fatalf("imported user %+v", me)
		}

		before := countUsers(t, e)
		png := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"
		wantError(t, e.do(t, "POST", path, admin, rawBody("text/csv", png)), 415, "unsupported_media_type")
		wantError(t, e.do(t, "POST", path, admin, rawBody("image/png", png)), 415, "unsupported_media_type")
		wantError(t, e.do(t, "POST", path, admin, rawBody("text/csv", "")), 400, "invalid")
		wantError(t, e.do(t, "POST", path, admin, rawBody("text/csv", "name,login\n")), 400, "invalid")
		wantError(t, e.do(t, "POST", path, admin, rawBody("text/csv", "login,name,role,password\n"+strings.Repeat("x", 5<<20))), 413, "too_large")
		wantError(t, e.do(t, "POST", "/api/v1/institutions/"+market.NewID()+"/roster", e.tokens["admin"], rawBody("text/csv", rosterCSV)), 404, "not_found")
		if after := countUsers(t, e); after != before {
			t.Fatalf("refused uploads changed the user count %d → %d", before, after)
		}
	})
}

func TestLockoutOverHTTP(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		wrong := jsonBody(map[string]string{"login": "li.teacher", "password": "wrong-password1"})
		for i := range 5 {
			wantError(t, e.do(t, "POST", "/api/v1/auth/login", "", wrong), 401, "unauthenticated")
			_ = i
		}
		res := e.do(t, "POST", "/api/v1/auth/login", "", jsonBody(map[string]string{"login": "li.teacher", "password": market.DemoPassword}))
		retry, err := strconv.Atoi(res.Header.Get("Retry-After"))
		wantError(t, res, 429, "rate_limited")
		if err != nil || retry < 14*60 || retry > 15*60 {
			t.Fatalf("Retry-After %q, want about 15 minutes", res.Header.Get("Retry-After"))
		}
		// The page form says the same, in Chinese, with the header.
		b := e.browser()
		tok := b.csrf(t, "/login")
		pres, page := b.do(t, "POST", "/login", map[string]string{"_csrf": tok, "login": "li.teacher", "password": market.DemoPassword})
		if pres.StatusCode != 429 || pres.Header.Get("Retry-After") == "" || !strings.Contains(page, "登录失败次数过多") {
			t.Fatalf("login page after lockout: %d, Retry-After %q", pres.StatusCode, pres.Header.Get("Retry-After"))
		}
		e.clock.Advance(16 * time.Minute)
		decode(t, e.do(t, "POST", "/api/v1/auth/login", "", jsonBody(map[string]string{"login": "li.teacher", "password": market.DemoPassword})), 200, nil)
	})
}

func TestBadTokens(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		teacher := e.users["li.teacher"].ID
		sign := func(key []byte, method jwt.SigningMethod, claims jwt.RegisteredClaims) string {
			s, err := jwt.NewWithClaims(method, claims).SignedString(key)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		now := e.clock.Now()
		valid := jwt.RegisteredClaims{Issuer: "ziyuan", Audience: jwt.ClaimStrings{"ziyuan"}, Subject: teacher,
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}
		noneTok, _ := jwt.NewWithClaims(jwt.SigningMethodNone, valid).SignedString(jwt.UnsafeAllowNoneSignatureType)
		// The server derives its signing key from the secret; a token signed with the raw secret is forged.
		forged := sign(secret, jwt.SigningMethodHS256, valid)
		expired := e.tokens["li.teacher"]
		long := valid
		long.ExpiresAt = jwt.NewNumericDate(now.Add(48 * time.Hour))
		cases := map[string]string{
			"forged":           "Bearer " + forged,
			"alg none":         "Bearer " + noneTok,
			"garbage":          "Bearer not.a.token",
			"no scheme":        e.tokens["li.teacher"],
			"basic":            "Basic YWRtaW46YWRtaW4=",
			"empty bearer":     "Bearer ",
			"long-lived other": "Bearer " + sign([]byte("another secret of 32 bytes......"), jwt.SigningMethodHS256, long),
		}
		for name, h := range cases {
			res := e.do(t, "GET", "/api/v1/me", "", nil, "Authorization", h)
			wantError(t, res, 401, "unauthenticated")
			_ = name
		}
		// Tokens expire after an hour.
		decode(t, e.do(t, "GET", "/api/v1/me", expired, nil), 200, nil)
		e.clock.Advance(61 * time.Minute)
		wantError(t, e.do(t, "GET", "/api/v1/me", expired, nil), 401, "unauthenticated")
		// A bad session cookie is dropped and the browser goes on anonymously.
		req := httptest.NewRequest("GET", "/space", nil)
		req.AddCookie(&http.Cookie{Name: "ziyuan_session", Value: forged})
		res, err := e.srv.App().Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != 303 || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
			t.Fatalf("forged cookie: status %d location %q", res.StatusCode, res.Header.Get("Location"))
		}
	})
}

func TestFormsNeedCSRF(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		b := e.browser()
		b.login(t, "zhang.parent")
		kid := e.users["zhang.xiaohong"].ID
		for name, tok := range map[string]string{"missing": "", "wrong": "AAAA", "other browser's": e.browser().csrf(t, "/")} {
			res, page := b.do(t, "POST", "/space/consent", map[string]string{"_csrf": tok, "student_id": kid})
			if res.StatusCode != 403 || !strings.Contains(page, "表单已过期") {
				t.Errorf("%s token: status %d", name, res.StatusCode)
			}
		}
		u, err := e.m.User(e.ctx(), kid)
		if err != nil || !u.ConsentNeeded {
			t.Fatalf("consent recorded without a CSRF token: %+v %v", u, err)
		}
		res, _ := b.do(t, "POST", "/space/consent", map[string]string{"_csrf": b.csrf(t, "/space"), "student_id": kid})
		if res.StatusCode != 303 {
			t.Fatalf("with token: status %d", res.StatusCode)
		}
		if u, _ := e.m.User(e.ctx(), kid); u.ConsentNeeded {
			t.Fatal("consent not recorded with a valid token")
		}
		// Login forms are protected too (login CSRF).
		anon := e.browser()
		res, _ = anon.do(t, "POST", "/login", map[string]string{"login": "li.teacher", "password": market.DemoPassword})
		if res.StatusCode != 403 {
			t.Fatalf("login without token: %d", res.StatusCode)
		}
		// API calls authenticated by the cookie need the token in a header.
		req := httptest.NewRequest("POST", "/api/v1/guardians/consent", strings.NewReader(`{"student_id":"`+kid+`"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, _ := b.send(t, req)
		if resp.StatusCode != 403 {
			t.Fatalf("cookie-authenticated API POST without CSRF header: %d", resp.StatusCode)
		}
	})
}

func TestHTTPBasics(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		res := e.do(t, "GET", "/healthz", "", nil, "X-Request-ID", "trace-123")
		if res.Header.Get("X-Request-ID") != "trace-123" {
			t.Errorf("request ID not echoed: %q", res.Header.Get("X-Request-ID"))
		}
		for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"} {
			if res.Header.Get(h) == "" {
				t.Errorf("missing security header %s", h)
			}
		}
		bad := e.do(t, "GET", "/healthz", "", nil, "X-Request-ID", "<script>")
		if rid := bad.Header.Get("X-Request-ID"); rid == "<script>" || !market.ValidID(rid) {
			t.Errorf("hostile request ID echoed: %q", rid)
		}
		wantError(t, e.do(t, "GET", "/api/v1/nowhere", "", nil), 404, "not_found")
		wantError(t, e.do(t, "DELETE", "/api/v1/me", e.tokens["li.teacher"], nil), 405, "method_not_allowed")
		wantError(t, e.do(t, "GET", "/api/v1/institutions?per_page=1000", "", nil), 400, "invalid")
		wantError(t, e.do(t, "GET", "/api/v1/institutions?page=x", "", nil), 400, "invalid")
		wantError(t, e.do(t, "GET", "/api/v1/admin/audit?from=yesterday", e.tokens["admin"], nil), 400, "invalid")
		wantError(t, e.do(t, "GET", "/api/v1/institutions/../../etc/passwd", "", nil), 404, "not_found")

		page := e.do(t, "GET", "/no/such/page", "", nil)
		b, _ := io.ReadAll(page.Body)
		if page.StatusCode != 404 || !strings.Contains(page.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(b), "出错了") {
			t.Errorf("missing page: %d %s", page.StatusCode, page.Header.Get("Content-Type"))
		}

		metrics := e.do(t, "GET", "/metrics", "", nil)
		mb, _ := io.ReadAll(metrics.Body)
		for _, want := range []string{`ziyuan_http_requests_total{method="GET",route="/healthz",status="200"}`,
			`ziyuan_http_request_duration_seconds_bucket{method="GET",route="/api/v1/institutions"`,
			`route="unmatched",status="404"`} {
			if !bytes.Contains(mb, []byte(want)) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})
}

func TestAuditOverHTTP(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		e.do(t, "POST", "/api/v1/auth/login", "", jsonBody(map[string]string{"login": "li.teacher", "password": "Wrong2026x"}), "X-Forwarded-For", "1.2.3.4")
		var page struct {
			Total int64               `json:"total"`
			Items []market.AuditEntry `json:"items"`
		}
		decode(t, e.do(t, "GET", "/api/v1/admin/audit?action=auth.login&actor=li.teacher&per_page=1", e.tokens["admin"], nil), 200, &page)
		if page.Total < 2 || len(page.Items) != 1 {
			t.Fatalf("audit page %+v", page)
		}
		got := page.Items[0]
		if got.Outcome != "failed" || got.IP == "" || got.IP == "1.2.3.4" || got.RequestID == "" || got.At.IsZero() {
			t.Fatalf("latest login audit %+v (client IP must not come from an untrusted header)", got)
		}
		raw, _ := json.Marshal(got)
		if bytes.Contains(raw, []byte("Wrong2026x")) {
			t.Fatal("audit entry contains the password")
		}
	})
}
