package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"

	"github.com/gofiber/fiber/v2"

	"ziyuan/market"
)

// maxJSONBody bounds JSON request bodies; uploads have their own limits.
const maxJSONBody = 1 << 20

// decodeJSON reads the request body strictly into v: the right content type, a bounded size, no
// unknown fields, no trailing data, and errors that name the offending field.
func decodeJSON(c *fiber.Ctx, v any) error {
	mt, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil || mt != fiber.MIMEApplicationJSON {
		return market.Errorf(market.CodeUnsupportedMediaType, market.MsgContentType, fiber.MIMEApplicationJSON)
	}
	body := c.Body()
	if len(body) > maxJSONBody {
		return market.Errorf(market.CodeTooLarge, market.MsgBodyTooLarge, "1 MiB")
	}
	return decodeStrict(body, v)
}

// decodeStrict is decodeJSON without the HTTP parts, so that it can be fuzzed.
func decodeStrict(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return market.Errorf(market.CodeInvalid, market.MsgBadJSON, "empty body")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return market.Errorf(market.CodeInvalid, market.MsgTrailingData)
	}
	return nil
}

func jsonError(err error) error {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syntax):
		return market.Errorf(market.CodeInvalid, market.MsgBadJSON, fmt.Sprintf("offset %d: %v", syntax.Offset, syntax))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(body)"
		}
		return market.Errorf(market.CodeInvalid, market.MsgWrongType, field, jsonTypeName(typ.Type.Kind().String()))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return market.Errorf(market.CodeInvalid, market.MsgBadJSON, "unexpected end of input")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return market.Errorf(market.CodeInvalid, market.MsgUnknownField, name)
	default:
		return market.Errorf(market.CodeInvalid, market.MsgBadJSON, err.Error())
	}
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "struct", "map":
		return "object"
	default:
		return "number"
	}
}
