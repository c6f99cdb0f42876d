package rights_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"ziyuan/market/store"
	"ziyuan/market/store/storetest"
	"ziyuan/rights"
)

func TestReceiptVerifiesOffline(t *testing.T) {
	storetest.Each(t, sources, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		lg := openLog(t, db.DB)
		enqueue(t, lg, 0, 37)
		drain(t, lg)
		if _, err := lg.Receipt(ctx, 3); !errors.Is(err, rights.ErrPending) {
			t.Fatalf("receipt before any checkpoint: %v", err)
		}
		mustPublish(t, lg)
		data, err := lg.Receipt(ctx, 21)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := rights.VerifyReceipt(data, lg.VerifierKey())
		if err != nil {
			t.Fatal(err)
		}
		want := workEntry(21)
		if rep.Index != 21 || rep.TreeSize != 37 || rep.Origin != testOrigin || rep.Entry.Type != rights.WorkPublished ||
			rep.Entry.Subjects[0] != want.Subjects[0] || !rep.Entry.Time.Equal(want.Time) {
			t.Fatalf("report %+v", rep)
		}
		if !strings.Contains(rep.String(), want.Subjects[0].ID) {
			t.Errorf("summary lacks the work id: %s", rep)
		}

		var r rights.Receipt
		if err := json.Unmarshal(data, &r); err != nil {
			t.Fatal(err)
		}
		other := newKey(t)
		mutations := map[string]func(r *rights.Receipt) string{
			"entry byte":      func(r *rights.Receipt) string { r.Entry[len(r.Entry)-3] ^= 1; return "" },
			"proof hash":      func(r *rights.Receipt) string { r.Proof[2][0] ^= 1; return "" },
			"proof truncated": func(r *rights.Receipt) string { r.Proof = r.Proof[:len(r.Proof)-1]; return "" },
			"index":           func(r *rights.Receipt) string { r.Index++; return "" },
			"checkpoint size": func(r *rights.Receipt) string {
				r.Checkpoint = strings.Replace(r.Checkpoint, "\n37\n", "\n38\n", 1)
				return ""
			},
			"signature": func(r *rights.Receipt) string {
				r.Checkpoint = strings.Replace(r.Checkpoint, "— ", "— x", 1)
				return ""
			},
			"other key":         func(r *rights.Receipt) string { return other.VerifierKey() },
			"embedded key only": func(r *rights.Receipt) string { return " " },
		}
		for name, mutate := range mutations {
			t.Run(name, func(t *testing.T) {
				var m rights.Receipt
				json.Unmarshal(data, &m)
				key := lg.VerifierKey()
				if k := mutate(&m); k != "" {
					key = k
				}
				out, _ := json.Marshal(m)
				if _, err := rights.VerifyReceipt(out, key); err == nil {
					t.Fatal("tampered receipt verified")
				}
			})
		}
	})
}

func TestParseReceiptIsStrict(t *testing.T) {
	for name, in := range map[string]string{
		"not json":       "hello",
		"unknown field":  `{"format":"ziyuan-ledger-receipt/v1","index":1,"entry":"eA==","proof":[],"checkpoint":"c","extra":1}`,
		"other format":   `{"format":"other","index":1,"entry":"eA==","proof":[],"checkpoint":"c"}`,
		"trailing data":  `{"format":"ziyuan-ledger-receipt/v1","index":1,"entry":"eA==","proof":[],"checkpoint":"c"} {}`,
		"negative index": `{"format":"ziyuan-ledger-receipt/v1","index":-1,"entry":"eA==","proof":[],"checkpoint":"c"}`,
		"no entry":       `{"format":"ziyuan-ledger-receipt/v1","index":1,"proof":[],"checkpoint":"c"}`,
		"bad hash":       `{"format":"ziyuan-ledger-receipt/v1","index":1,"entry":"eA==","proof":["AAAA"],"checkpoint":"c"}`,
		"too large":      `{"format":"` + strings.Repeat("x", 300<<10) + `"}`,
	} {
		if _, err := rights.ParseReceipt([]byte(in)); !errors.Is(err, rights.ErrInvalid) && !errors.Is(err, rights.ErrTooLarge) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestVerifyEntriesBatch(t *testing.T) {
	storetest.Each(t, sources, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		lg := openLog(t, db.DB)
		enqueue(t, lg, 0, 20)
		drain(t, lg)
		c := mustPublish(t, lg)
		var batch []rights.ProvenEntry
		for _, i := range []int64{0, 5, 19} {
			p, err := lg.InclusionProof(ctx, i, 0)
			if err != nil {
				t.Fatal(err)
			}
			batch = append(batch, rights.ProvenEntry{Index: i, Data: mustData(t, lg, i), Proof: p.Hashes})
		}
		reps, err := rights.VerifyEntries(c.Note, lg.VerifierKey(), batch)
		if err != nil || len(reps) != 3 || reps[2].Index != 19 || reps[2].LeafHash != tlog.RecordHash(batch[2].Data) {
			t.Fatalf("%+v %v", reps, err)
		}
		batch[1].Data = mustData(t, lg, 6)
		if _, err := rights.VerifyEntries(c.Note, lg.VerifierKey(), batch); !errors.Is(err, rights.ErrVerification) || !strings.Contains(err.Error(), "entry 5") {
			t.Fatalf("swapped entry: %v", err)
		}
	})
}

func FuzzParseReceipt(f *testing.F) {
	f.Add([]byte(`{"format":"ziyuan-ledger-receipt/v1","index":1,"entry":"eA==","proof":[],"checkpoint":"c"}`))
	f.Add([]byte(`{"format":"ziyuan-ledger-receipt/v1","index":0,"entry":"eA==","proof":["47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="],"checkpoint":"a\n1\nAA==\n\n— a AAAA\n"}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"format":"ziyuan-ledger-receipt/v1","index":9223372036854775807,"entry":"","proof":null,"checkpoint":""}`))
	skey, _ := rights.GenerateKey(testOrigin)
	key, _ := rights.NewKey(skey, testOrigin)
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := rights.ParseReceipt(data)
		if err == nil {
			// What parses re-encodes and parses to the same receipt.
			out, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			again, err := rights.ParseReceipt(out)
			if err != nil || again.Index != r.Index || string(again.Entry) != string(r.Entry) || again.Checkpoint != r.Checkpoint {
				t.Fatalf("round trip: %v", err)
			}
		}
		// Verification never panics and never accepts what the key did not sign.
		if _, err := rights.VerifyReceipt(data, key.VerifierKey()); err == nil {
			t.Fatalf("verified a receipt never signed by this key: %q", data)
		}
	})
}
