package web

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"math"
	"mime"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"ziyuan/market"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages holds one parsed template set per page, each with the shared layout.
type pages struct {
	byName map[string]*template.Template
}

// templateFuncs are the few helpers templates need beyond loc's methods.
var templateFuncs = template.FuncMap{
	"dict": func(kv ...any) map[string]any {
		m := make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
	"seq": func(from, to int) []int {
		var out []int
		for i := from; i <= to; i++ {
			out = append(out, i)
		}
		return out
	},
	"float":   func(n int) float64 { return float64(n) },
	"int64":   func(n int) int64 { return int64(n) },
	"percent": func(f float64) string { return strconv.Itoa(int(math.Round(f*100))) + "%" },
}

func mustParsePages() *pages {
	layout := template.Must(template.New("layout.html").Funcs(templateFuncs).ParseFS(templateFS, "templates/layout.html"))
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, n := range names {
		base := path.Base(n)
		if base == "layout.html" {
			continue
		}
		t := template.Must(template.Must(layout.Clone()).ParseFS(templateFS, n))
		p.byName[strings.TrimSuffix(base, ".html")] = t
	}
	return p
}

// pageData is what every page template receives.
type pageData struct {
	L     loc
	Lang  string
	Title string
	Nav   string
	User  *market.User
	CSRF  string
	// Path is the current path with query, for the language switch to come back to.
	Path  string
	Flash string
	Error string
	Data  any
}

// render writes a page with status.
func (s *Server) render(c *fiber.Ctx, status int, name, titleKey string, d pageData) error {
	t, ok := s.pages.byName[name]
	if !ok {
		return market.Internal(errUnknownPage(name))
	}
	lang := s.lang(c)
	d.L, d.Lang = loc{lang}, lang
	if d.Title == "" {
		d.Title = d.L.T(titleKey)
	}
	d.CSRF = s.csrfToken(c)
	d.Path = string(c.Request().URI().RequestURI())
	if d.User == nil {
		if a := market.ActorFrom(c.UserContext()); !a.Anonymous() {
			u, err := s.m.User(c.UserContext(), a.UserID)
			switch {
			case err == nil:
				d.User = &u
			case name != "error":
				return err
			}
			// The error page must show even when what failed is the database: without the
			// visitor's name in the header, rather than as an empty answer.
		}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", d); err != nil {
		return market.Internal(err)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Type("html", "utf-8")
	return c.Status(status).Send(buf.Bytes())
}

type errUnknownPage string

func (e errUnknownPage) Error() string { return "no page template " + string(e) }

// renderError shows an error page; a visitor who needs to sign in is sent to the login page.
func (s *Server) renderError(c *fiber.Ctx, status int, msg, rid string) error {
	if status == fiber.StatusUnauthorized && c.Method() == fiber.MethodGet {
		return c.Redirect("/login?next="+url.QueryEscape(string(c.Request().URI().RequestURI())), fiber.StatusSeeOther)
	}
	return s.render(c, status, "error", "error.title", pageData{Error: msg, Data: map[string]any{"Status": status, "RequestID": rid}})
}

func (s *Server) static(c *fiber.Ctx) error {
	name := path.Clean("static/" + c.Params("*"))
	if !strings.HasPrefix(name, "static/") {
		return fiber.ErrNotFound
	}
	b, err := staticFS.ReadFile(name)
	if err != nil {
		return fiber.ErrNotFound
	}
	c.Set(fiber.HeaderContentType, mime.TypeByExtension(path.Ext(name)))
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	return c.Send(b)
}

func (s *Server) switchLang(c *fiber.Ctx) error {
	lang := c.Params("lang")
	if lang != "zh" && lang != "en" {
		return fiber.ErrNotFound
	}
	c.Cookie(&fiber.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		Secure: s.secure, SameSite: fiber.CookieSameSiteLaxMode})
	return c.Redirect(localPath(c.Query("next")), fiber.StatusSeeOther)
}

// localPath keeps redirects on this site: anything but a plain local path becomes "/".
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") ||
		strings.ContainsAny(p, "\r\n") {
		return "/"
	}
	return p
}

