// Package bleve is the embedded search engine of Ziyuan: a bleve v2 (scorch) index on local
// disk with Chinese word segmentation by gse.
//
// Every document is indexed into word fields (title, summary, keywords, meta, body) analysed by
// WordAnalyzer, which emits dictionary sub-words of long words at the word's position, and into
// a "grams" field of Han unigrams and bigrams (GramAnalyzer) that serves words the dictionary
// does not know and single characters at a lower weight. The "meta" field carries the Chinese
// labels of the classification (学段, 年级, 学科, 教材版本, 册次, 资源类型), so that
// 七年级上册数学试卷 matches on classification as well as on text. Classification values are
// also keyword fields with doc values for filters, facets and sorts.
//
// Queries are built in Go from the analysed search text (see query.go): every meaningful unit
// of the text must match (in any word field, through a synonym, or through its characters in the
// grams field), ranked by BM25 with field weights. Highlights are computed from the same
// analysis on the stored title and summary, so no term vectors are stored at all.
package bleve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
	"github.com/go-ego/gse"

	"ziyuan/catalog"
)

// schemaVersion changes whenever the mapping or the analysis changes in a way that needs the
// documents indexed again. An index of another version is replaced by an empty one at Open,
// and Fresh reports it, so that the caller reindexes.
const schemaVersion = "ziyuan-bleve-6"

var schemaKey = []byte("ziyuan_schema")

// Field names in the index.
const (
	fTitle       = "title"
	fSummary     = "summary"
	fKeywords    = "keywords"
	fMeta        = "meta"
	fBody        = "body"
	fGrams       = "grams"
	fStage       = "stage"
	fGrade       = "grade"
	fSubject     = "subject"
	fEdition     = "edition"
	fVolume      = "volume"
	fType        = "type"
	fLicense     = "license"
	fPriceClass  = "price_class"
	fPrice       = "price_fen"
	fRating      = "rating"
	fDownloads   = "downloads"
	fPublished   = "published_at"
	fAuthor      = "author"
	fInstitution = "institution"
	// fFacets holds every facet value of a document as one term each, "<facet>\x1f<value>",
	// with doc values: counting the seven facets reads one doc-value field per match instead
	// of seven, and reading doc values is most of a search's time.
	fFacets = "facets"
)

var keywordFields = []string{fStage, fGrade, fSubject, fEdition, fVolume, fType, fLicense, fPriceClass, fAuthor, fInstitution}

// storedFields are loaded for every hit.
var storedFields = []string{fTitle, fSummary, fStage, fGrade, fSubject, fEdition, fVolume, fType,
	fLicense, fPrice, fRating, fDownloads, fPublished, fAuthor, fInstitution}

// Options configure an Engine; zero values select the defaults.
type Options struct {
	// Taxonomy gives the labels indexed in the meta field (default catalog.DefaultTaxonomy()).
	Taxonomy *catalog.Taxonomy
	// Synonyms used at query time (default catalog.DefaultSynonyms()).
	Synonyms *catalog.Synonyms
	Logger   *slog.Logger
	// Weights of the fields in relevance ranking (default DefaultWeights()).
	Weights *Weights
}

// Weights are the boosts of the fields in relevance ranking.
type Weights struct {
	Title, Keywords, Summary, Meta, Body, Grams, Phrase float64
	// Facet scales the words of a query that name a classification value (课件, 七年级).
	Facet float64
	// FacetText scales the text matches of such words (课件 in a title): the classification
	// itself counts more than the word.
	FacetText float64
	// Part scales the matches of a long query word's dictionary sub-words (文言文 → 文言).
	Part float64
}

// DefaultWeights returns the field weights used unless Options say otherwise.
func DefaultWeights() Weights {
	return Weights{Title: 4, Keywords: 3, Summary: 2, Meta: 1.5, Body: 0.8, Grams: 0.3, Phrase: 2, Facet: 4, FacetText: 0.3, Part: 0.1}
}

