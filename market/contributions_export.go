package market

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"ziyuan/market/contrib"
	"ziyuan/market/export"
	"ziyuan/rights"
)

// Export formats of contribution records.
const (
	FormatJSON = "json"
	FormatCSV  = "csv"
	FormatXLSX = "xlsx"
)

// ContributionFormats lists the export formats.
var ContributionFormats = []string{FormatJSON, FormatCSV, FormatXLSX}

// ContributionProgress reports an export's progress: phase "records" counts teachers, phase
// "entries" counts the ledger entries proved (JSON only).
type ContributionProgress func(phase string, done, total int64)

// AsOperator returns a context acting as the operator on the command line, who has opened the
// database directly and may read every record; exports made so are audited under name.
func AsOperator(ctx context.Context, name string) context.Context {
	return WithActor(ctx, Actor{UserID: "operator", Login: name, Roles: []Role{RolePlatformAdmin}, Verified: true, RequestID: "cli"})
}

// contribColumns are the export's columns, Chinese headers first as schools read them.
var contribColumns = []export.Column{
	{Title: "机构", Kind: export.Text, Width: 28},
	{Title: "教师", Kind: export.Text, Width: 12},
	{Title: "教师编号", Kind: export.Text, Width: 38},
	{Title: "发布资源数", Kind: export.Count},
	{Title: "被采用次数", Kind: export.Count},
	{Title: "采用机构数", Kind: export.Count},
	{Title: "本机构采用次数", Kind: export.Count},
	{Title: "本机构采用过半", Kind: export.Text},
	{Title: "下载人数", Kind: export.Count},
	{Title: "评价次数", Kind: export.Count},
	{Title: "平均评分", Kind: export.Decimal},
	{Title: "衍生作品数", Kind: export.Count},
	{Title: "收入（元）", Kind: export.Money},
}

func contribRow(r contrib.Record) []any {
	flag := "否"
	if r.OwnInstitutionMajority {
		flag = "是"
	}
	inst := r.Institution
	if inst == "" {
		inst = "（无机构）"
	}
	c := r.Counts
	return []any{inst, r.Name, r.TeacherID, c.Published, c.Adoptions, c.AdoptingInstitutions, c.OwnInstitutionAdoptions, flag,
		c.Downloads, c.RatingsCount, c.RatingsAvg, c.Derivatives, c.EarningsFen}
}

var summaryColumns = []export.Column{
	{Title: "机构", Kind: export.Text, Width: 28},
	{Title: "教师人数", Kind: export.Count},
	{Title: "发布资源数", Kind: export.Count},
	{Title: "被采用次数", Kind: export.Count},
	{Title: "本机构采用次数", Kind: export.Count},
	{Title: "下载人数", Kind: export.Count},
	{Title: "评价次数", Kind: export.Count},
	{Title: "平均评分", Kind: export.Decimal},
	{Title: "衍生作品数", Kind: export.Count},
	{Title: "收入（元）", Kind: export.Money},
}

func summaryRow(name string, teachers int64, c contrib.Counts) []any {
	return []any{name, teachers, c.Published, c.Adoptions, c.OwnInstitutionAdoptions, c.Downloads, c.RatingsCount, c.RatingsAvg,
		c.Derivatives, c.EarningsFen}
}

