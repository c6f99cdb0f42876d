package market

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"ziyuan/market/contrib"
)

// Contribution records (DESIGN.md step 8, docs/contributions.md): per teacher and period, what
// the teacher published and how others took it up, each ledger-backed count with the entries
// behind it. This file holds the scope rules and the computation; contributions_export.go
// writes the downloads.

// ContributionQuery selects contribution records. From and To are calendar days in China time,
// the period being [From, To); empty means the current calendar year.
type ContributionQuery struct {
	InstitutionID string
	TeacherID     string
	From, To      string
	Subject       string
	Stage         string
}

// Contribution limits.
const (
	maxPeriodYears  = 10
	contribChunk    = 500 // teachers computed per round of queries
	chartSubjectMax = 12  // subjects charted; the rest are summed as "other"
	maxChartMonths  = 36
)

// ContributionScope is who the acting user may see: every teacher (All), the teachers of
// Institutions, or only itself (Self, a teacher).
type ContributionScope struct {
	All          bool
	Self         string
	Institutions []string
	// Choices are the institutions the user may filter by, in name order.
	Choices []Institution
}

type contribPlan struct {
	q       ContributionQuery
	period  contrib.Period
	scope   ContributionScope
	insts   []string // the institutions whose teachers are in the records; nil with all
	teacher string   // one teacher only
}

// contributionPlan checks the acting user's right to the query and resolves its scope:
// platform admins see all; evaluators their institution and, for a bureau, the institutions
// under it (recursively); teachers their own record; everyone else nothing.
func (m *Market) contributionPlan(ctx context.Context, q ContributionQuery) (contribPlan, error) {
	p := contribPlan{q: q}
	a, err := RequireActive(ctx)
	if err != nil {
		return p, err
	}
	if p.period, err = m.contributionPeriod(q.From, q.To); err != nil {
		return p, err
	}
	p.q.From, p.q.To = p.period.From, p.period.To
	if q.InstitutionID != "" && !ValidID(q.InstitutionID) {
		return p, Errorf(CodeInvalid, MsgFieldFormat, "institution_id", q.InstitutionID)
	}
	if q.TeacherID != "" && !ValidID(q.TeacherID) {
		return p, Errorf(CodeInvalid, MsgFieldFormat, "teacher_id", q.TeacherID)
	}
	all, err := m.institutionTree(ctx)
	if err != nil {
		return p, err
	}
	forbidden := Errorf(CodeForbidden, MsgContribScope)
	switch {
	case a.Has(RolePlatformAdmin):
		p.scope.All = true
		p.scope.Choices = append(p.scope.Choices, all.list...)
	case a.Has(RoleEvaluator):
		if a.InstitutionID == "" {
			return p, forbidden
		}
		p.scope.Institutions = all.under(a.InstitutionID)
		for _, id := range p.scope.Institutions {
			p.scope.Choices = append(p.scope.Choices, all.byID[id])
		}
	case a.Has(RoleTeacher):
		if q.TeacherID != "" && q.TeacherID != a.UserID || q.InstitutionID != "" && q.InstitutionID != a.InstitutionID {
			return p, forbidden
		}
		p.scope.Self, p.teacher = a.UserID, a.UserID
		return p, nil
	default:
		return p, Errorf(CodeForbidden, MsgForbidden)
	}
	slices.SortFunc(p.scope.Choices, func(x, y Institution) int {
		return cmp.Or(strings.Compare(x.Name, y.Name), strings.Compare(x.ID, y.ID))
	})
	if !p.scope.All {
		p.insts = p.scope.Institutions
	}
	if q.InstitutionID != "" {
		if _, ok := all.byID[q.InstitutionID]; !ok {
			return p, Errorf(CodeNotFound, MsgInstitutionMissing)
		}
		if !p.scope.All && !slices.Contains(p.scope.Institutions, q.InstitutionID) {
			return p, forbidden
		}
		p.insts = all.under(q.InstitutionID)
	}
	if q.TeacherID != "" {
		var row userRow
		err := m.db.WithContext(ctx).Where("id = ?", q.TeacherID).Take(&row).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return p, Errorf(CodeNotFound, MsgNotFound, "teacher")
		}
		if err != nil {
			return p, Internal(err)
		}
		if p.insts != nil && (row.InstitutionID == nil || !slices.Contains(p.insts, *row.InstitutionID)) {
			return p, forbidden
		}
		p.teacher = q.TeacherID
	}
	return p, nil
}

