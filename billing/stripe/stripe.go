// Package stripe is Ziyuan's Stripe adapter: it implements the billing ports (Provider,
// WebhookParser, Refunds, Payouts) with stripe-go v76 — Checkout Sessions for CNY orders,
// signature-checked webhooks mapped to neutral billing events, refunds, and Connect Express
// accounts, onboarding links, transfers and transfer reversals for sellers' shares.
//
// It owns everything Stripe-specific: request shapes, idempotency keys, the API-version
// policy for webhooks and the translation of Stripe's errors into billing's neutral ones.
// It is the only package allowed to import stripe-go, and it imports nothing of Ziyuan but
// ziyuan/billing. It keeps no global state: every Provider has its own API client, so tests
// (and a future second account) can run side by side.
package stripe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	stripego "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
	"github.com/stripe/stripe-go/v76/webhook"

	"ziyuan/billing"
)

// Name is the provider name recorded on orders and checkouts.
const Name = "stripe"

// DefaultAccountCountry is where sellers' Connect accounts are opened unless configured
// otherwise. Stripe does not offer Connect accounts in mainland China (CN is not a supported
// country for connected accounts), so mainland teachers and vendors need an account in a
// supported market; Hong Kong is the nearest one that settles to local banks and pays out HKD.
const DefaultAccountCountry = "HK"

// Config configures a Provider. SecretKey and WebhookSecret are required.
type Config struct {
	// SecretKey is the API key (sk_… or a restricted rk_… key). It is sent only in the
	// Authorization header and never appears in errors or logs.
	SecretKey string
	// WebhookSecret is the endpoint's signing secret (whsec_…). Without it no webhook can be
	// verified, and a Stripe provider that cannot learn about payments is useless, so New
	// refuses to start without it.
	WebhookSecret string
	// APIBase overrides https://api.stripe.com, e.g. with a stripe-mock URL in tests.
	APIBase string
	// HTTPClient is used for API calls; the default has an 80 s timeout (Stripe's advice).
	HTTPClient *http.Client
	// MaxNetworkRetries bounds stripe-go's retries of network errors, 409s and 503s
	// (0: stripe-go's default of 2; negative: none). Retries reuse our idempotency keys.
	MaxNetworkRetries int
	// WebhookTolerance is how old a webhook signature may be (default 5 minutes). It is what
	// turns a captured request into a useless one for replay.
	WebhookTolerance time.Duration
	// AccountCountry is the country of new Connect accounts (default DefaultAccountCountry).
	AccountCountry string
	// Logger receives stripe-go's warnings and errors (nil: discarded; errors are returned).
	Logger *slog.Logger
	// Now is the clock used to clamp checkout expiry (default time.Now).
	Now func() time.Time
}

// Provider is the Stripe adapter. It is safe for concurrent use.
type Provider struct {
	api              *client.API
	redact           redactor
	webhookSecret    string
	webhookTolerance time.Duration
	accountCountry   string
	now              func() time.Time
}

// The Provider implements every billing port.
var (
	_ billing.Provider      = (*Provider)(nil)
	_ billing.WebhookParser = (*Provider)(nil)
	_ billing.Refunds       = (*Provider)(nil)
	_ billing.Payouts       = (*Provider)(nil)
)

// New builds a Provider with its own stripe-go client (never the package-global stripe.Key
// and backends, which would make two providers, or parallel tests, interfere).
func New(cfg Config) (*Provider, error) {
	// Validation messages name the problem, never the key itself.
	if cfg.SecretKey == "" {
		return nil, errors.New("stripe: no secret key configured")
	}
	if !strings.HasPrefix(cfg.SecretKey, "sk_") && !strings.HasPrefix(cfg.SecretKey, "rk_") {
		return nil, errors.New("stripe: the secret key must be a secret (sk_…) or restricted (rk_…) key, not a publishable one")
	}
	if cfg.WebhookSecret == "" {
		// An empty HMAC key would let anyone sign webhooks.
		return nil, errors.New("stripe: no webhook signing secret configured")
	}
	base := stripego.APIURL
	if cfg.APIBase != "" {
		u, err := url.Parse(cfg.APIBase)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			return nil, fmt.Errorf("stripe: API base %q is not an http(s) URL without credentials", cfg.APIBase)
		}
		base = cfg.APIBase
	}
	httpClient := cfg.HTTPClient
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 80 * time.Second}
	}
	redact := redactor(cfg.SecretKey)
	var logger stripego.LeveledLoggerInterface = &stripego.LeveledLogger{Level: stripego.LevelNull}
	if cfg.Logger != nil {
		logger = slogAdapter{cfg.Logger, redact}
	}
	retries := stripego.DefaultMaxNetworkRetries
	if cfg.MaxNetworkRetries > 0 {
		retries = int64(cfg.MaxNetworkRetries)
	} else if cfg.MaxNetworkRetries < 0 {
		retries = 0
	}
	backend := func(t stripego.SupportedBackend, u string) stripego.Backend {
		c := &stripego.BackendConfig{
			HTTPClient:        httpClient,
			LeveledLogger:     logger,
			MaxNetworkRetries: stripego.Int64(retries),
			EnableTelemetry:   stripego.Bool(false),
		}
		if u != "" {
			c.URL = stripego.String(u)
		}
		return stripego.GetBackendWithConfig(t, c)
	}
	api := client.New(cfg.SecretKey, &stripego.Backends{
		API: backend(stripego.APIBackend, base),
		// Connect (OAuth) and Uploads are unused; they get private backends anyway so that
		// nothing falls back to stripe-go's globals.
		Connect: backend(stripego.ConnectBackend, ""),
		Uploads: backend(stripego.UploadsBackend, ""),
	})
	p := &Provider{
		api:              api,
		redact:           redact,
		webhookSecret:    cfg.WebhookSecret,
		webhookTolerance: cfg.WebhookTolerance,
		accountCountry:   cfg.AccountCountry,
		now:              cfg.Now,
	}
	if p.webhookTolerance <= 0 {
		p.webhookTolerance = webhook.DefaultTolerance
	}
	if p.accountCountry == "" {
		p.accountCountry = DefaultAccountCountry
	}
	if p.now == nil {
		p.now = time.Now
	}
	return p, nil
}