// ExportContributions writes the contribution records q selects, as the acting user may see
// them, in format (json, csv or xlsx) to w. The export streams: records are computed and
// written a few hundred teachers at a time, and in JSON the ledger entries behind them follow
// in index order with their inclusion proofs against the latest signed checkpoint.
func (m *Market) ExportContributions(ctx context.Context, q ContributionQuery, format string, w io.Writer, progress ContributionProgress) error {
	if !slices.Contains(ContributionFormats, format) {
		return Errorf(CodeInvalid, MsgFieldOneOf, "format", format, strings.Join(ContributionFormats, ", "))
	}
	plan, err := m.contributionPlan(ctx, q)
	if err != nil {
		if IsCode(err, CodeForbidden) {
			m.auditDenied(ctx, "contributions.export", q.InstitutionID+q.TeacherID, err)
		}
		return err
	}
	if progress == nil {
		progress = func(string, int64, int64) {}
	}
	records := func(done, total int64) { progress("records", done, total) }
	var teachers int64
	switch format {
	case FormatCSV:
		teachers, err = m.exportCSV(ctx, plan, w, records)
	case FormatXLSX:
		teachers, err = m.exportXLSX(ctx, plan, w, records)
	default:
		teachers, err = m.exportJSON(ctx, plan, w, progress)
	}
	if err != nil {
		return err
	}
	return m.audit(ctx, nil, "contributions.export", plan.q.InstitutionID+plan.q.TeacherID, OutcomeOK, map[string]any{
		"format": format, "from": plan.period.From, "to": plan.period.To, "institution_id": plan.q.InstitutionID,
		"teacher_id": plan.q.TeacherID, "subject": plan.q.Subject, "stage": plan.q.Stage, "teachers": teachers})
}

func (m *Market) exportCSV(ctx context.Context, plan contribPlan, w io.Writer, progress func(done, total int64)) (int64, error) {
	c, err := export.NewCSV(w)
	if err != nil {
		return 0, asDomain(err)
	}
	if err := c.Header(contribColumns); err != nil {
		return 0, asDomain(err)
	}
	var n int64
	_, err = m.contributions(ctx, plan, false, 0, func(r contrib.Record) error {
		n++
		return c.Row(contribRow(r)...)
	}, progress)
	if err != nil {
		return n, asDomain(err)
	}
	return n, asDomain(c.Flush())
}

// exportXLSX writes a workbook: a summary sheet (汇总) with one row per institution and the
// totals, then one sheet per institution with its teachers.
func (m *Market) exportXLSX(ctx context.Context, plan contribPlan, w io.Writer, progress func(done, total int64)) (int64, error) {
	b, err := export.NewWorkbook("汇总")
	if err != nil {
		return 0, asDomain(err)
	}
	defer b.Close()
	p := plan.period
	title := fmt.Sprintf("教师贡献记录 %s 至 %s（不含）", p.From, p.To)
	if err := b.SetTitle(title, contrib.Definitions+"; "+contrib.TimeZone); err != nil {
		return 0, asDomain(err)
	}
	type instTotal struct {
		name     string
		teachers int64
		counts   contrib.Counts
	}
	var (
		insts   []*instTotal
		cur     *instTotal
		curID   = "\x00"
		sheet   *export.Sheet
		n       int64
		overall contrib.Counts
	)
	_, err = m.contributions(ctx, plan, false, 0, func(r contrib.Record) error {
		n++
		if r.InstitutionID != curID || sheet == nil {
			curID = r.InstitutionID
			name := r.Institution
			if name == "" {
				name = "（无机构）"
			}
			cur = &instTotal{name: name}
			insts = append(insts, cur)
			var err error
			if sheet, err = b.Sheet(b.SheetName(name), contribColumns); err != nil {
				return err
			}
		}
		cur.teachers++
		cur.counts.Add(r.Counts)
		overall.Add(r.Counts)
		return sheet.Row(contribRow(r)...)
	}, progress)
	if err != nil {
		return n, asDomain(err)
	}
	sum, err := b.Sheet(b.First(), summaryColumns)
	if err != nil {
		return n, asDomain(err)
	}
	for _, it := range insts {
		if err := sum.Row(summaryRow(it.name, it.teachers, it.counts)...); err != nil {
			return n, asDomain(err)
		}
	}
	if err := sum.Row(summaryRow("合计", n, overall)...); err != nil {
		return n, asDomain(err)
	}
	if err := sum.Row(); err != nil {
		return n, asDomain(err)
	}
	if err := sum.Row("统计期间（北京时间）", p.From+" 至 "+p.To+"（不含）"); err != nil {
		return n, asDomain(err)
	}
	if err := sum.Row("口径", contrib.Definitions); err != nil {
		return n, asDomain(err)
	}
	return n, asDomain(b.Write(w))
}

