package web

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"ziyuan/market"
)

// statusOf is the one table from domain error codes to HTTP statuses.
var statusOf = map[market.Code]int{
	market.CodeInvalid:              fiber.StatusBadRequest,
	market.CodeUnauthenticated:      fiber.StatusUnauthorized,
	market.CodePaymentRequired:      fiber.StatusPaymentRequired,
	market.CodeForbidden:            fiber.StatusForbidden,
	market.CodeNotFound:             fiber.StatusNotFound,
	market.CodeMethodNotAllowed:     fiber.StatusMethodNotAllowed,
	market.CodeConflict:             fiber.StatusConflict,
	market.CodeUnprocessable:        fiber.StatusUnprocessableEntity,
	market.CodeTooLarge:             fiber.StatusRequestEntityTooLarge,
	market.CodeUnsupportedMediaType: fiber.StatusUnsupportedMediaType,
	market.CodeRateLimited:          fiber.StatusTooManyRequests,
	market.CodeInternal:             fiber.StatusInternalServerError,
	market.CodeUnavailable:          fiber.StatusServiceUnavailable,
}

// errorBody is the JSON error shape of API.md.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    market.Code `json:"code"`
	Message string      `json:"message"`
	// RequestID lets a user quote the failing request to support.
	RequestID string `json:"request_id,omitempty"`
}

// asDomainError turns any error reaching the HTTP edge into a domain error: Fiber's own errors
// (no route, body too large, ...) get the matching code; anything unknown is internal.
func asDomainError(err error) *market.Error {
	var de *market.Error
	if errors.As(err, &de) {
		return de
	}
	var fe *fiber.Error
	if errors.As(err, &fe) {
		switch fe.Code {
		case fiber.StatusNotFound:
			return market.Errorf(market.CodeNotFound, market.MsgRouteNotFound)
		case fiber.StatusMethodNotAllowed:
			return market.Errorf(market.CodeMethodNotAllowed, market.MsgMethodNotAllowed)
		case fiber.StatusRequestEntityTooLarge:
			return market.Errorf(market.CodeTooLarge, market.MsgBodyTooLarge, "")
		case fiber.StatusRequestHeaderFieldsTooLarge, fiber.StatusBadRequest:
			return market.Errorf(market.CodeInvalid, market.MsgBadJSON, fe.Message)
		case fiber.StatusRequestTimeout:
			return &market.Error{Code: market.CodeUnavailable, Msg: market.Message{Key: market.MsgUnavailable}, Err: err}
		}
	}
	return market.Internal(err)
}

// handleError is Fiber's error handler: every error leaves through here, as JSON for the API
// and as an error page for browsers. Internal causes are logged with the request ID, never shown.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	de := asDomainError(err)
	status, ok := statusOf[de.Code]
	if !ok {
		status = fiber.StatusInternalServerError
	}
	rid := requestID(c)
	if status >= 500 {
		s.log.ErrorContext(c.UserContext(), "request failed", "request_id", rid, "method", c.Method(),
			"path", c.Path(), "status", status, "err", err)
	}
	if de.RetryAfterSeconds > 0 {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(de.RetryAfterSeconds))
	}
	lang := s.lang(c)
	if wantsHTML(c) {
		return s.renderError(c, status, de.Msg.Text(lang), rid)
	}
	return c.Status(status).JSON(errorBody{Error: errorDetail{Code: de.Code, Message: de.Msg.Text(lang), RequestID: rid}})
}
