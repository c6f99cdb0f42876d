// Package catalog owns search over the published resources of Ziyuan: the Document that is
// indexed, the Query a reader asks and the Result it gets, the Engine interface that search
// engines implement, the taxonomy (学段/年级/学科/教材版本/册次/资源类型/licences) that
// classifies resources, the synonyms that map how teachers phrase a search onto catalog terms,
// and the outbox through which market's transactions feed the index: taken once by a Worker for
// an engine that every instance shares, followed by every instance (Follower) for an embedded
// index that each instance keeps for itself.
//
// Engines live in subpackages named after their dependency: catalog/bleve (embedded, the
// default) and catalog/meili (Meilisearch). Both pass the contract tests in catalog/catalogtest.
//
// The package imports nothing else of Ziyuan; market calls Enqueue inside its own transactions
// and supplies documents to Reindex, and the web layer turns request parameters into a Query
// with Taxonomy.ParseQuery and maps ErrUnavailable to 503 and *ValidationError to 400.
package catalog
