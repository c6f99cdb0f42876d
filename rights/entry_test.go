package rights_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"ziyuan/rights"
)

func fullEntry() rights.Entry {
	return rights.Entry{
		Type: rights.LicenseGranted,
		Time: time.Date(2026, 3, 1, 8, 0, 0, 123000000, time.FixedZone("CST", 8*3600)),
		Subjects: []rights.Subject{
			{Role: "work", ID: "0190c7e2-8c3e-7000-8000-000000000002"},
			{Role: "license", ID: "0190c7e2-8c3e-7000-8000-000000000001"},
			{Role: "holder", ID: "0190c7e2-8c3e-7000-8000-000000000009"},
		},
		ContentSHA256: rights.Digest{1, 2, 3},
		Fingerprint:   []byte("MH1\x03\x00\x01abcd"),
		Parents:       []rights.Parent{{Index: 9, LeafHash: tlog.RecordHash([]byte("b"))}, {Index: 3, LeafHash: tlog.RecordHash([]byte("a"))}},
		License:       &rights.License{Code: "paid", Scope: "classroom", PriceFen: 1200, Currency: "CNY"},
		Reason:        "order_paid",
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	cases := map[string]rights.Entry{"full": fullEntry()}
	for _, typ := range rights.EntryTypes {
		e := rights.Entry{Type: typ, Time: t0, Subjects: []rights.Subject{{Role: "work", ID: "w1"}}}
		if strings.HasPrefix(string(typ), "license.") {
			e.Subjects = append(e.Subjects, rights.Subject{Role: "license", ID: "l1"})
			e.License = &rights.License{Code: "cc-by"}
		}
		cases[string(typ)] = e
	}
	for name, e := range cases {
		t.Run(name, func(t *testing.T) {
			data, err := rights.Encode(e)
			if err != nil {
				t.Fatal(err)
			}
			got, err := rights.Decode(data)
			if err != nil {
				t.Fatalf("decode %q: %v", data, err)
			}
			again, err := rights.Encode(got)
			if err != nil || !bytes.Equal(again, data) {
				t.Fatalf("re-encoding differs: %q vs %q (%v)", again, data, err)
			}
			if !got.Time.Equal(e.Time) || got.Time.Location() != time.UTC {
				t.Errorf("time %v, want %v in UTC", got.Time, e.Time)
			}
			if got.Type != e.Type || len(got.Subjects) != len(e.Subjects) || len(got.Parents) != len(e.Parents) {
				t.Errorf("decoded %+v, want %+v", got, e)
			}
		})
	}
}

func TestEncodeIsCanonicalAndOrdered(t *testing.T) {
	e := fullEntry()
	data, err := rights.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	want := "ziyuan-ledger-entry v1\n" +
		"type license.granted\n" +
		"time 2026-03-01T00:00:00.123Z\n" +
		"subject holder 0190c7e2-8c3e-7000-8000-000000000009\n" +
		"subject license 0190c7e2-8c3e-7000-8000-000000000001\n" +
		"subject work 0190c7e2-8c3e-7000-8000-000000000002\n" +
		"content-sha256 0102030000000000000000000000000000000000000000000000000000000000\n" +
		"fingerprint TUgxAwABYWJjZA==\n" +
		"parent 3 " + tlog.RecordHash([]byte("a")).String() + "\n" +
		"parent 9 " + tlog.RecordHash([]byte("b")).String() + "\n" +
		"license paid\nlicense-scope classroom\nlicense-price 1200 CNY\nreason order_paid\n"
	if string(data) != want {
		t.Fatalf("encoding:\n%s\nwant:\n%s", data, want)
	}
	// Input order does not matter.
	e.Subjects[0], e.Subjects[2] = e.Subjects[2], e.Subjects[0]
	e.Parents[0], e.Parents[1] = e.Parents[1], e.Parents[0]
	if again, _ := rights.Encode(e); !bytes.Equal(again, data) {
		t.Fatal("encoding depends on input order")
	}
}

func TestDecodeRejectsNonCanonical(t *testing.T) {
	good, err := rights.Encode(fullEntry())
	if err != nil {
		t.Fatal(err)
	}
	s := string(good)
	cases := map[string]string{
		"no final newline":    strings.TrimSuffix(s, "\n"),
		"CRLF":                strings.ReplaceAll(s, "\n", "\r\n"),
		"extra blank line":    s + "\n",
		"unknown field":       s + "colour red\n",
		"other version":       strings.Replace(s, " v1\n", " v2\n", 1),
		"time with offset":    strings.Replace(s, "2026-03-01T00:00:00.123Z", "2026-03-01T08:00:00.123+08:00", 1),
		"time trailing zero":  strings.Replace(s, "00.123Z", "00.1230Z", 1),
		"subjects unsorted":   swapLines(s, "subject holder", "subject work"),
		"uppercase hex":       strings.Replace(s, "0102030000", "0102030A00", 1),
		"parents unsorted":    swapLines(s, "parent 3", "parent 9"),
		"double space":        strings.Replace(s, "type license", "type  license", 1),
		"base64 no padding":   strings.Replace(s, "YWJjZA==", "YWJjZA", 1),
		"price zero":          strings.Replace(s, "license-price 1200 CNY", "license-price 0 CNY", 1),
		"price leading zero":  strings.Replace(s, "license-price 1200", "license-price 01200", 1),
		"parent index plus":   strings.Replace(s, "parent 3 ", "parent +3 ", 1),
		"fields out of order": swapLines(s, "reason order_paid", "license paid"),
		"unknown type":        strings.Replace(s, "type license.granted", "type license.sold", 1),
		"empty":               "",
		"header only":         "ziyuan-ledger-entry v1\n",
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			if in == s {
				t.Fatal("test case did not change the input")
			}
			if _, err := rights.Decode([]byte(in)); !errors.Is(err, rights.ErrInvalid) {
				t.Fatalf("Decode accepted or misclassified non-canonical input: %v", err)
			}
		})
	}
}

