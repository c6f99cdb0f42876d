package contrib

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"ziyuan/rights"
)

// ErrVerification is wrapped by every failure of Verify: a bad signature or proof, an entry
// that does not back its record, a count that does not follow from its entries.
var ErrVerification = errors.New("contribution export does not verify")

// ChinaTime is the zone periods are counted in.
var ChinaTime = time.FixedZone("Asia/Shanghai", 8*60*60)

// TimeZone is how exports name ChinaTime.
const TimeZone = "Asia/Shanghai (UTC+8)"

// NewPeriod makes the period [from, to) from two YYYY-MM-DD dates in China time.
func NewPeriod(from, to string) (Period, error) {
	s, err := time.ParseInLocation("2006-01-02", from, ChinaTime)
	if err != nil {
		return Period{}, fmt.Errorf("from: %w", err)
	}
	e, err := time.ParseInLocation("2006-01-02", to, ChinaTime)
	if err != nil {
		return Period{}, fmt.Errorf("to: %w", err)
	}
	return Period{From: from, To: to, TimeZone: TimeZone, Start: s, End: e}, nil
}

// Report is what a verified export proves.
type Report struct {
	Header Header
	// KeyFromFile is set when no verifier key was given and the export's own was used: that
	// shows the file is consistent, not that the platform's log signed it.
	KeyFromFile bool
	Checkpoint  rights.Checkpoint
	Entries     int64
	Teachers    []TeacherReport
	Totals      Totals
}

// TeacherReport is one verified record.
type TeacherReport struct {
	TeacherID   string
	Name        string
	Institution string
	// Proven from ledger entries.
	Published, Adoptions, Derivatives int64
	// Consistent with the proven adoptions; the holders' institutions are stated.
	AdoptingInstitutions, OwnInstitutionAdoptions int64
	OwnInstitutionMajority                        bool
	// Stated by the platform; not in the ledger.
	Downloads, RatingsCount int64
	RatingsAvg              float64
	EarningsFen             int64
}

// String summarises the report for people: per teacher, what is proven and what is stated.
func (r *Report) String() string {
	var b strings.Builder
	h := r.Header
	fmt.Fprintf(&b, "verified: contribution export %s to %s (%s), generated %s\n", h.Period.From, h.Period.To, h.Period.TimeZone,
		h.GeneratedAt.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "  %d ledger entries proved against the signed checkpoint of %s, tree of %d entries, root %s\n",
		r.Entries, r.Checkpoint.Origin, r.Checkpoint.Size, r.Checkpoint.Root)
	if r.KeyFromFile {
		fmt.Fprintf(&b, "  WARNING: checked with the key inside the file (%s); pass --key with the log's published key to know the log signed it\n", h.Ledger.VerifierKey)
	}
	fmt.Fprintf(&b, "  %d teachers; per teacher: proven counts (from ledger entries) | consistent (institutions as stated) | stated only (not in the ledger)\n", len(r.Teachers))
	for _, t := range r.Teachers {
		flag := ""
		if t.OwnInstitutionMajority {
			flag = ", MOST FROM OWN INSTITUTION"
		}
		fmt.Fprintf(&b, "  %s %s: published %d, adoptions %d, derivatives %d | adopting institutions %d, own-institution adoptions %d%s | downloads %d, ratings %d (avg %.2f), earnings ¥%d.%02d\n",
			t.TeacherID, t.Name, t.Published, t.Adoptions, t.Derivatives, t.AdoptingInstitutions, t.OwnInstitutionAdoptions, flag,
			t.Downloads, t.RatingsCount, t.RatingsAvg, t.EarningsFen/100, abs(t.EarningsFen%100))
	}
	return b.String()
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// fact is what the rules need of a proven entry.
type fact struct {
	typ     rights.EntryType
	time    time.Time
	leaf    tlog.Hash
	work    string
	author  string
	holder  string
	parents []rights.Parent
}

func fail(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrVerification, fmt.Sprintf(format, args...))
}

