package market

import (
	"context"
	"net/netip"
	"time"

	"github.com/google/uuid"
)

// NewID returns a UUIDv7: sortable by creation time and safe to expose.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// ValidID reports whether s looks like an ID we issue, so that lookups of garbage fail early
// with not_found instead of reaching the database.
func ValidID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// Clock is the source of time; tests inject a fixed or stepping clock.
type Clock func() time.Time

// SystemClock returns the current UTC time.
func SystemClock() time.Time { return time.Now().UTC() }

// Actor is who is acting: the signed-in user (zero for anonymous callers) and the request's
// client address, for the audit log.
type Actor struct {
	UserID        string
	Login         string
	Roles         []Role
	InstitutionID string
	Verified      bool
	// ConsentNeeded is true for a student under 14 without a guardian's recorded consent.
	ConsentNeeded bool
	IP            netip.Addr
	RequestID     string
}

// Anonymous reports whether nobody is signed in.
func (a Actor) Anonymous() bool { return a.UserID == "" }

// Has reports whether the actor holds role r.
func (a Actor) Has(r Role) bool {
	for _, x := range a.Roles {
		if x == r {
			return true
		}
	}
	return false
}

type actorKey struct{}

// WithActor returns a context carrying the acting user.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the acting user, or the zero (anonymous) Actor.
func ActorFrom(ctx context.Context) Actor {
	a, _ := ctx.Value(actorKey{}).(Actor)
	return a
}
