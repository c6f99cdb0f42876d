package rights

import "errors"

// The sentinel errors below classify every failure the package returns, so that callers map them
// to their own error codes with errors.Is (the web layer: ErrInvalid → 400, ErrNotFound → 404,
// ErrPending → 404 with a "not yet" message, ErrTooLarge → 413, anything else → 500). rights
// imports nothing of Ziyuan, so it cannot use market's error type.
var (
	// ErrInvalid marks bad input: a malformed entry, a non-canonical encoding, an impossible
	// index or size, a bad tile path.
	ErrInvalid = errors.New("invalid")
	// ErrTooLarge marks an entry whose encoding exceeds MaxEntrySize.
	ErrTooLarge = errors.New("too large")
	// ErrNotFound marks an index, key, size or tile the log does not have.
	ErrNotFound = errors.New("not found")
	// ErrPending marks something that exists but is not yet integrated into the tree or not yet
	// covered by a signed checkpoint; asking again later succeeds.
	ErrPending = errors.New("not yet integrated or checkpointed")
	// ErrVerification marks a proof, signature or receipt that does not verify.
	ErrVerification = errors.New("verification failed")
	// ErrInconsistent marks a log whose stored state contradicts itself or an earlier signed
	// checkpoint. It is never retried: signing on top of it would fork the public log.
	ErrInconsistent = errors.New("ledger inconsistent")
	// ErrNotLeader marks an Integrate or Publish refused because this process does not hold
	// the ledger lease: it lost it (a pause, a partition, a database restart) or stands by.
	// Nothing was written; the current leader does the work.
	ErrNotLeader = errors.New("not the ledger leader")
)