// signedIn returns the actor, or redirects a visitor to the login page.
func signedIn(c *fiber.Ctx) (market.Actor, bool) {
	a := market.ActorFrom(c.UserContext())
	return a, !a.Anonymous()
}

func (s *Server) toLogin(c *fiber.Ctx) error {
	return c.Redirect("/login?next="+url.QueryEscape(string(c.Request().URI().RequestURI())), fiber.StatusSeeOther)
}

func (s *Server) pageHome(c *fiber.Ctx) error {
	return s.render(c, fiber.StatusOK, "home", "home.title", pageData{Nav: "home"})
}

func (s *Server) pageLogin(c *fiber.Ctx) error {
	if _, ok := signedIn(c); ok {
		return c.Redirect(localPath(c.Query("next", "/space")), fiber.StatusSeeOther)
	}
	d := pageData{Nav: "login", Data: map[string]string{"Next": localPath(c.Query("next", "/space")), "Login": ""}}
	if c.Query("registered") == "1" {
		d.Flash = loc{s.lang(c)}.T("login.registered")
	}
	return s.render(c, fiber.StatusOK, "login", "login.title", d)
}

func (s *Server) postLogin(c *fiber.Ctx) error {
	next := localPath(c.FormValue("next", "/space"))
	login := c.FormValue("login")
	u, err := s.m.Login(c.UserContext(), login, c.FormValue("password"))
	if err != nil {
		de := asDomainError(err)
		if de.Code != market.CodeUnauthenticated && de.Code != market.CodeRateLimited {
			return err
		}
		if de.RetryAfterSeconds > 0 {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(de.RetryAfterSeconds))
		}
		return s.render(c, statusOf[de.Code], "login", "login.title", pageData{Nav: "login",
			Error: de.Msg.Text(s.lang(c)), Data: map[string]string{"Next": next, "Login": login}})
	}
	if err := s.startSession(c, u.ID); err != nil {
		return err
	}
	return c.Redirect(next, fiber.StatusSeeOther)
}

func (s *Server) postLogout(c *fiber.Ctx) error {
	s.clearSession(c)
	return c.Redirect("/", fiber.StatusSeeOther)
}

type registerForm struct {
	Form         market.Registration
	Roles        []market.Role
	Institutions []market.Institution
}

func (s *Server) registerData(c *fiber.Ctx, f market.Registration) (registerForm, error) {
	insts, err := s.m.Institutions(c.UserContext(), market.Paging{PerPage: market.MaxPerPage})
	if err != nil {
		return registerForm{}, err
	}
	return registerForm{Form: f, Roles: market.SelfServiceRoles, Institutions: insts.Items}, nil
}

func (s *Server) pageRegister(c *fiber.Ctx) error {
	d, err := s.registerData(c, market.Registration{Role: market.RoleTeacher})
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "register", "register.title", pageData{Nav: "register", Data: d})
}

func (s *Server) postRegister(c *fiber.Ctx) error {
	f := market.Registration{Login: c.FormValue("login"), Password: c.FormValue("password"), Name: c.FormValue("name"),
		Role: market.Role(c.FormValue("role")), InstitutionID: c.FormValue("institution_id"), BirthDate: c.FormValue("birth_date")}
	_, err := s.m.Register(c.UserContext(), f)
	if err == nil {
		return c.Redirect("/login?registered=1", fiber.StatusSeeOther)
	}
	de := asDomainError(err)
	if de.Code != market.CodeInvalid && de.Code != market.CodeConflict && de.Code != market.CodeNotFound {
		return err
	}
	f.Password = ""
	d, derr := s.registerData(c, f)
	if derr != nil {
		return derr
	}
	return s.render(c, statusOf[de.Code], "register", "register.title", pageData{Nav: "register", Error: de.Msg.Text(s.lang(c)), Data: d})
}

