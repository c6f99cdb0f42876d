package rights

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// EntryType names what a ledger entry records.
type EntryType string

// The entry types of API.md. Adding one is a format change only in the sense that older
// verifiers reject the new type; the encoding version stays the same.
const (
	WorkRegistered EntryType = "work.registered"
	WorkPublished  EntryType = "work.published"
	WorkUpdated    EntryType = "work.updated"
	WorkTakenDown  EntryType = "work.taken_down"
	LicenseGranted EntryType = "license.granted"
	LicenseRevoked EntryType = "license.revoked"
)

// EntryTypes lists every entry type, in a stable order.
var EntryTypes = []EntryType{WorkRegistered, WorkPublished, WorkUpdated, WorkTakenDown, LicenseGranted, LicenseRevoked}

// MaxEntrySize bounds an encoded entry. C2SP tlog-tiles entry bundles prefix each entry with a
// 16-bit length, so nothing larger could be served to standard tile clients.
const MaxEntrySize = 1<<16 - 1

// Limits that keep entries small and free of prose: an entry identifies things, it does not
// describe them.
const (
	maxSubjects       = 32
	maxParents        = 256
	maxFingerprintLen = 8 << 10
)

// entryHeader is the first line of every version-1 entry. A future incompatible encoding gets a
// new header, so old verifiers reject it instead of misreading it.
const entryHeader = "ziyuan-ledger-entry v1"

// Entry is one ledger record. It names things only by opaque IDs: the ledger is public and
// permanent, so it must never hold personal data (names, logins, e-mail addresses), which is
// also why IDs are restricted to a small ASCII alphabet.
type Entry struct {
	Type EntryType `json:"type"`
	// Time is when the recorded event happened. Enqueue fills a zero Time from the log's clock.
	// It is encoded in UTC with RFC 3339 (nanosecond precision, trailing zeros dropped).
	Time time.Time `json:"time"`
	// Subjects are the things the entry is about, e.g. {work, <resource id>}, {version, <id>},
	// {author, <user id>}, {license, <id>}, {holder, <user or institution id>}. Encode sorts
	// them; a (role, id) pair may appear once.
	Subjects []Subject `json:"subjects"`
	// ContentSHA256 is the SHA-256 of the work's content (market hashes a version's file
	// manifest); zero means none.
	ContentSHA256 Digest `json:"content_sha256,omitzero"`
	// Fingerprint is an opaque near-duplicate fingerprint, normally Signature.MarshalBinary,
	// so that an author can later show that an earlier work resembled a later one.
	Fingerprint []byte `json:"fingerprint,omitempty"`
	// Parents are earlier entries this one builds on (a derivative's sources, the grant a
	// revocation revokes), each pinned by index and leaf hash. Encode sorts them by index.
	Parents []Parent `json:"parents,omitempty"`
	// License holds licence terms; required for license.granted.
	License *License `json:"license,omitempty"`
	// Reason is a machine code, e.g. "refund", "complaint_upheld"; never free text.
	Reason string `json:"reason,omitempty"`
}

// Subject is one thing an entry is about: a role such as "work" or "license" and an opaque ID.
type Subject struct {
	Role string `json:"role"`
	ID   string `json:"id"`
}

// Parent pins an earlier entry by its index and leaf hash, so a reference cannot be redirected
// to a different entry later.
type Parent struct {
	Index    int64     `json:"index"`
	LeafHash tlog.Hash `json:"leaf_hash"`
}

// License is the licence terms an entry records: a licence code (e.g. "cc-by-sa", "paid"),
// the scope of a sold licence, and its price in the currency's minor unit (fen).
type License struct {
	Code     string `json:"code"`
	Scope    string `json:"scope,omitempty"`
	PriceFen int64  `json:"price_fen,omitempty"`
	Currency string `json:"currency,omitempty"`
}

// Digest is a SHA-256 digest, shown as lowercase hex.
type Digest [32]byte

// IsZero reports whether d is unset.
func (d Digest) IsZero() bool { return d == Digest{} }

func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// MarshalText encodes d as lowercase hex.
func (d Digest) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText decodes 64 hex digits.
func (d *Digest) UnmarshalText(b []byte) error {
	parsed, err := ParseDigest(string(b))
	if err != nil {
		return err
	}
	*d = parsed
	return nil
}

