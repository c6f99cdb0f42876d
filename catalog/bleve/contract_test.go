package bleve_test

import (
	"context"
	"path/filepath"
	"testing"

	"ziyuan/catalog"
	"ziyuan/catalog/bleve"
	"ziyuan/catalog/catalogtest"
)

func TestContractMemory(t *testing.T) {
	catalogtest.RunContract(t, func(t *testing.T) catalog.Engine {
		e, err := bleve.OpenMemory(bleve.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		return e
	})
}

func TestContractDisk(t *testing.T) {
	catalogtest.RunContract(t, func(t *testing.T) catalog.Engine {
		e, err := bleve.Open(filepath.Join(t.TempDir(), "index"), bleve.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		return e
	})
}

func TestClosedEngineIsUnavailable(t *testing.T) {
	e, err := bleve.OpenMemory(bleve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Upsert(context.Background(), catalogtest.Fixtures()...); err != nil {
		t.Fatal(err)
	}
	e.Close()
	catalogtest.Unavailable(t, e)
}
