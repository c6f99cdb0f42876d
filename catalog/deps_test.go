package catalog_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The dependency rules of DESIGN.md for the catalog: catalog imports nothing else of Ziyuan,
// bleve appears only in catalog/bleve and meilisearch-go only in catalog/meili (test files of
// other catalog packages may use bleve only through catalog/bleve).
func TestDependencyRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}|{{join .Imports " "}}`, "ziyuan/catalog/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, "|")
		for _, imp := range strings.Fields(imports) {
			switch {
			case strings.HasPrefix(imp, "github.com/blevesearch/") && pkg != "ziyuan/catalog/bleve":
				t.Errorf("%s imports %s: bleve belongs to catalog/bleve only", pkg, imp)
			case strings.HasPrefix(imp, "github.com/meilisearch/") && pkg != "ziyuan/catalog/meili":
				t.Errorf("%s imports %s: meilisearch-go belongs to catalog/meili only", pkg, imp)
			case strings.HasPrefix(imp, "github.com/go-ego/gse") && pkg != "ziyuan/catalog/bleve":
				t.Errorf("%s imports %s: the segmenter belongs to catalog/bleve", pkg, imp)
			case strings.HasPrefix(imp, "ziyuan/") && !strings.HasPrefix(imp, "ziyuan/catalog"):
				t.Errorf("%s imports %s: catalog imports nothing else of Ziyuan", pkg, imp)
			case pkg == "ziyuan/catalog" && strings.HasPrefix(imp, "ziyuan/"):
				t.Errorf("catalog imports %s", imp)
			}
		}
	}
}
