// Package meili is the Meilisearch engine of the catalog (meilisearch-go v0.37): one index whose
// settings it owns (searchable, filterable, sortable and faceted attributes, Chinese localized
// attributes, synonyms, ranking rules with an ID tiebreak), written through Meilisearch's task
// queue, and rebuilt beside the live index and swapped in (Rebuild). Wait checks the status of
// every task it waits for: WaitForTask returns failed tasks without an error.
package meili

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/meilisearch/meilisearch-go"

	"ziyuan/catalog"
)

// Options configure an Engine. URL is required.
type Options struct {
	URL    string // e.g. http://127.0.0.1:7700 (MEILI_URL)
	APIKey string // MEILI_API_KEY
	// Index is the index UID (default "resources").
	Index    string
	Taxonomy *catalog.Taxonomy
	Synonyms *catalog.Synonyms
	// HTTPClient, when set, carries the requests (timeouts, tests).
	HTTPClient *http.Client
	// PollInterval is how often Wait polls a task (default 50ms).
	PollInterval time.Duration
	// DisableRetries turns off meilisearch-go's retries of failed requests (tests; callers that
	// retry themselves, like the outbox worker).
	DisableRetries bool
	// MaxTotalHits bounds exact totals (Meilisearch's pagination.maxTotalHits, default 1,000,000).
	MaxTotalHits int64
}

// Engine is a catalog.Engine on a Meilisearch index. It is safe for concurrent use.
type Engine struct {
	client meilisearch.ServiceManager
	index  meilisearch.IndexManager
	opts   Options

	mu      sync.Mutex
	pending []int64 // task UIDs not yet waited for
}

var _ catalog.Engine = (*Engine)(nil)
var _ catalog.IDLister = (*Engine)(nil)

// New returns an engine for the index at opts.URL; it does not contact the server.
func New(opts Options) (*Engine, error) {
	if opts.URL == "" {
		return nil, errors.New("meili: no URL")
	}
	if opts.Index == "" {
		opts.Index = "resources"
	}
	if opts.Taxonomy == nil {
		opts.Taxonomy = catalog.DefaultTaxonomy()
	}
	if opts.Synonyms == nil {
		opts.Synonyms = catalog.DefaultSynonyms()
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 50 * time.Millisecond
	}
	if opts.MaxTotalHits <= 0 {
		opts.MaxTotalHits = 1_000_000
	}
	var mo []meilisearch.Option
	if opts.APIKey != "" {
		mo = append(mo, meilisearch.WithAPIKey(opts.APIKey))
	}
	if opts.HTTPClient != nil {
		mo = append(mo, meilisearch.WithCustomClient(opts.HTTPClient))
	}
	if opts.DisableRetries {
		mo = append(mo, meilisearch.DisableRetries())
	}
	c := meilisearch.New(opts.URL, mo...)
	return &Engine{client: c, index: c.Index(opts.Index), opts: opts}, nil
}

// Fields as stored in Meilisearch.
var (
	searchable = []string{"title", "keywords", "summary", "meta", "body"}
	filterable = []string{"stage", "grade", "subject", "edition", "volume", "type", "license", "price_class", "price_fen"}
	sortable   = []string{"published_ts", "downloads", "rating", "price_fen", "id"}
	displayed  = []string{"id", "title", "summary", "type", "stage", "grade", "subject", "edition", "volume",
		"license", "price_fen", "rating", "downloads", "published_at", "author", "institution"}
)

