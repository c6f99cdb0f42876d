package web

import (
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"ziyuan/catalog"
	"ziyuan/market"
)

// resourceForm is the publish and edit form: the description as typed, before it becomes Meta.
type resourceForm struct {
	ID                                                   string
	Title, Summary, Body, Type, Stage, Grade, Subject    string
	Edition, Volume, Chapter, Keywords, License, Parents string
	PricePersonal, PriceClassroom, PriceInstitution      string
	Seats, StartsAt, EndsAt                              string
}

func formFromMeta(id string, m market.Meta) resourceForm {
	f := resourceForm{ID: id, Title: m.Title, Summary: m.Summary, Body: m.Body, Type: m.Type, Stage: m.Stage, Grade: m.Grade,
		Subject: m.Subject, Edition: m.Edition, Volume: m.Volume, Chapter: m.Chapter, Keywords: strings.Join(m.Keywords, "，"),
		License: m.Offer.License, Parents: strings.Join(m.Parents, " ")}
	if p := m.Offer.Prices; p != nil {
		f.PricePersonal, f.PriceClassroom, f.PriceInstitution = yuanInput(p.Personal), yuanInput(p.Classroom), yuanInput(p.Institution)
	}
	if c := m.Course; c != nil {
		f.Seats = strconv.Itoa(c.Seats)
		f.StartsAt, f.EndsAt = c.StartsAt.In(chinaTime).Format("2006-01-02T15:04"), c.EndsAt.In(chinaTime).Format("2006-01-02T15:04")
	}
	return f
}

func yuanInput(fen int64) string {
	if fen == 0 {
		return ""
	}
	return strconv.FormatFloat(float64(fen)/100, 'f', 2, 64)
}

var listSeparators = regexp.MustCompile(`[,，、;；\s]+`)

func splitList(s string) []string {
	var out []string
	for _, x := range listSeparators.Split(strings.TrimSpace(s), -1) {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}

// parseYuan reads a price typed in yuan (9.9, 12.50) as fen.
func parseYuan(field, s string) (int64, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "¥")
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v > 1e7 || math.Abs(v*100-math.Round(v*100)) > 1e-6 {
		return 0, market.Errorf(market.CodeInvalid, market.MsgFieldFormat, field, "元，最多两位小数 / yuan with at most two decimals")
	}
	return int64(math.Round(v * 100)), nil
}

// meta turns the form into a description; full=false gives only what an edit may change.
func (f resourceForm) meta() (market.Meta, error) {
	m := market.Meta{Title: f.Title, Summary: f.Summary, Body: f.Body, Type: f.Type, Stage: f.Stage, Grade: f.Grade,
		Subject: f.Subject, Edition: f.Edition, Volume: f.Volume, Chapter: f.Chapter, Keywords: splitList(f.Keywords),
		Offer: market.Offer{License: f.License}, Parents: splitList(f.Parents)}
	if f.License == market.LicensePaid {
		var p market.Prices
		var err error
		if p.Personal, err = parseYuan("offer.prices.personal", f.PricePersonal); err != nil {
			return m, err
		}
		if p.Classroom, err = parseYuan("offer.prices.classroom", f.PriceClassroom); err != nil {
			return m, err
		}
		if p.Institution, err = parseYuan("offer.prices.institution", f.PriceInstitution); err != nil {
			return m, err
		}
		m.Offer.Prices = &p
	}
	if f.Type == market.TypeCourse {
		c := &market.Course{}
		if f.Seats != "" {
			n, err := strconv.Atoi(f.Seats)
			if err != nil {
				return m, market.Errorf(market.CodeInvalid, market.MsgFieldFormat, "course.seats", "整数 / a whole number")
			}
			c.Seats = n
		}
		for _, x := range []struct {
			field, v string
			dst      *time.Time
		}{{"course.starts_at", f.StartsAt, &c.StartsAt}, {"course.ends_at", f.EndsAt, &c.EndsAt}} {
			if x.v == "" {
				continue
			}
			t, err := time.ParseInLocation("2006-01-02T15:04", x.v, chinaTime)
			if err != nil {
				return m, market.Errorf(market.CodeInvalid, market.MsgFieldFormat, x.field, "YYYY-MM-DDTHH:MM")
			}
			*x.dst = t.UTC()
		}
		m.Course = c
	}
	return m, nil
}