// contributionPeriod parses [from, to); empty dates mean this calendar year in China time.
func (m *Market) contributionPeriod(from, to string) (contrib.Period, error) {
	year := m.now().In(chinaTime).Year()
	if from == "" {
		from = strconv.Itoa(year) + "-01-01"
	}
	if to == "" {
		to = strconv.Itoa(year+1) + "-01-01"
	}
	p, err := contrib.NewPeriod(from, to)
	if err != nil {
		bad := from
		if strings.HasPrefix(err.Error(), "to") {
			bad = to
		}
		return p, Errorf(CodeInvalid, MsgDateRange, bad)
	}
	if !p.Start.Before(p.End) || p.End.After(p.Start.AddDate(maxPeriodYears, 0, 0)) {
		return p, Errorf(CodeInvalid, MsgContribPeriod, maxPeriodYears)
	}
	return p, nil
}

// instTree is every institution with its children.
type instTree struct {
	list     []Institution
	byID     map[string]Institution
	children map[string][]string
}

func (m *Market) institutionTree(ctx context.Context) (instTree, error) {
	var rows []institutionRow
	if err := m.db.WithContext(ctx).Order("name, id").Find(&rows).Error; err != nil {
		return instTree{}, Internal(err)
	}
	t := instTree{byID: map[string]Institution{}, children: map[string][]string{}}
	for _, r := range rows {
		inst := r.domain()
		t.list = append(t.list, inst)
		t.byID[r.ID] = inst
		if r.ParentID != nil {
			t.children[*r.ParentID] = append(t.children[*r.ParentID], r.ID)
		}
	}
	return t, nil
}

