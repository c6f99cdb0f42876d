package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"ziyuan/market"
	"ziyuan/market/files"
)

// downloadLinkLifetime is how long a signed download link works (API.md: at most 5 minutes).
const downloadLinkLifetime = 5 * time.Minute

// uploadError turns a refused upload into a domain error carrying the inspector's own
// Chinese and English explanation; the inspector's classes are market codes.
func uploadError(err error) error {
	var fe *files.Error
	if errors.As(err, &fe) {
		return &market.Error{Code: market.Code(fe.Class), Msg: market.Message{Key: market.MsgUpload, Args: []any{fe.Chinese(), fe.English()}}}
	}
	if errors.Is(err, context.Canceled) {
		return &market.Error{Code: market.CodeUnavailable, Msg: market.Message{Key: market.MsgUnavailable}, Err: err}
	}
	return market.Internal(err)
}

// uploads holds inspected files until the request is done; their temporary copies go then.
type uploads []*files.Upload

func (u uploads) close() {
	for _, x := range u {
		x.Close()
	}
}

func (u uploads) market() []market.Upload {
	out := make([]market.Upload, len(u))
	for i, x := range u {
		x := x
		out[i] = market.Upload{Name: x.Name, Size: x.Size, SHA256: x.SHA256, MIME: x.MIME, Kind: string(x.Kind), Text: x.Text,
			Open: func() (io.ReadCloser, error) { return x.Open() }}
	}
	return out
}

// readResourceBody reads a resource request: JSON meta, or multipart with a "meta" JSON part and
// "file" parts, each inspected. The caller must close the uploads.
func (s *Server) readResourceBody(c *fiber.Ctx, v any) (uploads, error) {
	mt, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil {
		return nil, market.Errorf(market.CodeUnsupportedMediaType, market.MsgContentType, "application/json, multipart/form-data")
	}
	if mt == fiber.MIMEApplicationJSON {
		return nil, decodeJSON(c, v)
	}
	if mt != fiber.MIMEMultipartForm {
		return nil, market.Errorf(market.CodeUnsupportedMediaType, market.MsgContentType, "application/json, multipart/form-data")
	}
	form, err := c.MultipartForm()
	if err != nil {
		return nil, market.Errorf(market.CodeInvalid, market.MsgBadMultipart, err.Error())
	}
	metas := form.Value["meta"]
	if len(metas) != 1 {
		return nil, market.Errorf(market.CodeInvalid, market.MsgFieldRequired, "meta")
	}
	if len(metas[0]) > maxJSONBody {
		return nil, market.Errorf(market.CodeTooLarge, market.MsgBodyTooLarge, "1 MiB")
	}
	if err := decodeStrict([]byte(metas[0]), v); err != nil {
		return nil, err
	}
	var ups uploads
	for _, fh := range form.File["file"] {
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
		if u.TextErr != nil {
			s.log.WarnContext(c.UserContext(), "text extraction incomplete", "file", u.Name, "err", u.TextErr)
		}
		ups = append(ups, u)
	}
	return ups, nil
}

func (s *Server) apiCreateResource(c *fiber.Ctx) error {
	var meta market.Meta
	ups, err := s.readResourceBody(c, &meta)
	defer ups.close()
	if err != nil {
		return err
	}
	r, err := s.m.CreateResource(c.UserContext(), meta, ups.market())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(r)
}

