package catalog

import "context"

// Engine is a search index over Documents. Implementations are safe for concurrent use.
//
// Writes are idempotent: upserting a document replaces any earlier version with the same ID, and
// deleting a missing ID is not an error. Errors that mean "try again later" wrap ErrUnavailable.
type Engine interface {
	// EnsureIndex creates the index or brings its settings up to date. It is safe to call on
	// every start.
	EnsureIndex(ctx context.Context) error
	// Upsert adds or replaces documents.
	Upsert(ctx context.Context, docs ...Document) error
	// Delete removes documents by ID.
	Delete(ctx context.Context, ids ...string) error
	// Wait returns once every write this engine accepted before the call is searchable, or
	// with the error of a write that failed.
	Wait(ctx context.Context) error
	// Search answers q. Invalid queries give a ValidationError.
	Search(ctx context.Context, q Query) (Result, error)
	// Close releases the engine's resources.
	Close() error
}

// IDLister is implemented by engines that can enumerate the IDs they hold; Reindex uses it to
// remove documents that are no longer in the source.
type IDLister interface {
	ListIDs(ctx context.Context, fn func(id string) error) error
}
