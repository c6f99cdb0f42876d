package web

import (
	"fmt"
	"net/netip"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"ziyuan/market"
)

const (
	sessionCookie = "ziyuan_session"
	csrfCookie    = "ziyuan_csrf"
	langCookie    = "lang"
	csrfField     = "_csrf"
	csrfHeader    = "X-CSRF-Token"
)

type localKey int

const (
	ridKey localKey = iota
	viaCookieKey
)

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func requestID(c *fiber.Ctx) string {
	rid, _ := c.Locals(ridKey).(string)
	return rid
}

// observe assigns the request ID, puts an anonymous actor with the client address into the
// context, and after the handlers have run (errors rendered) records the metrics and access log.
func (s *Server) observe(c *fiber.Ctx) error {
	start := time.Now()
	rid := c.Get(fiber.HeaderXRequestID)
	if !requestIDPattern.MatchString(rid) {
		rid = market.NewID()
	}
	c.Locals(ridKey, rid)
	c.Set(fiber.HeaderXRequestID, rid)
	ip, _ := netip.ParseAddr(c.IP())
	c.SetUserContext(market.WithActor(c.UserContext(), market.Actor{IP: ip, RequestID: rid}))

	if err := c.Next(); err != nil {
		if herr := s.handleError(c, err); herr != nil {
			s.log.Error("render error", "request_id", rid, "err", herr)
			c.Status(fiber.StatusInternalServerError)
		}
	}
	status := c.Response().StatusCode()
	// Without a matching route Fiber reports the "/" of the middleware; only the home page
	// itself is really "/".
	route := "unmatched"
	if r := c.Route(); r != nil && (r.Path != "/" || c.Path() == "/") {
		route = r.Path
	}
	elapsed := time.Since(start)
	s.metrics.observe(c.Method(), route, status, elapsed)
	s.log.InfoContext(c.UserContext(), "request", "request_id", rid, "method", c.Method(), "route", route,
		"status", status, "ms", float64(elapsed.Microseconds())/1000, "user", market.ActorFrom(c.UserContext()).UserID)
	return nil
}

// recoverPanics turns a panic into an internal error, logged with its stack.
func (s *Server) recoverPanics(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return c.Next()
}

func (s *Server) securityHeaders(c *fiber.Ctx) error {
	h := func(k, v string) { c.Set(k, v) }
	h("X-Content-Type-Options", "nosniff")
	h("X-Frame-Options", "DENY")
	h("Referrer-Policy", "same-origin")
	h("Cross-Origin-Opener-Policy", "same-origin")
	h("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	h("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "+
		"object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	if s.secure {
		h("Strict-Transport-Security", "max-age=31536000")
	}
	return c.Next()
}

// authenticate turns a bearer token or session cookie into the acting user. A bad bearer token
// is refused outright; a bad cookie is dropped and the browser continues anonymously.
func (s *Server) authenticate(c *fiber.Ctx) error {
	raw, fromCookie := "", false
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			return market.Errorf(market.CodeUnauthenticated, market.MsgTokenInvalid)
		}
		raw = strings.TrimSpace(tok)
	} else if ck := c.Cookies(sessionCookie); ck != "" {
		raw, fromCookie = ck, true
	}
	if raw == "" {
		return c.Next()
	}
	reject := func() error {
		if fromCookie {
			s.clearSession(c)
			return c.Next()
		}
		return market.Errorf(market.CodeUnauthenticated, market.MsgTokenInvalid)
	}
	claims, err := s.tok.parse(raw)
	if err != nil {
		return reject()
	}
	actor, err := s.m.ActorFor(c.UserContext(), claims.Subject)
	if market.IsCode(err, market.CodeUnauthenticated) {
		return reject()
	}
	if err != nil {
		return err
	}
	c.SetUserContext(market.WithActor(c.UserContext(), actor))
	c.Locals(viaCookieKey, fromCookie)
	// Browsers get a fresh cookie in the second half of a token's life, so an active session
	// does not expire in the middle of work while every token still lives at most an hour.
	if fromCookie && claims.ExpiresAt.Sub(s.clock()) < tokenLifetime/2 {
		if err := s.startSession(c, actor.UserID); err != nil {
			return err
		}
	}
	return c.Next()
}

// checkCSRF requires the form token on every state-changing request that a browser could send
// with its cookies: page forms always, API calls when authenticated by cookie.
func (s *Server) checkCSRF(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return c.Next()
	}
	viaCookie, _ := c.Locals(viaCookieKey).(bool)
	if strings.HasPrefix(c.Path(), "/api/") && !viaCookie {
		return c.Next()
	}
	if c.Path() == "/oai" {
		// OAI-PMH's POST is a query sent as a form (for long arguments): it changes nothing and
		// harvesters have no CSRF token.
		return c.Next()
	}
	token := c.Get(csrfHeader)
	if token == "" {
		token = c.FormValue(csrfField)
	}
	if !s.tok.csrfValid(c.Cookies(csrfCookie), token) {
		return market.Errorf(market.CodeForbidden, market.MsgCSRF)
	}
	return c.Next()
}

// startSession sets the session cookie for userID.
func (s *Server) startSession(c *fiber.Ctx, userID string) error {
	tok, _, err := s.tok.issue(userID)
	if err != nil {
		return market.Internal(err)
	}
	// Max-Age rather than Expires: a relative lifetime survives clock skew between us and the browser.
	c.Cookie(&fiber.Cookie{Name: sessionCookie, Value: tok, Path: "/", MaxAge: int(tokenLifetime.Seconds()), HTTPOnly: true,
		Secure: s.secure, SameSite: fiber.CookieSameSiteLaxMode})
	return nil
}

func (s *Server) clearSession(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{Name: sessionCookie, Value: "", Path: "/", Expires: time.Unix(0, 0), MaxAge: -1,
		HTTPOnly: true, Secure: s.secure, SameSite: fiber.CookieSameSiteLaxMode})
}

// csrfToken returns the token for this browser's forms, setting its nonce cookie if needed.
func (s *Server) csrfToken(c *fiber.Ctx) string {
	nonce := c.Cookies(csrfCookie)
	if len(nonce) < 16 {
		nonce = randomToken(18)
		c.Cookie(&fiber.Cookie{Name: csrfCookie, Value: nonce, Path: "/", HTTPOnly: true, Secure: s.secure,
			SameSite: fiber.CookieSameSiteLaxMode})
	}
	return s.tok.csrfFor(nonce)
}

// wantsHTML is true for page routes; the API, probes and metrics answer in JSON or text.
func wantsHTML(c *fiber.Ctx) bool {
	p := c.Path()
	return !strings.HasPrefix(p, "/api/") && p != "/healthz" && p != "/readyz" && p != "/metrics" &&
		!strings.HasPrefix(p, "/static/") && p != "/oai"
}

// lang picks the language: the reader's switch (cookie) first; API clients may also ask with
// Accept-Language; pages otherwise speak Chinese.
func (s *Server) lang(c *fiber.Ctx) string {
	switch c.Cookies(langCookie) {
	case "en":
		return "en"
	case "zh":
		return "zh"
	}
	if !wantsHTML(c) {
		if best := c.AcceptsLanguages("zh-CN", "zh", "en"); strings.HasPrefix(best, "en") {
			return "en"
		}
	}
	return "zh"
}