func swapLines(s, a, b string) string {
	lines := strings.Split(s, "\n")
	ia, ib := -1, -1
	for i, l := range lines {
		if strings.HasPrefix(l, a) {
			ia = i
		}
		if strings.HasPrefix(l, b) {
			ib = i
		}
	}
	lines[ia], lines[ib] = lines[ib], lines[ia]
	return strings.Join(lines, "\n")
}

func TestEncodeRejectsInvalidEntries(t *testing.T) {
	base := func() rights.Entry { return workEntry(1) }
	cases := map[string]func(*rights.Entry){
		"unknown type":        func(e *rights.Entry) { e.Type = "work.sold" },
		"no time":             func(e *rights.Entry) { e.Time = time.Time{} },
		"no subjects":         func(e *rights.Entry) { e.Subjects = nil },
		"no work subject":     func(e *rights.Entry) { e.Subjects = []rights.Subject{{Role: "author", ID: "u1"}} },
		"personal name as id": func(e *rights.Entry) { e.Subjects = append(e.Subjects, rights.Subject{Role: "author", ID: "张三"}) },
		"e-mail as id":        func(e *rights.Entry) { e.Subjects = append(e.Subjects, rights.Subject{Role: "author", ID: "a@b.cn"}) },
		"space in id":         func(e *rights.Entry) { e.Subjects = append(e.Subjects, rights.Subject{Role: "author", ID: "a b"}) },
		"uppercase role":      func(e *rights.Entry) { e.Subjects = append(e.Subjects, rights.Subject{Role: "Author", ID: "u1"}) },
		"duplicate subject":   func(e *rights.Entry) { e.Subjects = append(e.Subjects, e.Subjects[0]) },
		"licence without terms": func(e *rights.Entry) {
			e.Type = rights.LicenseGranted
			e.Subjects = append(e.Subjects, rights.Subject{Role: "license", ID: "l"})
		},
		"licence without subject": func(e *rights.Entry) { e.Type = rights.LicenseRevoked },
		"price without currency":  func(e *rights.Entry) { e.License = &rights.License{Code: "paid", PriceFen: 10} },
		"currency without price":  func(e *rights.Entry) { e.License = &rights.License{Code: "paid", Currency: "CNY"} },
		"negative price":          func(e *rights.Entry) { e.License = &rights.License{Code: "paid", PriceFen: -1, Currency: "CNY"} },
		"bad licence code":        func(e *rights.Entry) { e.License = &rights.License{Code: "CC BY"} },
		"free-text reason":        func(e *rights.Entry) { e.Reason = "the author asked nicely" },
		"negative parent":         func(e *rights.Entry) { e.Parents = []rights.Parent{{Index: -1}} },
		"duplicate parent":        func(e *rights.Entry) { e.Parents = []rights.Parent{{Index: 1}, {Index: 1}} },
		"huge fingerprint":        func(e *rights.Entry) { e.Fingerprint = make([]byte, 9<<10) },
	}
	for name, mod := range cases {
		t.Run(name, func(t *testing.T) {
			e := base()
			if _, err := rights.Encode(e); err != nil {
				t.Fatalf("base entry invalid: %v", err)
			}
			mod(&e)
			if _, err := rights.Encode(e); !errors.Is(err, rights.ErrInvalid) && !errors.Is(err, rights.ErrTooLarge) {
				t.Fatalf("Encode accepted an invalid entry: %v", err)
			}
		})
	}
}