// ParseDigest parses 64 lowercase hex digits.
func ParseDigest(s string) (Digest, error) {
	var d Digest
	if len(s) != 64 || strings.ToLower(s) != s {
		return d, fmt.Errorf("%w: digest must be 64 lowercase hex digits", ErrInvalid)
	}
	if _, err := hex.Decode(d[:], []byte(s)); err != nil {
		return d, fmt.Errorf("%w: digest: %v", ErrInvalid, err)
	}
	return d, nil
}

// Encode returns the canonical version-1 encoding of e: UTF-8 lines, fields in a fixed order,
// subjects and parents sorted, each line ending in a newline. The same entry always encodes to
// the same bytes, which is what makes its leaf hash meaningful.
//
//	ziyuan-ledger-entry v1
//	type license.granted
//	time 2026-03-01T08:00:00Z
//	subject license 0190c7e2-8c3e-7000-8000-000000000001   (one line per subject, sorted)
//	subject work 0190c7e2-8c3e-7000-8000-000000000002
//	content-sha256 <64 hex digits>                           (optional)
//	fingerprint <standard base64>                            (optional)
//	parent 17 <base64 leaf hash>                             (one per parent, by index)
//	license cc-by-nc                                         (optional, then its terms)
//	license-scope classroom                                  (optional)
//	license-price 1200 CNY                                   (optional)
//	reason refund                                            (optional)
func Encode(e Entry) ([]byte, error) {
	if err := e.validate(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(entryHeader + "\n")
	b.WriteString("type " + string(e.Type) + "\n")
	b.WriteString("time " + e.Time.UTC().Format(time.RFC3339Nano) + "\n")
	for _, s := range sortedSubjects(e.Subjects) {
		b.WriteString("subject " + s.Role + " " + s.ID + "\n")
	}
	if !e.ContentSHA256.IsZero() {
		b.WriteString("content-sha256 " + e.ContentSHA256.String() + "\n")
	}
	if len(e.Fingerprint) > 0 {
		b.WriteString("fingerprint " + base64.StdEncoding.EncodeToString(e.Fingerprint) + "\n")
	}
	for _, p := range sortedParents(e.Parents) {
		b.WriteString("parent " + strconv.FormatInt(p.Index, 10) + " " + p.LeafHash.String() + "\n")
	}
	if l := e.License; l != nil {
		b.WriteString("license " + l.Code + "\n")
		if l.Scope != "" {
			b.WriteString("license-scope " + l.Scope + "\n")
		}
		if l.PriceFen > 0 {
			b.WriteString("license-price " + strconv.FormatInt(l.PriceFen, 10) + " " + l.Currency + "\n")
		}
	}
	if e.Reason != "" {
		b.WriteString("reason " + e.Reason + "\n")
	}
	if b.Len() > MaxEntrySize {
		return nil, fmt.Errorf("%w: entry encodes to %d bytes, more than %d", ErrTooLarge, b.Len(), MaxEntrySize)
	}
	return b.Bytes(), nil
}

// Decode parses an encoded entry and accepts only the canonical encoding: it re-encodes what
// it parsed and requires the very same bytes, so no two byte strings decode to the same entry
// (and so no two leaf hashes can claim the same event).
func Decode(data []byte) (Entry, error) {
	var e Entry
	if len(data) > MaxEntrySize {
		return e, fmt.Errorf("%w: entry of %d bytes, more than %d", ErrTooLarge, len(data), MaxEntrySize)
	}
	if len(data) == 0 || data[len(data)-1] != '\n' {
		return e, fmt.Errorf("%w: entry must end in a newline", ErrInvalid)
	}
	lines := strings.Split(string(data[:len(data)-1]), "\n")
	p := lineParser{lines: lines}
	if l, _ := p.next(); l != entryHeader {
		return e, fmt.Errorf("%w: entry does not start with %q", ErrInvalid, entryHeader)
	}
	v, err := p.field("type")
	if err != nil {
		return e, err
	}
	e.Type = EntryType(v)
	if v, err = p.field("time"); err != nil {
		return e, err
	}
	if e.Time, err = time.Parse(time.RFC3339Nano, v); err != nil {
		return e, fmt.Errorf("%w: time: %v", ErrInvalid, err)
	}
	for p.peek("subject") {
		v, _ := p.field("subject")
		role, id, ok := strings.Cut(v, " ")
		if !ok {
			return e, fmt.Errorf("%w: subject line needs a role and an id", ErrInvalid)
		}
		e.Subjects = append(e.Subjects, Subject{Role: role, ID: id})
	}
	if p.peek("content-sha256") {
		v, _ := p.field("content-sha256")
		if e.ContentSHA256, err = ParseDigest(v); err != nil {
			return e, err
		}
	}
	if p.peek("fingerprint") {
		v, _ := p.field("fingerprint")
		if e.Fingerprint, err = base64.StdEncoding.Strict().DecodeString(v); err != nil {
			return e, fmt.Errorf("%w: fingerprint: %v", ErrInvalid, err)
		}
	}
	for p.peek("parent") {
		v, _ := p.field("parent")
		is, hs, ok := strings.Cut(v, " ")
		if !ok {
			return e, fmt.Errorf("%w: parent line needs an index and a leaf hash", ErrInvalid)
		}
		idx, err := strconv.ParseInt(is, 10, 64)
		if err != nil {
			return e, fmt.Errorf("%w: parent index: %v", ErrInvalid, err)
		}
		h, err := tlog.ParseHash(hs)
		if err != nil {
			return e, fmt.Errorf("%w: parent leaf hash: %v", ErrInvalid, err)
		}
		e.Parents = append(e.Parents, Parent{Index: idx, LeafHash: h})
	}
	if p.peek("license") {
		v, _ := p.field("license")
		e.License = &License{Code: v}
		if p.peek("license-scope") {
			e.License.Scope, _ = p.field("license-scope")
		}
		if p.peek("license-price") {
			v, _ := p.field("license-price")
			ps, cur, ok := strings.Cut(v, " ")
			if !ok {
				return e, fmt.Errorf("%w: license-price needs an amount and a currency", ErrInvalid)
			}
			if e.License.PriceFen, err = strconv.ParseInt(ps, 10, 64); err != nil {
				return e, fmt.Errorf("%w: license price: %v", ErrInvalid, err)
			}
			e.License.Currency = cur
		}
	}
	if p.peek("reason") {
		e.Reason, _ = p.field("reason")
	}
	if !p.done() {
		return e, fmt.Errorf("%w: unexpected line %q", ErrInvalid, p.lines[p.i])
	}
	again, err := Encode(e)
	if err != nil {
		return Entry{}, err
	}
	if !bytes.Equal(again, data) {
		return Entry{}, fmt.Errorf("%w: entry is not in canonical form", ErrInvalid)
	}
	// Hand back the canonical ordering, which is the order the bytes already have.
	return e, nil
}

type lineParser struct {
	lines []string
	i     int
}

func (p *lineParser) next() (string, bool) {
	if p.i >= len(p.lines) {
		return "", false
	}
	p.i++
	return p.lines[p.i-1], true
}

func (p *lineParser) peek(name string) bool {
	return p.i < len(p.lines) && strings.HasPrefix(p.lines[p.i], name+" ")
}

func (p *lineParser) field(name string) (string, error) {
	if !p.peek(name) {
		return "", fmt.Errorf("%w: expected a %q line", ErrInvalid, name)
	}
	l, _ := p.next()
	return l[len(name)+1:], nil
}

func (p *lineParser) done() bool { return p.i == len(p.lines) }

func (e *Entry) validate() error {
	if !slices.Contains(EntryTypes, e.Type) {
		return fmt.Errorf("%w: unknown entry type %q", ErrInvalid, e.Type)
	}
	if e.Time.IsZero() {
		return fmt.Errorf("%w: entry has no time", ErrInvalid)
	}
	if y := e.Time.UTC().Year(); y < 2000 || y > 9999 {
		return fmt.Errorf("%w: entry time %s is out of range", ErrInvalid, e.Time.UTC().Format(time.RFC3339))
	}
	if len(e.Subjects) == 0 || len(e.Subjects) > maxSubjects {
		return fmt.Errorf("%w: an entry needs 1 to %d subjects, has %d", ErrInvalid, maxSubjects, len(e.Subjects))
	}
	roles := map[string]bool{}
	subjects := sortedSubjects(e.Subjects)
	for i, s := range subjects {
		if !isToken(s.Role, 32) {
			return fmt.Errorf("%w: subject role %q must be lowercase letters, digits and _ (at most 32)", ErrInvalid, s.Role)
		}
		if !isID(s.ID) {
			return fmt.Errorf("%w: subject id %q must be 1 to 128 of A-Z a-z 0-9 . _ : - (opaque IDs only)", ErrInvalid, s.ID)
		}
		if i > 0 && s == subjects[i-1] {
			return fmt.Errorf("%w: subject %s %s appears twice", ErrInvalid, s.Role, s.ID)
		}
		roles[s.Role] = true
	}
	if !roles["work"] {
		return fmt.Errorf("%w: a %s entry needs a work subject", ErrInvalid, e.Type)
	}
	if strings.HasPrefix(string(e.Type), "license.") && !roles["license"] {
		return fmt.Errorf("%w: a %s entry needs a license subject", ErrInvalid, e.Type)
	}
	if e.Type == LicenseGranted && e.License == nil {
		return fmt.Errorf("%w: a license.granted entry needs licence terms", ErrInvalid)
	}
	if len(e.Fingerprint) > maxFingerprintLen {
		return fmt.Errorf("%w: fingerprint of %d bytes, more than %d", ErrTooLarge, len(e.Fingerprint), maxFingerprintLen)
	}
	if len(e.Parents) > maxParents {
		return fmt.Errorf("%w: %d parents, more than %d", ErrInvalid, len(e.Parents), maxParents)
	}
	ps := sortedParents(e.Parents)
	for i, p := range ps {
		if p.Index < 0 {
			return fmt.Errorf("%w: parent index %d is negative", ErrInvalid, p.Index)
		}
		if i > 0 && p.Index == ps[i-1].Index {
			return fmt.Errorf("%w: parent %d appears twice", ErrInvalid, p.Index)
		}
	}
	if l := e.License; l != nil {
		if !isLicenseCode(l.Code) {
			return fmt.Errorf("%w: licence code %q must be 1 to 32 of a-z 0-9 . -", ErrInvalid, l.Code)
		}
		if l.Scope != "" && !isToken(l.Scope, 32) {
			return fmt.Errorf("%w: licence scope %q must be lowercase letters, digits and _", ErrInvalid, l.Scope)
		}
		switch {
		case l.PriceFen < 0:
			return fmt.Errorf("%w: negative licence price", ErrInvalid)
		case l.PriceFen > 0 && !isCurrency(l.Currency):
			return fmt.Errorf("%w: a priced licence needs a currency of three capital letters, got %q", ErrInvalid, l.Currency)
		case l.PriceFen == 0 && l.Currency != "":
			return fmt.Errorf("%w: a currency without a price", ErrInvalid)
		}
	}
	if e.Reason != "" && !isToken(e.Reason, 64) {
		return fmt.Errorf("%w: reason %q must be a code of lowercase letters, digits and _", ErrInvalid, e.Reason)
	}
	return nil
}

func sortedSubjects(s []Subject) []Subject {
	out := slices.Clone(s)
	slices.SortFunc(out, func(a, b Subject) int {
		return cmp.Or(strings.Compare(a.Role, b.Role), strings.Compare(a.ID, b.ID))
	})
	return out
}

func sortedParents(p []Parent) []Parent {
	out := slices.Clone(p)
	slices.SortFunc(out, func(a, b Parent) int { return cmp.Compare(a.Index, b.Index) })
	return out
}

// isToken: a lowercase code starting with a letter.
func isToken(s string, max int) bool {
	if len(s) == 0 || len(s) > max || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// isID accepts UUIDs and similar opaque identifiers, and nothing with spaces, '@' or non-ASCII
// letters, which keeps names and e-mail addresses out of the public ledger.
func isID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

func isLicenseCode(s string) bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

func isCurrency(s string) bool {
	return len(s) == 3 && strings.ToUpper(s) == s && strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == ""
}

// EntryView is the JSON shape of GET /ledger/entries/{index}: the decoded entry for people and
// the exact leaf bytes (base64) with their leaf hash for verifiers.
type EntryView struct {
	Index    int64     `json:"index"`
	LeafHash tlog.Hash `json:"leaf_hash"`
	Entry    Entry     `json:"entry"`
	Data     []byte    `json:"data"`
}
