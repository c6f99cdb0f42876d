package web

import (
	"bufio"
	"html"
	"html/template"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"ziyuan/catalog"
	"ziyuan/market"
	"ziyuan/market/files"
)

// Contribution records: the export API (JSON with proofs, CSV, XLSX), the evaluator's
// dashboard and the teacher's own page in 我的空间.

func contributionQuery(c *fiber.Ctx) market.ContributionQuery {
	return market.ContributionQuery{InstitutionID: c.Query("institution_id"), TeacherID: c.Query("teacher_id"),
		From: c.Query("from"), To: c.Query("to"), Subject: c.Query("subject"), Stage: c.Query("stage")}
}

// queryString encodes a contribution query's filters (the ones set) for links.
func queryString(q market.ContributionQuery, extra ...string) string {
	v := url.Values{}
	for _, kv := range [][2]string{{"institution_id", q.InstitutionID}, {"teacher_id", q.TeacherID}, {"from", q.From},
		{"to", q.To}, {"subject", q.Subject}, {"stage", q.Stage}} {
		if kv[1] != "" {
			v.Set(kv[0], kv[1])
		}
	}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return v.Encode()
}

// apiContributions: GET /api/v1/contributions — the records as a download in the requested
// format (json, the default, carries the ledger evidence).
func (s *Server) apiContributions(c *fiber.Ctx) error { return s.sendContributions(c) }

// pageExportContributions is the same download for the pages' export buttons; its refusals
// are error pages.
func (s *Server) pageExportContributions(c *fiber.Ctx) error {
	if _, ok := signedIn(c); !ok {
		return s.toLogin(c)
	}
	return s.sendContributions(c)
}

// sendContributions checks the request, then streams the export: a large one is never held
// in memory, and a refusal still gets its status code because it is found before streaming.
func (s *Server) sendContributions(c *fiber.Ctx) error {
	q := contributionQuery(c)
	format := c.Query("format", market.FormatJSON)
	ctx := c.UserContext()
	if err := s.m.CheckContributions(ctx, q, format); err != nil {
		return err
	}
	from, to := q.From, q.To
	if from == "" || to == "" {
		from, to = "current", "year"
	}
	name := "ziyuan-contributions-" + from + "_" + to + "." + format
	switch format {
	case market.FormatCSV:
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	case market.FormatXLSX:
		c.Set(fiber.HeaderContentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	default:
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	}
	c.Set(fiber.HeaderContentDisposition, files.Attachment(name))
	c.Set(fiber.HeaderCacheControl, "no-store")
	rid := requestID(c)
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		if err := s.m.ExportContributions(ctx, q, format, w, nil); err != nil {
			// The status line is gone; the download ends short, and a JSON export that ends
			// short does not verify.
			s.log.ErrorContext(ctx, "contribution export failed while streaming", "request_id", rid, "err", err)
		}
	})
	return nil
}

type contribColumn struct {
	Key, Label string
	Link       string
	Sorted     bool
	Desc       bool
	AriaSort   string
	Numeric    bool
}

type contribPageData struct {
	D            market.ContributionDashboard
	Subjects     []string
	Stages       []string
	Columns      []contribColumn
	Prev, Next   string
	MonthChart   chartView
	SubjectChart chartView
	Exports      map[string]string
	Self         bool
}

// chartView is a chart in a figure, with its numbers as a table behind a disclosure.
type chartView struct {
	HTML template.HTML
}

func figure(l loc, heading string, ch barChart) chartView {
	var b strings.Builder
	b.WriteString(`<figure class="chart-figure"><figcaption><h3>` + html.EscapeString(heading) + `</h3></figcaption>`)
	b.WriteString(string(ch.SVG()))
	b.WriteString(`<details><summary>` + html.EscapeString(l.T("contrib.chart_table")) + `</summary><table class="chart-data"><thead><tr><th scope="col">` +
		html.EscapeString(heading) + `</th>`)
	for _, s := range ch.Series {
		b.WriteString(`<th scope="col" class="num">` + html.EscapeString(s.Name) + `</th>`)
	}
	b.WriteString(`</tr></thead><tbody>`)
	for i, cat := range ch.Categories {
		b.WriteString(`<tr><th scope="row">` + html.EscapeString(cat) + `</th>`)
		for _, s := range ch.Series {
			b.WriteString(`<td class="num">` + l.Num(s.Values[i]) + `</td>`)
		}
		b.WriteString(`</tr>`)
	}
	b.WriteString(`</tbody></table></details></figure>`)
	return chartView{HTML: template.HTML(b.String())}
}

