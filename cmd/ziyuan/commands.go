package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"ziyuan/billing"
	"ziyuan/billing/stripe"
	"ziyuan/catalog"
	"ziyuan/market"
	"ziyuan/market/demodata"
	"ziyuan/market/files"
	"ziyuan/market/files/s3blobs"
	"ziyuan/market/store"
	"ziyuan/rights"
	"ziyuan/web"

	"github.com/prometheus/client_golang/prometheus"
)

// openStore opens the configured database and migrates it.
func openStore(ctx context.Context, s *settings, log *slog.Logger) (*store.DB, error) {
	db, err := store.Open(ctx, store.Config{DataDir: s.Data, URL: s.DatabaseURL, Logger: log})
	if err != nil {
		return nil, err
	}
	applied, err := store.Migrate(ctx, db, market.Schemas()...)
	if err != nil {
		db.Close()
		return nil, err
	}
	for _, m := range applied {
		log.Info("schema migrated", "schema", m.Source, "version", m.Version, "name", m.Name)
	}
	return db, nil
}

func cmdServe(ctx context.Context, env *environment, args []string) error {
	s, err := parseFlags("serve", env, args, nil)
	if err != nil {
		return err
	}
	log := s.logger(env.stderr)
	if env.getenv("GOGC") == "" {
		// The segmenter's dictionaries are ~130 MB of long-lived pointers that every GC cycle
		// marks again, and a search allocates a lot (allocation and collection were ~18 % of a
		// search server's CPU profile). Collecting a quarter as often took search p50 at
		// 100,000 resources from 5.1 to 4.9 ms and p99 from 29–32 to 27 ms (docs/performance.md).
		// An operator's GOGC wins.
		debug.SetGCPercent(400)
		if env.getenv("GOMEMLIMIT") == "" {
			// The price is memory: building a 1,000,000-resource index peaked at 12 GB instead
			// of 4.6. A soft limit of half the machine's (or container's) memory makes the
			// collector work harder only when that matters.
			if limit := memoryLimit(); limit > 0 {
				debug.SetMemoryLimit(limit / 2)
			}
		}
	}
	secret, err := s.secret()
	if err != nil {
		return err
	}
	publicURL, oaiCfg, err := s.oai()
	if err != nil {
		return err
	}
	db, err := openStore(ctx, s, log)
	if err != nil {
		return err
	}
	defer db.Close()
	lg, err := openLedger(ctx, s, db, rights.Config{Logger: log})
	if err != nil {
		return err
	}
	blobs, blobsWhere, err := s.blobs(ctx)
	if err != nil {
		return err
	}
	tmp := filepath.Join(s.Data, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return err
	}
	index, err := openSearch(ctx, s, log, true)
	if err != nil {
		return err
	}
	defer index.Close()
	// Results live a second: hot queries are answered from memory, and a change applied by
	// another instance shows within the 2 s API.md promises.
	eng := catalog.NewCached(index, 4096, time.Second)
	var m *market.Market
	feed := newIndexer(db, index, eng, log, func(ctx context.Context) error {
		log.Info("building the search index from the database")
		_, err := reindex(ctx, m, index, env.stderr)
		return err
	})
	providers, err := s.providers(log)
	if err != nil {
		return err
	}
	// Stored payment notifications, and the transfers and refunds they and requests queue, wake
	// the payment worker (RunPaymentEvents below) at once.
	payments := make(chan struct{}, 1)
	notifyPayments := func() {
		select {
		case payments <- struct{}{}:
		default:
		}
	}
	m = market.New(db, market.Options{Logger: log, Ledger: lg, Blobs: blobs, CatalogChanged: feed.Notify, Providers: providers,
		PaymentsChanged: notifyPayments})
	if err := feed.Start(ctx); err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ziyuan_catalog_outbox_lag_seconds",
		Help: "Age of the oldest search-index change not yet applied."}, func() float64 {
		lag, err := feed.Lag(context.Background())
		if err != nil {
			return -1
		}
		return lag.Seconds()
	}))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ziyuan_ledger_leader",
		Help: "1 while this instance holds the ledger's lease (integrates and signs), else 0."}, func() float64 {
		if lg.Leading() {
			return 1
		}
		return 0
	}))
	var reported []web.Check
	if r, ok := blobs.(interface{ Ready(context.Context) error }); ok {
		reported = append(reported, web.Check{Name: "files", Probe: r.Ready})
	}
	srv := web.New(web.Config{Market: m, Secret: secret, Logger: log, Ledger: lg, Search: eng, Registry: reg,
		Inspector: files.NewInspector(files.Limits{}, tmp), OnPayment: notifyPayments, PublicURL: publicURL, OAI: oaiCfg,
		Reported: reported})
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return err
	}
	where := "SQLite in " + s.Data
	if db.Dialect == store.Postgres {
		where = "PostgreSQL"
	}
	fmt.Fprintf(env.stdout, "Ziyuan is serving on %s (database: %s; files: %s). Press Ctrl+C to stop.\n", displayURL(ln.Addr()), where, blobsWhere)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	// The ledger's sequencer and publisher run beside the server; if the publisher finds the
	// log inconsistent it stops, and so must the server: signing on would fork the log.
	ledgerCtx, stopLedger := context.WithCancel(ctx)
	ledgerDone := make(chan error, 1)
	go func() { ledgerDone <- lg.Run(ledgerCtx) }()
	defer func() { stopLedger(); <-ledgerDone }()
	workerDone := make(chan struct{})
	go func() { defer close(workerDone); feed.Run(ledgerCtx) }()
	defer func() { stopLedger(); <-workerDone }()
	// Stored payment notifications are applied here, so none is lost if the process stops
	// between answering the provider and applying them; the transfers, reversals and refunds
	// they queue are made here too, on every instance (each claims its rows).
	paymentsDone := make(chan struct{})
	go func() { defer close(paymentsDone); m.RunPaymentEvents(ledgerCtx, payments, 5*time.Second) }()
	defer func() { stopLedger(); <-paymentsDone }()
	var runErr error
	select {
	case runErr = <-served:
	case err := <-ledgerDone:
		ledgerDone <- nil
		runErr = fmt.Errorf("ledger stopped: %w", err)
		log.Error("ledger stopped; shutting down", "err", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	return errors.Join(runErr, srv.Shutdown(shutdownCtx))
}

func displayURL(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() || ip.IsLoopback() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func cmdMigrate(ctx context.Context, env *environment, args []string) error {
	s, err := parseFlags("migrate", env, args, nil)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, store.Config{DataDir: s.Data, URL: s.DatabaseURL})
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := store.Migrate(ctx, db, market.Schemas()...)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(env.stdout, "schema is up to date")
	}
	for _, m := range applied {
		fmt.Fprintf(env.stdout, "applied %s %04d_%s\n", m.Source, m.Version, m.Name)
	}
	return nil
}