// Name reports "stripe".
func (p *Provider) Name() string { return Name }

// providerError is a billing error with Stripe's cause attached. Its message is built from
// the parts we choose (Stripe's message, type, code and request ID) rather than from the
// cause's own Error(): stripe-go's errors serialise whole objects, which may carry payment
// intents and their client secrets. errors.Is and errors.As still reach both the billing
// sentinel and the cause.
type providerError struct {
	kind  error // billing.ErrUnavailable or billing.ErrRejected
	msg   string
	cause error
}

func (e *providerError) Error() string   { return e.msg }
func (e *providerError) Unwrap() []error { return []error{e.kind, e.cause} }

// classify turns a stripe-go error into billing.ErrUnavailable (worth retrying later: network
// failures, timeouts, rate limits, conflicts with requests in flight, Stripe's 5xx, answers we
// cannot read) or billing.ErrRejected
// (Stripe understood and refused: invalid requests, authentication, idempotency conflicts,
// declined cards — retrying the same request cannot help).
func (p *Provider) classify(op string, err error) error {
	var se *stripego.Error
	if !errors.As(err, &se) {
		// Transport errors name the URL and the failure, not the Authorization header, but an
		// unreadable answer is quoted, and it could echo the request.
		if msg := err.Error(); p.redact.in(msg) {
			err = errors.New(p.redact.from(msg))
		}
		return &providerError{kind: billing.ErrUnavailable, msg: fmt.Sprintf("stripe: %s: %v: %v", op, billing.ErrUnavailable, err), cause: err}
	}
	// An authentication error may quote the Authorization header it got (stripe-mock does;
	// Stripe masks keys itself). Redact Stripe's message in the cause too, as callers may
	// unwrap and log it.
	se.Msg = p.redact.from(se.Msg)
	kind := billing.ErrRejected
	// 409 is a conflict with a request still in flight (the same idempotency key, a locked
	// object): the same request can succeed a moment later, unlike a 400 idempotency error
	// (the key reused with other parameters).
	if se.HTTPStatusCode == http.StatusConflict || se.HTTPStatusCode == http.StatusTooManyRequests ||
		se.HTTPStatusCode >= 500 || se.Type == stripego.ErrorTypeAPI {
		kind = billing.ErrUnavailable
	}
	var b strings.Builder
	fmt.Fprintf(&b, "stripe: %s: %v: %d %s", op, kind, se.HTTPStatusCode, se.Type)
	if se.Code != "" {
		fmt.Fprintf(&b, " (%s)", se.Code)
	}
	if se.Param != "" {
		fmt.Fprintf(&b, " param %s", se.Param)
	}
	if se.Msg != "" {
		fmt.Fprintf(&b, ": %s", se.Msg)
	}
	if se.RequestID != "" {
		fmt.Fprintf(&b, " [request %s]", se.RequestID)
	}
	return &providerError{kind: kind, msg: p.redact.from(b.String()), cause: err}
}

// redactor removes the secret key from text that leaves the adapter.
type redactor string

func (r redactor) in(s string) bool { return r != "" && strings.Contains(s, string(r)) }

func (r redactor) from(s string) string {
	if !r.in(s) {
		return s
	}
	return strings.ReplaceAll(s, string(r), "[secret key]")
}

// rejectLocally refuses a request before it reaches Stripe. It is billing.ErrRejected because
// Stripe would refuse it too (or, worse, accept something we did not mean).
func rejectLocally(op, format string, args ...any) error {
	return fmt.Errorf("stripe: %s: %w: %s (not sent)", op, billing.ErrRejected, fmt.Sprintf(format, args...))
}

// prepare attaches the caller's context and an idempotency key to a request.
func prepare(ctx context.Context, p *stripego.Params, idempotencyKey string) {
	p.Context = ctx
	if idempotencyKey != "" {
		p.IdempotencyKey = stripego.String(idempotencyKey)
	}
}

// unreadable reports a successful answer we cannot use: Stripe (or whatever answered at the
// configured URL) is not behaving, which is the caller's problem in the way an outage is.
func unreadable(op, what string) error {
	return fmt.Errorf("stripe: %s: %w: the API answered with %s", op, billing.ErrUnavailable, what)
}

// slogAdapter feeds stripe-go's leveled logging into slog. stripe-go's debug level logs whole
// response bodies (client secrets, customer details), so it is dropped; its info level is
// per-request chatter and goes to debug.
// Messages are redacted like errors.
type slogAdapter struct {
	l      *slog.Logger
	redact redactor
}

func (a slogAdapter) Debugf(string, ...any) {}
func (a slogAdapter) Infof(format string, v ...any) {
	a.l.Debug(a.redact.from(fmt.Sprintf(format, v...)), "component", "stripe-go")
}
func (a slogAdapter) Warnf(format string, v ...any) {
	a.l.Warn(a.redact.from(fmt.Sprintf(format, v...)), "component", "stripe-go")
}
func (a slogAdapter) Errorf(format string, v ...any) {
	a.l.Error(a.redact.from(fmt.Sprintf(format, v...)), "component", "stripe-go")
}