// Settings returns the index settings the engine applies.
func (e *Engine) Settings() *meilisearch.Settings {
	syn := map[string][]string{}
	for _, g := range e.opts.Synonyms.Groups() {
		for _, v := range g.Variants {
			k := strings.ToLower(v)
			syn[k] = appendUnique(syn[k], g.Canonical)
		}
	}
	for _, set := range e.opts.Synonyms.EquivalentSets() {
		for _, w := range set {
			for _, other := range set {
				if other != w {
					syn[w] = appendUnique(syn[w], other)
				}
			}
		}
	}
	return &meilisearch.Settings{
		// "sort" first: an explicit sort is strict; without one the relevance rules decide and
		// the last rule breaks ties by ID
		RankingRules:         []string{"sort", "words", "typo", "proximity", "attribute", "exactness", "id:asc"},
		SearchableAttributes: searchable,
		DisplayedAttributes:  displayed,
		FilterableAttributes: filterable,
		SortableAttributes:   sortable,
		Synonyms:             syn,
		StopWords:            e.opts.Synonyms.Stopwords(),
		LocalizedAttributes: []*meilisearch.LocalizedAttributes{
			{Locales: []string{"cmn"}, AttributePatterns: []string{"title", "summary", "keywords", "meta", "body"}},
		},
		Pagination: &meilisearch.Pagination{MaxTotalHits: e.opts.MaxTotalHits},
		Faceting:   &meilisearch.Faceting{MaxValuesPerFacet: 1000},
	}
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// EnsureIndex creates the index when missing and applies the settings, waiting for both.
func (e *Engine) EnsureIndex(ctx context.Context) error {
	ti, err := e.client.CreateIndex(ctx, &meilisearch.IndexConfig{Uid: e.opts.Index, PrimaryKey: "id"})
	if err != nil {
		return wrap("create index", err)
	}
	if err := e.wait(ctx, ti.TaskUID, "index_already_exists"); err != nil {
		return err
	}
	ti, err = e.index.UpdateSettings(ctx, e.Settings())
	if err != nil {
		return wrap("update settings", err)
	}
	return e.wait(ctx, ti.TaskUID)
}

// doc is a document as Meilisearch holds it.
type doc struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Summary     string   `json:"summary"`
	Body        string   `json:"body,omitempty"`
	Keywords    []string `json:"keywords,omitempty"`
	Meta        string   `json:"meta,omitempty"`
	Type        string   `json:"type"`
	Stage       string   `json:"stage"`
	Grade       string   `json:"grade,omitempty"`
	Subject     string   `json:"subject"`
	Edition     string   `json:"edition,omitempty"`
	Volume      string   `json:"volume,omitempty"`
	License     string   `json:"license"`
	PriceFen    int64    `json:"price_fen"`
	PriceClass  string   `json:"price_class"`
	Rating      float64  `json:"rating"`
	Downloads   int64    `json:"downloads"`
	PublishedAt string   `json:"published_at"`
	PublishedTS int64    `json:"published_ts"`
	Author      string   `json:"author,omitempty"`
	Institution string   `json:"institution,omitempty"`
}

func (e *Engine) toDoc(d catalog.Document) doc {
	meta := append(e.opts.Taxonomy.Labels(d), d.Author, d.Institution)
	return doc{ID: d.ID, Title: catalog.StripTags(d.Title), Summary: catalog.StripTags(d.Summary),
		Body: d.IndexedBody(), Keywords: d.Keywords, Meta: strings.Join(meta, " "), Type: d.Type, Stage: d.Stage,
		Grade: d.Grade, Subject: d.Subject, Edition: d.Edition, Volume: d.Volume, License: d.License,
		PriceFen: d.PriceFen, PriceClass: string(d.Price()), Rating: d.Rating, Downloads: d.Downloads,
		PublishedAt: d.PublishedAt.UTC().Format(time.RFC3339Nano), PublishedTS: d.PublishedAt.Unix(),
		Author: d.Author, Institution: d.Institution}
}

func (d doc) document() catalog.Document {
	out := catalog.Document{ID: d.ID, Title: d.Title, Summary: d.Summary, Type: d.Type, Stage: d.Stage,
		Grade: d.Grade, Subject: d.Subject, Edition: d.Edition, Volume: d.Volume, License: d.License,
		PriceFen: d.PriceFen, Rating: d.Rating, Downloads: d.Downloads, Author: d.Author, Institution: d.Institution}
	if t, err := time.Parse(time.RFC3339Nano, d.PublishedAt); err == nil {
		out.PublishedAt = t.UTC()
	}
	return out
}

// Upsert enqueues the documents (replacing earlier versions); Wait makes them searchable.
func (e *Engine) Upsert(ctx context.Context, docs ...catalog.Document) error {
	if len(docs) == 0 {
		return nil
	}
	out := make([]doc, len(docs))
	for i, d := range docs {
		if err := d.Validate(); err != nil {
			return err
		}
		out[i] = e.toDoc(d)
	}
	pk := "id"
	ti, err := e.index.AddDocuments(ctx, out, &meilisearch.DocumentOptions{PrimaryKey: &pk})
	if err != nil {
		return wrap("add documents", err)
	}
	e.enqueued(ti.TaskUID)
	return nil
}

// Delete enqueues the removal of documents.
func (e *Engine) Delete(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	ti, err := e.index.DeleteDocuments(ctx, ids, nil)
	if err != nil {
		return wrap("delete documents", err)
	}
	e.enqueued(ti.TaskUID)
	return nil
}

