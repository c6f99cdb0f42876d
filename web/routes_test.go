package web_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"ziyuan/market"
)

// roles maps each role of API.md (and anonymous) to a demo account that holds it.
var roles = []struct{ role, login string }{
	{"anonymous", ""},
	{"student", "zhang.xiaoming"},
	{"teacher", "li.teacher"},
	{"parent", "zhang.parent"},
	{"vendor", "xuehai.vendor"},
	{"reviewer", "zhou.reviewer"},
	{"evaluator", "wu.evaluator"},
	{"institution_admin", "xiaoxue.admin"},
	{"platform_admin", "admin"},
}

// statuses gives the expected status per role; "*" is everyone not named.
type statuses map[string]int

func (s statuses) of(role string) int {
	if v, ok := s[role]; ok {
		return v
	}
	return s["*"]
}

type routeCase struct {
	method, pattern string
	page            bool // a page: sent by a browser with cookies and the CSRF token
	path            func(e *env) string
	body            func(e *env, role string) *body
	want            statuses
	// headers are extra request headers, name and value pairs.
	headers []string
}

func fixed(p string) func(*env) string { return func(*env) string { return p } }

const rosterCSV = "login,name,role,password\nroute.kid,路由测试,student,Stud2026a\n"

func multipartFile(field, name string, data []byte) *body {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	f, _ := w.CreateFormFile(field, name)
	f.Write(data)
	w.Close()
	return &body{w.FormDataContentType(), buf.Bytes()}
}

func multipartRoster(e *env) *body {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("institution", e.school)
	f, _ := w.CreateFormFile("file", "roster.csv")
	f.Write([]byte(rosterCSV))
	w.Close()
	return &body{w.FormDataContentType(), buf.Bytes()}
}

func form(kv ...string) *body {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(kv[i] + "=" + kv[i+1])
	}
	return &body{"application/x-www-form-urlencoded", []byte(b.String())}
}

// moreRouteCases lets a feature's own test file add its routes' rows (from an init function).
var moreRouteCases []func() []routeCase

// fx builds a path around a fixture ID made by the test's setup.
func fx(prefix, name string, suffix ...string) func(*env) string {
	return func(e *env) string { return prefix + e.fx[name] + strings.Join(suffix, "") }
}

// publishers may create resources: verified teachers, vendors and institution admins.
func publishers(status int) statuses {
	return statuses{"anonymous": 401, "teacher": status, "vendor": status, "institution_admin": status, "*": 403}
}

// ownerOnly is a route for the owner of the fixtures, li.teacher (the "teacher" row).
func ownerOnly(status int) statuses { return statuses{"anonymous": 401, "teacher": status, "*": 403} }

func approveDecision() market.Decision {
	d := market.Decision{Decision: "approve", Checklist: map[string]bool{}}
	for _, item := range market.ChecklistItems {
		d.Checklist[item] = true
	}
	return d
}

var adminOnly = statuses{"anonymous": 401, "platform_admin": 200, "*": 403}
var instAdmin = statuses{"anonymous": 401, "institution_admin": 200, "platform_admin": 200, "*": 403}

