package meili_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"ziyuan/catalog"
	"ziyuan/catalog/catalogtest"
	"ziyuan/catalog/meili"
)

// The engine contract against a real Meilisearch. Meilisearch cannot be installed on our
// machines, so this runs only where MEILI_URL names a server.
func TestContract(t *testing.T) {
	url := os.Getenv("MEILI_URL")
	if url == "" {
		t.Skip("Meilisearch contract tests skipped: MEILI_URL is not set (start a Meilisearch server and set MEILI_URL, and MEILI_API_KEY if it has a master key, to run them)")
	}
	catalogtest.RunContract(t, func(t *testing.T) catalog.Engine {
		var b [4]byte
		rand.Read(b[:])
		e, err := meili.New(meili.Options{URL: url, APIKey: os.Getenv("MEILI_API_KEY"),
			Index: "ziyuan_test_" + hex.EncodeToString(b[:]), PollInterval: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.DeleteIndex(context.Background()) })
		return e
	})
}
