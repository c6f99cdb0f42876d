package catalog

import (
	"errors"
	"strings"
)

// ErrUnavailable reports that the search engine cannot answer now (down, unreachable, closed).
// Engines wrap their transport errors with it; callers answer 503 and the outbox worker backs
// off and retries.
var ErrUnavailable = errors.New("search engine unavailable")

// FieldError says which field or query parameter is wrong, why, and (for closed vocabularies)
// which values are allowed.
type FieldError struct {
	Field   string   // document field or query parameter, e.g. "grade"
	Value   string   // the offending value, as given
	Reason  string   // English, e.g. "not a grade of 小学"
	Allowed []string // allowed values, when the vocabulary is closed and short enough to list
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.Field)
	if e.Value != "" {
		b.WriteString(" ")
		b.WriteString(quote(e.Value))
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	if len(e.Allowed) > 0 {
		b.WriteString(" (allowed: ")
		b.WriteString(strings.Join(e.Allowed, ", "))
		b.WriteString(")")
	}
	return b.String()
}

// ValidationError lists every wrong field of a document, classification or query. Callers
// answer 400 (code "invalid").
type ValidationError []*FieldError

func (v ValidationError) Error() string {
	parts := make([]string, len(v))
	for i, e := range v {
		parts[i] = e.Error()
	}
	return "invalid: " + strings.Join(parts, "; ")
}

// Field returns the error for field, or nil.
func (v ValidationError) Field(field string) *FieldError {
	for _, e := range v {
		if e.Field == field {
			return e
		}
	}
	return nil
}

// IsInvalid reports whether err is (or wraps) a ValidationError.
func IsInvalid(err error) bool {
	var v ValidationError
	return errors.As(err, &v)
}

func quote(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return `"` + strings.ToValidUTF8(s, "?") + `"`
}

type errs struct{ list ValidationError }

func (e *errs) add(field, value, reason string, allowed ...string) {
	e.list = append(e.list, &FieldError{Field: field, Value: value, Reason: reason, Allowed: allowed})
}

func (e *errs) err() error {
	if len(e.list) == 0 {
		return nil
	}
	return e.list
}