func (m *Market) exportJSON(ctx context.Context, plan contribPlan, w io.Writer, progress ContributionProgress) (int64, error) {
	lg := m.opts.Ledger
	if lg == nil {
		return 0, Errorf(CodeUnavailable, MsgUnavailable)
	}
	cp, err := lg.Checkpoint(ctx)
	if errors.Is(err, rights.ErrPending) {
		return 0, Errorf(CodeUnavailable, MsgContribNoCheckpoint)
	}
	if err != nil {
		return 0, Internal(err)
	}
	vkey := lg.VerifierKey()
	h := contrib.Header{GeneratedAt: m.now(), Period: plan.period,
		Filters: contrib.Filters{InstitutionID: plan.q.InstitutionID, TeacherID: plan.q.TeacherID, Subject: plan.q.Subject, Stage: plan.q.Stage},
		Ledger:  contrib.Ledger{Origin: cp.Origin, KeyName: lg.Origin(), VerifierKey: vkey, TreeSize: cp.Size, Checkpoint: string(cp.Note)}}
	cw, err := contrib.NewWriter(w, h)
	if err != nil {
		return 0, Internal(err)
	}
	var (
		n     int64
		total contrib.Counts
	)
	_, err = m.contributions(ctx, plan, true, cp.Size, func(r contrib.Record) error {
		n++
		total.Add(r.Counts)
		return cw.Record(r)
	}, func(done, all int64) { progress("records", done, all) })
	if err != nil {
		return n, asDomain(err)
	}
	needed := cw.Needed()
	// The entries are read and proved by ProveEntries while another goroutine encodes and
	// writes the ones before them: base64 and the file take about as long as the database.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []rights.ProvenEntry, 4)
	written := make(chan error, 1)
	go func() {
		var err error
		for b := range batches {
			for _, pe := range b {
				if err == nil {
					if err = cw.Entry(contrib.Entry{Index: pe.Index, Data: pe.Data, Proof: pe.Proof}); err != nil {
						cancel()
					}
				}
			}
		}
		written <- err
	}()
	const per = 256
	cur := make([]rights.ProvenEntry, 0, per)
	var proved int64
	err = lg.ProveEntries(ctx, cp.Size, needed, func(pe rights.ProvenEntry) error {
		proved++
		cur = append(cur, pe)
		if len(cur) == per {
			select {
			case batches <- cur:
			case <-ctx.Done():
				return ctx.Err()
			}
			cur = make([]rights.ProvenEntry, 0, per)
		}
		if proved%4096 == 0 || proved == int64(len(needed)) {
			progress("entries", proved, int64(len(needed)))
		}
		return nil
	})
	if err == nil && len(cur) > 0 {
		batches <- cur
	}
	close(batches)
	if werr := <-written; werr != nil {
		return n, asDomain(werr)
	}
	if err != nil {
		return n, asDomain(err)
	}
	return n, asDomain(cw.Close(total))
}

// Dashboard sort keys.
var contributionSorts = map[string]func(a, b contrib.Record) int{
	"name":        func(a, b contrib.Record) int { return strings.Compare(a.Name, b.Name) },
	"institution": func(a, b contrib.Record) int { return strings.Compare(a.Institution, b.Institution) },
	"published":   func(a, b contrib.Record) int { return cmp.Compare(a.Published, b.Published) },
	"adoptions":   func(a, b contrib.Record) int { return cmp.Compare(a.Adoptions, b.Adoptions) },
	"institutions": func(a, b contrib.Record) int {
		return cmp.Compare(a.AdoptingInstitutions, b.AdoptingInstitutions)
	},
	"downloads": func(a, b contrib.Record) int { return cmp.Compare(a.Downloads, b.Downloads) },
	"ratings": func(a, b contrib.Record) int {
		return cmp.Or(cmp.Compare(a.RatingsAvg, b.RatingsAvg), cmp.Compare(a.RatingsCount, b.RatingsCount))
	},
	"derivatives": func(a, b contrib.Record) int { return cmp.Compare(a.Derivatives, b.Derivatives) },
	"earnings":    func(a, b contrib.Record) int { return cmp.Compare(a.EarningsFen, b.EarningsFen) },
}

