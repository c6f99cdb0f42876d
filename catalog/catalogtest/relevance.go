package catalogtest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"ziyuan/catalog"
)

// GoldenQuery is one judged query of the golden set.
type GoldenQuery struct {
	ID        string            `json:"id"`
	Kind      string            `json:"kind"`
	Q         string            `json:"q"`
	Filters   map[string]string `json:"filters,omitempty"`
	Judgments map[string]int    `json:"judgments"`
}

// Query is the catalog query the golden query stands for: its text and filters, the first ten
// hits by relevance.
func (g GoldenQuery) Query() catalog.Query {
	f := g.Filters
	return catalog.Query{Text: g.Q, PerPage: 10, Filters: catalog.Filters{Stage: f["stage"], Grade: f["grade"],
		Subject: f["subject"], Edition: f["edition"], Volume: f["volume"], Type: f["type"], License: f["license"],
		Price: catalog.PriceClass(f["price"])}}
}

// LoadGolden reads records.psv and queries.json from dir (catalog/testdata/golden).
func LoadGolden(dir string) ([]catalog.Document, []GoldenQuery, error) {
	f, err := os.Open(filepath.Join(dir, "records.psv"))
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	var docs []catalog.Document
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		s := sc.Text()
		if strings.HasPrefix(s, "#") || strings.TrimSpace(s) == "" {
			continue
		}
		c := strings.Split(s, "|")
		if len(c) != 13 {
			return nil, nil, fmt.Errorf("records.psv:%d: %d fields, want 13", line, len(c))
		}
		price, err := strconv.ParseInt(c[8], 10, 64)
		if err != nil {
			return nil, nil, fmt.Errorf("records.psv:%d: price: %w", line, err)
		}
		h := fnv.New32a()
		h.Write([]byte(c[0]))
		n := h.Sum32()
		d := catalog.Document{ID: c[0], Stage: c[1], Grade: c[2], Subject: c[3], Edition: c[4], Volume: c[5],
			Type: c[6], License: c[7], PriceFen: price, Title: c[9], Summary: c[10], Body: c[11],
			PublishedAt: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(n%1300)),
			Downloads:   int64(n % 2000), Rating: 3 + float64(n%21)/10}
		if c[12] != "" {
			d.Keywords = strings.Split(c[12], "、")
		}
		docs = append(docs, d)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, err
	}
	b, err := os.ReadFile(filepath.Join(dir, "queries.json"))
	if err != nil {
		return nil, nil, err
	}
	var qf struct {
		Queries []GoldenQuery `json:"queries"`
	}
	if err := json.Unmarshal(b, &qf); err != nil {
		return nil, nil, fmt.Errorf("queries.json: %w", err)
	}
	return docs, qf.Queries, nil
}

// Searcher is what Evaluate needs of an engine.
type Searcher interface {
	Search(ctx context.Context, q catalog.Query) (catalog.Result, error)
}

// Metrics are averages over a set of queries.
type Metrics struct {
	Queries int
	NDCG    float64 // nDCG@10
	Recall  float64 // Recall@10 of grade ≥ 2, over min(10, relevant)
	MRR     float64 // of the first grade ≥ 2 hit in the top 10
}

// QueryResult is one query's outcome.
type QueryResult struct {
	Query   GoldenQuery
	Top     []string // IDs of the first ten hits
	Total   int
	NDCG    float64
	Recall  float64
	RR      float64
	Missing []string // relevant documents not in the top ten
}

// Report is an evaluation of one engine on the golden set.
type Report struct {
	Overall Metrics
	ByKind  map[string]Metrics
	// NoAnswerHits is the average number of hits (total) of the queries without relevant
	// documents.
	NoAnswerHits float64
	NoAnswer     int
	Results      []QueryResult
}

// Relevant is the grade from which a document counts as relevant for recall and MRR.
const Relevant = 2

