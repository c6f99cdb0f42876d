package rights

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
	"gorm.io/gorm"
)

// HashContent streams r through SHA-256 and returns the digest and the number of bytes read.
// Exact duplicates are found by comparing these digests.
func HashContent(r io.Reader) (Digest, int64, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return Digest{}, n, err
	}
	var d Digest
	h.Sum(d[:0])
	return d, n, nil
}

// MinHash parameters. Character trigrams: bigrams made unrelated lessons of one subject look
// alike (shared phrasing like 教学目标, 学生), longer shingles made small edits count too much.
// A 5 % word-level edit leaves a trigram Jaccard similarity of about 0.85, so the estimate
// needs little noise: 256 hash functions give a standard error of at most 0.031
// (√(s(1−s)/256)). 64 bands of 4 rows make texts with similarity 0.8 share a band with
// probability > 0.9999 and ones with similarity 0.3 with probability ≈ 0.41; candidates are
// then ranked by the full estimate.
const (
	DefaultMinHashes = 256
	DefaultShingle   = 3
	lshRows          = 4
	// minHashSeed fixes the hash functions: signatures are stored and written to the ledger,
	// so every process, now and later, must compute the same ones.
	minHashSeed uint64 = 0x5a69797561_6e4d48 // "ZiyuanMH"
)

// MinHasher computes MinHash signatures of texts over character n-gram shingles. Character
// shingles need no word segmentation, so they work for Chinese as for English.
type MinHasher struct {
	shingle int
	seeds   []uint64
}

// NewMinHasher returns a MinHasher with the given number of hash functions (a multiple of 4;
// 0 means 256) and shingle length in characters (0 means 3). The hash functions are derived
// deterministically from a fixed seed.
func NewMinHasher(hashes, shingle int) (*MinHasher, error) {
	if hashes == 0 {
		hashes = DefaultMinHashes
	}
	if shingle == 0 {
		shingle = DefaultShingle
	}
	if hashes < lshRows || hashes%lshRows != 0 || hashes > 1024 || shingle < 1 || shingle > 16 {
		return nil, fmt.Errorf("%w: MinHash needs a multiple of %d hashes (≤ 1024) and shingles of 1 to 16 characters", ErrInvalid, lshRows)
	}
	m := &MinHasher{shingle: shingle, seeds: make([]uint64, hashes)}
	for i := range m.seeds {
		m.seeds[i] = mix64(minHashSeed + uint64(i)*0x9e3779b97f4a7c15)
	}
	return m, nil
}

// NormalizeText prepares text for shingling: NFKC (full-width letters and digits become
// ASCII, compatibility ideographs become unified ones), lowercase, and only letters and
// digits kept — whitespace, punctuation and symbols differ between copies of the same work
// without changing it.
func NormalizeText(s string) []rune {
	s = norm.NFKC.String(s)
	out := make([]rune, 0, len(s)/2)
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsNumber(r) {
			out = append(out, unicode.ToLower(r))
		}
	}
	return out
}

// Signature is a MinHash signature: for each hash function, the minimum over the text's
// shingles. The fraction of positions where two signatures agree estimates the Jaccard
// similarity of the two texts' shingle sets.
type Signature struct {
	Shingle int
	Values  []uint32
}

// Signature computes the signature of text. A text without letters or digits has an empty
// signature, which is similar to nothing.
func (m *MinHasher) Signature(text string) Signature {
	runes := NormalizeText(text)
	sig := Signature{Shingle: m.shingle}
	if len(runes) == 0 {
		return sig
	}
	n := m.shingle
	if len(runes) < n {
		n = len(runes)
	}
	seen := make(map[uint64]struct{}, len(runes))
	for i := 0; i+n <= len(runes); i++ {
		// FNV-1a over the shingle's code points, then a final mix.
		h := uint64(14695981039346656037)
		for _, r := range runes[i : i+n] {
			h ^= uint64(r)
			h *= 1099511628211
		}
		seen[mix64(h)] = struct{}{}
	}
	sig.Values = make([]uint32, len(m.seeds))
	for i := range sig.Values {
		sig.Values[i] = math.MaxUint32
	}
	for x := range seen {
		for i, seed := range m.seeds {
			if v := uint32(mix64(x^seed) >> 32); v < sig.Values[i] {
				sig.Values[i] = v
			}
		}
	}
	return sig
}

// Similarity estimates the Jaccard similarity of the texts behind two signatures. Signatures
// computed with different parameters, and empty ones, are similar to nothing (0).
func (s Signature) Similarity(o Signature) float64 {
	if len(s.Values) == 0 || len(s.Values) != len(o.Values) || s.Shingle != o.Shingle {
		return 0
	}
	same := 0
	for i, v := range s.Values {
		if v == o.Values[i] {
			same++
		}
	}
	return float64(same) / float64(len(s.Values))
}

// signatureMagic starts an encoded signature and names its version and hash family.
const signatureMagic = "MH1"

// MarshalBinary encodes the signature: "MH1", the shingle length, the number of values (big
// endian uint16), then the values (big endian uint32). It fits Entry.Fingerprint.
func (s Signature) MarshalBinary() ([]byte, error) {
	out := make([]byte, 0, 6+4*len(s.Values))
	out = append(out, signatureMagic...)
	out = append(out, byte(s.Shingle))
	out = binary.BigEndian.AppendUint16(out, uint16(len(s.Values)))
	for _, v := range s.Values {
		out = binary.BigEndian.AppendUint32(out, v)
	}
	return out, nil
}

