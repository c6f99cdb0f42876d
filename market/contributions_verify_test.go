package market_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/xuri/excelize/v2"
	"golang.org/x/mod/sumdb/note"

	"ziyuan/market"
	"ziyuan/market/contrib"
	"ziyuan/market/markettest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// TestContributionExportVerifiesIndependently checks a JSON export without this repository's
// verifier: the checkpoint's signature with golang.org/x/mod/sumdb/note, every inclusion proof
// with github.com/transparency-dev/merkle, and the published count from the entries' text.
// Then hand-edited copies — a count, an entry byte, a dropped proof hash, the totals — fail
// contrib.Verify.
func TestContributionExportVerifiesIndependently(t *testing.T) {
	markettest.Each(t, func(t *testing.T, e *markettest.Env) {
		buildContribScenario(t, e)
		_, data := records(t, e, "wu.evaluator", october)
		var doc struct {
			Ledger struct {
				KeyName    string `json:"key_name"`
				TreeSize   uint64 `json:"tree_size"`
				Checkpoint string `json:"checkpoint"`
			} `json:"ledger"`
			Teachers []struct {
				TeacherID string `json:"teacher_id"`
				Published int    `json:"published"`
				Evidence  struct {
					Works []uint64 `json:"works"`
				} `json:"evidence"`
			} `json:"teachers"`
			Entries []struct {
				Index uint64   `json:"index"`
				Data  []byte   `json:"data"`
				Proof []string `json:"proof"`
			} `json:"entries"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		v, err := note.NewVerifier(e.Ledger.VerifierKey())
		if err != nil {
			t.Fatal(err)
		}
		n, err := note.Open([]byte(doc.Ledger.Checkpoint), note.VerifierList(v))
		if err != nil || v.Name() != doc.Ledger.KeyName {
			t.Fatalf("checkpoint signature: %v", err)
		}
		lines := strings.Split(n.Text, "\n")
		size, _ := strconv.ParseUint(lines[1], 10, 64)
		root, _ := base64.StdEncoding.DecodeString(lines[2])
		if size != doc.Ledger.TreeSize || len(root) != 32 {
			t.Fatalf("checkpoint %q", n.Text)
		}
		text := map[uint64]string{}
		for _, en := range doc.Entries {
			var hashes [][]byte
			for _, h := range en.Proof {
				b, _ := base64.StdEncoding.DecodeString(h)
				hashes = append(hashes, b)
			}
			if err := proof.VerifyInclusion(rfc6962.DefaultHasher, en.Index, size, rfc6962.DefaultHasher.HashLeaf(en.Data), hashes, root); err != nil {
				t.Fatalf("entry %d: %v", en.Index, err)
			}
			text[en.Index] = string(en.Data)
		}
		if len(doc.Entries) == 0 {
			t.Fatal("no entries")
		}
		for _, tr := range doc.Teachers {
			published := 0
			for _, w := range tr.Evidence.Works {
				x := text[w]
				if !strings.Contains(x, "type work.registered\n") || !strings.Contains(x, "subject author "+tr.TeacherID+"\n") {
					t.Fatalf("work entry %d of %s:\n%s", w, tr.TeacherID, x)
				}
				if strings.Contains(x, "time 2026-10-") {
					published++
				}
			}
			if published != tr.Published {
				t.Fatalf("%s: %d works registered in October, the record says %d", tr.TeacherID, published, tr.Published)
			}
		}

		// Hand edits.
		edits := map[string]func(string) string{
			"a raised count": func(s string) string { return strings.Replace(s, `"published":4,`, `"published":5,`, 1) },
			"a lowered adoption count": func(s string) string {
				return strings.Replace(s, `"adoptions":9,`, `"adoptions":8,`, 1)
			},
			"the own-institution flag cleared": func(s string) string {
				return strings.Replace(s, `"own_institution_majority":true`, `"own_institution_majority":false`, 1)
			},
			"an entry byte": func(s string) string {
				i := strings.Index(s, `"data":"`) + len(`"data":"`)
				j := i + strings.Index(s[i:], `"`)
				raw, _ := base64.StdEncoding.DecodeString(s[i:j])
				raw[len(raw)-2] ^= 1
				return s[:i] + base64.StdEncoding.EncodeToString(raw) + s[j:]
			},
			"a proof hash dropped": func(s string) string {
				return regexp.MustCompile(`"proof":\["[^"]+",`).ReplaceAllLiteralString(s, `"proof":[`)
			},
			"the totals": func(s string) string {
				return regexp.MustCompile(`("totals":\{"teachers":)\d+`).ReplaceAllString(s, "${1}99")
			},
			"a foreign entry as evidence": func(s string) string {
				return regexp.MustCompile(`"derivatives":\[(\d+)\]`).ReplaceAllString(s, `"derivatives":[3]`)
			},
		}
		for name, edit := range edits {
			changed := edit(string(data))
			if changed == string(data) {
				t.Fatalf("%s: the edit changed nothing", name)
			}
			_, err := contrib.Verify(strings.NewReader(changed), e.Ledger.VerifierKey())
			if !errors.Is(err, contrib.ErrVerification) {
				t.Errorf("%s: verification gave %v", name, err)
			}
		}
		// Another log's key does not verify it; without a key, the file's own is used and said so.
		_, otherKey, err := note.GenerateKey(rand.Reader, "ziyuan.test/ledger")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := contrib.Verify(bytes.NewReader(data), otherKey); !errors.Is(err, contrib.ErrVerification) {
			t.Fatalf("another key of the same name: %v", err)
		}
		if rep, err := contrib.Verify(bytes.NewReader(data), ""); err != nil || !rep.KeyFromFile || !strings.Contains(rep.String(), "WARNING") {
			t.Fatalf("without a key: %v", err)
		}
	})
}

