package demodata

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"ziyuan/catalog"
	"ziyuan/market"
	"ziyuan/market/files"
	"ziyuan/rights"
)

// testItems is Items, built once for the tests that only read it (TestDeterministic builds its
// own): generating every file takes a second under the race detector.
var testItems = sync.OnceValue(Items)

// demoAccount returns a demo account by login.
func demoAccount(t *testing.T, login string) market.DemoAccount {
	t.Helper()
	for _, a := range market.DemoAccounts() {
		if a.Login == login {
			return a
		}
	}
	t.Fatalf("%q is not a demo account", login)
	return market.DemoAccount{}
}

// publicOwners are the demo publishers whose institution may offer the public licence: the
// public resource centre (kind public) and the two schools (kind school).
var publicOwners = map[string]bool{"gongyi.editor": true, "li.teacher": true, "chen.teacher": true}

func byKey(items []Item) map[string]int {
	idx := make(map[string]int, len(items))
	for i, it := range items {
		idx[it.Key] = i
	}
	return idx
}

func TestItemsCountAndKeys(t *testing.T) {
	t.Parallel()
	items := testItems()
	if len(items) < 200 {
		t.Fatalf("%d items, want at least 200", len(items))
	}
	seen := map[string]bool{}
	titles := map[string]string{}
	for _, it := range items {
		if it.Key == "" || strings.ContainsAny(it.Key, " \t/") {
			t.Errorf("bad key %q", it.Key)
		}
		if seen[it.Key] {
			t.Errorf("duplicate key %q", it.Key)
		}
		seen[it.Key] = true
		if k, ok := titles[it.Meta.Title]; ok {
			t.Errorf("%s and %s have the same title %q", k, it.Key, it.Meta.Title)
		}
		titles[it.Meta.Title] = it.Key
	}
}

func TestMetaValidAgainstTaxonomy(t *testing.T) {
	t.Parallel()
	tax := catalog.DefaultTaxonomy()
	for _, it := range testItems() {
		m := it.Meta
		err := tax.Validate(catalog.Classification{Stage: m.Stage, Grade: m.Grade, Subject: m.Subject,
			Edition: m.Edition, Volume: m.Volume, Type: m.Type, License: m.Offer.License})
		if err != nil {
			t.Errorf("%s: %v", it.Key, err)
		}
		if m.Grade == "" {
			t.Errorf("%s: no grade (every demo item names one)", it.Key)
		}
	}
}

func TestMetaText(t *testing.T) {
	t.Parallel()
	for _, it := range testItems() {
		m := it.Meta
		if m.Title == "" || utf8.RuneCountInString(m.Title) > 120 || strings.TrimSpace(m.Title) != m.Title {
			t.Errorf("%s: bad title %q", it.Key, m.Title)
		}
		if m.Summary == "" || utf8.RuneCountInString(m.Summary) > 2000 {
			t.Errorf("%s: bad summary", it.Key)
		}
		sentences := strings.Count(m.Summary, "。") + strings.Count(m.Summary, "！") + strings.Count(m.Summary, "？")
		if sentences < 1 || sentences > 3 || !strings.HasSuffix(m.Summary, "。") {
			t.Errorf("%s: summary should be 1-3 Chinese sentences: %q", it.Key, m.Summary)
		}
		if utf8.RuneCountInString(m.Body) > 20000 {
			t.Errorf("%s: body too long", it.Key)
		}
		if m.Language != "zh" && m.Language != "en" {
			t.Errorf("%s: language %q", it.Key, m.Language)
		}
		if n := len(m.Keywords); n < 2 || n > 5 {
			t.Errorf("%s: %d keywords, want 2-5", it.Key, n)
		}
		for i, k := range m.Keywords {
			if k == "" || utf8.RuneCountInString(k) > 32 || strings.TrimSpace(k) != k || slices.Contains(m.Keywords[:i], k) {
				t.Errorf("%s: bad keyword %q", it.Key, k)
			}
		}
		if len(m.Parents) != 0 {
			t.Errorf("%s: Meta.Parents must be empty (use ParentKeys)", it.Key)
		}
	}
}

