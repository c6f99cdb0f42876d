package store

import (
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Unavailable reports whether err means that the database could not be reached or dropped the
// connection — it is down, restarting or failing over — rather than that it refused the
// statement. Such a failure says nothing about the request and is worth retrying shortly, so
// callers answer it as "unavailable" instead of as a fault of their own.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	// A server's own answer decides first: a refused password inside a connection error is a
	// misconfiguration, not an outage. Class 08 is "connection exception"; 57P01–57P03 are
	// the administrator's or a crash's shutdown and "cannot connect now" while starting up.
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03"
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, driver.ErrBadConn) || pgconn.SafeToRetry(err)
}