func routeCases() []routeCase {
	pending := func(e *env) string { return e.users["new.teacher"].ID }
	return []routeCase{
		{method: "GET", pattern: "/healthz", path: fixed("/healthz"), want: statuses{"*": 200}},
		{method: "GET", pattern: "/readyz", path: fixed("/readyz"), want: statuses{"*": 200}},
		{method: "GET", pattern: "/metrics", path: fixed("/metrics"), want: statuses{"*": 200}},
		{method: "GET", pattern: "/api/openapi.json", path: fixed("/api/openapi.json"), want: statuses{"*": 200}},
		{method: "GET", pattern: "/static/*", path: fixed("/static/app.css"), want: statuses{"*": 200}},

		{method: "POST", pattern: "/api/v1/auth/login", path: fixed("/api/v1/auth/login"),
			body: func(*env, string) *body {
				return jsonBody(map[string]string{"login": "chen.teacher", "password": market.DemoPassword})
			}, want: statuses{"*": 200}},
		{method: "POST", pattern: "/api/v1/auth/register", path: fixed("/api/v1/auth/register"),
			body: func(_ *env, role string) *body {
				return jsonBody(map[string]string{"login": "reg." + strings.ReplaceAll(role, "_", "-"), "password": "Reg2026ab", "name": "新用户", "role": "teacher"})
			}, want: statuses{"*": 201}},
		{method: "GET", pattern: "/api/v1/me", path: fixed("/api/v1/me"), want: statuses{"anonymous": 401, "*": 200}},
		{method: "GET", pattern: "/api/v1/me/wards", path: fixed("/api/v1/me/wards"), want: statuses{"anonymous": 401, "*": 200}},
		{method: "GET", pattern: "/api/v1/institutions", path: fixed("/api/v1/institutions"), want: statuses{"*": 200}},
		{method: "POST", pattern: "/api/v1/institutions", path: fixed("/api/v1/institutions"),
			body: func(*env, string) *body { return jsonBody(map[string]string{"name": "新学校", "kind": "school"}) },
			want: statuses{"anonymous": 401, "platform_admin": 201, "*": 403}},
		{method: "GET", pattern: "/api/v1/institutions/:id", path: func(e *env) string { return "/api/v1/institutions/" + e.school },
			want: statuses{"*": 200}},
		{method: "GET", pattern: "/api/v1/institutions/:id/users", path: func(e *env) string { return "/api/v1/institutions/" + e.school + "/users" },
			want: instAdmin},
		{method: "POST", pattern: "/api/v1/institutions/:id/roster", path: func(e *env) string { return "/api/v1/institutions/" + e.school + "/roster" },
			body: func(*env, string) *body { return rawBody("text/csv", rosterCSV) }, want: instAdmin},
		{method: "POST", pattern: "/api/v1/users/:id/verify", path: func(e *env) string { return "/api/v1/users/" + e.users["chen.teacher"].ID + "/verify" },
			want: statuses{"anonymous": 401, "platform_admin": 200, "*": 403}},
		{method: "POST", pattern: "/api/v1/users/:id/roles", path: func(e *env) string { return "/api/v1/users/" + e.users["zhang.xiaohong"].ID + "/roles" },
			body: func(*env, string) *body { return jsonBody(map[string]string{"role": "evaluator"}) }, want: instAdmin},
		{method: "POST", pattern: "/api/v1/guardians/consent", path: fixed("/api/v1/guardians/consent"),
			body: func(e *env, _ string) *body {
				return jsonBody(map[string]string{"student_id": e.users["zhang.xiaohong"].ID})
			},
			want: statuses{"anonymous": 401, "parent": 201, "*": 403}},
		{method: "GET", pattern: "/api/v1/admin/audit", path: fixed("/api/v1/admin/audit"), want: adminOnly},

		{method: "GET", pattern: "/", page: true, path: fixed("/"), want: statuses{"*": 200}},
		{method: "GET", pattern: "/lang/:lang", page: true, path: fixed("/lang/en?next=/space"), want: statuses{"*": 303}},
		{method: "GET", pattern: "/login", page: true, path: fixed("/login"), want: statuses{"anonymous": 200, "*": 303}},
		{method: "POST", pattern: "/login", page: true, path: fixed("/login"),
			body: func(*env, string) *body { return form("login", "chen.teacher", "password", market.DemoPassword) }, want: statuses{"*": 303}},
		{method: "POST", pattern: "/logout", page: true, path: fixed("/logout"), body: func(*env, string) *body { return form() }, want: statuses{"*": 303}},
		{method: "GET", pattern: "/register", page: true, path: fixed("/register"), want: statuses{"*": 200}},
		{method: "POST", pattern: "/register", page: true, path: fixed("/register"),
			body: func(_ *env, role string) *body {
				return form("login", "page."+strings.ReplaceAll(role, "_", "-"), "password", "Reg2026ab", "name", "x", "role", "parent")
			}, want: statuses{"*": 303}},
		{method: "GET", pattern: "/space", page: true, path: fixed("/space"), want: statuses{"anonymous": 303, "*": 200}},
		{method: "POST", pattern: "/space/consent", page: true, path: fixed("/space/consent"),
			body: func(e *env, _ string) *body { return form("student_id", e.users["zhang.xiaohong"].ID) },
			want: statuses{"anonymous": 303, "parent": 303, "*": 403}},
		{method: "GET", pattern: "/admin/institution", page: true, path: fixed("/admin/institution"),
			want: statuses{"anonymous": 303, "institution_admin": 200, "platform_admin": 200, "*": 403}},
		{method: "POST", pattern: "/admin/institution/roster", page: true, path: fixed("/admin/institution/roster"),
			body: func(e *env, _ string) *body { return multipartRoster(e) },
			want: statuses{"anonymous": 303, "institution_admin": 200, "platform_admin": 200, "*": 403}},
		{method: "POST", pattern: "/admin/institution/verify", page: true, path: fixed("/admin/institution/verify"),
			body: func(e *env, _ string) *body { return form("user_id", pending(e)) },
			want: statuses{"anonymous": 303, "institution_admin": 403, "platform_admin": 303, "*": 403}},
		{method: "GET", pattern: "/admin/audit", page: true, path: fixed("/admin/audit"),
			want: statuses{"anonymous": 303, "platform_admin": 200, "*": 403}},

		{method: "GET", pattern: "/api/v1/taxonomy", path: fixed("/api/v1/taxonomy"), want: statuses{"*": 200}},
		{method: "GET", pattern: "/api/v1/search", path: fixed("/api/v1/search?q=%E6%95%99%E6%A1%88&stage=%E5%88%9D%E4%B8%AD"), want: statuses{"*": 200}},
		{method: "GET", pattern: "/search", page: true, path: fixed("/search?q=%E6%95%99%E6%A1%88"), want: statuses{"*": 200}},
		{method: "POST", pattern: "/api/v1/resources", path: fixed("/api/v1/resources"),
			body: func(*env, string) *body { return jsonBody(sampleMeta("角色表新建资源")) }, want: publishers(201)},
		{method: "GET", pattern: "/api/v1/resources/:id", path: fx("/api/v1/resources/", "sample"), want: statuses{"*": 200}},
		{method: "PATCH", pattern: "/api/v1/resources/:id", path: fx("/api/v1/resources/", "sample"),
			body: func(*env, string) *body { return jsonBody(map[string]string{"title": "角色表修改"}) }, want: ownerOnly(200)},
		{method: "POST", pattern: "/api/v1/resources/:id/submit", path: fx("/api/v1/resources/", "draft", "/submit"),
			body: func(*env, string) *body { return jsonBody(map[string]bool{"pledge": true}) }, want: ownerOnly(200)},
		{method: "POST", pattern: "/api/v1/resources/:id/review", path: fx("/api/v1/resources/", "draft", "/review"),
			body: func(*env, string) *body { return jsonBody(approveDecision()) }, want: statuses{"anonymous": 401, "reviewer": 200, "*": 403}},
		{method: "POST", pattern: "/api/v1/resources/:id/claim", path: fx("/api/v1/resources/", "sample", "/claim"), want: statuses{"anonymous": 401, "*": 201}},
		{method: "GET", pattern: "/api/v1/resources/:id/download", path: fx("/api/v1/resources/", "sample", "/download"), want: statuses{"anonymous": 401, "*": 302}},
		{method: "GET", pattern: "/api/v1/resources/:id/ratings", path: fx("/api/v1/resources/", "sample", "/ratings"), want: statuses{"*": 200}},
		{method: "POST", pattern: "/api/v1/resources/:id/ratings", path: fx("/api/v1/resources/", "sample", "/ratings"),
			body: func(*env, string) *body { return jsonBody(map[string]any{"stars": 4, "text": "好"}) }, want: statuses{"anonymous": 401, "*": 201}},
		{method: "POST", pattern: "/api/v1/resources/:id/complaints", path: fx("/api/v1/resources/", "sample", "/complaints"),
			body: func(*env, string) *body { return jsonBody(map[string]string{"reason": "疑似抄袭他人作品"}) },
			want: statuses{"anonymous": 401, "teacher": 400, "*": 201}},
		{method: "GET", pattern: "/api/v1/reviews", path: fixed("/api/v1/reviews"), want: statuses{"anonymous": 401, "reviewer": 200, "*": 403}},
		{method: "GET", pattern: "/api/v1/complaints", path: fixed("/api/v1/complaints"), want: adminOnly},
		{method: "POST", pattern: "/api/v1/complaints/:id/decide", path: fx("/api/v1/complaints/", "complaint", "/decide"),
			body: func(*env, string) *body {
				return jsonBody(map[string]string{"decision": "dismiss", "reason": "证据不足"})
			}, want: adminOnly},
		{method: "POST", pattern: "/api/v1/courses/:id/enroll", path: fx("/api/v1/courses/", "course", "/enroll"),
			want: statuses{"anonymous": 401, "student": 201, "*": 400}},
		{method: "GET", pattern: "/api/v1/me/licenses", path: fixed("/api/v1/me/licenses"), want: statuses{"anonymous": 401, "*": 200}},
		{method: "GET", pattern: "/api/v1/me/resources", path: fixed("/api/v1/me/resources"), want: statuses{"anonymous": 401, "*": 200}},
		{method: "GET", pattern: "/files/:sha256", path: func(e *env) string { return e.fx["link"] }, want: statuses{"*": 200}},

		{method: "GET", pattern: "/resources/new", page: true, path: fixed("/resources/new"), want: statuses{"anonymous": 303, "*": 200}},
		{method: "POST", pattern: "/resources/new", page: true, path: fixed("/resources/new"),
			body: func(*env, string) *body {
				return form("title", "页面新建", "summary", "简介", "type", "教案", "stage", "初中", "grade", "七年级", "subject", "数学", "keywords", "测试", "license", "cc-by")
			}, want: statuses{"anonymous": 303, "teacher": 303, "vendor": 303, "institution_admin": 303, "*": 403}},
		{method: "GET", pattern: "/resources/:id", page: true, path: fx("/resources/", "sample"), want: statuses{"*": 200}},
		{method: "GET", pattern: "/resources/:id/edit", page: true, path: fx("/resources/", "sample", "/edit"), want: statuses{"anonymous": 303, "teacher": 200, "*": 403}},
		{method: "POST", pattern: "/resources/:id/edit", page: true, path: fx("/resources/", "sample", "/edit"),
			body: func(*env, string) *body {
				return form("title", "页面修改", "summary", "简介", "type", "教案", "stage", "初中", "grade", "七年级", "subject", "数学", "keywords", "测试", "license", "cc-by")
			}, want: statuses{"anonymous": 303, "teacher": 303, "*": 403}},
		{method: "POST", pattern: "/resources/:id/submit", page: true, path: fx("/resources/", "sample", "/submit"),
			body: func(*env, string) *body { return form("pledge", "on") }, want: statuses{"anonymous": 303, "teacher": 303, "*": 403}},
		{method: "POST", pattern: "/resources/:id/claim", page: true, path: fx("/resources/", "sample", "/claim"), body: func(*env, string) *body { return form() }, want: statuses{"*": 303}},
		{method: "GET", pattern: "/resources/:id/download", page: true, path: fx("/resources/", "sample", "/download"), want: statuses{"anonymous": 303, "*": 302}},
		{method: "POST", pattern: "/resources/:id/rate", page: true, path: fx("/resources/", "sample", "/rate"), body: func(*env, string) *body { return form("stars", "5") }, want: statuses{"*": 303}},
		{method: "POST", pattern: "/resources/:id/complain", page: true, path: fx("/resources/", "sample", "/complain"),
			body: func(*env, string) *body { return form("reason", "疑似抄袭他人作品") }, want: statuses{"teacher": 400, "*": 303}},
		{method: "POST", pattern: "/resources/:id/enroll", page: true, path: fx("/resources/", "course", "/enroll"), body: func(*env, string) *body { return form() },
			want: statuses{"anonymous": 303, "student": 303, "*": 400}},
		{method: "GET", pattern: "/reviews", page: true, path: fixed("/reviews"), want: statuses{"anonymous": 303, "reviewer": 200, "*": 403}},
		{method: "GET", pattern: "/reviews/:id", page: true, path: fx("/reviews/", "sample"), want: statuses{"anonymous": 303, "reviewer": 200, "*": 403}},
		{method: "POST", pattern: "/reviews/:id", page: true, path: fx("/reviews/", "sample"),
			body: func(*env, string) *body { return form("decision", "reject", "reason", "需要修改") }, want: statuses{"anonymous": 303, "reviewer": 303, "*": 403}},
		{method: "GET", pattern: "/admin/complaints", page: true, path: fixed("/admin/complaints"), want: statuses{"anonymous": 303, "platform_admin": 200, "*": 403}},
		{method: "POST", pattern: "/admin/complaints/:id", page: true, path: fx("/admin/complaints/", "complaint2"),
			body: func(*env, string) *body { return form("decision", "dismiss", "reason", "证据不足") }, want: statuses{"anonymous": 303, "platform_admin": 303, "*": 403}},

		{method: "GET", pattern: "/api/v1/ledger/checkpoint", path: fixed("/api/v1/ledger/checkpoint"), want: statuses{"*": 200}},
		{method: "GET", pattern: "/api/v1/ledger/key", path: fixed("/api/v1/ledger/key"), want: statuses{"*": 200}},
		{method: "GET", pattern: "/api/v1/ledger/entries/:index", path: fixed("/api/v1/ledger/entries/0"), want: statuses{"*": 200}},
		{method: "GET", pattern: "/api/v1/ledger/entries/:index/proof", path: fixed("/api/v1/ledger/entries/1/proof"), want: statuses{"*": 200}},
		{method: "GET", pattern: "/api/v1/ledger/entries/:index/receipt", path: fixed("/api/v1/ledger/entries/1/receipt"), want: statuses{"*": 200}},
		{method: "GET", pattern: "/api/v1/ledger/consistency", path: fixed("/api/v1/ledger/consistency?old=1&new=2"), want: statuses{"*": 200}},
		{method: "GET", pattern: "/api/v1/ledger/tile/*", path: fixed("/api/v1/ledger/tile/0/000.p/2"), want: statuses{"*": 200}},
		{method: "GET", pattern: "/ledger", page: true, path: fixed("/ledger"), want: statuses{"*": 200}},
		{method: "GET", pattern: "/ledger/go", page: true, path: fixed("/ledger/go?index=1"), want: statuses{"*": 303}},
		{method: "GET", pattern: "/ledger/entries/:index", page: true, path: fixed("/ledger/entries/1"), want: statuses{"*": 200}},
		{method: "GET", pattern: "/ledger/verify", page: true, path: fixed("/ledger/verify"), want: statuses{"*": 200}},
		{method: "POST", pattern: "/ledger/verify", page: true, path: fixed("/ledger/verify"),
			body: func(e *env, _ string) *body { return multipartFile("receipt", "receipt.json", e.receipt) }, want: statuses{"*": 200}},
	}
}

