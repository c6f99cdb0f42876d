// Package store opens Ziyuan's database — SQLite in the data directory by default, PostgreSQL when
// a URL is given — and applies the versioned schema migrations that each domain package ships.
//
// It owns connections, dialect settings and the migration bookkeeping; the tables themselves
// belong to the packages whose Schema sources define them.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialect names the SQL dialect a migration file is written in.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is an open database and the dialect it speaks.
type DB struct {
	*gorm.DB
	Dialect Dialect
}

// Config says which database to open. With URL empty, SQLite at DataDir/ziyuan.db is used.
type Config struct {
	DataDir string
	URL     string
	Logger  *slog.Logger
}

// Open connects to the database and checks that it answers.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	gcfg := &gorm.Config{
		Logger:                                   newLogger(cfg.Logger),
		NowFunc:                                  func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		DisableForeignKeyConstraintWhenMigrating: true,
		TranslateError:                           true,
	}
	var (
		g       *gorm.DB
		err     error
		dialect Dialect
	)
	if cfg.URL != "" {
		if !strings.HasPrefix(cfg.URL, "postgres://") && !strings.HasPrefix(cfg.URL, "postgresql://") {
			return nil, fmt.Errorf("DATABASE_URL must start with postgres:// (got %q)", redact(cfg.URL))
		}
		dialect = Postgres
		g, err = gorm.Open(postgres.Open(cfg.URL), gcfg)
	} else {
		dialect = SQLite
		if cfg.DataDir == "" {
			return nil, errors.New("no data directory for the SQLite database")
		}
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		path := filepath.Join(cfg.DataDir, "ziyuan.db")
		// The database holds password hashes: create it private. SQLite gives its WAL and
		// shared-memory files the same mode.
		if f, err := os.OpenFile(path, os.O_CREATE|os.O_RDONLY, 0o600); err == nil {
			f.Close()
		}
		g, err = gorm.Open(sqlite.Open(sqliteDSN(path)), gcfg)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, err
	}
	// database/sql keeps only two idle connections unless told otherwise, so under concurrent
	// requests every connection beyond two was closed after one use and opened again for the
	// next: on PostgreSQL a new backend process per query, which the load run measured as
	// half the machine's CPU spent in the kernel and 0.4–1 s per request. The pool keeps
	// every connection it may open.
	pool := 32
	if dialect == SQLite {
		// One writer at a time is all SQLite allows; a small pool keeps readers concurrent under
		// WAL while the busy timeout queues writers instead of failing them.
		pool = 8
	}
	sqlDB.SetMaxOpenConns(pool)
	sqlDB.SetMaxIdleConns(pool)
	if dialect == Postgres {
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("connect to %s database: %w", dialect, err)
	}
	return &DB{DB: g, Dialect: dialect}, nil
}

// sqliteDSN turns on what the driver leaves off: WAL for concurrent readers, a busy timeout so
// writers wait rather than fail, and foreign keys. The pragmas run on every new connection.
func sqliteDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// Close closes the connection pool.
func (db *DB) Close() error {
	sqlDB, err := db.DB.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Ping checks that the database answers, for readiness probes.
func (db *DB) Ping(ctx context.Context) error {
	sqlDB, err := db.DB.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparseable)"
	}
	return p.Redacted()
}

// newLogger sends GORM's slow-query warnings and errors to slog; record-not-found is an expected
// outcome, not an error.
func newLogger(l *slog.Logger) logger.Interface {
	if l == nil {
		return logger.Discard
	}
	return logger.NewSlogLogger(l, logger.Config{
		SlowThreshold:             500 * time.Millisecond,
		LogLevel:                  logger.Warn,
		IgnoreRecordNotFoundError: true,
		ParameterizedQueries:      true,
	})
}
