package files_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"ziyuan/market/files"
)

// BenchmarkInspect measures throughput on ~10 MiB uploads: a video (hashing and copying only),
// Chinese text (validated and extracted), and a ZIP (every entry inflated and checked).
func BenchmarkInspect(b *testing.B) {
	const size = 10 << 20
	rng := rand.New(rand.NewPCG(1, 2))
	video := isoMediaOf("isom")
	noise := make([]byte, size-len(video))
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	video = append(video, noise...)
	// Common Chinese characters in random order: text that compresses like real prose (~2:1),
	// not like one repeated line (which the ZIP ratio check would rightly call a bomb).
	var sb strings.Builder
	for sb.Len() < size {
		if rng.IntN(30) == 0 {
			sb.WriteString("。\n")
			continue
		}
		sb.WriteRune(rune(0x4e00 + rng.IntN(3000)))
	}
	text := []byte(sb.String())
	var entries []entry
	for i := range 10 {
		entries = append(entries, entry{strings.Repeat("x", i+1) + ".txt", string(text[:1<<20])})
	}
	zipped := zipOf(b, entries...)

	for _, c := range []struct {
		name string
		data []byte
	}{{"mp4", video}, {"txt", text}, {"zip-10MiB-inflated", zipped}} {
		b.Run(c.name, func(b *testing.B) {
			dir := b.TempDir()
			in := files.NewInspector(files.Limits{}, dir)
			b.SetBytes(int64(len(c.data)))
			for b.Loop() {
				u, err := in.Inspect(context.Background(), "bench."+c.name[:3], bytes.NewReader(c.data))
				if err != nil {
					b.Fatal(err)
				}
				u.Close()
			}
		})
	}
}