// TestContributionExportsGolden compares the three formats for the crafted October with files
// under testdata/golden (go test ./market -run Golden -update rewrites them): the CSV as
// bytes, the XLSX by its parsed cells, sheets, frozen panes and number formats, the JSON with
// IDs, keys and hashes replaced by marks and each entry's text shown.
func TestContributionExportsGolden(t *testing.T) {
	markettest.Each(t, func(t *testing.T, e *markettest.Env) {
		buildContribScenario(t, e)
		bothModes(t, func(t *testing.T) { checkGolden(t, e) })
	})
}

func checkGolden(t *testing.T, e *markettest.Env) {
	{
		ctx := e.As(t, "wu.evaluator")
		export := func(format string) []byte {
			var buf bytes.Buffer
			if err := e.M.ExportContributions(ctx, october, format, &buf, nil); err != nil {
				t.Fatal(err)
			}
			return buf.Bytes()
		}
		csv := export(market.FormatCSV)
		if !bytes.HasPrefix(csv, []byte("\xEF\xBB\xBF机构,教师,教师编号,发布资源数")) || !bytes.Contains(csv, []byte("\r\n")) {
			t.Fatalf("CSV does not start with a BOM and Chinese headers: %q", csv[:min(80, len(csv))])
		}
		golden(t, "contributions_october.csv", scrubIDs(string(csv)))
		golden(t, "contributions_october.xlsx.txt", scrubIDs(describeXLSX(t, export(market.FormatXLSX))))
		golden(t, "contributions_october.json", scrubIDs(describeJSON(t, export(market.FormatJSON))))
	}
}

var uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// scrubIDs numbers the IDs by first appearance.
func scrubIDs(s string) string {
	seen := map[string]string{}
	return uuidRE.ReplaceAllStringFunc(s, func(id string) string {
		if _, ok := seen[id]; !ok {
			seen[id] = fmt.Sprintf("<id%d>", len(seen)+1)
		}
		return seen[id]
	})
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	file := filepath.Join("testdata", "golden", name)
	if *update {
		os.MkdirAll(filepath.Dir(file), 0o755)
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Fatalf("%s differs from the golden file (run with -update after checking):\n%s", name, firstDiff(string(want), got))
	}
}

func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\nwant %q\n got %q", i+1, a, b)
		}
	}
	return "(same lines)"
}

// describeXLSX lists a workbook's sheets with their frozen panes, each cell as shown (number
// formats applied) and each number format used.
func describeXLSX(t *testing.T, data []byte) string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("XLSX does not open: %v", err)
	}
	defer f.Close()
	var b strings.Builder
	props, _ := f.GetDocProps()
	fmt.Fprintf(&b, "title: %s\n", props.Title)
	for _, sheet := range f.GetSheetList() {
		panes, _ := f.GetPanes(sheet)
		fmt.Fprintf(&b, "== sheet %q frozen=%v split=%d top=%s\n", sheet, panes.Freeze, panes.YSplit, panes.TopLeftCell)
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		formats := map[string]bool{}
		for r, row := range rows {
			fmt.Fprintf(&b, "%d: %s\n", r+1, strings.Join(row, " | "))
			for c := range row {
				cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
				id, _ := f.GetCellStyle(sheet, cell)
				st, _ := f.GetStyle(id)
				if st != nil && st.CustomNumFmt != nil {
					formats[*st.CustomNumFmt] = true
				} else if st != nil && st.NumFmt != 0 {
					formats["builtin "+strconv.Itoa(st.NumFmt)] = true
				}
				if r == 0 && (st == nil || st.Font == nil || !st.Font.Bold) {
					t.Errorf("sheet %s: header cell %s is not bold", sheet, cell)
				}
			}
		}
		var fs []string
		for k := range formats {
			fs = append(fs, k)
		}
		slices.Sort(fs)
		fmt.Fprintf(&b, "formats: %s\n", strings.Join(fs, ", "))
	}
	return b.String()
}

var (
	fingerprintRE = regexp.MustCompile(`(?m)^fingerprint .*$`)
	parentRE      = regexp.MustCompile(`(?m)^(parent \d+) \S+$`)
)

// describeJSON pretty-prints an export with what differs between runs replaced: the key and
// checkpoint, proof hashes (shown by count), entry bytes (shown as their text, without the
// fingerprint and parent hashes).
func describeJSON(t *testing.T, data []byte) string {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	l := doc["ledger"].(map[string]any)
	l["checkpoint"], l["verifier_key"] = "<checkpoint>", "<verifier key>"
	for _, x := range doc["entries"].([]any) {
		en := x.(map[string]any)
		raw, _ := base64.StdEncoding.DecodeString(en["data"].(string))
		s := fingerprintRE.ReplaceAllString(string(raw), "fingerprint <…>")
		en["data"] = strings.Split(strings.TrimSuffix(parentRE.ReplaceAllString(s, "$1 <leaf hash>"), "\n"), "\n")
		en["proof"] = fmt.Sprintf("<%d hashes>", len(en["proof"].([]any)))
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		t.Fatal(err)
	}
	return out.String()
}
