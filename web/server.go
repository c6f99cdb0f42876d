package web

import (
	"context"
	"log/slog"
	"net"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"ziyuan/market"
)

// Config wires a Server. Market and Secret are required.
type Config struct {
	Market *market.Market
	// Secret signs session and CSRF tokens; instances sharing it accept each other's tokens.
	Secret []byte
	Logger *slog.Logger
	// Registry receives the HTTP metrics and is served at /metrics; nil makes a private one.
	Registry *prometheus.Registry
	Clock    market.Clock
	// BodyLimit caps any request body (default 16 MiB); JSON bodies are capped at 1 MiB.
	BodyLimit int
	// SecureCookies marks cookies Secure, for deployments behind TLS.
	SecureCookies bool
	// Ready lists extra readiness checks (the database is always checked).
	Ready []func(context.Context) error
}

// Server is the HTTP application.
type Server struct {
	app     *fiber.App
	m       *market.Market
	tok     *tokens
	log     *slog.Logger
	clock   market.Clock
	secure  bool
	ready   []func(context.Context) error
	pages   *pages
	metrics *httpMetrics
}

// New builds the application with every route registered.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = market.SystemClock
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.BodyLimit == 0 {
		cfg.BodyLimit = 16 << 20
	}
	s := &Server{
		m:       cfg.Market,
		tok:     newTokens(cfg.Secret, cfg.Clock),
		log:     cfg.Logger,
		clock:   cfg.Clock,
		secure:  cfg.SecureCookies,
		ready:   append([]func(context.Context) error{cfg.Market.Ready}, cfg.Ready...),
		pages:   mustParsePages(),
		metrics: newHTTPMetrics(cfg.Registry),
	}
	s.app = fiber.New(fiber.Config{
		AppName:               "ziyuan",
		BodyLimit:             cfg.BodyLimit,
		ReadTimeout:           60 * time.Second,
		WriteTimeout:          60 * time.Second,
		IdleTimeout:           120 * time.Second,
		DisableStartupMessage: true,
		ErrorHandler:          s.handleError,
		// Handlers hand request strings to the domain and to logs; copying them costs little and
		// removes a class of use-after-reuse bugs.
		Immutable: true,
	})
	s.app.Use(s.observe, s.recoverPanics, s.securityHeaders, s.authenticate, s.checkCSRF)
	s.routes(cfg.Registry)
	return s
}

// App exposes the Fiber application, for tests and for serving.
func (s *Server) App() *fiber.App { return s.app }

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error { return s.app.Listener(ln) }

// Shutdown stops accepting connections and waits for requests in flight.
func (s *Server) Shutdown(ctx context.Context) error { return s.app.ShutdownWithContext(ctx) }

func (s *Server) routes(reg *prometheus.Registry) {
	app := s.app
	app.Get("/healthz", func(c *fiber.Ctx) error { return c.SendString("ok") })
	app.Get("/readyz", s.readyz)
	app.Get("/metrics", adaptor.HTTPHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	app.Get("/api/openapi.json", serveOpenAPI)
	app.Get("/static/*", s.static)

	api := app.Group("/api/v1")
	api.Post("/auth/login", s.apiLogin)
	api.Post("/auth/register", s.apiRegister)
	api.Get("/me", s.apiMe)
	api.Get("/me/wards", s.apiWards)
	api.Get("/institutions", s.apiInstitutions)
	api.Post("/institutions", s.apiCreateInstitution)
	api.Get("/institutions/:id", s.apiInstitution)
	api.Get("/institutions/:id/users", s.apiInstitutionUsers)
	api.Post("/institutions/:id/roster", s.apiRoster)
	api.Post("/users/:id/verify", s.apiVerify)
	api.Post("/users/:id/roles", s.apiGrantRole)
	api.Post("/guardians/consent", s.apiConsent)
	api.Get("/admin/audit", s.apiAudit)

	app.Get("/", s.pageHome)
	app.Get("/lang/:lang", s.switchLang)
	app.Get("/login", s.pageLogin)
	app.Post("/login", s.postLogin)
	app.Post("/logout", s.postLogout)
	app.Get("/register", s.pageRegister)
	app.Post("/register", s.postRegister)
	app.Get("/space", s.pageSpace)
	app.Post("/space/consent", s.postConsent)
	app.Get("/admin/institution", s.pageInstitutionAdmin)
	app.Post("/admin/institution/roster", s.postRoster)
	app.Post("/admin/institution/verify", s.postVerify)
	app.Get("/admin/audit", s.pageAudit)
}

func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 3*time.Second)
	defer cancel()
	for _, check := range s.ready {
		if err := check(ctx); err != nil {
			s.log.WarnContext(ctx, "not ready", "err", err)
			return c.Status(fiber.StatusServiceUnavailable).SendString("not ready")
		}
	}
	return c.SendString("ready")
}
