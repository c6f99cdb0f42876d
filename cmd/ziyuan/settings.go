package main

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"ziyuan/market/oai"
	"ziyuan/web"
)

// settings are the deployment settings of DESIGN.md. Nothing is required: the zero
// configuration is the embedded default.
type settings struct {
	Addr         string
	Data         string
	DatabaseURL  string
	Secret       string
	LogFormat    string
	LedgerOrigin string
	LedgerKey    string
	MeiliURL     string
	MeiliKey     string
	StripeKey    string
	StripeHook   string
	StripeBase   string
	PublicURL    string
	OAIID        string
	OAIEmail     string
	S3Endpoint   string
	S3Bucket     string
	S3AccessKey  string
	S3SecretKey  string
	S3Region     string
	S3Prefix     string
}

// setting is one row of the settings table: a flag and its environment fallback.
type setting struct {
	flag, env, def, help string
	dst                  func(*settings) *string
}

var settingsTable = []setting{
	{"addr", "ZIYUAN_ADDR", ":8080", "listen address", func(s *settings) *string { return &s.Addr }},
	{"data", "ZIYUAN_DATA", "./data", "data directory: SQLite file, keys, search index, files", func(s *settings) *string { return &s.Data }},
	{"database-url", "DATABASE_URL", "", "postgres://… selects PostgreSQL instead of SQLite", func(s *settings) *string { return &s.DatabaseURL }},
	{"secret", "ZIYUAN_SECRET", "", "hex or base64 secret (≥ 32 bytes) for session and CSRF tokens; generated into the data directory when unset", func(s *settings) *string { return &s.Secret }},
	{"ledger-origin", "ZIYUAN_LEDGER_ORIGIN", "ziyuan.local/ledger", "the ledger's name: the origin line of its checkpoints", func(s *settings) *string { return &s.LedgerOrigin }},
	{"ledger-key", "ZIYUAN_LEDGER_KEY", "", "the ledger's note signing key (PRIVATE+KEY+…); generated into the data directory when unset", func(s *settings) *string { return &s.LedgerKey }},
	{"meili-url", "MEILI_URL", "", "Meilisearch URL; unset: the embedded search index in the data directory", func(s *settings) *string { return &s.MeiliURL }},
	{"meili-api-key", "MEILI_API_KEY", "", "Meilisearch API key", func(s *settings) *string { return &s.MeiliKey }},
	{"stripe-secret-key", "STRIPE_SECRET_KEY", "", "Stripe secret key; unset: purchase orders only", func(s *settings) *string { return &s.StripeKey }},
	{"stripe-webhook-secret", "STRIPE_WEBHOOK_SECRET", "", "signing secret of the Stripe webhook endpoint (/api/v1/billing/stripe/webhook)", func(s *settings) *string { return &s.StripeHook }},
	{"stripe-api-base", "STRIPE_API_BASE", "", "Stripe API base URL (stripe-mock in tests)", func(s *settings) *string { return &s.StripeBase }},
	{"public-url", "ZIYUAN_PUBLIC_URL", "", "the site's public root URL (https://…) for absolute links in OAI-PMH records and JSON-LD; unset: the address each request came to", func(s *settings) *string { return &s.PublicURL }},
	{"oai-repository-id", "ZIYUAN_OAI_REPOSITORY_ID", "", "OAI-PMH repository identifier, a domain name (identifiers read oai:ID:resource); unset: the host of --public-url, else ziyuan.local", func(s *settings) *string { return &s.OAIID }},
	{"oai-admin-email", "ZIYUAN_OAI_ADMIN_EMAIL", "", "the OAI-PMH adminEmail; unset: admin@ the repository identifier", func(s *settings) *string { return &s.OAIEmail }},
	{"s3-endpoint", "ZIYUAN_S3_ENDPOINT", "", "URL of an S3-compatible store for the files (http:// or https://, no path); unset: files in the data directory", func(s *settings) *string { return &s.S3Endpoint }},
	{"s3-bucket", "ZIYUAN_S3_BUCKET", "ziyuan", "S3 bucket for the files, created when missing", func(s *settings) *string { return &s.S3Bucket }},
	{"s3-access-key", "ZIYUAN_S3_ACCESS_KEY", "", "S3 access key", func(s *settings) *string { return &s.S3AccessKey }},
	{"s3-secret-key", "ZIYUAN_S3_SECRET_KEY", "", "S3 secret key", func(s *settings) *string { return &s.S3SecretKey }},
	{"s3-region", "ZIYUAN_S3_REGION", "", "S3 region; unset: asked of the store", func(s *settings) *string { return &s.S3Region }},
	{"s3-prefix", "ZIYUAN_S3_PREFIX", "", "folder of the bucket the files go under, to share a bucket", func(s *settings) *string { return &s.S3Prefix }},
	{"log-format", "ZIYUAN_LOG_FORMAT", "", "text or json (default: text on a terminal, json otherwise)", func(s *settings) *string { return &s.LogFormat }},
}