// TestEveryRouteForEveryRole sends every route as every role and checks the status, and fails
// when a registered route has no row here.
func TestEveryRouteForEveryRole(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		e.fx["sample"] = e.publishSample(t, "路由测试教案")
		var err error
		if e.receipt, err = e.Ledger.Receipt(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
		e.fx["draft"] = e.draftAs(t, "li.teacher", sampleMeta("路由测试草稿"))
		course := sampleMeta("路由测试网络课程")
		course.Type = "网络课程"
		course.Course = &market.Course{Seats: 10, StartsAt: e.clock.Now().Add(time.Hour), EndsAt: e.clock.Now().Add(48 * time.Hour)}
		e.fx["course"] = e.publishAs(t, "chen.teacher", course)
		for _, name := range []string{"complaint", "complaint2"} {
			c, err := e.m.FileComplaint(e.As(t, "chen.teacher"), e.fx["sample"], "抄袭了我的教学设计", nil)
			if err != nil {
				t.Fatal(err)
			}
			e.fx[name] = c.ID
		}
		res := e.do(t, "GET", "/api/v1/resources/"+e.fx["sample"]+"/download", e.tokens["chen.teacher"], nil)
		if res.StatusCode != 302 {
			t.Fatalf("download: %d", res.StatusCode)
		}
		e.fx["link"] = res.Header.Get("Location")
		e.orderFixtures(t)
		cases := routeCases()
		for _, more := range moreRouteCases {
			cases = append(cases, more()...)
		}
		covered := map[string]bool{}
		for _, c := range cases {
			covered[c.method+" "+c.pattern] = true
		}
		var missing []string
		for _, r := range e.srv.App().GetRoutes(true) {
			if r.Method == "HEAD" {
				continue
			}
			if !covered[r.Method+" "+r.Path] {
				missing = append(missing, r.Method+" "+r.Path)
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Fatalf("routes without a row in the role table: %v", missing)
		}
		browsers := map[string]*browser{}
		for _, r := range roles {
			b := e.browser()
			if r.login != "" {
				b.login(t, r.login)
			}
			browsers[r.role] = b
		}
		for _, c := range cases {
			for _, r := range roles {
				var b *body
				if c.body != nil {
					b = c.body(e, r.role)
				}
				var status int
				if c.page {
					status = browsers[r.role].pageRequest(t, c.method, c.path(e), b)
				} else {
					res := e.do(t, c.method, c.path(e), e.tokens[r.login], b, c.headers...)
					res.Body.Close()
					status = res.StatusCode
				}
				if want := c.want.of(r.role); status != want {
					t.Errorf("%s %s as %s: status %d, want %d", c.method, c.pattern, r.role, status, want)
				}
			}
		}
	})
}

// pageRequest sends a page request with the browser's cookies and a valid CSRF token, keeping
// the session: a logout or login in the table does not change who the browser is.
func (b *browser) pageRequest(t *testing.T, method, path string, bd *body) int {
	t.Helper()
	saved := map[string]string{}
	for k, v := range b.cookies {
		saved[k] = v
	}
	defer func() { b.cookies = saved }()
	var req *http.Request
	if bd == nil {
		req = httptest.NewRequest(method, path, nil)
	} else {
		tok := b.csrf(t, "/")
		req = httptest.NewRequest(method, path, bytes.NewReader(bd.data))
		req.Header.Set("Content-Type", bd.contentType)
		req.Header.Set("X-CSRF-Token", tok)
	}
	res, _ := b.send(t, req)
	return res.StatusCode
}
