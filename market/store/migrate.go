package store

import (
	"context"
	"fmt"
	"hash/fnv"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"gorm.io/gorm"
)

// Source is one package's schema: a directory per dialect ("sqlite", "postgres") holding
// NNNN_name.sql files applied in version order. Versions are per source, so packages evolve
// their tables independently.
type Source struct {
	Name string
	FS   fs.FS
}

// Migration is one versioned schema step.
type Migration struct {
	Source  string
	Version int
	Name    string
	SQL     string
}

// Plan lists the migrations of sources for dialect, in order, and checks that every version
// exists for both dialects so that neither database can silently fall behind.
func Plan(d Dialect, sources ...Source) ([]Migration, error) {
	var all []Migration
	for _, src := range sources {
		mine, err := readDir(src, string(d))
		if err != nil {
			return nil, err
		}
		other := SQLite
		if d == SQLite {
			other = Postgres
		}
		theirs, err := readDir(src, string(other))
		if err != nil {
			return nil, err
		}
		if len(mine) != len(theirs) {
			return nil, fmt.Errorf("schema %s: %d %s migrations but %d %s ones", src.Name, len(mine), d, len(theirs), other)
		}
		for i := range mine {
			if mine[i].Version != i+1 {
				return nil, fmt.Errorf("schema %s/%s: expected version %d, found %d (%s)", src.Name, d, i+1, mine[i].Version, mine[i].Name)
			}
			if theirs[i].Version != mine[i].Version || theirs[i].Name != mine[i].Name {
				return nil, fmt.Errorf("schema %s: %s has %04d_%s where %s has %04d_%s", src.Name, d, mine[i].Version, mine[i].Name, other, theirs[i].Version, theirs[i].Name)
			}
		}
		all = append(all, mine...)
	}
	return all, nil
}

func readDir(src Source, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(src.FS, dir)
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", src.Name, err)
	}
	var out []Migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		base := strings.TrimSuffix(e.Name(), ".sql")
		num, name, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("schema %s: migration file %q is not named NNNN_name.sql", src.Name, e.Name())
		}
		body, err := fs.ReadFile(src.FS, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Source: src.Name, Version: v, Name: name, SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

type schemaMigration struct {
	Source    string `gorm:"primaryKey"`
	Version   int    `gorm:"primaryKey"`
	Name      string
	AppliedAt string
}

func (schemaMigration) TableName() string { return "schema_migrations" }

// Migrate brings the schema up to date and returns the migrations it applied. Each migration
// runs in its own transaction with its bookkeeping row, so a failure leaves the schema at the
// last whole version. On PostgreSQL an advisory lock keeps concurrent starts from racing.
func Migrate(ctx context.Context, db *DB, sources ...Source) ([]Migration, error) {
	plan, err := Plan(db.Dialect, sources...)
	if err != nil {
		return nil, err
	}
	var applied []Migration
	err = db.withMigrationLock(ctx, func(conn *gorm.DB) error {
		if err := conn.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
			source TEXT NOT NULL,
			version INTEGER NOT NULL,
			name TEXT NOT NULL,
			applied_at TEXT NOT NULL,
			PRIMARY KEY (source, version))`).Error; err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		var done []schemaMigration
		if err := conn.Find(&done).Error; err != nil {
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		have := map[string]int{}
		for _, d := range done {
			if d.Version > have[d.Source] {
				have[d.Source] = d.Version
			}
		}
		for _, m := range plan {
			if m.Version <= have[m.Source] {
				continue
			}
			err := conn.Transaction(func(tx *gorm.DB) error {
				if err := tx.Exec(m.SQL).Error; err != nil {
					return err
				}
				return tx.Create(&schemaMigration{Source: m.Source, Version: m.Version, Name: m.Name,
					AppliedAt: db.NowFunc().Format("2006-01-02T15:04:05Z")}).Error
			})
			if err != nil {
				return fmt.Errorf("migration %s %04d_%s: %w", m.Source, m.Version, m.Name, err)
			}
			applied = append(applied, m)
		}
		return nil
	})
	return applied, err
}

// withMigrationLock runs fn on one connection holding a database-wide lock where the dialect has
// one; SQLite serialises writers by itself.
func (db *DB) withMigrationLock(ctx context.Context, fn func(*gorm.DB) error) error {
	conn := db.WithContext(ctx)
	if db.Dialect != Postgres {
		return fn(conn)
	}
	return conn.Connection(func(c *gorm.DB) error {
		h := fnv.New64a()
		h.Write([]byte("ziyuan schema migrations"))
		key := int64(h.Sum64() >> 1)
		if err := c.Exec("SELECT pg_advisory_lock(?)", key).Error; err != nil {
			return fmt.Errorf("take migration lock: %w", err)
		}
		defer c.Exec("SELECT pg_advisory_unlock(?)", key)
		return fn(c)
	})
}
