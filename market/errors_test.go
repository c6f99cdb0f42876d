package market_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"ziyuan/market"
	"ziyuan/market/store"
)

// While the database is down or restarting, the domain answers "unavailable" with a time to
// retry after, not "internal": the request was fine and will work again shortly.
func TestDatabaseDownIsUnavailable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nothing listens there any more: a PostgreSQL that is down
	g, err := gorm.Open(postgres.Open(fmt.Sprintf("postgres://ziyuan@127.0.0.1:%d/ziyuan?sslmode=disable&connect_timeout=5", port)),
		&gorm.Config{DisableAutomaticPing: true, Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	m := market.New(&store.DB{DB: g, Dialect: store.Postgres}, market.Options{Argon2: cheap})
	_, err = m.User(context.Background(), market.NewID())
	if !market.IsCode(err, market.CodeUnavailable) {
		t.Fatalf("reading a user with the database down: %v (code %s), want unavailable", err, market.ErrorCode(err))
	}
	var de *market.Error
	if !errors.As(err, &de) || de.RetryAfterSeconds <= 0 {
		t.Fatalf("no Retry-After in %#v", err)
	}
	if code := market.ErrorCode(market.Internal(fmt.Errorf("a bug"))); code != market.CodeInternal {
		t.Fatalf("an ordinary failure became %s", code)
	}
}
