package market

import (
	"errors"
	"fmt"

	"ziyuan/market/store"
)

// Code is a machine-readable error class. The web package owns the one table that maps codes to
// HTTP statuses; domain code never thinks in statuses.
type Code string

const (
	CodeInvalid              Code = "invalid"
	CodeUnauthenticated      Code = "unauthenticated"
	CodePaymentRequired      Code = "payment_required"
	CodeForbidden            Code = "forbidden"
	CodeNotFound             Code = "not_found"
	CodeMethodNotAllowed     Code = "method_not_allowed"
	CodeConflict             Code = "conflict"
	CodeUnprocessable        Code = "unprocessable" // well formed, but not doable as asked (a refund that is not whole lines)
	CodeTooLarge             Code = "too_large"
	CodeUnsupportedMediaType Code = "unsupported_media_type"
	CodeRateLimited          Code = "rate_limited"
	CodeInternal             Code = "internal"
	CodeUnavailable          Code = "unavailable"
)

// Codes lists every code, so that the web layer can prove its status table is complete.
var Codes = []Code{
	CodeInvalid, CodeUnauthenticated, CodePaymentRequired, CodeForbidden, CodeNotFound,
	CodeMethodNotAllowed, CodeConflict, CodeUnprocessable, CodeTooLarge, CodeUnsupportedMediaType, CodeRateLimited, CodeInternal,
	CodeUnavailable,
}

// Error is a domain error. Msg is a translatable message: the web layer renders it in the
// reader's language, falling back to the English text.
type Error struct {
	Code Code
	Msg  Message
	// RetryAfterSeconds, when set (rate_limited, unavailable), becomes the Retry-After header.
	RetryAfterSeconds int
	// Err is the cause, logged but never shown to clients.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Msg.English(), e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Msg.English())
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error with a catalogued message.
func Errorf(code Code, key MsgKey, args ...any) *Error {
	return &Error{Code: code, Msg: Message{Key: key, Args: args}}
}

// dbRetryAfter is what a client is told to wait when the database is unreachable: about as
// long as a PostgreSQL restart or failover takes.
const dbRetryAfter = 5

// Internal wraps an unexpected failure; the cause is kept for logs only. A database (or other
// service) that cannot be reached — down, restarting — is no fault of ours or of the request:
// that failure is "unavailable", with a time to retry after.
func Internal(err error) *Error {
	if store.Unavailable(err) {
		return &Error{Code: CodeUnavailable, RetryAfterSeconds: dbRetryAfter, Msg: Message{Key: MsgUnavailable}, Err: err}
	}
	return &Error{Code: CodeInternal, Msg: Message{Key: MsgInternal}, Err: err}
}

// ErrorCode returns the code of err, or CodeInternal for errors that are not *Error.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// IsCode reports whether err is an *Error with the given code.
func IsCode(err error, code Code) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}
