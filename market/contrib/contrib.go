// Package contrib is the verifiable contribution record: the JSON export format of teachers'
// contribution counts (docs/contributions.md), the rules that re-derive the ledger-backed counts
// from the proven ledger entries, and the offline verifier behind `ziyuan ledger verify
// --export`. It needs no database and imports only rights, so that anyone can check an export
// with the log's public key.
//
// # Format
//
// An export is one JSON object: a header (format, period, filters, the signed checkpoint and
// the log's verifier key), "teachers" — one Record per teacher with its counts and the ledger
// indexes behind them — and "entries": every referenced entry once, in index order, with its
// exact bytes (base64) and its inclusion proof against the one checkpoint. Writer produces it
// streaming; Verify reads it streaming.
//
// What is proved: published, adoptions and derivatives are re-derived from the entries (their
// types, times, authors, holders, works and parents) and must equal the stated counts, so
// raising a count or changing an entry byte fails verification. The holders' institutions
// (adopting institutions, own-institution adoptions and the flag) are checked for consistency
// with the proven adoptions, but which institution a holder belongs to is the platform's
// statement: the ledger holds no personal data. Downloads, ratings and earnings are not in the
// ledger at all and are reported as stated. Inclusion proofs show that what is listed
// happened; they cannot show that nothing was left out.
package contrib

import (
	"math"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// Format names the export format and its version.
const Format = "ziyuan-contributions/v1"

// Definitions names the definitions the counts follow.
const Definitions = "docs/contributions.md, definitions v1"

// Header is everything in an export before the teachers.
type Header struct {
	Format      string    `json:"format"`
	Definitions string    `json:"definitions"`
	GeneratedAt time.Time `json:"generated_at"`
	Period      Period    `json:"period"`
	Filters     Filters   `json:"filters"`
	Ledger      Ledger    `json:"ledger"`
}

// Period is the half-open period [From, To) of calendar days in China time.
type Period struct {
	From     string    `json:"from"` // YYYY-MM-DD, included
	To       string    `json:"to"`   // YYYY-MM-DD, excluded
	TimeZone string    `json:"time_zone"`
	Start    time.Time `json:"start"` // From at 00:00 China time, as an instant
	End      time.Time `json:"end"`   // To at 00:00 China time
}

// Contains reports whether t falls in the period.
func (p Period) Contains(t time.Time) bool { return !t.Before(p.Start) && t.Before(p.End) }

// Filters are the export's selection, as requested (empty: not filtered).
type Filters struct {
	InstitutionID string `json:"institution_id,omitempty"`
	TeacherID     string `json:"teacher_id,omitempty"`
	Subject       string `json:"subject,omitempty"`
	Stage         string `json:"stage,omitempty"`
}

// Ledger names the one signed checkpoint every proof leads to and the key that signed it.
type Ledger struct {
	Origin string `json:"origin"`
	// KeyName is the verifier key's name; VerifierKey is the whole key, for convenience only:
	// a file cannot vouch for itself, so verifiers should pass the key they trust.
	KeyName     string `json:"key_name"`
	VerifierKey string `json:"verifier_key"`
	TreeSize    int64  `json:"tree_size"`
	// Checkpoint is the signed C2SP checkpoint note.
	Checkpoint string `json:"checkpoint"`
}

// Counts are a teacher's contribution counts for the period (docs/contributions.md).
type Counts struct {
	Published               int64   `json:"published"`
	Adoptions               int64   `json:"adoptions"`
	AdoptingInstitutions    int64   `json:"adopting_institutions"`
	OwnInstitutionAdoptions int64   `json:"own_institution_adoptions"`
	OwnInstitutionMajority  bool    `json:"own_institution_majority"`
	Downloads               int64   `json:"downloads"`
	RatingsCount            int64   `json:"ratings_count"`
	RatingsSum              int64   `json:"ratings_sum"`
	RatingsAvg              float64 `json:"ratings_avg"`
	Derivatives             int64   `json:"derivatives"`
	EarningsFen             int64   `json:"earnings_fen"`
}

// Add adds o's counts to c, for totals over teachers: the average and the flag are recomputed,
// and adopting institutions, which do not add up over teachers, are left out.
func (c *Counts) Add(o Counts) {
	c.Published += o.Published
	c.Adoptions += o.Adoptions
	c.OwnInstitutionAdoptions += o.OwnInstitutionAdoptions
	c.Downloads += o.Downloads
	c.RatingsCount += o.RatingsCount
	c.RatingsSum += o.RatingsSum
	c.Derivatives += o.Derivatives
	c.EarningsFen += o.EarningsFen
	c.Finish()
}

// Finish derives the average and the flag from the other counts.
func (c *Counts) Finish() {
	c.RatingsAvg = Average(c.RatingsSum, c.RatingsCount)
	c.OwnInstitutionMajority = Majority(c.OwnInstitutionAdoptions, c.Adoptions)
}

// Average is sum/count rounded to two decimals (0 without ratings).
func Average(sum, count int64) float64 {
	if count == 0 {
		return 0
	}
	return math.Round(float64(sum)*100/float64(count)) / 100
}

// Majority is the own-institution flag: more than half of the adoptions come from the
// author's own institution.
func Majority(own, all int64) bool { return all > 0 && 2*own > all }

// Record is one teacher's contribution record.
type Record struct {
	TeacherID     string `json:"teacher_id"`
	Name          string `json:"name"`
	InstitutionID string `json:"institution_id,omitempty"`
	Institution   string `json:"institution,omitempty"`
	Counts
	// Pending counts events left out because their ledger entries were not yet covered by
	// the export's checkpoint; they count in a later export.
	Pending  int64     `json:"pending,omitempty"`
	Evidence *Evidence `json:"evidence,omitempty"`
}

// Evidence lists the ledger entries behind a record's counts, by index.
type Evidence struct {
	// Works are the work.registered entries of the teacher's works that the record counts or
	// that its adoptions and derivatives refer to; those registered in the period are the
	// published count.
	Works []int64 `json:"works"`
	// Adoptions are the license.granted entries counted, each with the adopter's institution
	// as the platform knows it.
	Adoptions []Adoption `json:"adoptions"`
	// Derivatives are the work.registered entries of other authors' works whose registration
	// names one of Works as a parent.
	Derivatives []int64 `json:"derivatives"`
}

// Adoption is one counted licence.
type Adoption struct {
	Index         int64  `json:"index"`
	InstitutionID string `json:"institution_id,omitempty"`
}

// Entry is a ledger entry with its inclusion proof, as listed in "entries".
type Entry struct {
	Index int64       `json:"index"`
	Data  []byte      `json:"data"`
	Proof []tlog.Hash `json:"proof"`
}

// Totals close an export.
type Totals struct {
	Teachers int64  `json:"teachers"`
	Entries  int64  `json:"entries"`
	Counts   Counts `json:"counts"`
}
