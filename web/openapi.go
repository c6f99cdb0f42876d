package web

import (
	_ "embed"

	"github.com/gofiber/fiber/v2"
)

// openAPI documents every route; a test keeps it in step with the router.
//
//go:embed openapi.json
var openAPI []byte

func serveOpenAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	return c.Send(openAPI)
}
