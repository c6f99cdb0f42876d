package rights_test

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"ziyuan/market/store"
	"ziyuan/market/store/storetest"
	"ziyuan/rights"
)

func TestTilePaths(t *testing.T) {
	cases := []struct {
		path string
		tile tlog.Tile
	}{
		{"tile/0/000", tlog.Tile{H: 8, L: 0, N: 0, W: 256}},
		{"tile/0/x001/234", tlog.Tile{H: 8, L: 0, N: 1234, W: 256}},
		{"tile/1/002.p/17", tlog.Tile{H: 8, L: 1, N: 2, W: 17}},
		{"tile/entries/x001/x234/067.p/8", tlog.Tile{H: 8, L: -1, N: 1234067, W: 8}},
		{"tile/entries/000", tlog.Tile{H: 8, L: -1, N: 0, W: 256}},
	}
	for _, c := range cases {
		got, err := rights.ParseTilePath(c.path)
		if err != nil || got != c.tile {
			t.Errorf("ParseTilePath(%q) = %+v, %v; want %+v", c.path, got, err, c.tile)
		}
		if p := rights.TilePath(c.tile); p != c.path {
			t.Errorf("TilePath(%+v) = %q, want %q", c.tile, p, c.path)
		}
	}
	for _, bad := range []string{
		"tile/8/0/000", "tile/data/000", "tile/0/0", "tile/0/1234", "tile/0/000.p/256", "tile/0/000.p/0",
		"tile/0/x000/001", "tile/-1/000", "tiles/0/000", "tile/0/000/", "tile/64/000", "tile/entries/000.p/",
	} {
		if _, err := rights.ParseTilePath(bad); !errors.Is(err, rights.ErrInvalid) {
			t.Errorf("ParseTilePath(%q) accepted: %v", bad, err)
		}
	}
}

// logTiles reads tiles through Log.Tile for tlog.TileHashReader, which checks every tile it
// loads against the tree: this is how a standard tile client audits the log.
type logTiles struct {
	t  *testing.T
	lg *testLog
}

func (r logTiles) Height() int { return rights.TileHeight }

func (r logTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, tl := range tiles {
		td, err := r.lg.Tile(context.Background(), rights.TilePath(tl))
		if err != nil {
			return nil, err
		}
		if td.Full != (tl.W == 256) {
			r.t.Errorf("tile %s: Full = %v", td.Path, td.Full)
		}
		out[i] = td.Data
	}
	return out, nil
}

func (logTiles) SaveTiles([]tlog.Tile, [][]byte) {}

func TestTilesServeTheTree(t *testing.T) {
	storetest.Each(t, sources, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		lg := openLog(t, db.DB)
		const size = 2*256 + 88
		enqueue(t, lg, 0, size)
		drain(t, lg)
		c := mustPublish(t, lg)
		thr := tlog.TileHashReader(tlog.Tree{N: c.Size, Hash: c.Root}, logTiles{t, lg})
		for _, i := range []int64{0, 1, 255, 256, 300, 511, 512, size - 1} {
			p, err := tlog.ProveRecord(c.Size, i, thr)
			if err != nil {
				t.Fatalf("proof of %d from tiles: %v", i, err)
			}
			if _, err := c.VerifyInclusion(i, mustData(t, lg, i), p); err != nil {
				t.Fatalf("tile-built proof of %d: %v", i, err)
			}
		}
		// Entry bundles carry the leaves, each behind a 16-bit length.
		for _, path := range []string{"tile/entries/000", "tile/entries/001", "tile/entries/002.p/88"} {
			td, err := lg.Tile(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			tl, _ := rights.ParseTilePath(path)
			hashes, err := lg.Tile(ctx, rights.TilePath(tlog.Tile{H: 8, L: 0, N: tl.N, W: tl.W}))
			if err != nil {
				t.Fatal(err)
			}
			b := td.Data
			for k := 0; k < tl.W; k++ {
				if len(b) < 2 {
					t.Fatalf("%s: bundle ends after %d entries", path, k)
				}
				n := int(binary.BigEndian.Uint16(b))
				leaf := b[2 : 2+n]
				b = b[2+n:]
				if h := tlog.RecordHash(leaf); string(h[:]) != string(hashes.Data[k*32:(k+1)*32]) {
					t.Fatalf("%s entry %d does not match the level-0 tile", path, k)
				}
			}
			if len(b) != 0 {
				t.Fatalf("%s: %d trailing bytes", path, len(b))
			}
			if td.Full != (tl.W == 256) {
				t.Errorf("%s: Full = %v", path, td.Full)
			}
		}
		for _, path := range []string{"tile/0/002", "tile/0/002.p/89", "tile/1/000", "tile/1/000.p/3", "tile/entries/003.p/1", "tile/2/000.p/1", "tile/0/x999/x999/x999/x999/x999/999", "tile/7/x999/x999/x999/x999/x999/999"} {
			if _, err := lg.Tile(ctx, path); !errors.Is(err, rights.ErrNotFound) {
				t.Errorf("%s beyond the tree: %v", path, err)
			}
		}
		if td, err := lg.Tile(ctx, "tile/1/000.p/2"); err != nil || len(td.Data) != 64 || td.Full {
			t.Errorf("level-1 partial tile: %v", err)
		}
	})
}
