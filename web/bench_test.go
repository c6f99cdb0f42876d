package web_test

import (
	"net/http/httptest"
	"testing"
)

// BenchmarkMe measures the authenticated hot path: token check, user and roles from the
// database, JSON out.
func BenchmarkMe(b *testing.B) {
	e := newEnvTB(b, openDB(b))
	tok := e.tokens["li.teacher"]
	app := e.srv.App()
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest("GET", "/api/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := app.Test(req, -1)
		if err != nil || res.StatusCode != 200 {
			b.Fatalf("%v %v", res, err)
		}
		res.Body.Close()
	}
}

// BenchmarkSpacePage measures a server-rendered page for a signed-in browser.
func BenchmarkSpacePage(b *testing.B) {
	e := newEnvTB(b, openDB(b))
	br := e.browser()
	br.login(b, "li.teacher")
	b.ResetTimer()
	for b.Loop() {
		if res, _ := br.do(b, "GET", "/space", nil); res.StatusCode != 200 {
			b.Fatal(res.StatusCode)
		}
	}
}