func (s *Server) apiResource(c *fiber.Ctx) error {
	r, err := s.m.Resource(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(r)
}

func (s *Server) apiUpdateResource(c *fiber.Ctx) error {
	var patch market.MetaPatch
	ups, err := s.readResourceBody(c, &patch)
	defer ups.close()
	if err != nil {
		return err
	}
	r, err := s.m.UpdateResource(c.UserContext(), c.Params("id"), patch, ups.market())
	if err != nil {
		return err
	}
	return c.JSON(r)
}

type submitRequest struct {
	Pledge bool `json:"pledge"`
}

func (s *Server) apiSubmit(c *fiber.Ctx) error {
	var req submitRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	r, err := s.m.Submit(c.UserContext(), c.Params("id"), req.Pledge)
	if err != nil {
		return err
	}
	return c.JSON(r)
}

func (s *Server) apiReviews(c *fiber.Ctx) error {
	if st := c.Query("status", "pending"); st != "pending" {
		return market.Errorf(market.CodeInvalid, market.MsgFieldOneOf, "status", st, "pending")
	}
	p, err := paging(c)
	if err != nil {
		return err
	}
	page, err := s.m.ReviewQueue(c.UserContext(), p)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

func (s *Server) apiReview(c *fiber.Ctx) error {
	var d market.Decision
	if err := decodeJSON(c, &d); err != nil {
		return err
	}
	r, err := s.m.Decide(c.UserContext(), c.Params("id"), d)
	if err != nil {
		return err
	}
	return c.JSON(r)
}

func (s *Server) apiClaim(c *fiber.Ctx) error {
	l, created, err := s.m.Claim(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if created {
		status = fiber.StatusCreated
	}
	return c.Status(status).JSON(fiber.Map{"license": l})
}

// apiDownload authorises a download and redirects to a link valid for five minutes: the blob
// store's own (an S3 presigned URL) when it offers one, so the bytes bypass this server, or a
// link signed here to /files/.
func (s *Server) apiDownload(c *fiber.Ctx) error {
	f, err := s.m.Download(c.UserContext(), c.Params("id"), c.Query("file"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	link, ok, err := s.m.DownloadLink(c.UserContext(), f, downloadLinkLifetime)
	if err != nil {
		return err
	}
	if !ok {
		link = s.signDownload(f)
	}
	return c.Redirect(link, fiber.StatusFound)
}

// signDownload makes the signed link for one file: anyone holding it may fetch the file until
// it expires, so it is only handed to an authorised user.
func (s *Server) signDownload(f market.FileInfo) string {
	exp := strconv.FormatInt(s.clock().Add(downloadLinkLifetime).Unix(), 10)
	q := url.Values{"n": {f.Name}, "t": {f.MIME}, "e": {exp}}
	q.Set("s", s.downloadSig(f.SHA256, f.Name, f.MIME, exp))
	return "/files/" + f.SHA256 + "?" + q.Encode()
}

func (s *Server) downloadSig(sum, name, mimeType, exp string) string {
	m := hmac.New(sha256.New, s.tok.downloadKey)
	fmt.Fprintf(m, "%s\x00%s\x00%s\x00%s", sum, name, mimeType, exp)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// serveFile serves a signed download link as an attachment that browsers will not sniff.
func (s *Server) serveFile(c *fiber.Ctx) error {
	sum, name, mimeType, exp := c.Params("sha256"), c.Query("n"), c.Query("t"), c.Query("e")
	expiry, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || !hmac.Equal([]byte(c.Query("s")), []byte(s.downloadSig(sum, name, mimeType, exp))) {
		return market.Errorf(market.CodeForbidden, market.MsgLinkInvalid)
	}
	if s.clock().Unix() > expiry {
		return market.Errorf(market.CodeForbidden, market.MsgLinkExpired)
	}
	r, size, err := s.m.OpenBlob(c.UserContext(), sum)
	if err != nil {
		return err
	}
	if mimeType == "" {
		mimeType = "application/octet-stream"
	}
	c.Set(fiber.HeaderContentType, mimeType)
	c.Set(fiber.HeaderContentDisposition, files.Attachment(name))
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set(fiber.HeaderCacheControl, "private, max-age=300")
	return c.SendStream(r, int(size))
}

type ratingRequest struct {
	Stars int    `json:"stars"`
	Text  string `json:"text"`
}

func (s *Server) apiRate(c *fiber.Ctx) error {
	var req ratingRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	r, err := s.m.Rate(c.UserContext(), c.Params("id"), req.Stars, req.Text)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(r)
}

func (s *Server) apiRatings(c *fiber.Ctx) error {
	p, err := paging(c)
	if err != nil {
		return err
	}
	page, err := s.m.Ratings(c.UserContext(), c.Params("id"), p)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

type complaintRequest struct {
	Reason        string `json:"reason"`
	EvidenceIndex *int64 `json:"evidence_index"`
}

func (s *Server) apiComplain(c *fiber.Ctx) error {
	var req complaintRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	cp, err := s.m.FileComplaint(c.UserContext(), c.Params("id"), req.Reason, req.EvidenceIndex)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(cp)
}

func (s *Server) apiComplaints(c *fiber.Ctx) error {
	p, err := paging(c)
	if err != nil {
		return err
	}
	page, err := s.m.Complaints(c.UserContext(), c.Query("status"), p)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

type decisionRequest struct {
	Decision string `json:"decision"`
	Reason   string `json:"reason"`
}

func (s *Server) apiDecideComplaint(c *fiber.Ctx) error {
	var req decisionRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	cp, err := s.m.DecideComplaint(c.UserContext(), c.Params("id"), req.Decision, req.Reason)
	if err != nil {
		return err
	}
	return c.JSON(cp)
}

type enrollRequest struct {
	StudentID string `json:"student_id"`
}

func (s *Server) apiEnroll(c *fiber.Ctx) error {
	var req enrollRequest
	if len(c.Body()) > 0 {
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
	}
	l, created, err := s.m.Enroll(c.UserContext(), c.Params("id"), req.StudentID)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if created {
		status = fiber.StatusCreated
	}
	return c.Status(status).JSON(fiber.Map{"license": l})
}

func (s *Server) apiMyLicenses(c *fiber.Ctx) error {
	p, err := paging(c)
	if err != nil {
		return err
	}
	page, err := s.m.MyLicenses(c.UserContext(), p)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

func (s *Server) apiMyResources(c *fiber.Ctx) error {
	p, err := paging(c)
	if err != nil {
		return err
	}
	page, err := s.m.MyResources(c.UserContext(), c.Query("status"), p)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

func (s *Server) apiTaxonomy(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	return c.JSON(s.m.Taxonomy())
}