type spaceData struct {
	Institution *market.Institution
	Wards       []market.User
	Parent      bool
	Publisher   bool
	Resources   market.Page[market.ResourceRef]
	Licenses    market.Page[market.License]
}

func (s *Server) pageSpace(c *fiber.Ctx) error {
	a, ok := signedIn(c)
	if !ok {
		return s.toLogin(c)
	}
	ctx := c.UserContext()
	u, err := s.m.User(ctx, a.UserID)
	if err != nil {
		return err
	}
	d := spaceData{Parent: u.Has(market.RoleParent)}
	if u.InstitutionID != nil {
		inst, err := s.m.Institution(ctx, *u.InstitutionID)
		if err != nil {
			return err
		}
		d.Institution = &inst
	}
	if d.Parent {
		if d.Wards, err = s.m.Wards(ctx); err != nil {
			return err
		}
	}
	d.Publisher = u.Has(market.RoleTeacher) || u.Has(market.RoleVendor) || u.Has(market.RoleInstitutionAdmin)
	if d.Resources, err = s.m.MyResources(ctx, "", market.Paging{PerPage: market.MaxPerPage}); err != nil {
		return err
	}
	if d.Licenses, err = s.m.MyLicenses(ctx, market.Paging{PerPage: market.MaxPerPage}); err != nil {
		return err
	}
	pd := pageData{Nav: "space", User: &u, Data: d}
	if c.Query("done") == "consent" {
		pd.Flash = loc{s.lang(c)}.T("space.consent_done")
	}
	return s.render(c, fiber.StatusOK, "space", "space.title", pd)
}

func (s *Server) postConsent(c *fiber.Ctx) error {
	if _, ok := signedIn(c); !ok {
		return s.toLogin(c)
	}
	if _, _, err := s.m.RecordConsent(c.UserContext(), c.FormValue("student_id")); err != nil {
		return err
	}
	return c.Redirect("/space?done=consent", fiber.StatusSeeOther)
}

type instAdminData struct {
	Institution market.Institution
	Pending     market.Page[market.User]
	Report      *rosterResponse
	Verified    string
	Pages       int
}

// adminInstitution is the institution an admin page works on: the admin's own, or for a platform
// admin the one named by ?institution=.
func (s *Server) adminInstitution(c *fiber.Ctx, id string) (market.Institution, error) {
	a := market.ActorFrom(c.UserContext())
	if !a.Has(market.RoleInstitutionAdmin) && !a.Has(market.RolePlatformAdmin) {
		return market.Institution{}, market.Errorf(market.CodeForbidden, market.MsgForbidden)
	}
	if id == "" || !a.Has(market.RolePlatformAdmin) {
		id = a.InstitutionID
	}
	if id == "" {
		return market.Institution{}, market.Errorf(market.CodeNotFound, market.MsgInstitutionMissing)
	}
	return s.m.Institution(c.UserContext(), id)
}

func (s *Server) renderInstitutionAdmin(c *fiber.Ctx, status int, inst market.Institution, d instAdminData, errMsg string) error {
	p, err := paging(c)
	if err != nil {
		return err
	}
	no := false
	d.Institution = inst
	if d.Pending, err = s.m.Users(c.UserContext(), market.UserFilter{InstitutionID: inst.ID, Verified: &no}, p); err != nil {
		return err
	}
	d.Pages = int(math.Ceil(float64(d.Pending.Total) / float64(d.Pending.PerPage)))
	return s.render(c, status, "institution", "inst.title", pageData{Nav: "inst", Data: d, Error: errMsg})
}

func (s *Server) pageInstitutionAdmin(c *fiber.Ctx) error {
	a, ok := signedIn(c)
	if !ok {
		return s.toLogin(c)
	}
	if a.Has(market.RolePlatformAdmin) && c.Query("institution") == "" && a.InstitutionID == "" {
		return s.pageChooseInstitution(c)
	}
	inst, err := s.adminInstitution(c, c.Query("institution"))
	if err != nil {
		return err
	}
	return s.renderInstitutionAdmin(c, fiber.StatusOK, inst, instAdminData{Verified: c.Query("verified")}, "")
}

