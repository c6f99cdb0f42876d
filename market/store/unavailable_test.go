package store_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"ziyuan/market/store"
)

func TestUnavailable(t *testing.T) {
	// A PostgreSQL that is not there: the port was free a moment ago.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	g, err := gorm.Open(postgres.Open(fmt.Sprintf("postgres://ziyuan@127.0.0.1:%d/ziyuan?sslmode=disable&connect_timeout=5", port)),
		&gorm.Config{DisableAutomaticPing: true, Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	down := g.Exec("SELECT 1").Error
	if down == nil {
		t.Fatal("a query on a database that is not there succeeded")
	}
	for name, tc := range map[string]struct {
		err  error
		want bool
	}{
		"refused connection":     {down, true},
		"wrapped":                {fmt.Errorf("load resource: %w", down), true},
		"connection cut":         {fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		"administrator shutdown": {&pgconn.PgError{Severity: "FATAL", Code: "57P01"}, true},
		"starting up":            {&pgconn.PgError{Severity: "FATAL", Code: "57P03"}, true},
		"connection exception":   {&pgconn.PgError{Code: "08006"}, true},
		"unique violation":       {&pgconn.PgError{Code: "23505"}, false},
		"serialization failure":  {&pgconn.PgError{Code: "40001"}, false},
		"not found":              {gorm.ErrRecordNotFound, false},
		"a bug of ours":          {errors.New("no page template x"), false},
		"nothing":                {nil, false},
	} {
		if got := store.Unavailable(tc.err); got != tc.want {
			t.Errorf("%s: Unavailable(%v) = %v, want %v", name, tc.err, got, tc.want)
		}
	}
}