func TestOfferRules(t *testing.T) {
	t.Parallel()
	courseFrom := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	courseTo := time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, it := range testItems() {
		m, o := it.Meta, it.Meta.Offer
		owner := demoAccount(t, it.Owner)
		if !owner.Verified || !slices.Contains(owner.Roles, market.RoleTeacher) && !slices.Contains(owner.Roles, market.RoleVendor) {
			t.Errorf("%s: owner %s cannot publish", it.Key, it.Owner)
		}
		switch {
		case o.License == market.LicensePaid:
			p := o.Prices
			if p == nil || p.Personal <= 0 && p.Classroom <= 0 && p.Institution <= 0 {
				t.Errorf("%s: paid offer without a price", it.Key)
				break
			}
			for _, v := range []int64{p.Personal, p.Classroom, p.Institution} {
				if v < 0 || v > 10_000_000 {
					t.Errorf("%s: price %d fen out of range", it.Key, v)
				}
			}
		case o.Prices != nil:
			t.Errorf("%s: free offer (%s) with prices", it.Key, o.License)
		}
		if o.License == market.LicensePublic && !publicOwners[it.Owner] {
			t.Errorf("%s: %s may not offer the public licence", it.Key, it.Owner)
		}
		switch m.Type {
		case market.TypeService:
			if !slices.Contains(owner.Roles, market.RoleVendor) || o.License != market.LicensePaid {
				t.Errorf("%s: a service must be a vendor's paid offer", it.Key)
			}
			if m.Course != nil || len(it.Files) != 0 {
				t.Errorf("%s: a service has no course and no files", it.Key)
			}
		case market.TypeCourse:
			c := m.Course
			if c == nil || c.Seats < 30 || c.Seats > 200 {
				t.Errorf("%s: a course needs 30-200 seats", it.Key)
				break
			}
			if !c.EndsAt.After(c.StartsAt) || c.StartsAt.Before(courseFrom) || !c.EndsAt.Before(courseTo) {
				t.Errorf("%s: course dates %v-%v", it.Key, c.StartsAt, c.EndsAt)
			}
			if len(it.Files) != 0 {
				t.Errorf("%s: courses carry no files", it.Key)
			}
		default:
			if m.Course != nil {
				t.Errorf("%s: only courses have a Course", it.Key)
			}
			if n := len(it.Files); n < 1 || n > 2 {
				t.Errorf("%s: %d files, want 1-2", it.Key, n)
			}
		}
	}
}

// inspected is every file of the demo items as the upload inspector sees it.
type inspected struct {
	item string
	name string
	kind files.Kind
	sha  string
	text string
}

func inspectAll(t *testing.T, items []Item) []inspected {
	t.Helper()
	tmp := t.TempDir()
	in := files.NewInspector(files.Limits{}, tmp)
	var out []inspected
	for _, it := range items {
		for _, f := range it.Files {
			if len(f.Data) >= 50<<10 {
				t.Errorf("%s: %s is %d bytes, want < 50 KiB", it.Key, f.Name, len(f.Data))
			}
			u, err := in.Inspect(context.Background(), f.Name, bytes.NewReader(f.Data))
			if err != nil {
				t.Errorf("%s: %s refused: %v", it.Key, f.Name, err)
				continue
			}
			if u.Name != f.Name {
				t.Errorf("%s: name %q stored as %q", it.Key, f.Name, u.Name)
			}
			if u.TextErr != nil {
				t.Errorf("%s: %s: text extraction: %v", it.Key, f.Name, u.TextErr)
			}
			sum := sha256.Sum256(f.Data)
			if u.SHA256 != hex.EncodeToString(sum[:]) {
				t.Errorf("%s: %s: digest mismatch", it.Key, f.Name)
			}
			out = append(out, inspected{it.Key, f.Name, u.Kind, u.SHA256, u.Text})
			u.Close()
		}
	}
	return out
}

var kindOfExt = map[string]files.Kind{".docx": files.KindDOCX, ".pptx": files.KindPPTX, ".md": files.KindMarkdown, ".pdf": files.KindPDF}