// Verify checks an export read from r: the checkpoint's signature with verifierKey (or, when
// it is empty, with the key the export names — see Report.KeyFromFile), every entry's
// canonical encoding and inclusion proof, and every record against its entries. It reads the
// export once, keeping the records and a summary of each entry in memory.
func Verify(r io.Reader, verifierKey string) (*Report, error) {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 1<<20))
	rep := &Report{}
	var (
		cp        *rights.SignedCheckpoint
		records   []Record
		facts     = map[int64]*fact{}
		sawTotals bool
		seen      = map[string]bool{}
	)
	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	h := &rep.Header
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fail("not JSON: %v", err)
		}
		key, _ := tok.(string)
		if seen[key] {
			return nil, fail("field %q appears twice", key)
		}
		seen[key] = true
		switch key {
		case "format":
			err = dec.Decode(&h.Format)
		case "definitions":
			err = dec.Decode(&h.Definitions)
		case "generated_at":
			err = dec.Decode(&h.GeneratedAt)
		case "period":
			err = dec.Decode(&h.Period)
		case "filters":
			err = dec.Decode(&h.Filters)
		case "ledger":
			if err = dec.Decode(&h.Ledger); err == nil {
				cp, err = openCheckpoint(rep, verifierKey)
			}
		case "teachers":
			records, err = decodeRecords(dec)
		case "entries":
			if cp == nil {
				return nil, fail("entries come before the ledger checkpoint they are proved against")
			}
			rep.Entries, err = verifyEntries(dec, cp.Checkpoint, facts)
		case "totals":
			sawTotals = true
			err = dec.Decode(&rep.Totals)
		default:
			return nil, fail("unknown field %q", key)
		}
		if err != nil {
			if errors.Is(err, ErrVerification) {
				return nil, err
			}
			return nil, fail("%s: %v", key, err)
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fail("data after the export's JSON object")
	}
	if h.Format != Format {
		return nil, fail("format %q, want %q", h.Format, Format)
	}
	if cp == nil || !sawTotals || records == nil {
		return nil, fail("the export lacks its ledger checkpoint, teachers or totals")
	}
	want, err := NewPeriod(h.Period.From, h.Period.To)
	if err != nil || !want.Start.Equal(h.Period.Start) || !want.End.Equal(h.Period.End) {
		return nil, fail("the period %s to %s does not match its instants %s and %s", h.Period.From, h.Period.To, h.Period.Start, h.Period.End)
	}
	var total Counts
	for i := range records {
		tr, err := checkRecord(&records[i], h.Period, facts)
		if err != nil {
			return nil, err
		}
		rep.Teachers = append(rep.Teachers, tr)
		total.Add(records[i].Counts)
	}
	t := rep.Totals
	if t.Teachers != int64(len(records)) || t.Entries != rep.Entries || t.Counts != total {
		return nil, fail("the totals do not add up: %+v, the records give %d teachers, %d entries, %+v", t, len(records), rep.Entries, total)
	}
	return rep, nil
}

func expectDelim(dec *json.Decoder, d json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return fail("not JSON: %v", err)
	}
	if tok != d {
		return fail("expected %q, found %v", d, tok)
	}
	return nil
}

func openCheckpoint(rep *Report, key string) (*rights.SignedCheckpoint, error) {
	l := rep.Header.Ledger
	key = strings.TrimSpace(key)
	if key == "" {
		key, rep.KeyFromFile = l.VerifierKey, true
	}
	v, err := note.NewVerifier(key)
	if err != nil {
		return nil, fail("verifier key: %v", err)
	}
	if v.Name() != l.KeyName {
		return nil, fail("the export names the key %q, but the verifier key is %q's", l.KeyName, v.Name())
	}
	c, err := rights.OpenCheckpoint([]byte(l.Checkpoint), key)
	if err != nil {
		return nil, fail("checkpoint: %v", err)
	}
	if c.Size != l.TreeSize || c.Origin != l.Origin {
		return nil, fail("the checkpoint is of %s size %d, the export says %s size %d", c.Origin, c.Size, l.Origin, l.TreeSize)
	}
	rep.Checkpoint = c.Checkpoint
	return &c, nil
}

func decodeRecords(dec *json.Decoder) ([]Record, error) {
	if err := expectDelim(dec, '['); err != nil {
		return nil, err
	}
	out := []Record{}
	for dec.More() {
		var r Record
		if err := dec.Decode(&r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, expectDelim(dec, ']')
}

// verifyEntries checks each entry's proof (on all cores) and keeps its facts.
func verifyEntries(dec *json.Decoder, c rights.Checkpoint, facts map[int64]*fact) (int64, error) {
	if err := expectDelim(dec, '['); err != nil {
		return 0, err
	}
	jobs := make(chan Entry, 256)
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range jobs {
				ent, err := c.VerifyInclusion(e.Index, e.Data, e.Proof)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fail("entry %d: %v", e.Index, err)
				}
				if err == nil {
					facts[e.Index] = factOf(ent, e.Data)
				}
				mu.Unlock()
			}
		}()
	}
	var n int64
	last := int64(-1)
	var err error
	for dec.More() {
		var e Entry
		if err = dec.Decode(&e); err != nil {
			break
		}
		if e.Index <= last {
			err = fail("entries must be listed once each, in index order (entry %d after %d)", e.Index, last)
			break
		}
		last = e.Index
		n++
		jobs <- e
	}
	close(jobs)
	wg.Wait()
	if err != nil {
		return n, err
	}
	if firstErr != nil {
		return n, firstErr
	}
	return n, expectDelim(dec, ']')
}

func factOf(e rights.Entry, data []byte) *fact {
	f := &fact{typ: e.Type, time: e.Time, leaf: tlog.RecordHash(data), parents: e.Parents}
	for _, s := range e.Subjects {
		switch s.Role {
		case "work":
			f.work = s.ID
		case "author":
			f.author = s.ID
		case "holder":
			f.holder = s.ID
		}
	}
	return f
}