// pageChooseInstitution lets a platform admin, who belongs to no institution, pick one.
func (s *Server) pageChooseInstitution(c *fiber.Ctx) error {
	p, err := paging(c)
	if err != nil {
		return err
	}
	insts, err := s.m.Institutions(c.UserContext(), p)
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "institutions", "inst.choose", pageData{Nav: "inst", Data: insts})
}

func (s *Server) postRoster(c *fiber.Ctx) error {
	if _, ok := signedIn(c); !ok {
		return s.toLogin(c)
	}
	inst, err := s.adminInstitution(c, c.FormValue("institution"))
	if err != nil {
		return err
	}
	data, err := rosterUpload(c)
	if err == nil {
		var rep market.RosterReport
		rep, err = s.m.ImportRoster(c.UserContext(), inst.ID, data)
		if err == nil {
			r := s.rosterJSON(c, rep)
			return s.renderInstitutionAdmin(c, fiber.StatusOK, inst, instAdminData{Report: &r}, "")
		}
	}
	de := asDomainError(err)
	if de.Code == market.CodeInternal || de.Code == market.CodeForbidden {
		return err
	}
	return s.renderInstitutionAdmin(c, statusOf[de.Code], inst, instAdminData{}, de.Msg.Text(s.lang(c)))
}

func (s *Server) postVerify(c *fiber.Ctx) error {
	if _, ok := signedIn(c); !ok {
		return s.toLogin(c)
	}
	u, err := s.m.VerifyUser(c.UserContext(), c.FormValue("user_id"))
	if err != nil {
		return err
	}
	q := "?verified=" + url.QueryEscape(u.Name)
	if inst := c.FormValue("institution"); inst != "" && market.ValidID(inst) {
		q += "&institution=" + inst
	}
	return c.Redirect("/admin/institution"+q, fiber.StatusSeeOther)
}

type auditData struct {
	Page   market.Page[market.AuditEntry]
	Filter map[string]string
	Pages  int
	Prev   string
	Next   string
}

func (s *Server) pageAudit(c *fiber.Ctx) error {
	if _, ok := signedIn(c); !ok {
		return s.toLogin(c)
	}
	p, err := paging(c)
	if err != nil {
		return err
	}
	f := market.AuditFilter{ActorID: c.Query("actor"), Action: c.Query("action")}
	if f.From, err = queryTime(c, "from"); err != nil {
		return err
	}
	if f.To, err = queryTime(c, "to"); err != nil {
		return err
	}
	if !f.To.IsZero() && len(c.Query("to")) == len("2006-01-02") {
		f.To = f.To.AddDate(0, 0, 1) // a "to" date includes that whole day
	}
	page, err := s.m.Audit(c.UserContext(), f, p)
	if err != nil {
		return err
	}
	d := auditData{Page: page, Filter: map[string]string{"actor": f.ActorID, "action": f.Action,
		"from": c.Query("from"), "to": c.Query("to")}}
	d.Pages = int(math.Ceil(float64(page.Total) / float64(page.PerPage)))
	link := func(n int) string {
		q := c.Context().QueryArgs()
		var args []string
		q.VisitAll(func(k, v []byte) {
			if string(k) != "page" {
				args = append(args, url.QueryEscape(string(k))+"="+url.QueryEscape(string(v)))
			}
		})
		args = append(args, "page="+strconv.Itoa(n))
		return "/admin/audit?" + strings.Join(args, "&")
	}
	if page.Page > 1 {
		d.Prev = link(page.Page - 1)
	}
	if page.Page < d.Pages {
		d.Next = link(page.Page + 1)
	}
	return s.render(c, fiber.StatusOK, "audit", "audit.title", pageData{Nav: "audit", Data: d})
}