func TestFilesAcceptedWithText(t *testing.T) {
	t.Parallel()
	items := testItems()
	all := inspectAll(t, items)
	idx := byKey(items)
	seen := map[string]string{}
	kinds := map[files.Kind]int{}
	for _, f := range all {
		want, ok := kindOfExt[path.Ext(f.name)]
		if !ok || f.kind != want {
			t.Errorf("%s: %s detected as %q", f.item, f.name, f.kind)
		}
		kinds[f.kind]++
		if prev, dup := seen[f.sha]; dup {
			t.Errorf("%s: %s has the same SHA-256 as a file of %s", f.item, f.name, prev)
		}
		seen[f.sha] = f.item
		if n := utf8.RuneCountInString(f.text); n < 150 {
			t.Errorf("%s: %s: only %d characters of text", f.item, f.name, n)
		}
		it := items[idx[f.item]]
		// The text is the item's own: its title (or English title in a PDF) and an exercise.
		if f.kind == files.KindPDF {
			if !strings.Contains(f.text, "Practice") {
				t.Errorf("%s: %s: worksheet text lacks its exercises: %q", f.item, f.name, f.text)
			}
			continue
		}
		if !strings.Contains(f.text, it.Meta.Title) {
			t.Errorf("%s: %s: text does not contain the title", f.item, f.name)
		}
	}
	total := len(all)
	t.Logf("%d files: %v", total, kinds)
	// Roughly 40 % DOCX, 30 % PPTX, 20 % Markdown, 10 % PDF.
	for kind, want := range map[files.Kind]float64{files.KindDOCX: 0.40, files.KindPPTX: 0.30, files.KindMarkdown: 0.20, files.KindPDF: 0.10} {
		got := float64(kinds[kind]) / float64(total)
		if got < want-0.07 || got > want+0.07 {
			t.Errorf("%s: %.0f%% of files, want about %.0f%%", kind, 100*got, 100*want)
		}
	}
}

// versionText is what the market fingerprints for near-duplicate detection (market/review.go).
func versionText(m market.Meta, texts []string) string {
	var b strings.Builder
	b.WriteString(m.Title + "\n" + m.Summary + "\n" + m.Body)
	for _, t := range texts {
		b.WriteString("\n" + t)
	}
	return b.String()
}

