package web

import (
	"mime"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"ziyuan/market/oai"
)

// serveOAI answers OAI-PMH requests at /oai, GET or POST. The protocol's errors are part of the
// XML answer with HTTP 200 (market/oai writes them); only a failing database makes a 503 with
// Retry-After, the protocol's own way to ask a harvester to come back later.
func (s *Server) serveOAI(c *fiber.Ctx) error {
	args, argsErr := oaiArgs(c)
	site := s.siteURL(c)
	doc, err := s.oai.Serve(c.UserContext(), oai.Request{BaseURL: site + "/oai", SiteURL: site, Args: args, ArgsErr: argsErr})
	if err != nil {
		s.log.ErrorContext(c.UserContext(), "OAI-PMH request failed", "request_id", requestID(c), "err", err)
		c.Set(fiber.HeaderRetryAfter, "30")
		return c.Status(fiber.StatusServiceUnavailable).SendString("The repository is unavailable for a moment; retry later.\n")
	}
	c.Set(fiber.HeaderContentType, "text/xml; charset=utf-8")
	return c.Send(doc)
}

// oaiArgs reads the arguments: the query string, and for a POST also its form body. Values
// repeated between the two count as repeated arguments. The error is the first undecodable one.
func oaiArgs(c *fiber.Ctx) (url.Values, error) {
	args, err := url.ParseQuery(string(c.Request().URI().QueryString()))
	if c.Method() != fiber.MethodPost {
		return args, err
	}
	if mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType)); mt == fiber.MIMEApplicationForm {
		body, berr := url.ParseQuery(string(c.Body()))
		for k, vs := range body {
			args[k] = append(args[k], vs...)
		}
		if err == nil {
			err = berr
		}
	}
	return args, err
}

// siteURL is the site's root for absolute links: the configured public URL, else the one the
// request came to.
func (s *Server) siteURL(c *fiber.Ctx) string {
	if s.publicURL != "" {
		return s.publicURL
	}
	return c.BaseURL()
}