func (e *Engine) enqueued(uid int64) {
	e.mu.Lock()
	e.pending = append(e.pending, uid)
	e.mu.Unlock()
}

// Wait waits for every task enqueued so far and reports the first that failed or was canceled.
// A failed task is not retried here: its error says why (the outbox worker retries the change).
func (e *Engine) Wait(ctx context.Context) error {
	e.mu.Lock()
	tasks := e.pending
	e.pending = nil
	e.mu.Unlock()
	for i, uid := range tasks {
		if err := e.wait(ctx, uid); err != nil {
			if errors.Is(err, catalog.ErrUnavailable) || ctx.Err() != nil {
				// not known to have failed: wait for the rest next time
				e.mu.Lock()
				e.pending = append(tasks[i:len(tasks):len(tasks)], e.pending...)
				e.mu.Unlock()
			}
			return err
		}
	}
	return nil
}

// wait waits for one task and turns its status into an error. Meilisearch error codes in ok are
// accepted as success (index_already_exists when creating).
func (e *Engine) wait(ctx context.Context, uid int64, ok ...string) error {
	t, err := e.client.WaitForTask(ctx, uid, e.opts.PollInterval)
	if err != nil {
		return wrap(fmt.Sprintf("wait for task %d", uid), err)
	}
	switch t.Status {
	case meilisearch.TaskStatusSucceeded:
		return nil
	case meilisearch.TaskStatusFailed:
		for _, code := range ok {
			if string(t.Error.Code) == code {
				return nil
			}
		}
		return fmt.Errorf("meili: task %d (%s) failed: %s: %s", uid, t.Type, t.Error.Code, t.Error.Message)
	default:
		return fmt.Errorf("meili: task %d (%s) ended %s", uid, t.Type, t.Status)
	}
}

// Close releases nothing: the HTTP client is shared.
func (e *Engine) Close() error { return nil }

// wrap turns transport failures and server errors into catalog.ErrUnavailable.
func wrap(op string, err error) error {
	var me *meilisearch.Error
	if errors.As(err, &me) {
		if me.StatusCode == 0 || me.StatusCode >= 500 || me.StatusCode == http.StatusTooManyRequests {
			return fmt.Errorf("meili: %s: %w: %w", op, catalog.ErrUnavailable, err)
		}
		return fmt.Errorf("meili: %s: %w", op, err)
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("meili: %s: %w: %w", op, catalog.ErrUnavailable, err)
	}
	return fmt.Errorf("meili: %s: %w", op, err)
}

var facetAttrs = map[catalog.Facet]string{
	catalog.FacetStage: "stage", catalog.FacetGrade: "grade", catalog.FacetSubject: "subject",
	catalog.FacetEdition: "edition", catalog.FacetType: "type", catalog.FacetLicense: "license",
	catalog.FacetPrice: "price_class",
}

var sorts = map[catalog.Sort][]string{
	catalog.SortNewest:    {"published_ts:desc", "id:asc"},
	catalog.SortPopular:   {"downloads:desc", "id:asc"},
	catalog.SortRating:    {"rating:desc", "id:asc"},
	catalog.SortPriceAsc:  {"price_fen:asc", "id:asc"},
	catalog.SortPriceDesc: {"price_fen:desc", "id:asc"},
}

// SearchRequest is the Meilisearch request for q (normalised).
func (e *Engine) SearchRequest(q catalog.Query) *meilisearch.SearchRequest {
	per := int64(q.PerPage)
	req := &meilisearch.SearchRequest{
		Query:            q.Text,
		Page:             int64(q.Page),
		HitsPerPage:      &per,
		Filter:           filter(q.Filters),
		Sort:             sorts[q.EffectiveSort()],
		MatchingStrategy: meilisearch.Last,
		Locales:          []string{"cmn"},
	}
	for _, f := range q.Facets {
		req.Facets = append(req.Facets, facetAttrs[f])
	}
	if q.Highlight {
		req.AttributesToHighlight = []string{"title", "summary"}
		req.HighlightPreTag, req.HighlightPostTag = catalog.TagOpen, catalog.TagClose
	}
	if q.EffectiveSort() == catalog.SortRelevance {
		req.ShowRankingScore = true
	}
	return req
}

