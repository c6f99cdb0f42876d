package market

import (
	"embed"
	"io/fs"

	"ziyuan/market/store"
)

//go:embed schema
var schemaFS embed.FS

// Schema returns market's tables, one migration directory per dialect.
func Schema() store.Source { return store.Source{Name: "market", FS: mustSub(schemaFS, "schema")} }

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}
