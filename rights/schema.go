package rights

import (
	"embed"
	"io/fs"
)

//go:embed schema
var schemaFS embed.FS

// SchemaFS returns the ledger's and the fingerprint index's tables as versioned migrations, one
// directory per dialect ("sqlite/NNNN_name.sql", "postgres/NNNN_name.sql"). Callers apply it
// with their migration runner, e.g. store.Source{Name: "rights", FS: rights.SchemaFS()}.
func SchemaFS() fs.FS {
	sub, err := fs.Sub(schemaFS, "schema")
	if err != nil {
		// The directory is embedded at build time; a failure here is a build defect.
		panic(err)
	}
	return sub
}
