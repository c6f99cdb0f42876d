package market

import (
	"embed"
	"io/fs"

	"ziyuan/catalog"
	"ziyuan/market/store"
	"ziyuan/rights"
)

//go:embed schema
var schemaFS embed.FS

// Schema returns market's tables, one migration directory per dialect.
func Schema() store.Source { return store.Source{Name: "market", FS: mustSub(schemaFS, "schema")} }

// Schemas lists every table source the market needs, in migration order: its own, the
// ledger's and the catalog outbox's.
func Schemas() []store.Source {
	return []store.Source{Schema(), {Name: "rights", FS: rights.SchemaFS()}, {Name: "catalog", FS: catalog.SchemaFS()}}
}

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}
