package web

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"ziyuan/catalog"
	"ziyuan/market"
	"ziyuan/market/files"
	"ziyuan/market/oai"
	"ziyuan/rights"
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
	// Ledger serves the public ledger's reads and pages.
	Ledger *rights.Log
	// Inspector checks uploaded files; nil means the default limits and the system's
	// temporary directory.
	Inspector *files.Inspector
	// Search answers catalog queries; nil makes search answer 503.
	Search catalog.Engine
	// OnPayment is called after a payment notification was stored, to apply it at once.
	OnPayment func()
	// Reported lists the shared services /readyz reports without failing on them (the search
	// engine is always reported).
	Reported []Check
	// PublicURL is the site's root as readers reach it (https://…, no trailing slash), for the
	// absolute links of OAI-PMH records and JSON-LD; empty: taken from each request.
	PublicURL string
	// OAI describes the OAI-PMH provider at /oai.
	OAI OAIConfig
}

// OAIConfig describes the repository behind /oai; zero values take the defaults.
type OAIConfig struct {
	// RepositoryID names the repository in identifiers (oai:<RepositoryID>:<resource id>); a
	// domain name, default "ziyuan.local". Keep it stable: harvesters key records by it.
	RepositoryID   string
	RepositoryName string
	AdminEmails    []string
	// PageSize is the number of records a list response holds (default 100).
	PageSize int
}

// Check is a service that /readyz reports by name: "ok" or "unavailable".
type Check struct {
	Name  string
	Probe func(context.Context) error
}

