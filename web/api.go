package web

import (
	"io"
	"mime"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"ziyuan/market"
)

// maxRosterBytes bounds a roster upload: 5,000 rows of a class list fit many times over.
const maxRosterBytes = 4 << 20

type loginRequest struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

type loginResponse struct {
	Token     string      `json:"token"`
	ExpiresAt time.Time   `json:"expires_at"`
	User      market.User `json:"user"`
}

func (s *Server) apiLogin(c *fiber.Ctx) error {
	var req loginRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, err := s.m.Login(c.UserContext(), req.Login, req.Password)
	if err != nil {
		return err
	}
	tok, exp, err := s.tok.issue(u.ID)
	if err != nil {
		return market.Internal(err)
	}
	return c.JSON(loginResponse{Token: tok, ExpiresAt: exp, User: u})
}

func (s *Server) apiRegister(c *fiber.Ctx) error {
	var req market.Registration
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, err := s.m.Register(c.UserContext(), req)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"user": u})
}

func (s *Server) apiMe(c *fiber.Ctx) error {
	a := market.ActorFrom(c.UserContext())
	if a.Anonymous() {
		return market.Errorf(market.CodeUnauthenticated, market.MsgSignInRequired)
	}
	u, err := s.m.User(c.UserContext(), a.UserID)
	if err != nil {
		return err
	}
	return c.JSON(u)
}

func (s *Server) apiWards(c *fiber.Ctx) error {
	wards, err := s.m.Wards(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": wards})
}

func (s *Server) apiInstitutions(c *fiber.Ctx) error {
	p, err := paging(c)
	if err != nil {
		return err
	}
	page, err := s.m.Institutions(c.UserContext(), p)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

func (s *Server) apiCreateInstitution(c *fiber.Ctx) error {
	var req market.NewInstitution
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	inst, err := s.m.CreateInstitution(c.UserContext(), req)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(inst)
}

func (s *Server) apiInstitution(c *fiber.Ctx) error {
	inst, err := s.m.Institution(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(inst)
}

func (s *Server) apiInstitutionUsers(c *fiber.Ctx) error {
	p, err := paging(c)
	if err != nil {
		return err
	}
	f := market.UserFilter{InstitutionID: c.Params("id")}
	if v := c.Query("verified"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return market.Errorf(market.CodeInvalid, market.MsgFieldOneOf, "verified", v, "true, false")
		}
		f.Verified = &b
	}
	page, err := s.m.Users(c.UserContext(), f, p)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

type rowErrorJSON struct {
	Line    int    `json:"line"`
	Message string `json:"message"`
}

type rosterResponse struct {
	Created int            `json:"created"`
	Skipped int            `json:"skipped"`
	Errors  []rowErrorJSON `json:"errors"`
}

func (s *Server) rosterJSON(c *fiber.Ctx, rep market.RosterReport) rosterResponse {
	out := rosterResponse{Created: rep.Created, Skipped: rep.Skipped, Errors: make([]rowErrorJSON, len(rep.Errors))}
	lang := s.lang(c)
	for i, e := range rep.Errors {
		out.Errors[i] = rowErrorJSON{Line: e.Line, Message: e.Msg.Text(lang)}
	}
	return out
}

func (s *Server) apiRoster(c *fiber.Ctx) error {
	data, err := rosterUpload(c)
	if err != nil {
		return err
	}
	rep, err := s.m.ImportRoster(c.UserContext(), c.Params("id"), data)
	if err != nil {
		return err
	}
	return c.JSON(s.rosterJSON(c, rep))
}

// rosterUpload reads a roster from a CSV body or from the "file" part of a form.
func rosterUpload(c *fiber.Ctx) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil {
		return nil, market.Errorf(market.CodeUnsupportedMediaType, market.MsgContentType, "text/csv")
	}
	switch mt {
	case "text/csv", "text/plain", "text/tab-separated-values", "application/csv",
		"application/vnd.ms-excel", "application/octet-stream":
		body := c.Body()
		if len(body) > maxRosterBytes {
			return nil, market.Errorf(market.CodeTooLarge, market.MsgBodyTooLarge, "4 MiB")
		}
		return body, nil
	case fiber.MIMEMultipartForm:
		fh, err := c.FormFile("file")
		if err != nil {
			return nil, market.Errorf(market.CodeInvalid, market.MsgFieldRequired, "file")
		}
		if fh.Size > maxRosterBytes {
			return nil, market.Errorf(market.CodeTooLarge, market.MsgBodyTooLarge, "4 MiB")
		}
		f, err := fh.Open()
		if err != nil {
			return nil, market.Internal(err)
		}
		defer f.Close()
		return io.ReadAll(io.LimitReader(f, maxRosterBytes))
	default:
		return nil, market.Errorf(market.CodeUnsupportedMediaType, market.MsgContentType, "text/csv")
	}
}

func (s *Server) apiVerify(c *fiber.Ctx) error {
	u, err := s.m.VerifyUser(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(u)
}

type roleRequest struct {
	Role market.Role `json:"role"`
}

func (s *Server) apiGrantRole(c *fiber.Ctx) error {
	var req roleRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Role == "" {
		return market.Errorf(market.CodeInvalid, market.MsgFieldRequired, "role")
	}
	u, err := s.m.GrantRole(c.UserContext(), c.Params("id"), req.Role)
	if err != nil {
		return err
	}
	return c.JSON(u)
}

type consentRequest struct {
	StudentID string `json:"student_id"`
}

func (s *Server) apiConsent(c *fiber.Ctx) error {
	var req consentRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.StudentID == "" {
		return market.Errorf(market.CodeInvalid, market.MsgFieldRequired, "student_id")
	}
	g, created, err := s.m.RecordConsent(c.UserContext(), req.StudentID)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if created {
		status = fiber.StatusCreated
	}
	return c.Status(status).JSON(g)
}

func (s *Server) apiAudit(c *fiber.Ctx) error {
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
	page, err := s.m.Audit(c.UserContext(), f, p)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

// paging reads ?page= and ?per_page=.
func paging(c *fiber.Ctx) (market.Paging, error) {
	var p market.Paging
	for name, dst := range map[string]*int{"page": &p.Page, "per_page": &p.PerPage} {
		v := c.Query(name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return p, market.Errorf(market.CodeInvalid, market.MsgPageRange, market.MaxPerPage)
		}
		*dst = n
	}
	return p, nil
}

// queryTime reads a date (YYYY-MM-DD, China time) or an RFC 3339 time from the query.
func queryTime(c *fiber.Ctx, name string) (time.Time, error) {
	v := c.Query(name)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", v, chinaTime); err == nil {
		return t, nil
	}
	return time.Time{}, market.Errorf(market.CodeInvalid, market.MsgDateRange, v)
}
