package web_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"ziyuan/rights"
)

// c2spTilePath writes a tile path as the C2SP tlog-tiles spec says, independently of rights:
// tile/<L>/<N>[.p/<W>], N in groups of three digits, all but the last prefixed with "x".
func c2spTilePath(t tlog.Tile) string {
	n := fmt.Sprintf("%03d", t.N%1000)
	for rest := t.N / 1000; rest > 0; rest /= 1000 {
		n = fmt.Sprintf("x%03d/%s", rest%1000, n)
	}
	level := fmt.Sprint(t.L)
	if t.L == -1 {
		level = "entries"
	}
	p := "tile/" + level + "/" + n
	if t.W != 1<<t.H {
		p += fmt.Sprintf(".p/%d", t.W)
	}
	return p
}

// httpTiles is a tile client over our HTTP tile endpoints, for x/mod's tlog.TileHashReader,
// which checks every tile it reads against the signed tree's root.
type httpTiles struct {
	t    *testing.T
	base string
}

func (h httpTiles) Height() int { return 8 }

func (h httpTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, tile := range tiles {
		res, err := http.Get(h.base + "/api/v1/ledger/" + c2spTilePath(tile))
		if err != nil {
			return nil, err
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			return nil, fmt.Errorf("tile %s: %d %s", c2spTilePath(tile), res.StatusCode, b)
		}
		out[i] = b
	}
	return out, nil
}

func (h httpTiles) SaveTiles([]tlog.Tile, [][]byte) {}

func get(t *testing.T, url string) (int, []byte, http.Header) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b, res.Header
}

// TestLedgerOverHTTP audits the served log as outsiders would: a tile client built on x/mod's
// verifying hash reader, the rights auditor over the JSON API, and a receipt checked offline.
func TestLedgerOverHTTP(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		for i := range 3 {
			e.publishSample(t, fmt.Sprintf("账本测试教案%d", i))
		}
		size := e.waitCheckpoint(t)
		base := e.listen(t)

		_, keyText, _ := get(t, base+"/api/v1/ledger/key")
		key := strings.TrimSpace(string(keyText))
		status, note, hdr := get(t, base+"/api/v1/ledger/checkpoint")
		if status != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/plain") {
			t.Fatalf("checkpoint: %d %s", status, hdr.Get("Content-Type"))
		}
		cp, err := rights.OpenCheckpoint(note, key)
		if err != nil || cp.Size != size {
			t.Fatalf("checkpoint %+v: %v", cp.Checkpoint, err)
		}

		// Every record, proved through tiles only.
		tree := tlog.Tree{N: cp.Size, Hash: cp.Root}
		hr := tlog.TileHashReader(tree, httpTiles{t, base})
		for i := int64(0); i < cp.Size; i++ {
			_, data, _ := get(t, fmt.Sprintf("%s/api/v1/ledger/tile/entries/000.p/%d", base, cp.Size))
			leaf := bundleEntry(t, data, i)
			proof, err := tlog.ProveRecord(cp.Size, i, hr)
			if err != nil {
				t.Fatalf("prove record %d through tiles: %v", i, err)
			}
			if err := tlog.CheckRecord(proof, cp.Size, cp.Root, i, tlog.RecordHash(leaf)); err != nil {
				t.Fatalf("record %d: %v", i, err)
			}
		}
		if _, _, h := get(t, base+"/api/v1/ledger/tile/0/000.p/"+fmt.Sprint(cp.Size)); h.Get("Cache-Control") != "no-cache" {
			t.Errorf("a partial tile is cacheable: %q", h.Get("Cache-Control"))
		}

		// The auditor of `ziyuan ledger verify --url`, twice: the second run proves consistency.
		state := filepath.Join(t.TempDir(), "state")
		for range 2 {
			rep, err := rights.Audit(context.Background(), rights.HTTPFetcher{BaseURL: base + "/api/v1"},
				rights.AuditConfig{VerifierKey: key, StateFile: state, Sample: 4})
			if err != nil || rep.Size != cp.Size || len(rep.Audited) == 0 {
				t.Fatalf("audit over HTTP: %+v %v", rep, err)
			}
		}

		// A receipt verifies offline; a tampered one does not.
		_, receipt, rh := get(t, base+"/api/v1/ledger/entries/0/receipt")
		if !strings.Contains(rh.Get("Content-Disposition"), "attachment") {
			t.Fatalf("receipt is not an attachment: %q", rh.Get("Content-Disposition"))
		}
		if _, err := rights.VerifyReceipt(receipt, key); err != nil {
			t.Fatalf("receipt: %v", err)
		}
		r, err := rights.ParseReceipt(receipt)
		if err != nil {
			t.Fatal(err)
		}
		r.Entry = []byte(strings.Replace(string(r.Entry), "work.registered", "work.published", 1))
		tampered, _ := json.Marshal(r)
		if _, err := rights.VerifyReceipt(tampered, key); err == nil {
			t.Fatal("a receipt whose entry was edited still verifies")
		}

		cases := []struct {
			path   string
			status int
		}{
			{"/api/v1/ledger/entries/x", 400},
			{"/api/v1/ledger/entries/-1", 400},
			{"/api/v1/ledger/entries/99999", 404},
			{"/api/v1/ledger/entries/0/proof?size=99999", 404},
			{"/api/v1/ledger/consistency?old=2", 400},
			{"/api/v1/ledger/consistency?old=5&new=2", 400},
			{"/api/v1/ledger/tile/0/999", 404},
			{"/api/v1/ledger/tile/../../etc/passwd", 400},
		}
		for _, c := range cases {
			if status, body, _ := get(t, base+c.path); status != c.status {
				t.Errorf("%s: %d %s, want %d", c.path, status, body, c.status)
			}
		}
	})
}

// bundleEntry reads entry i from an entry bundle (16-bit big-endian length, then the bytes).
func bundleEntry(t *testing.T, bundle []byte, i int64) []byte {
	t.Helper()
	for j := int64(0); len(bundle) >= 2; j++ {
		n := int(binary.BigEndian.Uint16(bundle))
		if len(bundle) < 2+n {
			break
		}
		if j == i {
			return bundle[2 : 2+n]
		}
		bundle = bundle[2+n:]
	}
	t.Fatalf("entry %d not in the bundle", i)
	return nil
}

func TestVerifyReceiptPage(t *testing.T) {
	e := newEnv(t, openDB(t))
	e.publishSample(t, "回执页测试")
	receipt, err := e.Ledger.Receipt(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	tok := b.csrf(t, "/ledger/verify")
	post := func(data []byte) (int, string) {
		bd := multipartFile("receipt", "r.json", data)
		req, _ := http.NewRequest("POST", "/ledger/verify", strings.NewReader(string(bd.data)))
		req.Header.Set("Content-Type", bd.contentType)
		req.Header.Set("X-CSRF-Token", tok)
		res, page := b.send(t, req)
		return res.StatusCode, page
	}
	if status, page := post(receipt); status != 200 || !strings.Contains(page, "回执验证通过") || !strings.Contains(page, "作品登记") {
		t.Fatalf("valid receipt: %d", status)
	}
	for name, data := range map[string][]byte{
		"garbage":   []byte("not json"),
		"truncated": receipt[:len(receipt)/2],
		"other log": []byte(strings.Replace(string(receipt), "ziyuan.test/ledger", "evil.example/ledger", -1)),
	} {
		if status, page := post(data); status != 422 || !strings.Contains(page, "回执未通过验证") {
			t.Errorf("%s receipt: status %d", name, status)
		}
	}
}
