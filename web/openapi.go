package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"

	"github.com/gofiber/fiber/v2"
)

// The OpenAPI document is kept in parts: 00-base.json holds the info, the shared components and
// the first features; each further feature adds a file with its own paths and schemas, so that
// features developed side by side do not edit one file. A test keeps the whole in step with
// the router.
//
//go:embed openapi/*.json
var openAPIParts embed.FS

// buildOpenAPI merges the parts in file-name order; a path or schema defined twice is a bug.
func buildOpenAPI() ([]byte, error) {
	names, err := fs.Glob(openAPIParts, "openapi/*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var doc map[string]any
	for _, n := range names {
		b, err := openAPIParts.ReadFile(n)
		if err != nil {
			return nil, err
		}
		var part map[string]any
		if err := json.Unmarshal(b, &part); err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		if doc == nil {
			doc = part
			continue
		}
		if err := mergeSection(doc, part, "paths", n); err != nil {
			return nil, err
		}
		comps, _ := part["components"].(map[string]any)
		for _, section := range []string{"schemas", "responses"} {
			if src, ok := comps[section].(map[string]any); ok {
				dst := doc["components"].(map[string]any)
				if dst[section] == nil {
					dst[section] = map[string]any{}
				}
				if err := mergeMap(dst[section].(map[string]any), src, section, n); err != nil {
					return nil, err
				}
			}
		}
	}
	return json.MarshalIndent(doc, "", " ")
}

func mergeSection(doc, part map[string]any, key, file string) error {
	src, ok := part[key].(map[string]any)
	if !ok {
		return nil
	}
	return mergeMap(doc[key].(map[string]any), src, key, file)
}

func mergeMap(dst, src map[string]any, section, file string) error {
	for k, v := range src {
		if _, dup := dst[k]; dup {
			return fmt.Errorf("%s: %s %q is defined twice", file, section, k)
		}
		dst[k] = v
	}
	return nil
}

func (s *Server) serveOpenAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	return c.Send(s.openAPI)
}
