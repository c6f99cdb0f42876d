package market

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"ziyuan/billing"
	"ziyuan/billing/invoice"
	"ziyuan/catalog"
	"ziyuan/market/store"
	"ziyuan/rights"
)

// Options configure a Market. Zero values select the defaults.
type Options struct {
	Clock  Clock
	Argon2 Argon2Params
	Logger *slog.Logger
	// LockoutFailures failed sign-ins within LockoutWindow lock a login (defaults: 5 in 15 minutes).
	LockoutFailures int
	LockoutWindow   time.Duration
	// MaxRosterRows bounds one roster upload (default 5000).
	MaxRosterRows int
	// Taxonomy is the catalog's vocabulary that resources are classified by (default: the
	// embedded one).
	Taxonomy *catalog.Taxonomy
	// Ledger records publications, licences and takedowns. Required for resources.
	Ledger *rights.Log
	// Blobs stores file contents. Required for resources with files.
	Blobs Blobs
	// Providers take payments, by name ("invoice", "stripe"); the invoice provider is always
	// there unless replaced.
	Providers map[string]billing.Provider
	// Fees divide every sale between the platform and the seller (default billing.DefaultFees).
	Fees billing.Fees
	// CatalogChanged is called after a change to the search index was committed to the outbox,
	// so that the worker applies it at once rather than at its next poll.
	CatalogChanged func()
	// PaymentsChanged is called after a transfer to a seller or its reversal was queued, so that
	// the payment worker (RunPaymentEvents) makes the call at once rather than at its next poll.
	PaymentsChanged func()
}

// Market is the domain service. It is safe for concurrent use.
type Market struct {
	db         *store.DB
	clock      Clock
	opts       Options
	log        *slog.Logger
	minhash    *rights.MinHasher
	similarity *rights.SimilarityIndex
	// dummyHash is verified against when a login does not exist, so that timing does not tell
	// which logins are registered.
	dummyHash string
}

// New returns a Market over an open, migrated database.
func New(db *store.DB, opts Options) *Market {
	if opts.Clock == nil {
		opts.Clock = SystemClock
	}
	if opts.Argon2 == (Argon2Params{}) {
		opts.Argon2 = DefaultArgon2
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.LockoutFailures == 0 {
		opts.LockoutFailures = 5
	}
	if opts.LockoutWindow == 0 {
		opts.LockoutWindow = 15 * time.Minute
	}
	if opts.MaxRosterRows == 0 {
		opts.MaxRosterRows = 5000
	}
	if opts.Providers == nil {
		opts.Providers = map[string]billing.Provider{}
	}
	if _, ok := opts.Providers[ProviderInvoice]; !ok {
		opts.Providers[ProviderInvoice] = invoice.New()
	}
	if opts.Fees == (billing.Fees{}) {
		opts.Fees = billing.DefaultFees
	}
	if opts.CatalogChanged == nil {
		opts.CatalogChanged = func() {}
	}
	if opts.PaymentsChanged == nil {
		opts.PaymentsChanged = func() {}
	}
	if opts.Taxonomy == nil {
		opts.Taxonomy = catalog.DefaultTaxonomy()
	}
	minhash, err := rights.NewMinHasher(0, 0)
	if err != nil {
		panic(err) // the default parameters are valid
	}
	return &Market{db: db, clock: opts.Clock, opts: opts, log: opts.Logger, minhash: minhash,
		similarity: rights.NewSimilarityIndex(db.DB), dummyHash: HashPassword("not-a-real-password-1", opts.Argon2)}
}

// now is the injected clock at database precision.
func (m *Market) now() time.Time { return m.clock().UTC().Truncate(time.Microsecond) }

// Ready reports whether the database answers.
func (m *Market) Ready(ctx context.Context) error {
	if err := m.db.Ping(ctx); err != nil {
		return &Error{Code: CodeUnavailable, Msg: Message{Key: MsgUnavailable}, Err: err}
	}
	return nil
}

// tx runs fn in a transaction, turning unexpected database errors into internal errors.
func (m *Market) tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	err := m.db.WithContext(ctx).Transaction(fn)
	return asDomain(err)
}

// asDomain keeps domain errors as they are and wraps everything else as internal.
func asDomain(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Code: CodeUnavailable, Msg: Message{Key: MsgUnavailable}, Err: err}
	}
	return Internal(err)
}

// requireSignedIn returns the actor or unauthenticated.
func requireSignedIn(ctx context.Context) (Actor, error) {
	a := ActorFrom(ctx)
	if a.Anonymous() {
		return a, Errorf(CodeUnauthenticated, MsgSignInRequired)
	}
	return a, nil
}

// requireRole returns the actor if it holds any of roles.
func requireRole(ctx context.Context, roles ...Role) (Actor, error) {
	a, err := requireSignedIn(ctx)
	if err != nil {
		return a, err
	}
	for _, r := range roles {
		if a.Has(r) {
			return a, nil
		}
	}
	return a, Errorf(CodeForbidden, MsgForbidden)
}

// RequireActive admits verified users whose data may be processed: it refuses unverified
// accounts and students under 14 without a guardian's recorded consent. Everything beyond
// the account itself (claims, downloads, purchases, ratings, publishing) goes through it.
func RequireActive(ctx context.Context) (Actor, error) {
	a, err := requireSignedIn(ctx)
	if err != nil {
		return a, err
	}
	if !a.Verified {
		return a, Errorf(CodeForbidden, MsgVerifiedOnly)
	}
	if a.ConsentNeeded {
		return a, Errorf(CodeForbidden, MsgConsentRequired)
	}
	return a, nil
}

// Page is one page of a list.
type Page[T any] struct {
	Total   int64 `json:"total"`
	Page    int   `json:"page"`
	PerPage int   `json:"per_page"`
	Items   []T   `json:"items"`
}

// MaxPerPage bounds list pages.
const MaxPerPage = 100

// Paging is a requested page; zero values mean page 1 of 20.
type Paging struct {
	Page    int
	PerPage int
}

func (p Paging) normalize() (Paging, error) {
	if p.Page == 0 {
		p.Page = 1
	}
	if p.PerPage == 0 {
		p.PerPage = 20
	}
	if p.Page < 1 || p.PerPage < 1 || p.PerPage > MaxPerPage || p.Page > 1_000_000 {
		return p, Errorf(CodeInvalid, MsgPageRange, MaxPerPage)
	}
	return p, nil
}

func (p Paging) offset() int { return (p.Page - 1) * p.PerPage }