func readResourceForm(c *fiber.Ctx) resourceForm {
	v := func(k string) string { return c.FormValue(k) }
	return resourceForm{Title: v("title"), Summary: v("summary"), Body: v("body"), Type: v("type"), Stage: v("stage"),
		Grade: v("grade"), Subject: v("subject"), Edition: v("edition"), Volume: v("volume"), Chapter: v("chapter"),
		Keywords: v("keywords"), License: v("license"), Parents: v("parents"), PricePersonal: v("price_personal"),
		PriceClassroom: v("price_classroom"), PriceInstitution: v("price_institution"), Seats: v("seats"),
		StartsAt: v("starts_at"), EndsAt: v("ends_at")}
}

type publishPage struct {
	Form     resourceForm
	Taxonomy *catalog.Taxonomy
	Edit     bool
	Files    []market.FileInfo
}

// Vocabularies for the form's selects.
func (p publishPage) Editions() []catalog.Term { return p.Taxonomy.Terms(catalog.FieldEdition) }
func (p publishPage) Volumes() []catalog.Term  { return p.Taxonomy.Terms(catalog.FieldVolume) }
func (p publishPage) Types() []catalog.Term    { return p.Taxonomy.Terms(catalog.FieldType) }
func (p publishPage) Licenses() []catalog.Term { return p.Taxonomy.Terms(catalog.FieldLicense) }

func (s *Server) renderPublish(c *fiber.Ctx, status int, d publishPage, errMsg string) error {
	d.Taxonomy = s.m.Taxonomy()
	title := "publish.title"
	if d.Edit {
		title = "publish.edit"
	}
	return s.render(c, status, "publish", title, pageData{Nav: "publish", Data: d, Error: errMsg})
}

func (s *Server) pagePublish(c *fiber.Ctx) error {
	if _, ok := signedIn(c); !ok {
		return s.toLogin(c)
	}
	f := resourceForm{License: "cc-by", Stage: "初中"}
	if p := c.Query("parent"); market.ValidID(p) {
		f.Parents = p
	}
	return s.renderPublish(c, fiber.StatusOK, publishPage{Form: f}, "")
}

// formUploads inspects the "file" parts of a multipart page form.
func (s *Server) formUploads(c *fiber.Ctx) (uploads, error) {
	form, err := c.MultipartForm()
	if err != nil {
		return nil, nil // a form without files
	}
	var ups uploads
	for _, fh := range form.File["file"] {
		if fh.Size == 0 && fh.Filename == "" {
			continue // the empty file input of a browser
		}
		f, err := fh.Open()
		if err != nil {
			ups.close()
			return nil, market.Internal(err)
		}
		u, err := s.inspector.Inspect(c.UserContext(), fh.Filename, f)
		f.Close()
		if err != nil {
			ups.close()
			return nil, uploadError(err)
		}
		ups = append(ups, u)
	}
	return ups, nil
}

// formError renders a form again with the error when it is the user's to fix.
func (s *Server) formError(c *fiber.Ctx, err error, again func(status int, msg string) error) error {
	de := asDomainError(err)
	switch de.Code {
	case market.CodeInvalid, market.CodeConflict, market.CodeTooLarge, market.CodeUnsupportedMediaType, market.CodeNotFound:
		return again(statusOf[de.Code], de.Msg.Text(s.lang(c)))
	}
	return err
}

func (s *Server) postPublish(c *fiber.Ctx) error {
	if _, ok := signedIn(c); !ok {
		return s.toLogin(c)
	}
	f := readResourceForm(c)
	again := func(status int, msg string) error { return s.renderPublish(c, status, publishPage{Form: f}, msg) }
	meta, err := f.meta()
	if err != nil {
		return s.formError(c, err, again)
	}
	ups, err := s.formUploads(c)
	defer ups.close()
	if err != nil {
		return s.formError(c, err, again)
	}
	r, err := s.m.CreateResource(c.UserContext(), meta, ups.market())
	if err != nil {
		return s.formError(c, err, again)
	}
	return c.Redirect("/resources/"+r.ID+"?done=created", fiber.StatusSeeOther)
}