// Engine is a catalog.Engine on a bleve index. It is safe for concurrent use.
type Engine struct {
	dir string
	seg *gse.Segmenter
	tax *catalog.Taxonomy
	syn *catalog.Synonyms
	log *slog.Logger
	w   Weights
	// labels map the lower-cased classification values and aliases (facet words of a query) to
	// the keyword fields and canonical values they name
	labels map[string][]facetRef

	words  wordAnalyzer
	gramsA gramAnalyzer
	kw     keywordAnalyzer

	mu     sync.RWMutex
	idx    bleve.Index
	closed bool
}

var _ catalog.Engine = (*Engine)(nil)
var _ catalog.IDLister = (*Engine)(nil)
var _ catalog.Positioned = (*Engine)(nil)

// Open opens the index in dir, creating it (and dir) when absent. An index written with another
// schema version is replaced by an empty one, which has no feed position, so a
// catalog.Follower rebuilds it. Only one process may open a directory at a time.
func Open(dir string, opts Options) (*Engine, error) {
	e := newEngine(dir, opts)
	if err := os.MkdirAll(filepath.Dir(filepath.Clean(dir)), 0o750); err != nil {
		return nil, err
	}
	idx, err := bleve.Open(dir)
	switch {
	case errors.Is(err, bleve.ErrorIndexPathDoesNotExist), errors.Is(err, bleve.ErrorIndexMetaMissing) && emptyDir(dir):
		// An empty directory is an index that was never written (or an operator's mkdir).
		if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		idx, err = e.create(dir)
	case err == nil:
		v, verr := idx.GetInternal(schemaKey)
		if verr != nil || string(v) != schemaVersion {
			e.log.Warn("catalog/bleve: index schema changed; recreating an empty index (reindex needed)",
				"dir", dir, "found", string(v), "want", schemaVersion)
			idx.Close()
			if err := os.RemoveAll(dir); err != nil {
				return nil, err
			}
			idx, err = e.create(dir)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("catalog/bleve: open %s: %w", dir, err)
	}
	e.idx = idx
	return e, nil
}

func emptyDir(dir string) bool {
	entries, err := os.ReadDir(dir)
	return err == nil && len(entries) == 0
}

// OpenMemory returns an engine on an index held in memory only, for tests and tools.
func OpenMemory(opts Options) (*Engine, error) {
	e := newEngine("", opts)
	idx, err := bleve.NewMemOnly(buildMapping())
	if err != nil {
		return nil, err
	}
	if err := idx.SetInternal(schemaKey, []byte(schemaVersion)); err != nil {
		return nil, err
	}
	e.idx = idx
	return e, nil
}

func newEngine(dir string, opts Options) *Engine {
	if opts.Taxonomy == nil {
		opts.Taxonomy = catalog.DefaultTaxonomy()
	}
	if opts.Synonyms == nil {
		opts.Synonyms = catalog.DefaultSynonyms()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	w := DefaultWeights()
	if opts.Weights != nil {
		w = *opts.Weights
	}
	seg := Segmenter()
	labels := map[string][]facetRef{}
	for f, name := range map[catalog.Field]string{catalog.FieldStage: fStage, catalog.FieldGrade: fGrade,
		catalog.FieldSubject: fSubject, catalog.FieldEdition: fEdition, catalog.FieldVolume: fVolume, catalog.FieldType: fType} {
		for _, t := range opts.Taxonomy.Terms(f) {
			for _, v := range append([]string{t.Value, t.Label()}, t.Aliases...) {
				k := strings.ToLower(v)
				ref := facetRef{field: name, value: t.Value}
				if !slices.Contains(labels[k], ref) {
					labels[k] = append(labels[k], ref)
				}
			}
		}
	}
	return &Engine{dir: dir, seg: seg, tax: opts.Taxonomy, syn: opts.Synonyms, log: opts.Logger, w: w,
		labels: labels, words: wordAnalyzer{seg: seg, subwords: true}}
}

func (e *Engine) create(dir string) (bleve.Index, error) {
	idx, err := bleve.New(dir, buildMapping())
	if err != nil {
		return nil, err
	}
	if err := idx.SetInternal(schemaKey, []byte(schemaVersion)); err != nil {
		idx.Close()
		return nil, err
	}
	return idx, nil
}

// buildMapping describes the fields as they are indexed, so that the index is self-describing
// and reopens with the right analysers. Documents are built directly (see doc), not through
// the mapping's reflection.
func buildMapping() *mapping.IndexMappingImpl {
	im := bleve.NewIndexMapping()
	// TF-IDF, not BM25: bleve 2.6 scores BM25 only with field statistics of persisted segments
	// and falls back to TF-IDF per term otherwise, so the same query could rank differently
	// before and after a merge. TF-IDF ranks the same whatever the segment state.
	im.ScoringModel = index.TFIDFScoring
	im.DefaultAnalyzer = keyword.Name
	im.StoreDynamic, im.IndexDynamic, im.DocValuesDynamic = false, false, false
	dm := bleve.NewDocumentStaticMapping()
	text := func(analyzer string, store bool) *mapping.FieldMapping {
		fm := bleve.NewTextFieldMapping()
		fm.Analyzer, fm.Store, fm.DocValues, fm.IncludeTermVectors, fm.IncludeInAll = analyzer, store, false, false, false
		return fm
	}
	dm.AddFieldMappingsAt(fTitle, text(WordAnalyzer, true))
	dm.AddFieldMappingsAt(fSummary, text(WordAnalyzer, true))
	dm.AddFieldMappingsAt(fKeywords, text(WordAnalyzer, false))
	dm.AddFieldMappingsAt(fMeta, text(WordAnalyzer, false))
	dm.AddFieldMappingsAt(fBody, text(WordAnalyzer, false))
	dm.AddFieldMappingsAt(fGrams, text(GramAnalyzer, false))
	for _, f := range keywordFields {
		fm := bleve.NewKeywordFieldMapping()
		fm.Store, fm.DocValues, fm.IncludeTermVectors, fm.IncludeInAll = true, false, false, false
		dm.AddFieldMappingsAt(f, fm)
	}
	facets := bleve.NewKeywordFieldMapping()
	facets.Store, facets.DocValues, facets.IncludeTermVectors, facets.IncludeInAll = false, true, false, false
	dm.AddFieldMappingsAt(fFacets, facets)
	for _, f := range []string{fPrice, fRating, fDownloads} {
		fm := bleve.NewNumericFieldMapping()
		fm.IncludeInAll = false
		dm.AddFieldMappingsAt(f, fm)
	}
	dt := bleve.NewDateTimeFieldMapping()
	dt.IncludeInAll = false
	dm.AddFieldMappingsAt(fPublished, dt)
	im.DefaultMapping = dm
	return im
}

// feedKey is the internal key of the index's catalog.FeedPosition. Internal values live in the
// index's snapshots, so the position is persisted with the documents it covers.
var feedKey = []byte("ziyuan-feed-position")

// FeedPosition returns how far this index has followed the catalog feed.
func (e *Engine) FeedPosition(ctx context.Context) (catalog.FeedPosition, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	idx, err := e.index()
	if err != nil {
		return catalog.FeedPosition{}, err
	}
	v, err := idx.GetInternal(feedKey)
	if err != nil {
		return catalog.FeedPosition{}, wrap("read feed position", err)
	}
	var p catalog.FeedPosition
	if len(v) == 0 {
		return p, nil
	}
	if err := json.Unmarshal(v, &p); err != nil {
		return catalog.FeedPosition{}, fmt.Errorf("catalog/bleve: feed position %q: %w", v, err)
	}
	return p, nil
}

// SetFeedPosition stores how far this index has followed the catalog feed.
func (e *Engine) SetFeedPosition(ctx context.Context, p catalog.FeedPosition) error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	idx, err := e.index()
	if err != nil {
		return err
	}
	v, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return wrap("store feed position", idx.SetInternal(feedKey, v))
}

// Dir is the index directory ("" for an in-memory index).
func (e *Engine) Dir() string { return e.dir }

// index returns the open index or ErrUnavailable; the caller holds e.mu.RLock.
func (e *Engine) index() (bleve.Index, error) {
	if e.closed || e.idx == nil {
		return nil, fmt.Errorf("catalog/bleve: index closed: %w", catalog.ErrUnavailable)
	}
	return e.idx, nil
}

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, bleve.ErrorIndexClosed) {
		return fmt.Errorf("catalog/bleve: %s: %w: %w", op, catalog.ErrUnavailable, err)
	}
	return fmt.Errorf("catalog/bleve: %s: %w", op, err)
}