// ContributionSortKeys lists the dashboard's sort keys.
var ContributionSortKeys = []string{"institution", "name", "published", "adoptions", "institutions", "downloads", "ratings", "derivatives", "earnings"}

// DashboardQuery is a dashboard view: the records' query, a sort key and direction, a page.
type DashboardQuery struct {
	ContributionQuery
	Sort string
	Desc bool
	Page int
}

// ContributionDashboard is one page of the evaluator's (or a teacher's own) dashboard.
type ContributionDashboard struct {
	Query    ContributionQuery
	Scope    ContributionScope
	Sort     string
	Desc     bool
	Records  []contrib.Record
	Total    int
	Page     int
	Pages    int
	PerPage  int
	Teachers int64
	Totals   contrib.Counts
	Series   ContributionSeries
}

// DashboardPerPage is the dashboard table's page size.
const DashboardPerPage = 50

// ContributionDashboard computes the records q selects (without ledger evidence), sorted and
// paged for the dashboard, with the charts' series and the totals.
func (m *Market) ContributionDashboard(ctx context.Context, q DashboardQuery) (ContributionDashboard, error) {
	var d ContributionDashboard
	plan, err := m.contributionPlan(ctx, q.ContributionQuery)
	if err != nil {
		return d, err
	}
	less, ok := contributionSorts[q.Sort]
	if q.Sort == "" {
		q.Sort, q.Desc, less, ok = "adoptions", true, contributionSorts["adoptions"], true
	}
	if !ok {
		return d, Errorf(CodeInvalid, MsgFieldOneOf, "sort", q.Sort, strings.Join(ContributionSortKeys, ", "))
	}
	if q.Page == 0 {
		q.Page = 1
	}
	if q.Page < 1 || q.Page > 1_000_000 {
		return d, Errorf(CodeInvalid, MsgPageRange, DashboardPerPage)
	}
	var all []contrib.Record
	d.Series, err = m.contributions(ctx, plan, false, 0, func(r contrib.Record) error {
		all = append(all, r)
		d.Totals.Add(r.Counts)
		return nil
	}, nil)
	if err != nil {
		return d, err
	}
	slices.SortStableFunc(all, func(a, b contrib.Record) int {
		c := less(a, b)
		if q.Desc {
			c = -c
		}
		return cmp.Or(c, strings.Compare(a.Name, b.Name), strings.Compare(a.TeacherID, b.TeacherID))
	})
	d.Query, d.Scope, d.Sort, d.Desc, d.PerPage = plan.q, plan.scope, q.Sort, q.Desc, DashboardPerPage
	d.Total, d.Teachers = len(all), int64(len(all))
	d.Pages = max(1, (len(all)+DashboardPerPage-1)/DashboardPerPage)
	d.Page = min(q.Page, d.Pages)
	from := (d.Page - 1) * DashboardPerPage
	d.Records = all[from:min(from+DashboardPerPage, len(all))]
	return d, nil
}

// CheckContributions checks, before a download starts, that ExportContributions would accept
// the query and format from the acting user: its scope, its period, and for JSON a signed
// checkpoint to prove against. Web handlers call it so that refusals get their status code
// rather than a broken download.
func (m *Market) CheckContributions(ctx context.Context, q ContributionQuery, format string) error {
	if !slices.Contains(ContributionFormats, format) {
		return Errorf(CodeInvalid, MsgFieldOneOf, "format", format, strings.Join(ContributionFormats, ", "))
	}
	if _, err := m.contributionPlan(ctx, q); err != nil {
		if IsCode(err, CodeForbidden) {
			m.auditDenied(ctx, "contributions.export", q.InstitutionID+q.TeacherID, err)
		}
		return err
	}
	if format != FormatJSON {
		return nil
	}
	if m.opts.Ledger == nil {
		return Errorf(CodeUnavailable, MsgUnavailable)
	}
	if _, err := m.opts.Ledger.Checkpoint(ctx); errors.Is(err, rights.ErrPending) {
		return Errorf(CodeUnavailable, MsgContribNoCheckpoint)
	} else if err != nil {
		return Internal(err)
	}
	return nil
}
