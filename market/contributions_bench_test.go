package market_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"
	"gorm.io/gorm"

	"ziyuan/market"
	"ziyuan/market/contrib"
	"ziyuan/market/store"
	"ziyuan/market/store/storetest"
	"ziyuan/rights"
)

// BenchmarkContributionExport exports every teacher's record of a year — generated data
// written directly in bulk — to XLSX, CSV and JSON with proofs. The default size is small
// enough for `make bench`; the size (100,000 teachers, 5,000,000 ledger entries) is
//
//	ZIYUAN_BENCH_CONTRIB=full go test -run '^$' -bench ContributionExport -benchtime 1x -timeout 2h ./market/
//
// (ZIYUAN_BENCH_CONTRIB=N gives N teachers, 50 ledger entries each). ZIYUAN_BENCH_CONTRIB_CACHE=DIR
// keeps the generated SQLite database in DIR and reuses it on the next run. PostgreSQL runs
// too when ZIYUAN_TEST_POSTGRES is set (e.g. under .ci/with-postgres).
func BenchmarkContributionExport(b *testing.B) {
	size := benchContribSize()
	for _, dialect := range []store.Dialect{store.SQLite, store.Postgres} {
		b.Run(string(dialect), func(b *testing.B) {
			if dialect == store.Postgres && os.Getenv("ZIYUAN_TEST_POSTGRES") == "" {
				b.Skip("ZIYUAN_TEST_POSTGRES not set")
			}
			m, lg := benchContribMarket(b, dialect, size)
			ctx := market.AsOperator(context.Background(), "bench")
			q := market.ContributionQuery{From: "2026-01-01", To: "2027-01-01"}
			for _, format := range []string{market.FormatXLSX, market.FormatCSV, market.FormatJSON} {
				b.Run(format, func(b *testing.B) {
					out := filepath.Join(b.TempDir(), "export."+format)
					var bytes int64
					for b.Loop() {
						f, err := os.Create(out)
						if err != nil {
							b.Fatal(err)
						}
						w := bufio.NewWriterSize(f, 1<<20)
						if err := m.ExportContributions(ctx, q, format, w, nil); err != nil {
							b.Fatal(err)
						}
						if err := w.Flush(); err != nil {
							b.Fatal(err)
						}
						st, _ := f.Stat()
						bytes = st.Size()
						f.Close()
					}
					if format == market.FormatJSON && size.teachers <= 5_000 {
						// At the routine size, check what was measured: the export verifies.
						f, err := os.Open(out)
						if err != nil {
							b.Fatal(err)
						}
						rep, err := contrib.Verify(f, lg.VerifierKey())
						f.Close()
						if err != nil || len(rep.Teachers) != size.teachers {
							b.Fatalf("the benchmark's export does not verify: %v", err)
						}
					}
					b.ReportMetric(float64(bytes)/1e6, "MB")
					b.ReportMetric(float64(size.teachers), "teachers")
					b.ReportMetric(float64(size.entries()), "entries")
				})
			}
		})
	}
}

type contribSize struct {
	teachers, perSchool, worksPer, licencesPer int
}

// entries: two per work (registered, published) and one per licence.
func (s contribSize) entries() int { return s.teachers * (2*s.worksPer + s.licencesPer) }

func benchContribSize() contribSize {
	n := 2_000
	switch v := os.Getenv("ZIYUAN_BENCH_CONTRIB"); v {
	case "":
	case "full":
		n = 100_000
	default:
		if k, err := strconv.Atoi(v); err == nil && k > 0 {
			n = k
		}
	}
	// 10 works and 30 licences per teacher: 50 entries each, 5,000,000 for 100,000 teachers.
	return contribSize{teachers: n, perSchool: 200, worksPer: 10, licencesPer: 30}
}