// EnsureIndex checks that the index is open; Open creates it.
func (e *Engine) EnsureIndex(ctx context.Context) error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	_, err := e.index()
	return err
}

// Upsert indexes docs in one batch, replacing earlier versions. It returns once the batch is
// persisted and searchable.
func (e *Engine) Upsert(ctx context.Context, docs ...catalog.Document) error {
	if len(docs) == 0 {
		return nil
	}
	for _, d := range docs {
		if err := d.Validate(); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	idx, err := e.index()
	if err != nil {
		return err
	}
	b := idx.NewBatch()
	for _, d := range docs {
		if err := b.IndexAdvanced(e.doc(d)); err != nil {
			return wrap("upsert", err)
		}
	}
	return wrap("upsert", idx.Batch(b))
}

// Delete removes documents by ID.
func (e *Engine) Delete(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	idx, err := e.index()
	if err != nil {
		return err
	}
	b := idx.NewBatch()
	for _, id := range ids {
		b.Delete(id)
	}
	return wrap("delete", idx.Batch(b))
}

// Wait returns at once: a bleve batch is searchable and persisted when Upsert or Delete return.
func (e *Engine) Wait(ctx context.Context) error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	_, err := e.index()
	return err
}

// Close closes the index. Later calls answer ErrUnavailable.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	return e.idx.Close()
}