// checkRecord re-derives a record's ledger-backed counts from the proven entries and compares.
func checkRecord(r *Record, p Period, facts map[int64]*fact) (TeacherReport, error) {
	tr := TeacherReport{TeacherID: r.TeacherID, Name: r.Name, Institution: r.Institution,
		Downloads: r.Downloads, RatingsCount: r.RatingsCount, RatingsAvg: r.RatingsAvg, EarningsFen: r.EarningsFen}
	who := r.TeacherID
	if r.Name != "" {
		who += " (" + r.Name + ")"
	}
	ev := r.Evidence
	if ev == nil {
		ev = &Evidence{}
	}
	get := func(i int64, what string) (*fact, error) {
		f, ok := facts[i]
		if !ok {
			return nil, fail("%s: %s entry %d is not among the proven entries", who, what, i)
		}
		return f, nil
	}
	works := map[string]int64{} // work ID → index of its registration
	for i, x := range ev.Works {
		f, err := get(x, "work")
		if err != nil {
			return tr, err
		}
		if f.typ != rights.WorkRegistered || f.author != r.TeacherID {
			return tr, fail("%s: entry %d is not the registration of a work by this teacher", who, x)
		}
		if slices.Contains(ev.Works[:i], x) {
			return tr, fail("%s: work entry %d is listed twice", who, x)
		}
		works[f.work] = x
		if p.Contains(f.time) {
			tr.Published++
		}
	}
	type pair struct{ work, holder string }
	adopted := map[pair]bool{}
	insts := map[string]bool{}
	for _, a := range ev.Adoptions {
		f, err := get(a.Index, "adoption")
		if err != nil {
			return tr, err
		}
		_, ours := works[f.work]
		switch {
		case f.typ != rights.LicenseGranted:
			return tr, fail("%s: adoption entry %d is a %s, not a licence grant", who, a.Index, f.typ)
		case !ours:
			return tr, fail("%s: adoption entry %d licenses a work that is not among the teacher's works", who, a.Index)
		case f.holder == r.TeacherID:
			return tr, fail("%s: adoption entry %d is the author's own licence", who, a.Index)
		case !p.Contains(f.time):
			return tr, fail("%s: adoption entry %d was granted at %s, outside the period", who, a.Index, f.time.UTC().Format(time.RFC3339))
		case adopted[pair{f.work, f.holder}]:
			return tr, fail("%s: adoption entry %d repeats an adoption of the same work by the same holder", who, a.Index)
		}
		adopted[pair{f.work, f.holder}] = true
		tr.Adoptions++
		switch {
		case a.InstitutionID == "":
		case a.InstitutionID == r.InstitutionID:
			tr.OwnInstitutionAdoptions++
		default:
			insts[a.InstitutionID] = true
		}
	}
	tr.AdoptingInstitutions = int64(len(insts))
	tr.OwnInstitutionMajority = Majority(tr.OwnInstitutionAdoptions, tr.Adoptions)
	for i, x := range ev.Derivatives {
		f, err := get(x, "derivative")
		if err != nil {
			return tr, err
		}
		derived := false
		for _, par := range f.parents {
			pf, ok := facts[par.Index]
			if !ok || pf.leaf != par.LeafHash {
				continue
			}
			if wi, ours := works[pf.work]; ours && wi == par.Index {
				derived = true
			}
		}
		switch {
		case f.typ != rights.WorkRegistered:
			return tr, fail("%s: derivative entry %d is a %s, not a work registration", who, x, f.typ)
		case f.author == r.TeacherID:
			return tr, fail("%s: derivative entry %d is the teacher's own work", who, x)
		case !derived:
			return tr, fail("%s: derivative entry %d does not name one of the teacher's works as a parent", who, x)
		case !p.Contains(f.time):
			return tr, fail("%s: derivative entry %d was registered outside the period", who, x)
		case slices.Contains(ev.Derivatives[:i], x):
			return tr, fail("%s: derivative entry %d is listed twice", who, x)
		}
		tr.Derivatives++
	}
	c := r.Counts
	checks := []struct {
		name        string
		said, found any
	}{
		{"published", c.Published, tr.Published},
		{"adoptions", c.Adoptions, tr.Adoptions},
		{"derivatives", c.Derivatives, tr.Derivatives},
		{"adopting_institutions", c.AdoptingInstitutions, tr.AdoptingInstitutions},
		{"own_institution_adoptions", c.OwnInstitutionAdoptions, tr.OwnInstitutionAdoptions},
		{"own_institution_majority", c.OwnInstitutionMajority, tr.OwnInstitutionMajority},
		{"ratings_avg", c.RatingsAvg, Average(c.RatingsSum, c.RatingsCount)},
	}
	for _, ch := range checks {
		if ch.said != ch.found {
			return tr, fail("%s: %s is %v, but its entries give %v", who, ch.name, ch.said, ch.found)
		}
	}
	return tr, nil
}
