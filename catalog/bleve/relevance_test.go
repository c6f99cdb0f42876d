package bleve_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	blevev2 "github.com/blevesearch/bleve/v2"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"

	"ziyuan/catalog"
	"ziyuan/catalog/bleve"
	"ziyuan/catalog/catalogtest"
)

// The relevance gate of issue 5: our engine against stock bleve with its cjk analyzer (OR
// matching) on the golden set, in the same run.
func TestRelevanceGate(t *testing.T) {
	ctx := context.Background()
	docs, queries, err := catalogtest.LoadGolden("../testdata/golden")
	if err != nil {
		t.Fatal(err)
	}
	tax := catalog.DefaultTaxonomy()
	for _, d := range docs {
		if err := tax.Validate(d.Classification()); err != nil {
			t.Fatalf("golden record %s: %v", d.ID, err)
		}
	}
	if len(docs) < 300 || len(queries) < 80 {
		t.Fatalf("golden set has %d records and %d queries; the gate needs ≥ 300 and ≥ 80", len(docs), len(queries))
	}
	// a disk index, as in production (scorch scores by BM25 only on persisted segments)
	ours, err := bleve.Open(filepath.Join(t.TempDir(), "index"), bleve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ours.Close()
	if err := ours.Upsert(ctx, docs...); err != nil {
		t.Fatal(err)
	}
	base, err := newBaseline(tax, docs)
	if err != nil {
		t.Fatal(err)
	}
	defer base.idx.Close()

	our, err := catalogtest.Evaluate(ctx, ours, queries)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := catalogtest.Evaluate(ctx, base, queries)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", catalogtest.Table([]string{"ours", "bleve-cjk"}, []catalogtest.Report{our, ref}))
	for i, r := range our.Results {
		if b := ref.Results[i]; len(r.Missing) > 0 || (r.Query.Kind == "no_answer" && r.Total > 0) || r.NDCG < b.NDCG-1e-9 {
			t.Logf("%s %q: nDCG %.2f recall %.2f total %d top %v missing %v", r.Query.ID, r.Query.Q, r.NDCG, r.Recall, r.Total, r.Top, r.Missing)
		}
	}
	if our.Overall.NDCG < 0.93 {
		t.Errorf("nDCG@10 = %.3f, want ≥ 0.93", our.Overall.NDCG)
	}
	if our.Overall.Recall < 0.95 {
		t.Errorf("Recall@10 = %.3f, want ≥ 0.95", our.Overall.Recall)
	}
	for _, k := range ref.Kinds() {
		o, b := our.ByKind[k], ref.ByKind[k]
		if o.NDCG < b.NDCG-1e-9 || o.Recall < b.Recall-1e-9 {
			t.Errorf("kind %s: ours nDCG %.3f recall %.3f below the baseline's %.3f / %.3f", k, o.NDCG, o.Recall, b.NDCG, b.Recall)
		}
	}
	if our.NoAnswerHits > 3 {
		t.Errorf("queries without a right answer return %.1f hits on average, want ≤ 3", our.NoAnswerHits)
	}
}

// baseline is stock bleve: every text field analysed by the built-in cjk analyzer into the
// composite _all field, a match query with OR, filters as keyword terms, ranked by bleve's
// default scoring.
type baseline struct {
	idx blevev2.Index
}

type baseDoc struct {
	Title, Summary, Body, Keywords, Meta                         string
	Stage, Grade, Subject, Edition, Volume, Type, License, Price string
}

func newBaseline(tax *catalog.Taxonomy, docs []catalog.Document) (*baseline, error) {
	im := blevev2.NewIndexMapping()
	im.DefaultAnalyzer = "cjk"
	dm := blevev2.NewDocumentMapping()
	for _, f := range []string{"Stage", "Grade", "Subject", "Edition", "Volume", "Type", "License", "Price"} {
		fm := mapping.NewTextFieldMapping()
		fm.Analyzer = "keyword"
		fm.IncludeInAll = false
		dm.AddFieldMappingsAt(f, fm)
	}
	im.DefaultMapping = dm
	idx, err := blevev2.NewMemOnly(im)
	if err != nil {
		return nil, err
	}
	b := idx.NewBatch()
	for _, d := range docs {
		err := b.Index(d.ID, baseDoc{Title: d.Title, Summary: d.Summary, Body: d.Body, Keywords: strings.Join(d.Keywords, " "),
			Meta: strings.Join(tax.Labels(d), " "), Stage: d.Stage, Grade: d.Grade, Subject: d.Subject, Edition: d.Edition,
			Volume: d.Volume, Type: d.Type, License: d.License, Price: string(d.Price())})
		if err != nil {
			return nil, err
		}
	}
	return &baseline{idx: idx}, idx.Batch(b)
}

func (s *baseline) Search(ctx context.Context, q catalog.Query) (catalog.Result, error) {
	var musts []query.Query
	if q.Text != "" {
		m := query.NewMatchQuery(q.Text)
		m.SetOperator(query.MatchQueryOperatorOr)
		musts = append(musts, m)
	}
	f := q.Filters
	for field, v := range map[string]string{"Stage": f.Stage, "Grade": f.Grade, "Subject": f.Subject, "Edition": f.Edition,
		"Volume": f.Volume, "Type": f.Type, "License": f.License, "Price": string(f.Price)} {
		if v != "" {
			tq := query.NewTermQuery(v)
			tq.SetField(field)
			musts = append(musts, tq)
		}
	}
	var top query.Query = query.NewMatchAllQuery()
	if len(musts) > 0 {
		top = query.NewConjunctionQuery(musts)
	}
	req := blevev2.NewSearchRequestOptions(top, q.PerPage, 0, false)
	req.SortBy([]string{"-_score", "_id"})
	res, err := s.idx.SearchInContext(ctx, req)
	if err != nil {
		return catalog.Result{}, fmt.Errorf("baseline: %w", err)
	}
	out := catalog.Result{Total: int(res.Total)}
	for _, h := range res.Hits {
		out.Hits = append(out.Hits, catalog.Hit{ID: h.ID, Score: h.Score})
	}
	return out, nil
}