// bindSettings registers the settings as flags whose defaults come from the environment.
func bindSettings(fs *flag.FlagSet, getenv func(string) string) *settings {
	s := &settings{}
	for _, row := range settingsTable {
		def := row.def
		if v := getenv(row.env); v != "" {
			def = v
		}
		fs.StringVar(row.dst(s), row.flag, def, fmt.Sprintf("%s (env %s)", row.help, row.env))
	}
	return s
}

// parseFlags parses args into a fresh flag set with the settings plus extra flags.
func parseFlags(name string, env *environment, args []string, extra func(*flag.FlagSet)) (*settings, error) {
	fs := flag.NewFlagSet("ziyuan "+name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	s := bindSettings(fs, env.getenv)
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return nil, usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return s, nil
}

func (s *settings) logger(w io.Writer) *slog.Logger {
	format := s.LogFormat
	if format == "" {
		format = "json"
		if f, ok := w.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, nil))
	}
	return slog.New(slog.NewJSONHandler(w, nil))
}

// secret returns the token secret: the setting when given, else the data directory's key file,
// created with 0600 permissions on first start.
func (s *settings) secret() ([]byte, error) {
	if s.Secret != "" {
		for _, dec := range []func(string) ([]byte, error){hex.DecodeString, base64.StdEncoding.DecodeString, base64.RawURLEncoding.DecodeString} {
			if b, err := dec(strings.TrimSpace(s.Secret)); err == nil && len(b) >= 32 {
				return b, nil
			}
		}
		return nil, errors.New("ZIYUAN_SECRET must be hex or base64 of at least 32 bytes")
	}
	return loadOrCreateKey(filepath.Join(s.Data, "secret.key"), 32)
}

// oai returns the public URL and the OAI-PMH provider's settings, checked.
func (s *settings) oai() (publicURL string, cfg web.OAIConfig, err error) {
	publicURL = strings.TrimSuffix(strings.TrimSpace(s.PublicURL), "/")
	host := ""
	if publicURL != "" {
		u, err := url.Parse(publicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			return "", cfg, fmt.Errorf("ZIYUAN_PUBLIC_URL %q must be an http(s) URL without a query", s.PublicURL)
		}
		host = u.Hostname()
	}
	cfg.RepositoryID = s.OAIID
	switch {
	case cfg.RepositoryID != "" && !oai.ValidRepositoryID(cfg.RepositoryID):
		return "", cfg, fmt.Errorf("ZIYUAN_OAI_REPOSITORY_ID %q must be a domain name such as ziyuan.example.cn", cfg.RepositoryID)
	case cfg.RepositoryID == "" && oai.ValidRepositoryID(host):
		cfg.RepositoryID = host
	case cfg.RepositoryID == "":
		cfg.RepositoryID = "ziyuan.local"
	}
	if s.OAIEmail != "" {
		if !oai.ValidAdminEmail(s.OAIEmail) {
			return "", cfg, fmt.Errorf("ZIYUAN_OAI_ADMIN_EMAIL %q is not an e-mail address", s.OAIEmail)
		}
		cfg.AdminEmails = []string{s.OAIEmail}
	}
	return publicURL, cfg, nil
}
