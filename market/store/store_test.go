package store_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"ziyuan/market/store"
	"ziyuan/market/store/storetest"
)

func schema(files map[string]string) store.Source {
	fs := fstest.MapFS{}
	for name, body := range files {
		fs[name] = &fstest.MapFile{Data: []byte(body)}
	}
	return store.Source{Name: "t", FS: fs}
}

func TestMigrateAppliesOnceInOrder(t *testing.T) {
	src := schema(map[string]string{
		"sqlite/0001_a.sql":   "CREATE TABLE a (x INTEGER);",
		"sqlite/0002_b.sql":   "ALTER TABLE a ADD COLUMN y TEXT; CREATE TABLE b (z INTEGER);",
		"postgres/0001_a.sql": "CREATE TABLE a (x INTEGER);",
		"postgres/0002_b.sql": "ALTER TABLE a ADD COLUMN y TEXT; CREATE TABLE b (z INTEGER);",
	})
	storetest.Each(t, nil, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		applied, err := store.Migrate(ctx, db, src)
		if err != nil {
			t.Fatal(err)
		}
		if len(applied) != 2 || applied[0].Name != "a" || applied[1].Name != "b" {
			t.Fatalf("applied %+v, want a then b", applied)
		}
		again, err := store.Migrate(ctx, db, src)
		if err != nil || len(again) != 0 {
			t.Fatalf("second run applied %d (%v), want none", len(again), err)
		}
		if err := db.Exec("INSERT INTO a (x, y) VALUES (1, 'one')").Error; err != nil {
			t.Fatalf("schema not as migrated: %v", err)
		}
	})
}

func TestMigrateFailureKeepsLastWholeVersion(t *testing.T) {
	src := schema(map[string]string{
		"sqlite/0001_a.sql":     "CREATE TABLE a (x INTEGER);",
		"sqlite/0002_bad.sql":   "CREATE TABLE c (x INTEGER); THIS IS NOT SQL;",
		"postgres/0001_a.sql":   "CREATE TABLE a (x INTEGER);",
		"postgres/0002_bad.sql": "CREATE TABLE c (x INTEGER); THIS IS NOT SQL;",
	})
	storetest.Each(t, nil, func(t *testing.T, db *store.DB) {
		_, err := store.Migrate(context.Background(), db, src)
		if err == nil || !strings.Contains(err.Error(), "0002_bad") {
			t.Fatalf("err = %v, want failure naming 0002_bad", err)
		}
		var n int64
		db.Raw("SELECT COUNT(*) FROM schema_migrations WHERE source = 't'").Scan(&n)
		if n != 1 {
			t.Fatalf("%d versions recorded, want 1", n)
		}
		if db.Migrator().HasTable("c") {
			t.Fatal("table c of the failed migration exists")
		}
	})
}

func TestPlanRejectsMismatchedDialects(t *testing.T) {
	cases := map[string]map[string]string{
		"missing postgres": {"sqlite/0001_a.sql": "", "postgres/.keep": ""},
		"gap":              {"sqlite/0002_a.sql": "", "postgres/0002_a.sql": ""},
		"renamed":          {"sqlite/0001_a.sql": "", "postgres/0001_b.sql": ""},
		"bad name":         {"sqlite/first.sql": "", "postgres/first.sql": ""},
	}
	for name, files := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := store.Plan(store.SQLite, schema(files)); err == nil {
				t.Fatal("plan accepted an inconsistent schema")
			}
		})
	}
}

// TestPoolKeepsItsConnections: after a burst that uses every connection the pool may open,
// all of them stay open for the next burst. With database/sql's default of two idle
// connections, PostgreSQL started a backend process for nearly every query under load.
func TestPoolKeepsItsConnections(t *testing.T) {
	storetest.Each(t, nil, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		sqlDB, err := db.DB.DB()
		if err != nil {
			t.Fatal(err)
		}
		n := sqlDB.Stats().MaxOpenConnections
		if n < 4 {
			t.Fatalf("pool of %d connections, want a real pool", n)
		}
		for burst := range 2 {
			var all, done sync.WaitGroup
			all.Add(n)
			errs := make(chan error, n)
			for range n {
				done.Go(func() {
					conn, err := sqlDB.Conn(ctx)
					all.Done()
					if err != nil {
						errs <- err
						return
					}
					all.Wait() // every connection in use at once
					var one int
					if err := conn.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
						errs <- err
					}
					conn.Close()
				})
			}
			done.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			st := sqlDB.Stats()
			if st.MaxIdleClosed != 0 || st.Idle != n {
				t.Fatalf("after burst %d: %d idle of %d, %d closed for lack of idle room; want all %d kept",
					burst+1, st.Idle, n, st.MaxIdleClosed, n)
			}
		}
	})
}