// filter renders the filters as a Meilisearch filter expression (nil for none).
func filter(f catalog.Filters) interface{} {
	var parts []string
	eq := func(attr, v string) {
		if v != "" {
			parts = append(parts, attr+" = "+quote(v))
		}
	}
	eq("stage", f.Stage)
	eq("grade", f.Grade)
	eq("subject", f.Subject)
	eq("edition", f.Edition)
	eq("volume", f.Volume)
	eq("type", f.Type)
	eq("license", f.License)
	eq("price_class", string(f.Price))
	if f.MinPriceFen != nil {
		parts = append(parts, fmt.Sprintf("price_fen >= %d", *f.MinPriceFen))
	}
	if f.MaxPriceFen != nil {
		parts = append(parts, fmt.Sprintf("price_fen <= %d", *f.MaxPriceFen))
	}
	if len(parts) == 0 {
		return nil
	}
	return strings.Join(parts, " AND ")
}

func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// Search answers q.
func (e *Engine) Search(ctx context.Context, q catalog.Query) (catalog.Result, error) {
	q, err := q.Normalized()
	if err != nil {
		return catalog.Result{}, err
	}
	resp, err := e.index.Search(ctx, q.Text, e.SearchRequest(q))
	if err != nil {
		return catalog.Result{}, wrap("search", err)
	}
	return decode(q, resp)
}

// decode turns a Meilisearch search response into a Result.
func decode(q catalog.Query, resp *meilisearch.SearchResponse) (catalog.Result, error) {
	res := catalog.Result{Total: int(resp.TotalHits), Page: q.Page, PerPage: q.PerPage, Hits: make([]catalog.Hit, 0, len(resp.Hits))}
	for _, h := range resp.Hits {
		raw, err := json.Marshal(h)
		if err != nil {
			return res, err
		}
		var d struct {
			doc
			Formatted *struct {
				Title   string `json:"title"`
				Summary string `json:"summary"`
			} `json:"_formatted"`
			Score float64 `json:"_rankingScore"`
		}
		if err := json.Unmarshal(raw, &d); err != nil {
			return res, fmt.Errorf("meili: decode hit: %w", err)
		}
		hit := catalog.Hit{ID: d.ID, Score: d.Score, Document: d.doc.document()}
		if q.Highlight {
			hl := &catalog.Highlight{Title: template.HTML(template.HTMLEscapeString(d.Title)),
				Summary: template.HTML(template.HTMLEscapeString(d.Summary))}
			if d.Formatted != nil {
				hl.Title, hl.Summary = catalog.MarkTagged(d.Formatted.Title), catalog.MarkTagged(d.Formatted.Summary)
			}
			hit.Highlight = hl
		}
		res.Hits = append(res.Hits, hit)
	}
	if len(q.Facets) > 0 {
		res.Facets = map[catalog.Facet]map[string]int{}
		var dist map[string]map[string]int
		if len(resp.FacetDistribution) > 0 {
			if err := json.Unmarshal(resp.FacetDistribution, &dist); err != nil {
				return res, fmt.Errorf("meili: decode facets: %w", err)
			}
		}
		for _, f := range q.Facets {
			counts := map[string]int{}
			for v, n := range dist[facetAttrs[f]] {
				if n > 0 {
					counts[v] = n
				}
			}
			res.Facets[f] = counts
		}
	}
	return res, nil
}

// ListIDs calls fn with every document ID in the index.
func (e *Engine) ListIDs(ctx context.Context, fn func(id string) error) error {
	const page = 1000
	for offset := int64(0); ; offset += page {
		var res meilisearch.DocumentsResult
		if err := e.index.GetDocuments(ctx, &meilisearch.DocumentsQuery{Offset: offset, Limit: page, Fields: []string{"id"}}, &res); err != nil {
			return wrap("list documents", err)
		}
		for _, h := range res.Results {
			var d struct {
				ID string `json:"id"`
			}
			raw, _ := json.Marshal(h)
			if err := json.Unmarshal(raw, &d); err != nil {
				return err
			}
			if err := fn(d.ID); err != nil {
				return err
			}
		}
		if int64(len(res.Results)) < page {
			return nil
		}
	}
}

// DeleteIndex removes the index and waits for it (tests, and tearing down a catalog).
func (e *Engine) DeleteIndex(ctx context.Context) error {
	ti, err := e.client.DeleteIndex(ctx, e.opts.Index)
	if err != nil {
		return wrap("delete index", err)
	}
	return e.wait(ctx, ti.TaskUID)
}