// Evaluate runs every query against s and computes the metrics.
func Evaluate(ctx context.Context, s Searcher, queries []GoldenQuery) (Report, error) {
	rep := Report{ByKind: map[string]Metrics{}}
	sums := map[string]*Metrics{}
	add := func(kind string, r QueryResult) {
		m := sums[kind]
		if m == nil {
			m = &Metrics{}
			sums[kind] = m
		}
		m.Queries++
		m.NDCG += r.NDCG
		m.Recall += r.Recall
		m.MRR += r.RR
	}
	for _, g := range queries {
		res, err := s.Search(ctx, g.Query())
		if err != nil {
			return rep, fmt.Errorf("%s %q: %w", g.ID, g.Q, err)
		}
		r := QueryResult{Query: g, Total: res.Total}
		for _, h := range res.Hits {
			r.Top = append(r.Top, h.ID)
		}
		relevant := 0
		for _, grade := range g.Judgments {
			if grade >= Relevant {
				relevant++
			}
		}
		if relevant == 0 {
			rep.NoAnswer++
			rep.NoAnswerHits += float64(res.Total)
			rep.Results = append(rep.Results, r)
			continue
		}
		r.NDCG = ndcg(r.Top, g.Judgments, 10)
		found := 0
		for i, id := range r.Top {
			if g.Judgments[id] >= Relevant {
				found++
				if r.RR == 0 {
					r.RR = 1 / float64(i+1)
				}
			}
		}
		r.Recall = float64(found) / float64(min(10, relevant))
		for id, grade := range g.Judgments {
			if grade >= Relevant && !contains(r.Top, id) {
				r.Missing = append(r.Missing, id)
			}
		}
		sort.Strings(r.Missing)
		add(g.Kind, r)
		add("", r)
		rep.Results = append(rep.Results, r)
	}
	for kind, m := range sums {
		n := float64(m.Queries)
		avg := Metrics{Queries: m.Queries, NDCG: m.NDCG / n, Recall: m.Recall / n, MRR: m.MRR / n}
		if kind == "" {
			rep.Overall = avg
		} else {
			rep.ByKind[kind] = avg
		}
	}
	if rep.NoAnswer > 0 {
		rep.NoAnswerHits /= float64(rep.NoAnswer)
	}
	return rep, nil
}

func contains(s []string, x string) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

func ndcg(top []string, judgments map[string]int, k int) float64 {
	gain := func(g int) float64 { return math.Pow(2, float64(g)) - 1 }
	dcg := 0.0
	for i, id := range top {
		if i == k {
			break
		}
		dcg += gain(judgments[id]) / math.Log2(float64(i+2))
	}
	var grades []int
	for _, g := range judgments {
		grades = append(grades, g)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(grades)))
	ideal := 0.0
	for i, g := range grades {
		if i == k {
			break
		}
		ideal += gain(g) / math.Log2(float64(i+2))
	}
	if ideal == 0 {
		return 0
	}
	return dcg / ideal
}

// Kinds returns the kinds of the report in a stable order.
func (r Report) Kinds() []string {
	var ks []string
	for k := range r.ByKind {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Table renders reports side by side as a Markdown table (one column group per engine).
func Table(names []string, reports []Report) string {
	var b strings.Builder
	b.WriteString("| kind | queries |")
	for _, n := range names {
		fmt.Fprintf(&b, " %s nDCG@10 | %s Recall@10 | %s MRR |", n, n, n)
	}
	b.WriteString("\n|---|---|")
	for range names {
		b.WriteString("---|---|---|")
	}
	b.WriteString("\n")
	row := func(kind string, get func(Report) Metrics) {
		fmt.Fprintf(&b, "| %s | %d |", kind, get(reports[0]).Queries)
		for _, r := range reports {
			m := get(r)
			fmt.Fprintf(&b, " %.3f | %.3f | %.3f |", m.NDCG, m.Recall, m.MRR)
		}
		b.WriteString("\n")
	}
	row("**overall**", func(r Report) Metrics { return r.Overall })
	for _, k := range reports[0].Kinds() {
		row(k, func(r Report) Metrics { return r.ByKind[k] })
	}
	fmt.Fprintf(&b, "| no_answer (average hits) | %d |", reports[0].NoAnswer)
	for _, r := range reports {
		fmt.Fprintf(&b, " %.1f | | |", r.NoAnswerHits)
	}
	b.WriteString("\n")
	return b.String()
}
