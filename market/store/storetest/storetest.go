// Package storetest gives tests a fresh, migrated database on each dialect: SQLite in a temporary
// directory, and PostgreSQL in a throwaway database on the server named by ZIYUAN_TEST_POSTGRES
// (which `make test` starts). With ZIYUAN_REQUIRE_POSTGRES=1, a missing server fails the test
// instead of skipping it, so CI cannot pass without running the PostgreSQL half.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"ziyuan/market/store"
)

// Each runs fn once per dialect, as the subtests "sqlite" and "postgres", each with a fresh
// database migrated with sources.
func Each(t *testing.T, sources []store.Source, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			fn(t, Open(t, d, sources...))
		})
	}
}

// Open returns a fresh database of dialect d migrated with sources; it is removed when the test
// ends.
func Open(t testing.TB, d store.Dialect, sources ...store.Source) *store.DB {
	t.Helper()
	ctx := context.Background()
	cfg := store.Config{DataDir: t.TempDir()}
	if d == store.Postgres {
		cfg.URL = NewPostgresDatabase(t)
	}
	db, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := store.Migrate(ctx, db, sources...); err != nil {
		t.Fatalf("migrate %s: %v", d, err)
	}
	return db
}

// PostgresURL returns the test server's URL, skipping (or, when PostgreSQL is required, failing)
// the test when there is none.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("ZIYUAN_TEST_POSTGRES")
	if u == "" {
		if os.Getenv("ZIYUAN_REQUIRE_POSTGRES") == "1" {
			t.Fatal("ZIYUAN_TEST_POSTGRES is not set but ZIYUAN_REQUIRE_POSTGRES=1: run the tests with `make test`")
		}
		t.Skip("PostgreSQL half skipped: ZIYUAN_TEST_POSTGRES is not set (`make test` starts a server and sets it)")
	}
	return u
}

// NewPostgresDatabase creates an empty database on the test server and returns its URL; the
// database is dropped when the test ends.
func NewPostgresDatabase(t testing.TB) string {
	t.Helper()
	admin := PostgresURL(t)
	ctx := context.Background()
	root, err := store.Open(ctx, store.Config{URL: admin})
	if err != nil {
		t.Fatalf("connect to test PostgreSQL: %v", err)
	}
	var b [6]byte
	rand.Read(b[:])
	name := "t_" + hex.EncodeToString(b[:])
	if err := root.Exec("CREATE DATABASE " + name).Error; err != nil {
		root.Close()
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		root.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		root.Close()
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("ZIYUAN_TEST_POSTGRES: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}