// Count returns the number of indexed documents.
func (e *Engine) Count(ctx context.Context) (uint64, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	idx, err := e.index()
	if err != nil {
		return 0, err
	}
	n, err := idx.DocCount()
	return n, wrap("count", err)
}

// ListIDs calls fn with every indexed ID, in ID order.
func (e *Engine) ListIDs(ctx context.Context, fn func(id string) error) error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	idx, err := e.index()
	if err != nil {
		return err
	}
	var after []string
	for {
		req := bleve.NewSearchRequestOptions(query.NewMatchAllQuery(), 5000, 0, false)
		req.SortBy([]string{"_id"})
		req.Score = "none"
		if after != nil {
			req.SetSearchAfter(after)
		}
		res, err := idx.SearchInContext(ctx, req)
		if err != nil {
			return wrap("list", err)
		}
		for _, h := range res.Hits {
			if err := fn(h.ID); err != nil {
				return err
			}
		}
		if len(res.Hits) < 5000 {
			return nil
		}
		after = []string{res.Hits[len(res.Hits)-1].ID}
	}
}

// doc builds the bleve document of d.
func (e *Engine) doc(d catalog.Document) *document.Document {
	// the text is indexed and stored as given: the analysers fold full-width forms themselves
	// and keep offsets into the original, which highlighting marks
	title, summary, body := d.Title, d.Summary, d.IndexedBody()
	keywords := strings.Join(d.Keywords, " ; ")
	meta := strings.Join(append(e.tax.Labels(d), d.Author, d.Institution), " ; ")

	doc := document.NewDocument(d.ID)
	stored := index.IndexField | index.StoreField
	indexed := index.IndexField
	doc.AddField(document.NewTextFieldCustom(fTitle, nil, []byte(title), stored, e.words))
	doc.AddField(document.NewTextFieldCustom(fSummary, nil, []byte(summary), stored, e.words))
	if keywords != "" {
		doc.AddField(document.NewTextFieldCustom(fKeywords, nil, []byte(keywords), indexed, e.words))
	}
	doc.AddField(document.NewTextFieldCustom(fMeta, nil, []byte(meta), indexed, e.words))
	if body != "" {
		doc.AddField(document.NewTextFieldCustom(fBody, nil, []byte(body), indexed, e.words))
	}
	for i, s := range []string{title, summary, keywords, prefixRunes(body, bodyGramRunes)} {
		if s != "" {
			doc.AddField(document.NewTextFieldCustom(fGrams, []uint64{uint64(i)}, []byte(s), indexed, e.gramsA))
		}
	}
	// Doc values stay compressed: zapx's SkipDVCompression loses doc values when segments
	// merge after updates (facet counts then miss documents; TestFacetsSurviveSegmentMerges).
	kv := index.IndexField | index.StoreField | index.DocValues
	for name, v := range map[string]string{fStage: d.Stage, fGrade: d.Grade, fSubject: d.Subject,
		fEdition: d.Edition, fVolume: d.Volume, fType: d.Type, fLicense: d.License,
		fPriceClass: string(d.Price()), fAuthor: d.Author, fInstitution: d.Institution} {
		if v != "" {
			doc.AddField(document.NewTextFieldCustom(name, nil, []byte(v), indexed|index.StoreField, e.kw))
		}
	}
	for i, fv := range facetTerms(d) {
		doc.AddField(document.NewTextFieldCustom(fFacets, []uint64{uint64(i)}, []byte(fv), indexed|index.DocValues, e.kw))
	}
	doc.AddField(document.NewNumericFieldWithIndexingOptions(fPrice, nil, float64(d.PriceFen), kv))
	doc.AddField(document.NewNumericFieldWithIndexingOptions(fRating, nil, d.Rating, kv))
	doc.AddField(document.NewNumericFieldWithIndexingOptions(fDownloads, nil, float64(d.Downloads), kv))
	published := d.PublishedAt.UTC()
	if published.Before(document.MinTimeRepresentable) || published.After(document.MaxTimeRepresentable) {
		published = time.Unix(0, 0).UTC()
	}
	if f, err := document.NewDateTimeFieldWithIndexingOptions(fPublished, nil, published, time.RFC3339Nano, kv); err == nil {
		doc.AddField(f)
	}
	return doc
}