// benchContribMarket opens (or generates) the data set on dialect.
func benchContribMarket(b *testing.B, d store.Dialect, size contribSize) (*market.Market, *rights.Log) {
	b.Helper()
	ctx := context.Background()
	var db *store.DB
	dir := b.TempDir()
	cached := false
	if c := os.Getenv("ZIYUAN_BENCH_CONTRIB_CACHE"); c != "" && d == store.SQLite {
		dir = filepath.Join(c, fmt.Sprintf("contrib-%d", size.teachers))
		_, err := os.Stat(filepath.Join(dir, "complete"))
		cached = err == nil
	}
	if d == store.SQLite {
		var err error
		if db, err = store.Open(ctx, store.Config{DataDir: dir}); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		if _, err := store.Migrate(ctx, db, market.Schemas()...); err != nil {
			b.Fatal(err)
		}
	} else {
		db = storetest.Open(b, d, market.Schemas()...)
	}
	key, err := rights.LoadOrCreateKey(dir, "ziyuan.bench/ledger")
	if err != nil {
		b.Fatal(err)
	}
	lg, err := rights.Open(ctx, rights.Config{DB: db.DB, Key: key})
	if err != nil {
		b.Fatal(err)
	}
	if !cached {
		start := time.Now()
		if d == store.SQLite {
			// Generation only (not the measured exports): one connection with a 1 GiB page
			// cache, so that millions of random index inserts do not each read from disk.
			sqlDB, _ := db.DB.DB()
			sqlDB.SetMaxOpenConns(1)
			if err := db.Exec("PRAGMA cache_size = -1048576").Error; err != nil {
				b.Fatal(err)
			}
			defer func() {
				db.Exec("PRAGMA cache_size = -2000")
				sqlDB.SetMaxOpenConns(8)
			}()
		}
		generateContributions(b, db, size)
		if _, _, err := lg.Publish(ctx); err != nil {
			b.Fatal(err)
		}
		b.Logf("%s: generated %d teachers, %d ledger entries in %s", d, size.teachers, size.entries(), time.Since(start).Round(time.Second))
		if d == store.SQLite && os.Getenv("ZIYUAN_BENCH_CONTRIB_CACHE") != "" {
			os.WriteFile(filepath.Join(dir, "complete"), nil, 0o644)
		}
	}
	return market.New(db, market.Options{Ledger: lg}), lg
}

// bulk inserts rows in multi-row statements.
type bulk struct {
	tx    *gorm.DB
	table string
	cols  []string
	per   int
	args  []any
	n     int
	err   error
}

func newBulk(tx *gorm.DB, table string, cols ...string) *bulk {
	return &bulk{tx: tx, table: table, cols: cols, per: max(1, 480/len(cols))}
}

func (k *bulk) add(vals ...any) {
	k.args = append(k.args, vals...)
	k.n++
	if k.n == k.per {
		k.flush()
	}
}

func (k *bulk) flush() {
	if k.n == 0 || k.err != nil {
		return
	}
	var sb strings.Builder
	sb.WriteString("INSERT INTO " + k.table + " (" + strings.Join(k.cols, ", ") + ") VALUES ")
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", len(k.cols)), ",") + ")"
	for i := range k.n {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(row)
	}
	k.err = k.tx.Exec(sb.String(), k.args...).Error
	k.args, k.n = k.args[:0], 0
}

func benchID(kind, n int) string { return fmt.Sprintf("%08x-0000-7000-8000-%012x", kind, n) }