// UnmarshalBinary decodes what MarshalBinary encodes.
func (s *Signature) UnmarshalBinary(b []byte) error {
	if len(b) < 6 || string(b[:3]) != signatureMagic {
		return fmt.Errorf("%w: not a MinHash signature", ErrInvalid)
	}
	n := int(binary.BigEndian.Uint16(b[4:6]))
	if len(b) != 6+4*n || b[3] == 0 {
		return fmt.Errorf("%w: malformed MinHash signature", ErrInvalid)
	}
	s.Shingle = int(b[3])
	s.Values = make([]uint32, n)
	for i := range s.Values {
		s.Values[i] = binary.BigEndian.Uint32(b[6+4*i:])
	}
	return nil
}

// bandKeys returns the LSH band keys of a signature: each band of 4 values hashed together
// with its band number (and the shingle length), so one indexed column serves every band.
func (s Signature) bandKeys() []int64 {
	if len(s.Values) == 0 || len(s.Values)%lshRows != 0 {
		return nil
	}
	keys := make([]int64, 0, len(s.Values)/lshRows)
	for b := 0; b < len(s.Values)/lshRows; b++ {
		h := mix64(uint64(b)<<8 | uint64(s.Shingle))
		for _, v := range s.Values[b*lshRows : (b+1)*lshRows] {
			h = mix64(h ^ uint64(v))
		}
		keys = append(keys, int64(h))
	}
	return keys
}

// mix64 is the SplitMix64 finalizer: a fast bijective mixer with good avalanche, which makes
// x ↦ mix64(x ^ seed) a family of pseudo-random permutations for MinHash.
func mix64(z uint64) uint64 {
	z ^= z >> 30
	z *= 0xbf58476d1ce4e5b9
	z ^= z >> 27
	z *= 0x94d049bb133111eb
	z ^= z >> 31
	return z
}

// SimilarityIndex finds near-duplicate documents: it stores each document's signature and
// its LSH band keys, looks up candidates sharing a band, and ranks them by estimated
// similarity.
type SimilarityIndex struct {
	db *gorm.DB
}

// NewSimilarityIndex returns the index on db (which holds the schema of SchemaFS).
func NewSimilarityIndex(db *gorm.DB) *SimilarityIndex { return &SimilarityIndex{db: db} }

// Match is a near-duplicate candidate and its estimated similarity in [0, 1].
type Match struct {
	DocID      string
	Similarity float64
}

// Index stores docID's signature inside the caller's transaction tx, replacing any earlier
// one (a new version of a document replaces its old text).
func (x *SimilarityIndex) Index(ctx context.Context, tx *gorm.DB, docID string, sig Signature) error {
	if docID == "" || len(docID) > 200 {
		return fmt.Errorf("%w: document id must be 1 to 200 bytes", ErrInvalid)
	}
	tx = tx.WithContext(ctx)
	if err := x.Remove(ctx, tx, docID); err != nil {
		return err
	}
	keys := sig.bandKeys()
	if keys == nil {
		return nil // nothing to find it by
	}
	enc, _ := sig.MarshalBinary()
	if err := tx.Exec(`INSERT INTO fingerprint_docs (doc_id, signature) VALUES (?, ?)`, docID, enc).Error; err != nil {
		return fmt.Errorf("index fingerprint: %w", err)
	}
	var sb strings.Builder
	args := make([]any, 0, 2*len(keys))
	sb.WriteString(`INSERT INTO fingerprint_bands (band_key, doc_id) VALUES `)
	for i, k := range keys {
		if i > 0 {
			sb.WriteString(",")
		}
		sb.WriteString("(?,?)")
		args = append(args, k, docID)
	}
	sb.WriteString(` ON CONFLICT DO NOTHING`)
	if err := tx.Exec(sb.String(), args...).Error; err != nil {
		return fmt.Errorf("index fingerprint bands: %w", err)
	}
	return nil
}

// Remove deletes docID from the index inside tx.
func (x *SimilarityIndex) Remove(ctx context.Context, tx *gorm.DB, docID string) error {
	tx = tx.WithContext(ctx)
	if err := tx.Exec(`DELETE FROM fingerprint_bands WHERE doc_id = ?`, docID).Error; err != nil {
		return fmt.Errorf("remove fingerprint: %w", err)
	}
	if err := tx.Exec(`DELETE FROM fingerprint_docs WHERE doc_id = ?`, docID).Error; err != nil {
		return fmt.Errorf("remove fingerprint: %w", err)
	}
	return nil
}

// Similar returns the indexed documents whose estimated similarity to sig is at least
// threshold, most similar first. Candidates come from shared LSH bands, so recall falls off
// for thresholds below about 0.5; above that it is practically complete.
func (x *SimilarityIndex) Similar(ctx context.Context, sig Signature, threshold float64) ([]Match, error) {
	keys := sig.bandKeys()
	if keys == nil {
		return nil, nil
	}
	db := x.db.WithContext(ctx)
	var ids []string
	if err := db.Raw(`SELECT DISTINCT doc_id FROM fingerprint_bands WHERE band_key IN ?`, keys).Scan(&ids).Error; err != nil {
		return nil, fmt.Errorf("find fingerprint candidates: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	var out []Match
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		var rows []struct {
			DocID     string
			Signature []byte
		}
		if err := db.Raw(`SELECT doc_id, signature FROM fingerprint_docs WHERE doc_id IN ?`, chunk).Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("read fingerprints: %w", err)
		}
		for _, r := range rows {
			var other Signature
			if err := other.UnmarshalBinary(r.Signature); err != nil {
				return nil, fmt.Errorf("stored fingerprint of %s: %w", r.DocID, err)
			}
			if s := sig.Similarity(other); s >= threshold {
				out = append(out, Match{DocID: r.DocID, Similarity: s})
			}
		}
	}
	slices.SortFunc(out, func(a, b Match) int {
		return cmp.Or(cmp.Compare(b.Similarity, a.Similarity), strings.Compare(a.DocID, b.DocID))
	})
	return out, nil
}