// bodyGramRunes bounds the part of the body that also goes into the grams field: enough for the
// words of a description that the dictionary does not know, without n-gramming whole books.
const bodyGramRunes = 500

func prefixRunes(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

// keywordAnalyzer indexes a value as one term.
type keywordAnalyzer struct{}

func (keywordAnalyzer) Analyze(input []byte) analysisTokenStream {
	return keywordStream(input)
}

// hitDocument rebuilds the stored part of a document from a hit's fields.
func hitDocument(h *search.DocumentMatch) catalog.Document {
	str := func(name string) string {
		s, _ := h.Fields[name].(string)
		return s
	}
	num := func(name string) float64 {
		f, _ := h.Fields[name].(float64)
		return f
	}
	d := catalog.Document{ID: h.ID, Title: str(fTitle), Summary: str(fSummary), Stage: str(fStage),
		Grade: str(fGrade), Subject: str(fSubject), Edition: str(fEdition), Volume: str(fVolume),
		Type: str(fType), License: str(fLicense), PriceFen: int64(num(fPrice)), Rating: num(fRating),
		Downloads: int64(num(fDownloads)), Author: str(fAuthor), Institution: str(fInstitution)}
	if t, err := time.Parse(time.RFC3339Nano, str(fPublished)); err == nil {
		d.PublishedAt = t.UTC()
	}
	return d
}