// generateContributions writes the data set directly: schools under bureaus, teachers with
// works (1 % derivatives of others' works), licences among teachers (a third from the author's
// school), downloads, ratings, sales, and the ledger — entries, stored hashes, tree state —
// as the market and the sequencer would have written them, over the year 2026.
func generateContributions(b *testing.B, db *store.DB, size contribSize) {
	b.Helper()
	r := rand.New(rand.NewPCG(7, 7))
	year := time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600)).UTC()
	span := int64(365 * 24 * time.Hour)
	at := func(after time.Time) time.Time {
		left := year.Add(time.Duration(span)).Sub(after)
		return after.Add(time.Duration(r.Int64N(int64(left)))).Truncate(time.Microsecond)
	}
	schools := (size.teachers + size.perSchool - 1) / size.perSchool
	bureaus := max(1, schools/50)
	teacher := func(i int) string { return benchID(2, i) }
	school := func(t int) int { return t / size.perSchool }
	subjects := []string{"语文", "数学", "英语", "物理", "化学", "生物", "历史", "地理", "道德与法治", "信息科技"}
	stages := []string{"小学", "初中", "高中"}
	type work struct {
		owner     int
		published time.Time
		parent    int // -1: none
	}
	nWorks := size.teachers * size.worksPer
	works := make([]work, nWorks)
	for i := range works {
		works[i] = work{owner: i / size.worksPer, published: at(year), parent: -1}
	}
	// 1 % derivatives, of an earlier work by another teacher.
	for i := range works {
		if r.IntN(100) != 0 {
			continue
		}
		p := r.IntN(nWorks)
		if works[p].owner != works[i].owner && works[p].parent < 0 && works[p].published.Before(works[i].published) {
			works[i].parent = p
		}
	}
	type licence struct {
		work, holder int
		granted      time.Time
	}
	lics := make([]licence, 0, size.teachers*size.licencesPer)
	seen := map[[2]int]bool{}
	for len(lics) < cap(lics) {
		w := r.IntN(nWorks)
		owner := works[w].owner
		var h int
		if r.IntN(3) == 0 {
			s := school(owner) * size.perSchool
			h = s + r.IntN(min(size.perSchool, size.teachers-s))
		} else {
			h = r.IntN(size.teachers)
		}
		if h == owner || seen[[2]int{w, h}] {
			continue
		}
		seen[[2]int{w, h}] = true
		lics = append(lics, licence{work: w, holder: h, granted: at(works[w].published)})
	}
	seen = nil
	// Inserted in work order, so that the licences' indexes grow mostly at their ends.
	slices.SortFunc(lics, func(a, b licence) int { return a.work - b.work })
	// The ledger's order: every event by time.
	type event struct {
		kind byte // 'r' registered, 'p' published, 'l' licence
		n    int
		t    time.Time
	}
	events := make([]event, 0, 2*nWorks+len(lics))
	for i, w := range works {
		events = append(events, event{'r', i, w.published}, event{'p', i, w.published.Add(time.Microsecond)})
	}
	for i, l := range lics {
		events = append(events, event{'l', i, l.granted})
	}
	slices.SortFunc(events, func(a, b event) int { return a.t.Compare(b.t) })

	ctx := context.Background()
	now := year
	// Each multi-row statement commits on its own: one transaction of millions of rows would
	// keep SQLite's WAL growing, and every page lookup in it slower.
	err := func(tx *gorm.DB) error {
		ins := newBulk(tx, "institutions", "id", "name", "kind", "region", "parent_id", "created_at")
		for i := range bureaus {
			ins.add(benchID(1, 1_000_000+i), fmt.Sprintf("第%d区教育局", i+1), "bureau", "110000", nil, now)
		}
		for i := range schools {
			ins.add(benchID(1, i), fmt.Sprintf("第%d中学", i+1), "school", "110000", benchID(1, 1_000_000+i%bureaus), now)
		}
		ins.flush()
		users := newBulk(tx, "users", "id", "login", "name", "password_hash", "institution_id", "verified", "created_at", "updated_at")
		roles := newBulk(tx, "user_roles", "user_id", "role", "created_at")
		for i := range size.teachers {
			users.add(teacher(i), fmt.Sprintf("t%07d", i), fmt.Sprintf("教师%d", i), "x", benchID(1, school(i)), true, now, now)
		}
		users.flush()
		for i := range size.teachers {
			roles.add(teacher(i), "teacher", now)
		}
		roles.flush()
		res := newBulk(tx, "resources", "id", "owner_id", "institution_id", "status", "current_version_id", "published_version_id",
			"created_at", "updated_at", "published_at")
		vers := newBulk(tx, "resource_versions", "id", "resource_id", "number", "status", "title", "summary", "type", "stage", "subject",
			"license", "created_at", "updated_at")
		parents := newBulk(tx, "resource_parents", "resource_id", "parent_id")
		for i, w := range works {
			id, v := benchID(3, i), benchID(4, i)
			res.add(id, teacher(w.owner), benchID(1, school(w.owner)), "published", v, v, w.published, w.published, w.published)
		}
		res.flush()
		for i, w := range works {
			vers.add(benchID(4, i), benchID(3, i), 1, "approved", fmt.Sprintf("资源%d", i), "摘要", "教案", stages[i%len(stages)],
				subjects[(i/3)%len(subjects)], "cc-by", w.published, w.published)
		}
		vers.flush()
		for i, w := range works {
			if w.parent >= 0 {
				parents.add(benchID(3, i), benchID(3, w.parent))
			}
		}
		parents.flush()
		licRows := newBulk(tx, "licenses", "id", "resource_id", "holder_id", "scope", "source", "license", "status", "granted_at")
		for i, l := range lics {
			licRows.add(benchID(5, i), benchID(3, l.work), teacher(l.holder), "free", "claim", "cc-by", "active", l.granted)
		}
		licRows.flush()
		downloads := newBulk(tx, "downloads", "resource_id", "user_id", "sha256", "at")
		for range size.teachers * 5 {
			w := r.IntN(nWorks)
			downloads.add(benchID(3, w), teacher(r.IntN(size.teachers)), "00", at(works[w].published))
		}
		downloads.flush()
		ratings := newBulk(tx, "ratings", "resource_id", "user_id", "stars", "created_at", "updated_at")
		rated := map[[2]int]bool{}
		for range size.teachers * 3 {
			w, u := r.IntN(nWorks), r.IntN(size.teachers)
			if rated[[2]int{w, u}] {
				continue
			}
			rated[[2]int{w, u}] = true
			t := at(works[w].published)
			ratings.add(benchID(3, w), teacher(u), 1+r.IntN(5), t, t)
		}
		ratings.flush()
		sales := newBulk(tx, "balance_transactions", "seller_id", "kind", "amount_fen", "order_id", "reference", "created_at")
		for i := range size.teachers {
			sales.add(teacher(r.IntN(size.teachers)), "sale", 900+r.IntN(9000), benchID(6, i), "0", at(year))
		}
		sales.flush()
		for _, k := range []*bulk{ins, users, roles, res, vers, parents, licRows, downloads, ratings, sales} {
			if k.err != nil {
				return fmt.Errorf("%s: %w", k.table, k.err)
			}
		}
		return nil
	}(db.WithContext(ctx))
	if err != nil {
		b.Fatal(err)
	}

	// The ledger, in event order, with its Merkle tree computed in memory as the sequencer would.
	hashes := make([]tlog.Hash, 0, tlog.StoredHashCount(int64(len(events))))
	reader := tlog.HashReaderFunc(func(ids []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ids))
		for i, id := range ids {
			out[i] = hashes[id]
		}
		return out, nil
	})
	fingerprint := make([]byte, 6+4*256) // a MinHash signature's size
	copy(fingerprint, "MH1\x03\x01\x00")
	regIndex := make([]int64, nWorks)
	const chunk = 20_000
	for start := 0; start < len(events); start += chunk {
		err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			entries := newBulk(tx, "ledger_entries", "seq", "dedupe_key", "data", "idx", "queued_at")
			stored := newBulk(tx, "ledger_hashes", "id", "hash")
			firstHash := int64(len(hashes))
			for i := start; i < min(start+chunk, len(events)); i++ {
				ev := events[i]
				var e rights.Entry
				var key string
				switch ev.kind {
				case 'r':
					w := works[ev.n]
					sum := sha256.Sum256([]byte(benchID(3, ev.n)))
					e = rights.Entry{Type: rights.WorkRegistered, Time: ev.t, ContentSHA256: sum, Fingerprint: fingerprint,
						License: &rights.License{Code: "cc-by"},
						Subjects: []rights.Subject{{Role: "work", ID: benchID(3, ev.n)}, {Role: "author", ID: teacher(w.owner)},
							{Role: "institution", ID: benchID(1, school(w.owner))}}}
					if w.parent >= 0 {
						p := regIndex[w.parent]
						e.Parents = []rights.Parent{{Index: p, LeafHash: hashes[tlog.StoredHashIndex(0, p)]}}
					}
					regIndex[ev.n] = int64(i)
					key = "work.registered:" + benchID(3, ev.n)
				case 'p':
					sum := sha256.Sum256([]byte(benchID(3, ev.n)))
					e = rights.Entry{Type: rights.WorkPublished, Time: ev.t, ContentSHA256: sum, License: &rights.License{Code: "cc-by"},
						Subjects: []rights.Subject{{Role: "work", ID: benchID(3, ev.n)}, {Role: "version", ID: benchID(4, ev.n)}}}
					key = "work.published:" + benchID(4, ev.n)
				default:
					l := lics[ev.n]
					e = rights.Entry{Type: rights.LicenseGranted, Time: ev.t, License: &rights.License{Code: "cc-by", Scope: "free"},
						Subjects: []rights.Subject{{Role: "license", ID: benchID(5, ev.n)}, {Role: "work", ID: benchID(3, l.work)},
							{Role: "holder", ID: teacher(l.holder)}}}
					key = "license.granted:" + benchID(5, ev.n)
				}
				data, err := rights.Encode(e)
				if err != nil {
					return err
				}
				hs, err := tlog.StoredHashes(int64(i), data, reader)
				if err != nil {
					return err
				}
				hashes = append(hashes, hs...)
				entries.add(i+1, key, data, i, ev.t)
			}
			for id := firstHash; id < int64(len(hashes)); id++ {
				stored.add(id, hashes[id][:])
			}
			entries.flush()
			stored.flush()
			if entries.err != nil {
				return entries.err
			}
			return stored.err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	root, err := tlog.TreeHash(int64(len(events)), reader)
	if err != nil {
		b.Fatal(err)
	}
	if err := db.Exec(`UPDATE ledger_tree SET size = ?, root = ? WHERE id = 1`, len(events), root[:]).Error; err != nil {
		b.Fatal(err)
	}
}
