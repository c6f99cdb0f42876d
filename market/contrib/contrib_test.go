package contrib

import (
	"errors"
	"strings"
	"testing"
)

func TestPeriod(t *testing.T) {
	p, err := NewPeriod("2026-10-01", "2026-11-01")
	if err != nil {
		t.Fatal(err)
	}
	if p.Start.UTC().Format("2006-01-02T15") != "2026-09-30T16" || !p.Contains(p.Start) || p.Contains(p.End) {
		t.Fatalf("period %+v", p)
	}
	for _, bad := range [][2]string{{"2026-13-01", "2027-01-01"}, {"2026-01-01", "tomorrow"}} {
		if _, err := NewPeriod(bad[0], bad[1]); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestCounts(t *testing.T) {
	if Average(9, 2) != 4.5 || Average(10, 3) != 3.33 || Average(0, 0) != 0 {
		t.Fatal("Average")
	}
	if !Majority(6, 9) || Majority(2, 4) || Majority(0, 0) {
		t.Fatal("Majority")
	}
	var c Counts
	c.Add(Counts{Published: 1, Adoptions: 4, OwnInstitutionAdoptions: 3, RatingsCount: 2, RatingsSum: 9, AdoptingInstitutions: 5})
	if c.RatingsAvg != 4.5 || !c.OwnInstitutionMajority || c.AdoptingInstitutions != 0 {
		t.Fatalf("totals %+v", c)
	}
}

// TestVerifyRefusesMalformedExports: anything but a well-formed export is a verification
// failure, never a panic.
func TestVerifyRefusesMalformedExports(t *testing.T) {
	for _, in := range []string{
		"", "null", "[]", "{", `{"format":"x"}`, `{"unknown":1}`, `{"format":"ziyuan-contributions/v1","format":"x"}`,
		`{"entries":[{"index":0,"data":"","proof":[]}]}`,
		`{"format":"ziyuan-contributions/v1","ledger":{"key_name":"a","verifier_key":"nonsense"}}`,
		`{"format":"ziyuan-contributions/v1","teachers":[],"totals":{}}`,
		`{"format":"ziyuan-contributions/v1"} trailing`,
	} {
		_, err := Verify(strings.NewReader(in), "")
		if !errors.Is(err, ErrVerification) {
			t.Errorf("%q: %v", in, err)
		}
	}
}