func TestEntryTooLarge(t *testing.T) {
	e := workEntry(1)
	for i := range 32 {
		e.Subjects = append(e.Subjects, rights.Subject{Role: "author", ID: strings.Repeat("a", 120) + string(rune('a'+i%26)) + strings.Repeat("b", i%7)})
	}
	e.Subjects = e.Subjects[:32]
	for i := range 256 {
		e.Parents = append(e.Parents, rights.Parent{Index: int64(i) * 1000000000000})
	}
	e.Fingerprint = make([]byte, 8<<10)
	data, err := rights.Encode(e)
	if err != nil {
		// The limits on their own keep entries under MaxEntrySize; check that they do.
		t.Fatalf("largest valid entry rejected: %v", err)
	}
	if len(data) > rights.MaxEntrySize {
		t.Fatalf("encoded %d bytes, over MaxEntrySize", len(data))
	}
	if _, err := rights.Decode(append(bytes.Repeat([]byte("x"), rights.MaxEntrySize), '\n')); !errors.Is(err, rights.ErrTooLarge) {
		t.Fatalf("oversized input: %v", err)
	}
}

func TestEntryViewJSON(t *testing.T) {
	e := fullEntry()
	data, _ := rights.Encode(e)
	e, _ = rights.Decode(data)
	v := rights.EntryView{Index: 7, LeafHash: tlog.RecordHash(data), Entry: e, Data: data}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"index", "leaf_hash", "entry", "data"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, out)
		}
	}
	ent := m["entry"].(map[string]any)
	if ent["type"] != "license.granted" || ent["content_sha256"] != "0102030000000000000000000000000000000000000000000000000000000000" ||
		ent["time"] != "2026-03-01T00:00:00.123Z" {
		t.Errorf("entry JSON: %s", out)
	}
	var back rights.EntryView
	if err := json.Unmarshal(out, &back); err != nil || !bytes.Equal(back.Data, data) || back.LeafHash != v.LeafHash {
		t.Fatalf("JSON round trip: %v", err)
	}
	if _, present := map[string]any(ent)["license"]; !present {
		t.Error("license terms missing from JSON")
	}
	// Optional fields are left out rather than shown as zero values.
	plain, _ := json.Marshal(workEntry(1))
	for _, k := range []string{"content_sha256", "fingerprint", "parents", "license", "reason"} {
		if bytes.Contains(plain, []byte(`"`+k+`"`)) {
			t.Errorf("zero %s shown: %s", k, plain)
		}
	}
}

func FuzzDecodeEntry(f *testing.F) {
	good, _ := rights.Encode(fullEntry())
	f.Add(good)
	w, _ := rights.Encode(workEntry(3))
	f.Add(w)
	f.Add([]byte("ziyuan-ledger-entry v1\ntype work.published\ntime 2026-03-01T08:00:00Z\nsubject work a\n"))
	f.Add([]byte(""))
	f.Add([]byte("\n\n"))
	f.Add([]byte("ziyuan-ledger-entry v1\ntype license.granted\ntime 2026-03-01T08:00:00+08:00\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := rights.Decode(data)
		if err != nil {
			return
		}
		again, err := rights.Encode(e)
		if err != nil {
			t.Fatalf("decoded entry does not encode: %v", err)
		}
		if !bytes.Equal(again, data) {
			t.Fatalf("Decode accepted non-canonical bytes:\n%q\nre-encodes as\n%q", data, again)
		}
	})
}
