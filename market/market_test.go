package market_test

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"ziyuan/market"
	"ziyuan/market/store"
	"ziyuan/market/store/storetest"
)

// cheap keeps argon2id fast in tests; production uses market.DefaultArgon2.
var cheap = market.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fixture is a seeded market on one database.
type fixture struct {
	m     *market.Market
	db    *store.DB
	clock *clock
	// users by demo login
	users map[string]market.User
	insts map[string]string // demo institution code → id
}

func eachMarket(t *testing.T, fn func(t *testing.T, f *fixture)) {
	storetest.Each(t, []store.Source{market.Schema()}, func(t *testing.T, db *store.DB) {
		fn(t, newFixture(t, db))
	})
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	c := newClock()
	m := market.New(db, market.Options{Clock: c.Now, Argon2: cheap})
	ctx := context.Background()
	if _, err := m.SeedDemo(ctx); err != nil {
		t.Fatalf("seed: %v", err)
	}
	f := &fixture{m: m, db: db, clock: c, users: map[string]market.User{}, insts: map[string]string{}}
	for _, a := range market.DemoAccounts() {
		u, err := m.Login(ctx, a.Login, market.DemoPassword)
		if err != nil {
			t.Fatalf("login %s: %v", a.Login, err)
		}
		f.users[a.Login] = u
		if u.InstitutionID != nil && a.Institution != "" {
			f.insts[a.Institution] = *u.InstitutionID
		}
	}
	return f
}

// as returns a context acting as the demo user login.
func (f *fixture) as(t *testing.T, login string) context.Context {
	t.Helper()
	u, ok := f.users[login]
	if !ok {
		t.Fatalf("no demo user %s", login)
	}
	base := market.WithActor(context.Background(), market.Actor{IP: netip.MustParseAddr("203.0.113.7"), RequestID: "test"})
	a, err := f.m.ActorFor(base, u.ID)
	if err != nil {
		t.Fatalf("actor %s: %v", login, err)
	}
	return market.WithActor(base, a)
}

func wantCode(t *testing.T, err error, code market.Code) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if market.ErrorCode(err) != code || err == nil {
		t.Fatalf("err = %v, want code %s", err, code)
	}
}