// under returns id and every institution below it, however deep (a cycle stops the walk).
func (t instTree) under(id string) []string {
	out := []string{id}
	seen := map[string]bool{id: true}
	for i := 0; i < len(out); i++ {
		for _, c := range t.children[out[i]] {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}

// ContributionSeries are the charts' data: counts per month of the period and per subject.
type ContributionSeries struct {
	Months   []SeriesPoint `json:"months"`
	Subjects []SeriesPoint `json:"subjects"`
}

// SeriesPoint is one bar group: published, adoptions and derivatives.
type SeriesPoint struct {
	Label       string `json:"label"`
	Published   int64  `json:"published"`
	Adoptions   int64  `json:"adoptions"`
	Derivatives int64  `json:"derivatives"`
}

func (s SeriesPoint) total() int64 { return s.Published + s.Adoptions + s.Derivatives }

// contribRun computes records chunk by chunk.
type contribRun struct {
	m        *Market
	plan     contribPlan
	evidence bool
	treeSize int64
	// per-month and per-subject tallies, kept by record (called in order, by one goroutine)
	months   map[string]*SeriesPoint
	subjects map[string]*SeriesPoint
	// insts remembers holders' institutions across chunks
	mu    sync.Mutex
	insts map[string]string
	// scan: a large export, reading sparse tables whole (see ContributionScanFrom)
	scan   bool
	sparse sparseTables
}

// teacherRow is one teacher in scope.
type teacherRow struct {
	ID, Name, InstitutionID, Institution string
}

// work is one of a teacher's published, not taken-down works.
type work struct {
	id, owner, subject string
	published          time.Time
	inPeriod           bool
	idx                int64 // its work.registered entry, -1 unknown
	used               bool  // referred to by the record's evidence
}

type adoption struct {
	license, work, holder, adopter, inst string
	at                                   time.Time
	idx                                  int64
}

type derivative struct {
	id      string
	at      time.Time
	parents []string // the teacher's works it names
	idx     int64
}

type teacherAcc struct {
	t           teacherRow
	works       []*work
	adoptions   []*adoption
	derivatives []*derivative
	downloads   int64
	ratings     int64
	ratingSum   int64
	earnings    int64
}

// contributions computes the records of plan's teachers in order, calling emit for each. With
// evidence, ledger-backed counts include only events whose entries are in the tree of
// treeSize entries, and records carry their evidence.
func (m *Market) contributions(ctx context.Context, plan contribPlan, evidence bool, treeSize int64,
	emit func(contrib.Record) error, progress func(done, total int64)) (ContributionSeries, error) {
	run := &contribRun{m: m, plan: plan, evidence: evidence, treeSize: treeSize,
		months: map[string]*SeriesPoint{}, subjects: map[string]*SeriesPoint{}, insts: map[string]string{}}
	teachers, err := run.teachers(ctx)
	if err != nil {
		return ContributionSeries{}, err
	}
	run.scan = len(teachers) >= ContributionScanFrom
	// Chunks are computed by a few workers at once (the work is mostly the database's, and
	// readers do not block each other) and handed on in order; at most two chunks per worker
	// are in flight, so memory stays bounded however many teachers there are.
	type result struct {
		accs []*teacherAcc
		err  error
	}
	workers := max(1, min(runtime.GOMAXPROCS(0), 4))
	if n, err := strconv.Atoi(os.Getenv("ZIYUAN_CONTRIB_WORKERS")); err == nil && n > 0 {
		workers = n // for measurements
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pending := make(chan chan result, 2*workers)
	sem := make(chan struct{}, workers)
	go func() {
		defer close(pending)
		for start := 0; start < len(teachers); start += contribChunk {
			chunk := teachers[start:min(start+contribChunk, len(teachers))]
			out := make(chan result, 1)
			select {
			case pending <- out:
			case <-ctx.Done():
				return
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				out <- result{err: ctx.Err()}
				return
			}
			go func() {
				defer func() { <-sem }()
				accs, err := run.chunk(ctx, chunk)
				out <- result{accs, err}
			}()
		}
	}()
	done := 0
	for out := range pending {
		res := <-out
		if res.err != nil {
			return ContributionSeries{}, asDomain(res.err)
		}
		for _, t := range res.accs {
			if err := emit(run.record(t)); err != nil {
				return ContributionSeries{}, err
			}
		}
		done += len(res.accs)
		if progress != nil {
			progress(int64(done), int64(len(teachers)))
		}
	}
	if err := ctx.Err(); err != nil {
		return ContributionSeries{}, asDomain(err)
	}
	if progress != nil && len(teachers) == 0 {
		progress(0, 0)
	}
	return run.series(), nil
}

func (r *contribRun) teachers(ctx context.Context) ([]teacherRow, error) {
	q := r.m.db.WithContext(ctx).Table("users").
		Select("users.id, users.name, COALESCE(users.institution_id, '') AS institution_id, COALESCE(institutions.name, '') AS institution").
		Joins("JOIN user_roles ON user_roles.user_id = users.id AND user_roles.role = ?", RoleTeacher).
		Joins("LEFT JOIN institutions ON institutions.id = users.institution_id")
	if r.plan.teacher != "" {
		q = q.Where("users.id = ?", r.plan.teacher)
	} else if r.plan.insts != nil {
		q = q.Where("users.institution_id IN ?", r.plan.insts)
	}
	var out []teacherRow
	if err := q.Scan(&out).Error; err != nil {
		return nil, Internal(err)
	}
	// Sorted here, not by the database, so that both dialects give one order whatever their
	// collation: by institution, then name.
	slices.SortFunc(out, func(a, b teacherRow) int {
		return cmp.Or(strings.Compare(a.Institution, b.Institution), strings.Compare(a.InstitutionID, b.InstitutionID),
			strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// worksFilter is the condition on resources r and their published versions v that selects
// the teachers' works counted: published before the period ends, not taken down, of the
// requested subject and stage.
func (r *contribRun) worksFilter(owners []string) (string, []any) {
	return r.versionFilter("r.owner_id IN ? AND r.published_at IS NOT NULL AND r.published_at < ? AND r.status <> ?",
		owners, r.plan.period.End.UTC(), StatusTakenDown)
}

// versionFilter adds the requested subject and stage, as conditions on the published version
// v, to where.
func (r *contribRun) versionFilter(where string, args ...any) (string, []any) {
	if s := r.plan.q.Subject; s != "" {
		where += " AND v.subject = ?"
		args = append(args, s)
	}
	if s := r.plan.q.Stage; s != "" {
		where += " AND v.stage = ?"
		args = append(args, s)
	}
	return where, args
}

const worksFrom = "resources r JOIN resource_versions v ON v.id = r.published_version_id"

// rows runs a raw query and calls scan for each row.
func (r *contribRun) rows(ctx context.Context, query string, args []any, scan func(*sql.Rows) error) error {
	rows, err := r.m.db.WithContext(ctx).Raw(query, args...).Rows()
	if err != nil {
		return Internal(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return Internal(err)
		}
	}
	return asDomain(rows.Err())
}

func (r *contribRun) chunk(ctx context.Context, teachers []teacherRow) ([]*teacherAcc, error) {
	p := r.plan.period
	owners := make([]string, len(teachers))
	acc := make(map[string]*teacherAcc, len(teachers))
	for i, t := range teachers {
		owners[i] = t.ID
		acc[t.ID] = &teacherAcc{t: t}
	}
	where, args := r.worksFilter(owners)
	works := map[string]*work{}
	err := r.rows(ctx, "SELECT r.id, r.owner_id, r.published_at, v.subject FROM "+worksFrom+" WHERE "+where, args,
		func(rows *sql.Rows) error {
			w := &work{idx: -1}
			if err := rows.Scan(&w.id, &w.owner, &w.published, &w.subject); err != nil {
				return err
			}
			w.inPeriod = p.Contains(w.published)
			works[w.id] = w
			acc[w.owner].works = append(acc[w.owner].works, w)
			return nil
		})
	if err != nil {
		return nil, err
	}
	sub := "SELECT r.id FROM " + worksFrom + " WHERE " + where
	// Adoptions: the first active licence of each adopter (an institution for institution
	// licences, else the holder) to each work, other than the author's own.
	first := map[[2]string]*adoption{}
	err = r.rows(ctx, `SELECT l.id, l.resource_id, l.holder_id, COALESCE(l.holder_institution_id, ''), l.granted_at
		FROM licenses l WHERE l.resource_id IN (`+sub+`) AND l.status = ? AND l.granted_at < ?`, append(slices.Clone(args), LicenseActive, p.End.UTC()),
		func(rows *sql.Rows) error {
			var a adoption
			var holderInst string
			if err := rows.Scan(&a.license, &a.work, &a.holder, &holderInst, &a.at); err != nil {
				return err
			}
			w := works[a.work]
			if w == nil || a.holder == w.owner {
				return nil
			}
			a.adopter = "user:" + a.holder
			if holderInst != "" {
				a.adopter, a.inst = "inst:"+holderInst, holderInst
			}
			k := [2]string{a.work, a.adopter}
			if f := first[k]; f == nil || a.at.Before(f.at) || a.at.Equal(f.at) && a.license < f.license {
				a.idx = -1
				first[k] = &a
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	var holders []string
	for _, a := range first {
		if p.Contains(a.at) {
			t := acc[works[a.work].owner]
			t.adoptions = append(t.adoptions, a)
			if a.inst == "" {
				holders = append(holders, a.holder)
			}
		}
	}
	insts, err := r.holderInstitutions(ctx, holders)
	if err != nil {
		return nil, err
	}
	for _, t := range acc {
		for _, a := range t.adoptions {
			if a.inst == "" {
				a.inst = insts[a.holder]
			}
		}
	}
	// Derivatives: other owners' published works, first approved in the period, naming one
	// of the teachers' works as a parent.
	derivs := map[[2]string]*derivative{} // (owner, derivative) → derivative
	onDerivative := func(parent, id, owner string, at time.Time) {
		w := works[parent]
		if w == nil || owner == w.owner {
			return
		}
		k := [2]string{w.owner, id}
		d := derivs[k]
		if d == nil {
			d = &derivative{id: id, at: at, idx: -1}
			derivs[k] = d
			acc[w.owner].derivatives = append(acc[w.owner].derivatives, d)
		}
		d.parents = append(d.parents, parent)
	}
	// Downloads: distinct users other than the author whose first download of a work falls in
	// the period.
	onDownload := func(id, user string) {
		if w := works[id]; w != nil && user != w.owner {
			acc[w.owner].downloads++
		}
	}
	// Ratings by others, given in the period (one per user and work; a later change of
	// stars keeps the first rating's time).
	onRating := func(id, user string, stars int64) {
		if w := works[id]; w != nil && user != w.owner {
			t := acc[w.owner]
			t.ratings++
			t.ratingSum += stars
		}
	}
	if r.scan {
		// Large exports read these sparse tables once (see prefetch) rather than probing
		// them work by work.
		if err := r.prefetch(ctx); err != nil {
			return nil, err
		}
		for id := range works {
			for _, d := range r.sparse.derivatives[id] {
				onDerivative(id, d.id, d.owner, d.at)
			}
			for _, u := range r.sparse.downloads[id] {
				onDownload(id, u)
			}
			for _, rt := range r.sparse.ratings[id] {
				onRating(id, rt.user, rt.stars)
			}
		}
	} else {
		err = r.rows(ctx, `SELECT p.parent_id, d.id, d.owner_id, d.published_at FROM resource_parents p JOIN resources d ON d.id = p.resource_id
			WHERE p.parent_id IN (`+sub+`) AND d.published_at >= ? AND d.published_at < ? AND d.status <> ?`,
			append(slices.Clone(args), p.Start.UTC(), p.End.UTC(), StatusTakenDown),
			func(rows *sql.Rows) error {
				var parent, id, owner string
				var at time.Time
				if err := rows.Scan(&parent, &id, &owner, &at); err != nil {
					return err
				}
				onDerivative(parent, id, owner, at)
				return nil
			})
		if err != nil {
			return nil, err
		}
		err = r.rows(ctx, `SELECT d.resource_id, d.user_id FROM downloads d
			WHERE d.resource_id IN (`+sub+`) AND d.at < ? GROUP BY d.resource_id, d.user_id HAVING MIN(d.at) >= ?`,
			append(slices.Clone(args), p.End.UTC(), p.Start.UTC()),
			func(rows *sql.Rows) error {
				var id, user string
				if err := rows.Scan(&id, &user); err != nil {
					return err
				}
				onDownload(id, user)
				return nil
			})
		if err != nil {
			return nil, err
		}
		err = r.rows(ctx, `SELECT rt.resource_id, rt.user_id, rt.stars FROM ratings rt
			WHERE rt.resource_id IN (`+sub+`) AND rt.created_at >= ? AND rt.created_at < ?`, append(slices.Clone(args), p.Start.UTC(), p.End.UTC()),
			func(rows *sql.Rows) error {
				var id, user string
				var stars int64
				if err := rows.Scan(&id, &user, &stars); err != nil {
					return err
				}
				onRating(id, user, stars)
				return nil
			})
		if err != nil {
			return nil, err
		}
	}
	if err := r.earnings(ctx, owners, acc); err != nil {
		return nil, err
	}
	if r.evidence {
		if err := r.resolveEvidence(ctx, acc, works); err != nil {
			return nil, err
		}
	}
	out := make([]*teacherAcc, len(teachers))
	for i, t := range teachers {
		out[i] = acc[t.ID]
	}
	return out, nil
}

// ContributionScanFrom is the number of teachers from which an export reads the sparse tables
// (derivations, downloads, ratings) and, for JSON, the ledger's keys in one pass each instead of
// probing them chunk by chunk: at a platform's scale one sequential read is several times
// cheaper than a million index probes. Memory grows with those tables (about 100 bytes a
// row); smaller exports keep to the probes.
var ContributionScanFrom = 5000

type derivRow struct {
	id, owner string
	at        time.Time
}

type contribRating struct {
	user  string
	stars int64
}

// sparseTables are the whole-table reads of a large export, made once by the first chunk
// that needs them.
type sparseTables struct {
	once        sync.Once
	err         error
	derivatives map[string][]derivRow      // parent → derivatives first approved in the period
	downloads   map[string][]string        // work → users whose first download is in the period
	ratings     map[string][]contribRating // work → ratings given in the period
	keys        map[uuid.UUID]int64        // resource or licence ID → its work.registered / license.granted index
}

func (r *contribRun) prefetch(ctx context.Context) error {
	sp := &r.sparse
	sp.once.Do(func() {
		p := r.plan.period
		sp.derivatives, sp.downloads, sp.ratings = map[string][]derivRow{}, map[string][]string{}, map[string][]contribRating{}
		sp.err = r.rows(ctx, `SELECT p.parent_id, d.id, d.owner_id, d.published_at FROM resource_parents p JOIN resources d ON d.id = p.resource_id
			WHERE d.published_at >= ? AND d.published_at < ? AND d.status <> ?`, []any{p.Start.UTC(), p.End.UTC(), StatusTakenDown},
			func(rows *sql.Rows) error {
				var parent string
				var d derivRow
				if err := rows.Scan(&parent, &d.id, &d.owner, &d.at); err != nil {
					return err
				}
				sp.derivatives[parent] = append(sp.derivatives[parent], d)
				return nil
			})
		if sp.err != nil {
			return
		}
		sp.err = r.rows(ctx, `SELECT resource_id, user_id FROM downloads WHERE at < ? GROUP BY resource_id, user_id HAVING MIN(at) >= ?`,
			[]any{p.End.UTC(), p.Start.UTC()}, func(rows *sql.Rows) error {
				var id, user string
				if err := rows.Scan(&id, &user); err != nil {
					return err
				}
				sp.downloads[id] = append(sp.downloads[id], user)
				return nil
			})
		if sp.err != nil {
			return
		}
		sp.err = r.rows(ctx, `SELECT resource_id, user_id, stars FROM ratings WHERE created_at >= ? AND created_at < ?`,
			[]any{p.Start.UTC(), p.End.UTC()}, func(rows *sql.Rows) error {
				var id string
				var rt contribRating
				if err := rows.Scan(&id, &rt.user, &rt.stars); err != nil {
					return err
				}
				sp.ratings[id] = append(sp.ratings[id], rt)
				return nil
			})
		if sp.err != nil || !r.evidence {
			return
		}
		sp.keys = map[uuid.UUID]int64{}
		sp.err = r.m.opts.Ledger.ScanKeys(ctx, r.treeSize, func(key string, idx int64) error {
			kind, id, _ := strings.Cut(key, ":")
			if kind != "work.registered" && kind != "license.granted" {
				return nil
			}
			if u, err := uuid.Parse(id); err == nil {
				sp.keys[u] = idx
			}
			return nil
		})
		if sp.err != nil {
			sp.err = Internal(sp.err)
		}
	})
	return sp.err
}

// holderInstitutions returns the institutions of holders (those with one), remembered for
// the rest of the run: the same adopters come back chunk after chunk.
func (r *contribRun) holderInstitutions(ctx context.Context, holders []string) (map[string]string, error) {
	out := make(map[string]string, len(holders))
	var missing []string
	r.mu.Lock()
	for _, h := range holders {
		if inst, ok := r.insts[h]; ok {
			out[h] = inst
		} else if _, dup := out[h]; !dup {
			out[h] = ""
			missing = append(missing, h)
		}
	}
	r.mu.Unlock()
	for start := 0; start < len(missing); start += 400 {
		batch := missing[start:min(start+400, len(missing))]
		err := r.rows(ctx, `SELECT id, COALESCE(institution_id, '') FROM users WHERE id IN ?`, []any{batch}, func(rows *sql.Rows) error {
			var id, inst string
			if err := rows.Scan(&id, &inst); err != nil {
				return err
			}
			out[id] = inst
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	r.mu.Lock()
	for _, h := range missing {
		r.insts[h] = out[h]
	}
	r.mu.Unlock()
	return out, nil
}

// earnings sums the teachers' sales minus refunds in the period; with a subject or stage
// filter, only lines of works of that subject or stage.
func (r *contribRun) earnings(ctx context.Context, owners []string, acc map[string]*teacherAcc) error {
	p := r.plan.period
	filtered := r.plan.q.Subject != "" || r.plan.q.Stage != ""
	lines := map[[2]string]bool{} // (order, position) of lines of works that pass the filter
	if filtered {
		where, args := r.versionFilter("oi.seller_id IN ?", owners)
		err := r.rows(ctx, `SELECT oi.order_id, oi.position FROM order_items oi JOIN resources r ON r.id = oi.resource_id
			JOIN resource_versions v ON v.id = r.published_version_id WHERE `+where, args, func(rows *sql.Rows) error {
			var order string
			var pos int64
			if err := rows.Scan(&order, &pos); err != nil {
				return err
			}
			lines[[2]string{order, strconv.FormatInt(pos, 10)}] = true
			return nil
		})
		if err != nil {
			return err
		}
	}
	return r.rows(ctx, `SELECT seller_id, amount_fen, order_id, reference FROM balance_transactions
		WHERE seller_id IN ? AND kind IN ('sale', 'refund') AND created_at >= ? AND created_at < ?`,
		[]any{owners, p.Start.UTC(), p.End.UTC()}, func(rows *sql.Rows) error {
			var seller, order, ref string
			var amount int64
			if err := rows.Scan(&seller, &amount, &order, &ref); err != nil {
				return err
			}
			// A sale's reference is the line's position; a refund's is "position:refunded".
			pos, _, _ := strings.Cut(ref, ":")
			if filtered && !lines[[2]string{order, pos}] {
				return nil
			}
			acc[seller].earnings += amount
			return nil
		})
}

// resolveEvidence finds the ledger entries behind the ledger-backed events and drops the
// events whose entries the tree of treeSize entries does not cover yet, and derivatives whose
// registration does not name the work (their parents changed after registration).
func (r *contribRun) resolveEvidence(ctx context.Context, acc map[string]*teacherAcc, works map[string]*work) error {
	lg := r.m.opts.Ledger
	var keys []string
	for _, t := range acc {
		for _, w := range t.works {
			keys = append(keys, "work.registered:"+w.id)
		}
		for _, a := range t.adoptions {
			keys = append(keys, "license.granted:"+a.license)
		}
		for _, d := range t.derivatives {
			keys = append(keys, "work.registered:"+d.id)
		}
	}
	var idx map[string]int64
	if r.scan {
		idx = make(map[string]int64, len(keys))
		for _, k := range keys {
			_, id, _ := strings.Cut(k, ":")
			if u, err := uuid.Parse(id); err == nil {
				if i, ok := r.sparse.keys[u]; ok {
					idx[k] = i
				}
			}
		}
	} else {
		var err error
		if idx, err = lg.IndexesOf(ctx, keys); err != nil {
			return Internal(err)
		}
	}
	at := func(key string) int64 {
		if i, ok := idx[key]; ok && i < r.treeSize {
			return i
		}
		return -1
	}
	for _, t := range acc {
		for _, w := range t.works {
			w.idx = at("work.registered:" + w.id)
		}
		for _, a := range t.adoptions {
			a.idx = at("license.granted:" + a.license)
		}
		for _, d := range t.derivatives {
			if d.idx = at("work.registered:" + d.id); d.idx < 0 {
				continue
			}
			e, err := lg.Entry(ctx, d.idx)
			if err != nil {
				return Internal(err)
			}
			named := false
			for _, p := range e.Entry.Parents {
				for _, parent := range d.parents {
					if w := works[parent]; w != nil && w.idx >= 0 && w.idx == p.Index {
						named = true
					}
				}
			}
			if !named {
				d.idx = -2 // not backed by the ledger: left out, and not pending either
			}
		}
	}
	return nil
}

// record turns a teacher's events into its record and adds them to the charts.
func (r *contribRun) record(t *teacherAcc) contrib.Record {
	rec := contrib.Record{TeacherID: t.t.ID, Name: t.t.Name, InstitutionID: t.t.InstitutionID, Institution: t.t.Institution}
	c := &rec.Counts
	var ev *contrib.Evidence
	if r.evidence {
		ev = &contrib.Evidence{Works: []int64{}, Adoptions: []contrib.Adoption{}, Derivatives: []int64{}}
		rec.Evidence = ev
	}
	ok := func(idx int64) bool {
		if !r.evidence {
			return true
		}
		if idx == -1 {
			rec.Pending++
		}
		return idx >= 0
	}
	byID := map[string]*work{}
	for _, w := range t.works {
		byID[w.id] = w
		if w.inPeriod && ok(w.idx) {
			c.Published++
			w.used = true
			r.tally(w.published, w.subject, func(s *SeriesPoint) { s.Published++ })
		}
	}
	insts := map[string]bool{}
	slices.SortFunc(t.adoptions, func(a, b *adoption) int { return cmp.Or(a.at.Compare(b.at), strings.Compare(a.license, b.license)) })
	for _, a := range t.adoptions {
		w := byID[a.work]
		if !ok(a.idx) || r.evidence && w.idx < 0 {
			continue
		}
		c.Adoptions++
		w.used = true
		switch {
		case a.inst == "":
		case a.inst == t.t.InstitutionID:
			c.OwnInstitutionAdoptions++
		default:
			insts[a.inst] = true
		}
		if ev != nil {
			ev.Adoptions = append(ev.Adoptions, contrib.Adoption{Index: a.idx, InstitutionID: a.inst})
		}
		r.tally(a.at, w.subject, func(s *SeriesPoint) { s.Adoptions++ })
	}
	c.AdoptingInstitutions = int64(len(insts))
	slices.SortFunc(t.derivatives, func(a, b *derivative) int { return cmp.Or(a.at.Compare(b.at), strings.Compare(a.id, b.id)) })
	for _, d := range t.derivatives {
		if !ok(d.idx) {
			continue
		}
		c.Derivatives++
		slices.Sort(d.parents)
		subject := ""
		for _, p := range d.parents {
			if w := byID[p]; w != nil && (!r.evidence || w.idx >= 0) {
				w.used, subject = true, w.subject
			}
		}
		if ev != nil {
			ev.Derivatives = append(ev.Derivatives, d.idx)
		}
		r.tally(d.at, subject, func(s *SeriesPoint) { s.Derivatives++ })
	}
	if ev != nil {
		for _, w := range t.works {
			if w.used && w.idx >= 0 {
				ev.Works = append(ev.Works, w.idx)
			}
		}
		slices.Sort(ev.Works)
	}
	c.Downloads, c.RatingsCount, c.RatingsSum, c.EarningsFen = t.downloads, t.ratings, t.ratingSum, t.earnings
	c.Finish()
	return rec
}

// tally counts an event in its month (China time) and subject.
func (r *contribRun) tally(at time.Time, subject string, add func(*SeriesPoint)) {
	month := at.In(chinaTime).Format("2006-01")
	if r.months[month] == nil {
		r.months[month] = &SeriesPoint{Label: month}
	}
	add(r.months[month])
	if r.subjects[subject] == nil {
		r.subjects[subject] = &SeriesPoint{Label: subject}
	}
	add(r.subjects[subject])
}

// series lists the months of the period (the last 36 at most) and the subjects with most
// events first, the rest summed as "其他".
func (r *contribRun) series() ContributionSeries {
	var s ContributionSeries
	p := r.plan.period
	for m := time.Date(p.Start.Year(), p.Start.Month(), 1, 0, 0, 0, 0, chinaTime); m.Before(p.End); m = m.AddDate(0, 1, 0) {
		label := m.Format("2006-01")
		pt := SeriesPoint{Label: label}
		if v := r.months[label]; v != nil {
			pt = *v
		}
		s.Months = append(s.Months, pt)
	}
	if len(s.Months) > maxChartMonths {
		s.Months = s.Months[len(s.Months)-maxChartMonths:]
	}
	for _, v := range r.subjects {
		s.Subjects = append(s.Subjects, *v)
	}
	slices.SortFunc(s.Subjects, func(a, b SeriesPoint) int {
		return cmp.Or(cmp.Compare(b.total(), a.total()), strings.Compare(a.Label, b.Label))
	})
	if len(s.Subjects) > chartSubjectMax {
		other := SeriesPoint{Label: "其他"}
		for _, v := range s.Subjects[chartSubjectMax-1:] {
			other.Published += v.Published
			other.Adoptions += v.Adoptions
			other.Derivatives += v.Derivatives
		}
		s.Subjects = append(s.Subjects[:chartSubjectMax-1], other)
	}
	for i := range s.Subjects {
		if s.Subjects[i].Label == "" {
			s.Subjects[i].Label = "—"
		}
	}
	return s
}
