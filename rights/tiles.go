package rights

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// TileHeight is the C2SP tlog-tiles tile height: a full tile holds 2^8 = 256 hashes or entries.
const TileHeight = 8

// TileData is a tile read for /ledger/tile/...: its bytes, and whether it is full. A full tile
// never changes (serve it with a long, immutable Cache-Control); a partial tile's content for
// its width never changes either, but it is superseded as the log grows, so cache it briefly.
type TileData struct {
	Path string
	Data []byte
	Full bool
}

// ParseTilePath parses a C2SP tlog-tiles path, "tile/<L>/<N>[.p/<W>]" for hash tiles and
// "tile/entries/<N>[.p/<W>]" for entry bundles (N in 3-digit groups, all but the last prefixed
// with x). Entry bundles come back with L = -1, as tlog calls data tiles.
func ParseTilePath(path string) (tlog.Tile, error) {
	rest, ok := strings.CutPrefix(path, "tile/")
	if !ok {
		return tlog.Tile{}, fmt.Errorf("%w: tile path %q does not start with tile/", ErrInvalid, path)
	}
	// tlog's paths carry the height as their first element and call entry bundles "data";
	// C2SP fixes the height at 8 and says "entries". Translate, let tlog parse (it insists on
	// the canonical form), and translate back to check the round trip.
	if r, ok := strings.CutPrefix(rest, "entries/"); ok {
		rest = "data/" + r
	} else if strings.HasPrefix(rest, "data/") {
		return tlog.Tile{}, fmt.Errorf("%w: malformed tile path %q", ErrInvalid, path)
	}
	t, err := tlog.ParseTilePath(fmt.Sprintf("tile/%d/%s", TileHeight, rest))
	if err != nil || TilePath(t) != path || t.L > 63 {
		return tlog.Tile{}, fmt.Errorf("%w: malformed tile path %q", ErrInvalid, path)
	}
	return t, nil
}

// TilePath formats t as a C2SP tlog-tiles path.
func TilePath(t tlog.Tile) string {
	p := t.Path() // tile/8/<L or data>/<N>[.p/<W>]
	p = strings.TrimPrefix(p, fmt.Sprintf("tile/%d/", t.H))
	if r, ok := strings.CutPrefix(p, "data/"); ok {
		p = "entries/" + r
	}
	return "tile/" + p
}

// Tile reads the tile at a C2SP path. Tiles beyond the integrated tree are ErrNotFound.
// Entry bundles hold each entry as a big-endian 16-bit length and the entry bytes.
func (l *Log) Tile(ctx context.Context, path string) (TileData, error) {
	t, err := ParseTilePath(path)
	if err != nil {
		return TileData{}, err
	}
	db := l.db.WithContext(ctx)
	st, err := readTree(db, false)
	if err != nil {
		return TileData{}, err
	}
	// Guard the shifts below against overflow before computing with N.
	if t.N > st.Size>>TileHeight {
		return TileData{}, fmt.Errorf("%w: tile %s is beyond the tree of size %d", ErrNotFound, path, st.Size)
	}
	first := t.N << TileHeight
	out := TileData{Path: path, Full: t.W == 1<<TileHeight}
	if t.L < 0 {
		if first+int64(t.W) > st.Size {
			return TileData{}, fmt.Errorf("%w: tile %s is beyond the tree of size %d", ErrNotFound, path, st.Size)
		}
		var rows []struct {
			Idx  int64
			Data []byte
		}
		if err := db.Raw(`SELECT idx, data FROM ledger_entries WHERE idx >= ? AND idx < ? ORDER BY idx`,
			first, first+int64(t.W)).Scan(&rows).Error; err != nil {
			return TileData{}, fmt.Errorf("read entry bundle: %w", err)
		}
		if len(rows) != t.W {
			return TileData{}, fmt.Errorf("%w: entry bundle %s has %d of %d entries", ErrInconsistent, path, len(rows), t.W)
		}
		for _, r := range rows {
			out.Data = binary.BigEndian.AppendUint16(out.Data, uint16(len(r.Data)))
			out.Data = append(out.Data, r.Data...)
		}
		return out, nil
	}
	// The tile's W hashes are the nodes at tree level 8L numbered first..first+W-1; they are
	// stored once the tree covers all the leaves beneath the last of them, i.e. while
	// first+W ≤ size>>level (the number of complete nodes at that level).
	level := TileHeight * t.L
	if level > 62 || first+int64(t.W) > st.Size>>level {
		return TileData{}, fmt.Errorf("%w: tile %s is beyond the tree of size %d", ErrNotFound, path, st.Size)
	}
	if out.Data, err = tlog.ReadTileData(t, hashReader{db}); err != nil {
		return TileData{}, err
	}
	return out, nil
}