func (s *Server) pageEditResource(c *fiber.Ctx) error {
	if _, ok := signedIn(c); !ok {
		return s.toLogin(c)
	}
	r, err := s.m.Resource(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	if r.OwnerID != market.ActorFrom(c.UserContext()).UserID {
		return market.Errorf(market.CodeForbidden, market.MsgNotOwner)
	}
	return s.renderPublish(c, fiber.StatusOK, publishPage{Form: formFromMeta(r.ID, r.Meta), Edit: true, Files: r.Files}, "")
}

func (s *Server) postEditResource(c *fiber.Ctx) error {
	if _, ok := signedIn(c); !ok {
		return s.toLogin(c)
	}
	id := c.Params("id")
	f := readResourceForm(c)
	f.ID = id
	again := func(status int, msg string) error {
		d := publishPage{Form: f, Edit: true}
		if r, err := s.m.Resource(c.UserContext(), id); err == nil {
			d.Files = r.Files
		}
		return s.renderPublish(c, status, d, msg)
	}
	meta, err := f.meta()
	if err != nil {
		return s.formError(c, err, again)
	}
	ups, err := s.formUploads(c)
	defer ups.close()
	if err != nil {
		return s.formError(c, err, again)
	}
	patch := market.MetaPatch{Title: &meta.Title, Summary: &meta.Summary, Body: &meta.Body, Type: &meta.Type, Stage: &meta.Stage,
		Grade: &meta.Grade, Subject: &meta.Subject, Edition: &meta.Edition, Volume: &meta.Volume, Chapter: &meta.Chapter,
		Keywords: &meta.Keywords, Offer: &meta.Offer, Parents: &meta.Parents, Course: meta.Course}
	if _, err := s.m.UpdateResource(c.UserContext(), id, patch, ups.market()); err != nil {
		return s.formError(c, err, again)
	}
	return c.Redirect("/resources/"+id+"?done=updated", fiber.StatusSeeOther)
}

type resourcePage struct {
	R        market.Resource
	Lineage  market.LineageNode
	License  *market.License
	Ratings  market.Page[market.Rating]
	Owner    bool
	Reviewer bool
	Prices   []scopePrice
	Course   bool
	Wards    []market.User
	// LD is the page's schema.org LearningResource (lrmi.go).
	LD learningResource
}

type scopePrice struct {
	Scope string
	Fen   int64
}

func (s *Server) pageResource(c *fiber.Ctx) error {
	ctx := c.UserContext()
	r, err := s.m.Resource(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	a := market.ActorFrom(ctx)
	d := resourcePage{R: r, Owner: a.UserID == r.OwnerID, Reviewer: a.Has(market.RoleReviewer), Course: r.Meta.Type == market.TypeCourse,
		LD: s.learningResource(s.siteURL(c), r)}
	if d.Lineage, err = s.m.Lineage(ctx, r.ID); err != nil {
		return err
	}
	if d.License, err = s.m.LicenseFor(ctx, r.ID); err != nil {
		return err
	}
	if r.Status == market.StatusPublished {
		if d.Ratings, err = s.m.Ratings(ctx, r.ID, market.Paging{PerPage: 20}); err != nil {
			return err
		}
	}
	for _, sc := range market.PaidScopes {
		if p, ok := r.Meta.Offer.PriceFor(sc); ok {
			d.Prices = append(d.Prices, scopePrice{sc, p})
		}
	}
	if a.Has(market.RoleParent) {
		d.Wards, _ = s.m.Wards(ctx)
	}
	flash := ""
	if done := c.Query("done"); done != "" {
		if _, ok := uiText["done."+done]; ok {
			flash = loc{s.lang(c)}.T("done." + done)
		}
	}
	return s.render(c, fiber.StatusOK, "resource", "resource.title", pageData{Nav: "resource", Data: d, Flash: flash, Title: r.Meta.Title})
}

// actionResult redirects back to a resource page after a form action, or shows its error there.
func (s *Server) actionResult(c *fiber.Ctx, id, done string, err error) error {
	if err != nil {
		if asDomainError(err).Code == market.CodeUnauthenticated {
			return s.toLogin(c)
		}
		return err
	}
	return c.Redirect("/resources/"+url.PathEscape(id)+"?done="+done, fiber.StatusSeeOther)
}

func (s *Server) postSubmit(c *fiber.Ctx) error {
	id := c.Params("id")
	_, err := s.m.Submit(c.UserContext(), id, c.FormValue("pledge") == "on" || c.FormValue("pledge") == "true")
	return s.actionResult(c, id, "submitted", err)
}

func (s *Server) postClaim(c *fiber.Ctx) error {
	id := c.Params("id")
	_, _, err := s.m.Claim(c.UserContext(), id)
	return s.actionResult(c, id, "claimed", err)
}

func (s *Server) pageDownload(c *fiber.Ctx) error {
	if _, ok := signedIn(c); !ok {
		return s.toLogin(c)
	}
	return s.apiDownload(c)
}

func (s *Server) postRate(c *fiber.Ctx) error {
	id := c.Params("id")
	stars, _ := strconv.Atoi(c.FormValue("stars"))
	_, err := s.m.Rate(c.UserContext(), id, stars, c.FormValue("text"))
	return s.actionResult(c, id, "rated", err)
}

func (s *Server) postComplain(c *fiber.Ctx) error {
	id := c.Params("id")
	var evidence *int64
	if v := strings.TrimSpace(c.FormValue("evidence_index")); v != "" {
		n, err := int64Param("evidence_index", v, 0)
		if err != nil {
			return err
		}
		evidence = &n
	}
	_, err := s.m.FileComplaint(c.UserContext(), id, c.FormValue("reason"), evidence)
	return s.actionResult(c, id, "complained", err)
}

func (s *Server) postEnroll(c *fiber.Ctx) error {
	id := c.Params("id")
	_, _, err := s.m.Enroll(c.UserContext(), id, c.FormValue("student_id"))
	return s.actionResult(c, id, "enrolled", err)
}

func (s *Server) pageReviews(c *fiber.Ctx) error {
	if _, ok := signedIn(c); !ok {
		return s.toLogin(c)
	}
	p, err := paging(c)
	if err != nil {
		return err
	}
	q, err := s.m.ReviewQueue(c.UserContext(), p)
	if err != nil {
		return err
	}
	flash := ""
	if c.Query("done") == "decided" {
		flash = loc{s.lang(c)}.T("done.decided")
	}
	return s.render(c, fiber.StatusOK, "reviews", "review.queue", pageData{Nav: "reviews", Data: q, Flash: flash})
}

type reviewPage struct {
	R         market.Resource
	Similar   []market.Resource
	Checklist []string
}

func (s *Server) pageReview(c *fiber.Ctx) error {
	if _, ok := signedIn(c); !ok {
		return s.toLogin(c)
	}
	ctx := c.UserContext()
	if !market.ActorFrom(ctx).Has(market.RoleReviewer) {
		return market.Errorf(market.CodeForbidden, market.MsgForbidden)
	}
	r, err := s.m.Resource(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	d := reviewPage{R: r, Checklist: market.ChecklistItems}
	for _, sim := range r.Similar {
		if other, err := s.m.Resource(ctx, sim.ID); err == nil {
			d.Similar = append(d.Similar, other)
		}
	}
	return s.render(c, fiber.StatusOK, "review", "review.title", pageData{Nav: "reviews", Data: d})
}

func (s *Server) postReview(c *fiber.Ctx) error {
	if _, ok := signedIn(c); !ok {
		return s.toLogin(c)
	}
	id := c.Params("id")
	d := market.Decision{Decision: c.FormValue("decision"), Reason: c.FormValue("reason"), Checklist: map[string]bool{}}
	for _, item := range market.ChecklistItems {
		if c.FormValue("check_"+item) == "on" {
			d.Checklist[item] = true
		}
	}
	if _, err := s.m.Decide(c.UserContext(), id, d); err != nil {
		if asDomainError(err).Code == market.CodeInvalid {
			r, rerr := s.m.Resource(c.UserContext(), id)
			if rerr != nil {
				return rerr
			}
			return s.render(c, fiber.StatusBadRequest, "review", "review.title", pageData{Nav: "reviews",
				Data: reviewPage{R: r, Checklist: market.ChecklistItems}, Error: asDomainError(err).Msg.Text(s.lang(c))})
		}
		return err
	}
	return c.Redirect("/reviews?done=decided", fiber.StatusSeeOther)
}

func (s *Server) pageComplaints(c *fiber.Ctx) error {
	if _, ok := signedIn(c); !ok {
		return s.toLogin(c)
	}
	p, err := paging(c)
	if err != nil {
		return err
	}
	page, err := s.m.Complaints(c.UserContext(), c.Query("status"), p)
	if err != nil {
		return err
	}
	flash := ""
	if c.Query("done") == "decided" {
		flash = loc{s.lang(c)}.T("done.decided")
	}
	return s.render(c, fiber.StatusOK, "complaints", "complaints.title", pageData{Nav: "complaints", Data: page, Flash: flash})
}

func (s *Server) postDecideComplaint(c *fiber.Ctx) error {
	if _, ok := signedIn(c); !ok {
		return s.toLogin(c)
	}
	if _, err := s.m.DecideComplaint(c.UserContext(), c.Params("id"), c.FormValue("decision"), c.FormValue("reason")); err != nil {
		return err
	}
	return c.Redirect("/admin/complaints?done=decided", fiber.StatusSeeOther)
}
