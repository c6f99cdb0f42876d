package files

import "time"

// Limits bound what one upload may cost us. A zero field takes its default, so Limits{} is the
// production configuration and tests lower only what they exercise.
type Limits struct {
	// MaxSize is the largest accepted file (default 200 MiB, API.md).
	MaxSize int64
	// MaxText is how much extracted UTF-8 text is kept (default 2 MiB); the rest is dropped and
	// Upload.TextTruncated set. Search and fingerprints need no more.
	MaxText int
	// MaxEntries bounds the entries of a ZIP or Office container (default 10,000).
	MaxEntries int
	// MaxExpanded bounds the total uncompressed size of a ZIP or Office container (default 1 GiB).
	MaxExpanded int64
	// MaxRatio bounds the compression ratio of each entry and of the whole archive (default
	// 100, meaning 100:1). Ordinary documents compress 2–20:1; bombs compress 1000:1.
	MaxRatio int64
	// RatioFloor exempts small entries from the ratio check (default 1 MiB): a few kilobytes of
	// spaces legitimately compress 300:1 and can do no harm.
	RatioFloor int64
	// ExtractTimeout bounds text extraction of one file (default 20 s). Past it the upload is
	// still accepted, with the text found so far and TextErr set.
	ExtractTimeout time.Duration
}

// Default limits.
const (
	DefaultMaxSize        = 200 << 20
	DefaultMaxText        = 2 << 20
	DefaultMaxEntries     = 10_000
	DefaultMaxExpanded    = 1 << 30
	DefaultMaxRatio       = 100
	DefaultRatioFloor     = 1 << 20
	DefaultExtractTimeout = 20 * time.Second
)

// withDefaults fills zero fields.
func (l Limits) withDefaults() Limits {
	if l.MaxSize <= 0 {
		l.MaxSize = DefaultMaxSize
	}
	if l.MaxText <= 0 {
		l.MaxText = DefaultMaxText
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultMaxEntries
	}
	if l.MaxExpanded <= 0 {
		l.MaxExpanded = DefaultMaxExpanded
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = DefaultMaxRatio
	}
	if l.RatioFloor <= 0 {
		l.RatioFloor = DefaultRatioFloor
	}
	if l.ExtractTimeout <= 0 {
		l.ExtractTimeout = DefaultExtractTimeout
	}
	return l
}