func TestNoNearDuplicatesAcrossAuthors(t *testing.T) {
	t.Parallel()
	items := testItems()
	all := inspectAll(t, items)
	texts := map[string][]string{}
	for _, f := range all {
		texts[f.item] = append(texts[f.item], f.text)
	}
	mh, err := rights.NewMinHasher(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	sigs := make([]rights.Signature, len(items))
	for i, it := range items {
		sigs[i] = mh.Signature(versionText(it.Meta, texts[it.Key]))
	}
	worst, pair := 0.0, ""
	for i := range items {
		for j := i + 1; j < len(items); j++ {
			s := sigs[i].Similarity(sigs[j])
			if items[i].Owner != items[j].Owner && s > worst {
				worst, pair = s, items[i].Key+" ~ "+items[j].Key
			}
			// The market shows earlier works from a similarity of 0.8; keep well below it.
			if s >= 0.5 {
				t.Errorf("%s and %s are near duplicates (%.2f)", items[i].Key, items[j].Key, s)
			}
		}
	}
	t.Logf("highest similarity between different authors: %.2f (%s)", worst, pair)
}

// Licence families, as market/licenses.go defines them.
func noDerivatives(code string) bool { return strings.HasSuffix(code, "-nd") }
func shareAlike(code string) bool    { return strings.HasSuffix(code, "-sa") }
func nonCommercial(code string) bool {
	return strings.Contains(code, "-nc") || code == market.LicensePublic
}

func TestDerivations(t *testing.T) {
	t.Parallel()
	items := testItems()
	idx := byKey(items)
	derivatives := 0
	depth := make([]int, len(items))
	maxDepth := 0
	for i, it := range items {
		if len(it.ParentKeys) > 0 {
			derivatives++
		}
		for _, pk := range it.ParentKeys {
			j, ok := idx[pk]
			if !ok {
				t.Errorf("%s: unknown parent %q", it.Key, pk)
				continue
			}
			if j >= i {
				t.Errorf("%s: parent %s comes later, so it cannot be published first", it.Key, pk)
				continue
			}
			p, child := items[j].Meta.Offer.License, it.Meta.Offer.License
			switch {
			case noDerivatives(p):
				t.Errorf("%s: parent %s is %s (no derivatives)", it.Key, pk, p)
			case shareAlike(p) && child != p:
				t.Errorf("%s: parent %s is %s (share-alike) but the child is %s", it.Key, pk, p, child)
			case nonCommercial(p) && child == market.LicensePaid:
				t.Errorf("%s: parent %s is %s (non-commercial) but the child is paid", it.Key, pk, p)
			case p == market.LicensePaid && items[j].Owner != it.Owner:
				t.Errorf("%s: paid parent %s belongs to %s, not %s", it.Key, pk, items[j].Owner, it.Owner)
			}
			// The demo keeps non-commercial terms on: children of NC or public parents are NC or public too.
			if nonCommercial(p) && !nonCommercial(child) {
				t.Errorf("%s: child of %s parent %s should stay non-commercial, is %s", it.Key, p, pk, child)
			}
			depth[i] = max(depth[i], depth[j]+1)
		}
		maxDepth = max(maxDepth, depth[i])
	}
	if derivatives < 10 {
		t.Errorf("%d derivatives, want at least 10", derivatives)
	}
	if maxDepth < 2 {
		t.Errorf("longest derivation chain has depth %d, want at least 2", maxDepth)
	}
	t.Logf("%d derivatives, deepest chain %d", derivatives, maxDepth)
}

func TestClaimsAndRatings(t *testing.T) {
	t.Parallel()
	allowed := map[string]bool{"zhang.xiaoming": true, "sun.student": true, "li.teacher": true, "chen.teacher": true,
		"zhou.reviewer": true, "wu.evaluator": true}
	free, claimed, claims, ratings := 0, 0, 0, 0
	for _, it := range testItems() {
		m := it.Meta
		claimable := m.Offer.Free() && m.Type != market.TypeCourse && m.Type != market.TypeService
		if claimable {
			free++
		}
		if len(it.Claims) == 0 {
			if len(it.Ratings) > 0 {
				t.Errorf("%s: ratings without claims", it.Key)
			}
			continue
		}
		claimed++
		claims += len(it.Claims)
		if !claimable {
			t.Errorf("%s: only free items other than courses can be claimed", it.Key)
		}
		if len(it.Claims) > 4 {
			t.Errorf("%s: %d claims, want 1-4", it.Key, len(it.Claims))
		}
		for i, c := range it.Claims {
			if !allowed[c] || c == it.Owner || slices.Contains(it.Claims[:i], c) {
				t.Errorf("%s: claim by %q not allowed", it.Key, c)
			}
			a := demoAccount(t, c)
			if a.Guardian != "" && !a.Consent {
				t.Errorf("%s: %s has no guardian consent", it.Key, c)
			}
		}
		for i, r := range it.Ratings {
			ratings++
			if !slices.Contains(it.Claims, r.Login) {
				t.Errorf("%s: %s rates without claiming", it.Key, r.Login)
			}
			if r.Stars < 1 || r.Stars > 5 || r.Text == "" {
				t.Errorf("%s: bad rating %+v", it.Key, r)
			}
			for _, o := range it.Ratings[:i] {
				if o.Login == r.Login {
					t.Errorf("%s: %s rates twice", it.Key, r.Login)
				}
			}
		}
	}
	if share := float64(claimed) / float64(free); share < 0.25 || share > 0.42 {
		t.Errorf("%d of %d free items claimed (%.0f%%), want about a third", claimed, free, 100*share)
	}
	t.Logf("%d of %d claimable items claimed, %d claims, %d ratings", claimed, free, claims, ratings)
}

func TestCoverage(t *testing.T) {
	t.Parallel()
	tax := catalog.DefaultTaxonomy()
	count := map[string]map[string]int{"stage": {}, "type": {}, "subject": {}, "edition": {}, "volume": {}, "license": {}}
	for _, it := range testItems() {
		m := it.Meta
		count["stage"][m.Stage]++
		count["type"][m.Type]++
		count["subject"][m.Subject]++
		count["edition"][m.Edition]++
		count["volume"][m.Volume]++
		count["license"][m.Offer.License]++
	}
	for _, f := range []struct {
		name  string
		field catalog.Field
	}{{"stage", catalog.FieldStage}, {"type", catalog.FieldType}, {"volume", catalog.FieldVolume}, {"license", catalog.FieldLicense}} {
		for _, v := range tax.Values(f.field) {
			if count[f.name][v] == 0 {
				t.Errorf("no item with %s %q", f.name, v)
			}
		}
	}
	delete(count["edition"], "")
	if n := len(count["subject"]); n < 12 {
		t.Errorf("%d subjects, want at least 12", n)
	}
	if n := len(count["edition"]); n < 5 {
		t.Errorf("%d editions, want at least 5", n)
	}
	if n := count["type"][market.TypeCourse]; n < 3 {
		t.Errorf("%d courses, want at least 3", n)
	}
	services := 0
	for _, it := range testItems() {
		if it.Meta.Type == market.TypeService && it.Owner == "xuehai.vendor" {
			services++
		}
	}
	if services < 3 {
		t.Errorf("%d vendor services, want at least 3", services)
	}
	for _, name := range []string{"stage", "type", "license", "edition"} {
		t.Logf("%s: %s", name, formatCounts(count[name]))
	}
	t.Logf("%d subjects", len(count["subject"]))
}

func formatCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, " ")
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	a, err := json.Marshal(Items())
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(Items())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two calls of Items gave different bytes")
	}
}

func BenchmarkItems(b *testing.B) {
	for b.Loop() {
		Items()
	}
}