func cmdAdmin(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return usageError{"usage: ziyuan admin create --login L --password P [--name N]"}
	}
	var login, password, name string
	s, err := parseFlags("admin create", env, args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&login, "login", "", "login of the new platform administrator (required)")
		fs.StringVar(&password, "password", env.getenv("ZIYUAN_ADMIN_PASSWORD"), "password: 8+ characters with letters and digits (env ZIYUAN_ADMIN_PASSWORD)")
		fs.StringVar(&name, "name", "", "display name (default: the login)")
	})
	if err != nil {
		return err
	}
	if login == "" || password == "" {
		return usageError{"admin create needs --login and --password"}
	}
	db, err := openStore(ctx, s, s.logger(env.stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	m := market.New(db, market.Options{})
	u, err := m.CreatePlatformAdmin(ctx, login, password, name)
	if err != nil {
		return domainError(err)
	}
	fmt.Fprintf(env.stdout, "created platform administrator %s (%s)\n", u.Login, u.ID)
	return nil
}

func cmdSeed(ctx context.Context, env *environment, args []string) error {
	var demo, resources bool
	s, err := parseFlags("seed", env, args, func(fs *flag.FlagSet) {
		fs.BoolVar(&demo, "demo", false, "load the demo institutions, accounts and resources")
		fs.BoolVar(&resources, "resources", true, "with --demo: also publish the demo resources")
	})
	if err != nil {
		return err
	}
	if !demo {
		return usageError{"seed needs --demo (the only data set so far)"}
	}
	log := s.logger(env.stderr)
	db, err := openStore(ctx, s, log)
	if err != nil {
		return err
	}
	defer db.Close()
	lg, err := openLedger(ctx, s, db, rights.Config{Logger: log})
	if err != nil {
		return err
	}
	blobs, _, err := s.blobs(ctx)
	if err != nil {
		return err
	}
	m := market.New(db, market.Options{Logger: log, Ledger: lg, Blobs: blobs})
	n, err := m.SeedDemo(ctx)
	if err != nil {
		return domainError(err)
	}
	var rep demodata.SeedReport
	if resources {
		if rep, err = seedResources(ctx, s, m, lg, env); err != nil {
			return err
		}
	}
	if n == 0 && rep.Published == 0 {
		fmt.Fprintln(env.stdout, "demo data already present; nothing to add")
	} else {
		fmt.Fprintf(env.stdout, "demo data loaded: %d accounts and institutions, %d resources published (%d claims, %d ratings)\n",
			n, rep.Published, rep.Claims, rep.Ratings)
	}
	fmt.Fprintf(env.stdout, "demo accounts (password %s):\n", market.DemoPassword)
	for _, a := range market.DemoAccounts() {
		roles := make([]string, len(a.Roles))
		for i, r := range a.Roles {
			roles[i] = string(r)
		}
		fmt.Fprintf(env.stdout, "  %-16s %s %s\n", a.Login, padWide(a.Name, 14), strings.Join(roles, ","))
	}
	return nil
}

// seedResources publishes the demo resources with the ledger running (approving a derivative
// waits for its parents' entries) and waits for a checkpoint covering them all: this process
// integrates and signs them, or a running server does if it holds the ledger's lease.
func seedResources(ctx context.Context, s *settings, m *market.Market, lg *rights.Log, env *environment) (demodata.SeedReport, error) {
	tmp := filepath.Join(s.Data, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return demodata.SeedReport{}, err
	}
	var rep demodata.SeedReport
	err := withLedger(ctx, lg, func() error {
		bar := newProgress(env.stderr, "demo resources", len(demodata.Items()))
		var err error
		rep, err = demodata.Seed(ctx, m, files.NewInspector(files.Limits{}, tmp), bar.set)
		bar.done()
		return err
	})
	return rep, domainError(err)
}

// withLedger runs fn with the ledger's sequencer and publisher beside it (they lead only
// when no server holds the lease) and, when fn succeeds, waits until a signed checkpoint
// covers everything fn queued, whichever process integrates it.
func withLedger(ctx context.Context, lg *rights.Log, fn func() error) error {
	ledgerCtx, stopLedger := context.WithCancel(ctx)
	ledgerDone := make(chan error, 1)
	go func() { ledgerDone <- lg.Run(ledgerCtx) }()
	err := fn()
	if err == nil {
		settleCtx, cancel := context.WithTimeout(ctx, time.Minute)
		_, err = lg.WaitSettled(settleCtx)
		cancel()
	}
	stopLedger()
	if lerr := <-ledgerDone; lerr != nil && err == nil {
		err = lerr
	}
	return err
}

// domainError gives a domain error its English message for the terminal.
func domainError(err error) error {
	var de *market.Error
	if errors.As(err, &de) && de.Code != market.CodeInternal {
		return errors.New(de.Msg.English())
	}
	return err
}

// padWide pads s to n terminal columns, counting CJK characters as two.
func padWide(s string, n int) string {
	w := 0
	for _, r := range s {
		w++
		if r >= 0x1100 && (r <= 0x115F || r >= 0x2E80 && r <= 0xA4CF || r >= 0xAC00 && r <= 0xD7A3 || r >= 0xF900 && r <= 0xFAFF || r >= 0xFF00 && r <= 0xFF60) {
			w++
		}
	}
	if w >= n {
		return s
	}
	return s + strings.Repeat(" ", n-w)
}

// providers are the payment providers the settings turn on; purchase orders are always there.
// blobs opens the store for file contents: the S3-compatible bucket when an endpoint is set,
// the data directory otherwise. It also says which, for the start-up line.
func (s *settings) blobs(ctx context.Context) (market.Blobs, string, error) {
	if s.S3Endpoint == "" {
		dir := filepath.Join(s.Data, "blobs")
		b, err := files.NewLocalBlobs(dir)
		return b, dir, err
	}
	// A store that does not answer stops the start rather than every upload after it.
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	b, err := s3blobs.New(ctx, s3blobs.Settings{Endpoint: s.S3Endpoint, Bucket: s.S3Bucket, AccessKey: s.S3AccessKey,
		SecretKey: s.S3SecretKey, Region: s.S3Region, Prefix: s.S3Prefix})
	if err != nil {
		return nil, "", err
	}
	where := fmt.Sprintf("S3 bucket %s at %s", s.S3Bucket, s.S3Endpoint)
	if s.S3Prefix != "" {
		where += ", under " + strings.Trim(s.S3Prefix, "/") + "/"
	}
	return b, where, nil
}

func (s *settings) providers(log *slog.Logger) (map[string]billing.Provider, error) {
	out := map[string]billing.Provider{}
	if s.StripeKey == "" {
		return out, nil
	}
	if s.StripeHook == "" {
		return nil, errors.New("STRIPE_SECRET_KEY is set but STRIPE_WEBHOOK_SECRET is not: payments could never be confirmed")
	}
	p, err := stripe.New(stripe.Config{SecretKey: s.StripeKey, WebhookSecret: s.StripeHook, APIBase: s.StripeBase, Logger: log})
	if err != nil {
		return nil, err
	}
	out[market.ProviderStripe] = p
	return out, nil
}
