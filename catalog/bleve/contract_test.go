package bleve_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

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

// TestContractCached runs the contract through the result cache that serve puts in front of
// the engine: caching must not change any answer.
func TestContractCached(t *testing.T) {
	catalogtest.RunContract(t, func(t *testing.T) catalog.Engine {
		e, err := bleve.OpenMemory(bleve.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		return catalog.NewCached(e, 64, time.Minute)
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