func (s *Server) chartViews(l loc, series market.ContributionSeries) (chartView, chartView) {
	names := []string{l.T("contrib.series.published"), l.T("contrib.series.adoptions"), l.T("contrib.series.derivatives")}
	build := func(id, title, heading string, points []market.SeriesPoint, horizontal bool) chartView {
		cats := make([]string, len(points))
		ss := []chartSeries{{Name: names[0]}, {Name: names[1]}, {Name: names[2]}}
		rows := make([][]int64, len(points))
		for i, p := range points {
			cats[i] = p.Label
			ss[0].Values = append(ss[0].Values, p.Published)
			ss[1].Values = append(ss[1].Values, p.Adoptions)
			ss[2].Values = append(ss[2].Values, p.Derivatives)
			rows[i] = []int64{p.Published, p.Adoptions, p.Derivatives}
		}
		sep, pair := "；", "，"
		if l.lang == "en" {
			sep, pair = "; ", ", "
		}
		ch := barChart{ID: id, Title: title, Desc: describe(l.T("contrib.chart_lead"), cats, ss, sep, pair), Categories: cats, Series: ss,
			Horizontal: horizontal, Empty: l.T("contrib.chart_empty")}
		return figure(l, heading, ch)
	}
	return build("chart-months", l.T("contrib.month_title"), l.T("contrib.by_month"), series.Months, false),
		build("chart-subjects", l.T("contrib.subject_title"), l.T("contrib.by_subject"), series.Subjects, true)
}

// pageContributions is the evaluator's dashboard; a teacher is sent to its own page.
func (s *Server) pageContributions(c *fiber.Ctx) error {
	a, ok := signedIn(c)
	if !ok {
		return s.toLogin(c)
	}
	if !a.Has(market.RoleEvaluator) && !a.Has(market.RolePlatformAdmin) && a.Has(market.RoleTeacher) {
		return c.Redirect("/space/contributions", fiber.StatusSeeOther)
	}
	return s.renderContributions(c, "contributions", "contrib.title", "contrib", contributionQuery(c), false)
}

// pageMyContributions is a teacher's own record in 我的空间.
func (s *Server) pageMyContributions(c *fiber.Ctx) error {
	a, ok := signedIn(c)
	if !ok {
		return s.toLogin(c)
	}
	if !a.Has(market.RoleTeacher) {
		return market.Errorf(market.CodeForbidden, market.MsgContribScope)
	}
	q := market.ContributionQuery{TeacherID: a.UserID, From: c.Query("from"), To: c.Query("to")}
	return s.renderContributions(c, "my_contributions", "mycontrib.title", "space", q, true)
}

func (s *Server) renderContributions(c *fiber.Ctx, page, title, nav string, q market.ContributionQuery, self bool) error {
	dq := market.DashboardQuery{ContributionQuery: q, Sort: c.Query("sort"), Desc: c.Query("dir") == "desc"}
	if v := c.Query("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return market.Errorf(market.CodeInvalid, market.MsgPageRange, market.DashboardPerPage)
		}
		dq.Page = n
	}
	d, err := s.m.ContributionDashboard(c.UserContext(), dq)
	if err != nil {
		return err
	}
	l := loc{s.lang(c)}
	tax := s.m.Taxonomy()
	pd := contribPageData{D: d, Subjects: tax.Values(catalog.FieldSubject), Stages: tax.Values(catalog.FieldStage), Self: self,
		Exports: map[string]string{}}
	pd.MonthChart, pd.SubjectChart = s.chartViews(l, d.Series)
	shown := d.Query
	if self {
		shown.TeacherID = "" // the teacher's own page carries no teacher filter in its links
	}
	base := "/contributions?"
	if self {
		base = "/space/contributions?"
	}
	for _, f := range market.ContributionFormats {
		pd.Exports[f] = "/contributions/export?" + queryString(shown, "format", f)
	}
	for _, col := range []struct {
		key, label string
		numeric    bool
	}{{"name", "contrib.col.name", false}, {"institution", "contrib.col.inst", false}, {"published", "contrib.col.published", true},
		{"adoptions", "contrib.col.adoptions", true}, {"institutions", "contrib.col.insts", true}, {"downloads", "contrib.col.downloads", true},
		{"ratings", "contrib.col.ratings", true}, {"derivatives", "contrib.col.derived", true}, {"earnings", "contrib.col.earnings", true}} {
		cc := contribColumn{Key: col.key, Label: l.T(col.label), Numeric: col.numeric, Sorted: d.Sort == col.key, Desc: d.Desc}
		dir := "desc"
		if !col.numeric {
			dir = "asc"
		}
		if cc.Sorted {
			cc.AriaSort = "ascending"
			if d.Desc {
				cc.AriaSort = "descending"
			}
			dir = "desc"
			if d.Desc {
				dir = "asc"
			}
		}
		cc.Link = base + queryString(shown, "sort", col.key, "dir", dir)
		pd.Columns = append(pd.Columns, cc)
	}
	dir := "asc"
	if d.Desc {
		dir = "desc"
	}
	if d.Page > 1 {
		pd.Prev = base + queryString(shown, "sort", d.Sort, "dir", dir, "page", strconv.Itoa(d.Page-1))
	}
	if d.Page < d.Pages {
		pd.Next = base + queryString(shown, "sort", d.Sort, "dir", dir, "page", strconv.Itoa(d.Page+1))
	}
	return s.render(c, fiber.StatusOK, page, title, pageData{Nav: nav, Data: pd})
}