// Server is the HTTP application.
type Server struct {
	app       *fiber.App
	m         *market.Market
	tok       *tokens
	log       *slog.Logger
	clock     market.Clock
	secure    bool
	ready     []func(context.Context) error
	reported  []Check
	ledger    *rights.Log
	inspector *files.Inspector
	engine    catalog.Engine
	onPayment func()
	openAPI   []byte
	pages     *pages
	metrics   *httpMetrics
	oai       *oai.Provider
	publicURL string
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
		// One file of the 200 MiB that API.md allows, with room for the form around it.
		cfg.BodyLimit = files.DefaultMaxSize + 10<<20
	}
	if cfg.OnPayment == nil {
		cfg.OnPayment = func() {}
	}
	if cfg.Inspector == nil {
		cfg.Inspector = files.NewInspector(files.Limits{}, "")
	}
	if cfg.OAI.RepositoryID == "" {
		cfg.OAI.RepositoryID = "ziyuan.local"
	}
	s := &Server{
		m:         cfg.Market,
		tok:       newTokens(cfg.Secret, cfg.Clock),
		log:       cfg.Logger,
		clock:     cfg.Clock,
		secure:    cfg.SecureCookies,
		ready:     append([]func(context.Context) error{cfg.Market.Ready}, cfg.Ready...),
		ledger:    cfg.Ledger,
		inspector: cfg.Inspector,
		engine:    cfg.Search,
		reported:  cfg.Reported,
		onPayment: cfg.OnPayment,
		pages:     mustParsePages(),
		metrics:   newHTTPMetrics(cfg.Registry),
		publicURL: strings.TrimSuffix(cfg.PublicURL, "/"),
	}
	var err error
	s.oai, err = oai.NewProvider(cfg.Market, oai.Config{RepositoryName: cfg.OAI.RepositoryName, RepositoryID: cfg.OAI.RepositoryID,
		AdminEmails: cfg.OAI.AdminEmails, Key: s.tok.oaiKey, Taxonomy: cfg.Market.Taxonomy(), PageSize: cfg.OAI.PageSize, Clock: cfg.Clock})
	if err != nil {
		// The command line checks these settings before it builds a server.
		panic("web: " + err.Error())
	}
	doc, err := buildOpenAPI()
	if err != nil {
		panic(err) // the embedded document is part of the build; a test catches this first
	}
	s.openAPI = doc
	s.app = fiber.New(fiber.Config{
		AppName:      "ziyuan",
		BodyLimit:    cfg.BodyLimit,
		ReadTimeout:  60 * time.Second,
		WriteTimeout: 60 * time.Second,
		IdleTimeout:  120 * time.Second,
		// Search links carry Chinese filter values, nine bytes a character once escaped.
		ReadBufferSize:        16 << 10,
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
	app.Get("/api/openapi.json", s.serveOpenAPI)
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
	api.Get("/taxonomy", s.apiTaxonomy)
	api.Get("/search", s.apiSearch)
	api.Post("/resources", s.apiCreateResource)
	api.Get("/resources/:id", s.apiResource)
	api.Patch("/resources/:id", s.apiUpdateResource)
	api.Post("/resources/:id/submit", s.apiSubmit)
	api.Post("/resources/:id/review", s.apiReview)
	api.Post("/resources/:id/claim", s.apiClaim)
	api.Get("/resources/:id/download", s.apiDownload)
	api.Get("/resources/:id/ratings", s.apiRatings)
	api.Post("/resources/:id/ratings", s.apiRate)
	api.Post("/resources/:id/complaints", s.apiComplain)
	api.Get("/reviews", s.apiReviews)
	api.Get("/complaints", s.apiComplaints)
	api.Post("/complaints/:id/decide", s.apiDecideComplaint)
	api.Post("/courses/:id/enroll", s.apiEnroll)
	api.Post("/orders", s.apiCreateOrder)
	api.Get("/orders/:id", s.apiOrder)
	api.Post("/orders/:id/confirm", s.apiConfirmOrder)
	api.Post("/orders/:id/refund", s.apiRefundOrder)
	api.Post("/billing/stripe/webhook", s.apiStripeWebhook)
	api.Get("/me/orders", s.apiMyOrders)
	api.Get("/me/earnings", s.apiMyEarnings)
	api.Get("/me/payout-account", s.apiMyPayoutAccount)
	api.Post("/me/payout-account", s.apiStartPayoutOnboarding)
	api.Get("/me/licenses", s.apiMyLicenses)
	api.Get("/me/resources", s.apiMyResources)
	api.Get("/contributions", s.apiContributions)
	api.Get("/ledger/checkpoint", s.apiCheckpoint)
	api.Get("/ledger/key", s.apiLedgerKey)
	api.Get("/ledger/entries/:index", s.apiLedgerEntry)
	api.Get("/ledger/entries/:index/proof", s.apiLedgerProof)
	api.Get("/ledger/entries/:index/receipt", s.apiLedgerReceipt)
	api.Get("/ledger/consistency", s.apiLedgerConsistency)
	api.Get("/ledger/tile/*", s.apiLedgerTile)

	app.Get("/files/:sha256", s.serveFile)
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
	app.Get("/search", s.pageSearch)
	app.Get("/resources/new", s.pagePublish)
	app.Post("/resources/new", s.postPublish)
	app.Get("/resources/:id", s.pageResource)
	app.Get("/resources/:id/edit", s.pageEditResource)
	app.Post("/resources/:id/edit", s.postEditResource)
	app.Post("/resources/:id/submit", s.postSubmit)
	app.Post("/resources/:id/claim", s.postClaim)
	app.Get("/resources/:id/download", s.pageDownload)
	app.Post("/resources/:id/rate", s.postRate)
	app.Post("/resources/:id/complain", s.postComplain)
	app.Post("/resources/:id/enroll", s.postEnroll)
	app.Get("/resources/:id/buy", s.pageBuy)
	app.Post("/resources/:id/buy", s.postBuy)
	app.Get("/orders", s.pageOrders)
	app.Get("/orders/:id", s.pageOrder)
	app.Post("/orders/:id/confirm", s.postConfirmOrder)
	app.Post("/orders/:id/refund", s.postRefundOrder)
	app.Get("/earnings", s.pageEarnings)
	app.Get("/earnings/statement", s.statement)
	app.Post("/earnings/payout-account", s.postPayoutAccount)
	app.Get("/earnings/payout-account", s.refreshPayoutOnboarding)
	app.Get("/contributions", s.pageContributions)
	app.Get("/contributions/export", s.pageExportContributions)
	app.Get("/space/contributions", s.pageMyContributions)
	app.Get("/reviews", s.pageReviews)
	app.Get("/reviews/:id", s.pageReview)
	app.Post("/reviews/:id", s.postReview)
	app.Get("/admin/complaints", s.pageComplaints)
	app.Post("/admin/complaints/:id", s.postDecideComplaint)
	app.Get("/ledger", s.pageLedger)
	app.Get("/ledger/go", func(c *fiber.Ctx) error {
		i, err := int64Param("index", c.Query("index"), 0)
		if err != nil {
			return err
		}
		return c.Redirect("/ledger/entries/"+strconv.FormatInt(i, 10), fiber.StatusSeeOther)
	})
	app.Get("/ledger/entries/:index", s.pageLedgerEntry)
	app.Get("/ledger/verify", s.pageVerifyReceipt)
	app.Post("/ledger/verify", s.postVerifyReceipt)

	app.Get("/oai", s.serveOAI)
	app.Post("/oai", s.serveOAI)
}

// readyz answers 200 while this instance can serve: its database answers (and any extra
// check of Config.Ready passes). Shared services (the search engine, an S3 bucket) are reported
// but do not decide: when one of them is down, every instance would fail the check together and
// a load balancer would take the whole site away, while only the features that need it are
// degraded (they answer 503 with Retry-After on their own).
func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 3*time.Second)
	defer cancel()
	for _, check := range s.ready {
		if err := check(ctx); err != nil {
			s.log.WarnContext(ctx, "not ready", "err", err)
			return c.Status(fiber.StatusServiceUnavailable).SendString("not ready: database\n")
		}
	}
	var b strings.Builder
	b.WriteString("ready\ndatabase: ok\n")
	search := Check{Name: "search", Probe: func(ctx context.Context) error {
		if s.engine == nil {
			return catalog.ErrUnavailable
		}
		_, err := s.engine.Search(ctx, catalog.Query{PerPage: 1, Page: 1})
		return err
	}}
	for _, check := range append([]Check{search}, s.reported...) {
		state := "ok"
		if err := check.Probe(ctx); err != nil {
			s.log.WarnContext(ctx, "shared service not answering", "service", check.Name, "err", err)
			state = "unavailable"
		}
		fmt.Fprintf(&b, "%s: %s\n", check.Name, state)
	}
	return c.SendString(b.String())
}
