package rights_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gorm.io/gorm"

	"ziyuan/market/store"
	"ziyuan/market/store/storetest"
	"ziyuan/rights"
)

func TestHashContentStreams(t *testing.T) {
	data := bytes.Repeat([]byte("资源"), 1<<18)
	d, n, err := rights.HashContent(bytes.NewReader(data))
	if err != nil || n != int64(len(data)) || d != rights.Digest(sha256.Sum256(data)) {
		t.Fatalf("HashContent = %s, %d, %v", d, n, err)
	}
}

func TestNormalizeText(t *testing.T) {
	cases := map[string]string{
		"二次函数，图像！":     "二次函数图像",
		"ＡＢＣ １２３":      "abc123",
		"Hello, World": "helloworld",
		"  \n\t":       "",
		"x²-6x+5=0":    "x26x50",
		"《全等三角形》——教案":  "全等三角形教案",
	}
	for in, want := range cases {
		if got := string(rights.NormalizeText(in)); got != want {
			t.Errorf("NormalizeText(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestNearDuplicateLessonPlans is the acceptance test of issue 3: a 5 % edit of a
// 2,000-character Chinese lesson plan still matches with estimated similarity ≥ 0.8, an
// unrelated lesson of the same subject stays ≤ 0.4.
func TestNearDuplicateLessonPlans(t *testing.T) {
	m, err := rights.NewMinHasher(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for seed := range uint64(8) {
		r := rand.New(rand.NewPCG(seed, 2026))
		orig := lessonPlan(r, algebraTopic, 2000)
		if n := len([]rune(orig)); n != 2000 {
			t.Fatalf("generated %d characters", n)
		}
		sig := m.Signature(orig)
		cases := []struct {
			name     string
			text     string
			min, max float64
		}{
			{"identical", orig, 1, 1},
			{"punctuation and width changed", strings.NewReplacer("，", ",", "。", ".", "x", "ｘ").Replace(orig), 1, 1},
			{"5% word edits", editWords(r, orig, 0.05, algebraTopic), 0.8, 1},
			{"5% passage rewritten", editBlock(r, orig, 0.05, algebraTopic), 0.8, 1},
			{"unrelated lesson, same subject", lessonPlan(r, geometryTopic, 2000), 0, 0.4},
			{"unrelated text", strings.Repeat("春眠不觉晓处处闻啼鸟夜来风雨声花落知多少", 50), 0, 0.05},
		}
		for _, c := range cases {
			s := m.Signature(c.text).Similarity(sig)
			if s < c.min || s > c.max {
				t.Errorf("seed %d, %s: similarity %.3f, want within [%.2f, %.2f]", seed, c.name, s, c.min, c.max)
			}
		}
	}
}

func TestSignatureEncoding(t *testing.T) {
	m, _ := rights.NewMinHasher(0, 0)
	sig := m.Signature("一元二次方程的解法")
	b, _ := sig.MarshalBinary()
	var back rights.Signature
	if err := back.UnmarshalBinary(b); err != nil || back.Similarity(sig) != 1 {
		t.Fatalf("round trip: %v", err)
	}
	// It fits a ledger entry's fingerprint.
	e := workEntry(1)
	e.Fingerprint = b
	if _, err := rights.Encode(e); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]byte{nil, []byte("MH1"), append([]byte("MH2"), b[3:]...), b[:len(b)-1]} {
		if err := back.UnmarshalBinary(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	other, _ := rights.NewMinHasher(0, 2)
	if s := other.Signature("一元二次方程的解法").Similarity(sig); s != 0 {
		t.Errorf("signatures of different parameters compared: %v", s)
	}
	if s := m.Signature("，。！").Similarity(m.Signature("？")); s != 0 {
		t.Errorf("empty texts are similar: %v", s)
	}
	// Deterministic across MinHasher instances (and so across processes).
	m2, _ := rights.NewMinHasher(0, 0)
	if !slices.Equal(m2.Signature("一元二次方程的解法").Values, sig.Values) {
		t.Error("signature depends on the instance")
	}
}

func TestSimilarityIndex(t *testing.T) {
	storetest.Each(t, sources, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		m, _ := rights.NewMinHasher(0, 0)
		idx := rights.NewSimilarityIndex(db.DB)
		r := rand.New(rand.NewPCG(1, 2))
		orig := lessonPlan(r, algebraTopic, 2000)
		docs := map[string]string{
			"orig":      orig,
			"geometry":  lessonPlan(r, geometryTopic, 2000),
			"geometry2": lessonPlan(r, geometryTopic, 2000),
			"poem":      strings.Repeat("床前明月光疑是地上霜举头望明月低头思故乡", 40),
		}
		err := db.Transaction(func(tx *gorm.DB) error {
			for id, text := range docs {
				if err := idx.Index(ctx, tx, id, m.Signature(text)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		edited := editWords(r, orig, 0.05, algebraTopic)
		got, err := idx.Similar(ctx, m.Signature(edited), 0.8)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].DocID != "orig" || got[0].Similarity < 0.8 {
			t.Fatalf("Similar(edited, 0.8) = %+v, want only orig", got)
		}
		// Heavier, scattered edits fall below 0.8 but are still found at a lower threshold.
		scattered := editChars(r, orig, 0.05)
		got, err = idx.Similar(ctx, m.Signature(scattered), 0.5)
		if err != nil || len(got) == 0 || got[0].DocID != "orig" {
			t.Fatalf("Similar(scattered, 0.5) = %+v, %v", got, err)
		}
		// Re-indexing replaces; removing forgets.
		err = db.Transaction(func(tx *gorm.DB) error {
			if err := idx.Index(ctx, tx, "orig", m.Signature(docs["poem"])); err != nil {
				return err
			}
			return idx.Remove(ctx, tx, "poem")
		})
		if err != nil {
			t.Fatal(err)
		}
		got, _ = idx.Similar(ctx, m.Signature(edited), 0.5)
		if len(got) != 0 {
			t.Fatalf("replaced document still found: %+v", got)
		}
		got, _ = idx.Similar(ctx, m.Signature(docs["poem"]), 0.9)
		if len(got) != 1 || got[0].DocID != "orig" {
			t.Fatalf("after replace/remove: %+v", got)
		}
	})
}
