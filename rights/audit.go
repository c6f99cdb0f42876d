package rights

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// Fetcher is what an auditor needs from a live log; HTTPFetcher implements it over the API of
// API.md, tests implement it in memory.
type Fetcher interface {
	// Checkpoint returns the latest signed checkpoint note.
	Checkpoint(ctx context.Context) ([]byte, error)
	// Consistency returns the proof that the tree of newSize extends the tree of oldSize.
	Consistency(ctx context.Context, oldSize, newSize int64) ([]tlog.Hash, error)
	// ProvenEntry returns entry index's bytes and its inclusion proof in the tree of size.
	ProvenEntry(ctx context.Context, index, size int64) (ProvenEntry, error)
}

// AuditConfig configures Audit.
type AuditConfig struct {
	// VerifierKey is the log's public note key, obtained out of band.
	VerifierKey string
	// StateFile keeps the last checkpoint this auditor verified, so each run also proves the
	// log only grew since the previous one. Empty means no memory.
	StateFile string
	// Sample is how many random entries to audit besides the first and the newest (default 16).
	Sample int
	// Rand picks the sample; nil means a random seed.
	Rand *rand.Rand
}

// AuditReport says what an audit established.
type AuditReport struct {
	Origin string
	Size   int64
	Root   tlog.Hash
	// PreviousSize is the size of the checkpoint remembered in the state file (-1: none), which
	// the new checkpoint was proved to extend.
	PreviousSize int64
	// Audited lists the entries whose bytes and inclusion proofs were verified.
	Audited []int64
}

// Audit checks a live log as `ziyuan ledger verify --url` does: the latest checkpoint's
// signature, its consistency with the checkpoint remembered in the state file, and a sample of
// entries (canonical bytes and inclusion). The state file is updated only when all of it
// verifies, so a failed audit is repeated in full next time.
func Audit(ctx context.Context, f Fetcher, cfg AuditConfig) (AuditReport, error) {
	rep := AuditReport{PreviousSize: -1}
	note, err := f.Checkpoint(ctx)
	if err != nil {
		return rep, fmt.Errorf("fetch checkpoint: %w", err)
	}
	c, err := OpenCheckpoint(note, cfg.VerifierKey)
	if err != nil {
		return rep, err
	}
	rep.Origin, rep.Size, rep.Root = c.Origin, c.Size, c.Root

	var prev *SignedCheckpoint
	if cfg.StateFile != "" {
		data, err := os.ReadFile(cfg.StateFile)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return rep, fmt.Errorf("read audit state: %w", err)
		default:
			p, err := OpenCheckpoint(data, cfg.VerifierKey)
			if err != nil {
				return rep, fmt.Errorf("audit state %s does not verify with this key: %w", cfg.StateFile, err)
			}
			prev = &p
		}
	}
	if prev != nil {
		rep.PreviousSize = prev.Size
		var proof []tlog.Hash
		if prev.Size > 0 && prev.Size < c.Size {
			if proof, err = f.Consistency(ctx, prev.Size, c.Size); err != nil {
				return rep, fmt.Errorf("fetch consistency proof %d→%d: %w", prev.Size, c.Size, err)
			}
		}
		if err := c.VerifyConsistency(prev.Checkpoint, proof); err != nil {
			return rep, fmt.Errorf("the log is not an extension of the one seen before (size %d): %w", prev.Size, err)
		}
	}

	r := cfg.Rand
	if r == nil {
		var seed [16]byte
		crand.Read(seed[:])
		r = rand.New(rand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:])))
	}
	sample := cfg.Sample
	if sample <= 0 {
		sample = 16
	}
	if c.Size > 0 {
		pick := map[int64]bool{0: true, c.Size - 1: true}
		for len(pick) < int(min(int64(sample)+2, c.Size)) {
			pick[r.Int64N(c.Size)] = true
		}
		for i := range pick {
			rep.Audited = append(rep.Audited, i)
		}
		slices.Sort(rep.Audited)
	}
	for _, i := range rep.Audited {
		pe, err := f.ProvenEntry(ctx, i, c.Size)
		if err != nil {
			return rep, fmt.Errorf("fetch entry %d: %w", i, err)
		}
		if pe.Index != i {
			return rep, fmt.Errorf("%w: asked for entry %d, got %d", ErrVerification, i, pe.Index)
		}
		if _, err := c.VerifyInclusion(i, pe.Data, pe.Proof); err != nil {
			return rep, err
		}
	}
	if cfg.StateFile != "" && (prev == nil || c.Size > prev.Size) {
		if err := writeFileAtomic(cfg.StateFile, c.Note); err != nil {
			return rep, fmt.Errorf("save audit state: %w", err)
		}
	}
	return rep, nil
}

// HTTPFetcher fetches from a Ziyuan server's ledger API. BaseURL is the API base, e.g.
// "https://example.edu.cn/api/v1".
type HTTPFetcher struct {
	BaseURL string
	Client  *http.Client
}

// maxResponse bounds what the auditor reads from a server it does not trust.
const maxResponse = 1 << 20

func (h HTTPFetcher) get(ctx context.Context, path string, q url.Values) ([]byte, error) {
	u := strings.TrimSuffix(h.BaseURL, "/") + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	c := h.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxResponse {
		return nil, fmt.Errorf("GET %s: response larger than %d bytes", u, maxResponse)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %.200s", u, resp.Status, body)
	}
	return body, nil
}

// Checkpoint fetches /ledger/checkpoint.
func (h HTTPFetcher) Checkpoint(ctx context.Context) ([]byte, error) {
	return h.get(ctx, "/ledger/checkpoint", nil)
}

// Key fetches /ledger/key, for a first audit that trusts the server's key on first use.
func (h HTTPFetcher) Key(ctx context.Context) (string, error) {
	b, err := h.get(ctx, "/ledger/key", nil)
	return strings.TrimSpace(string(b)), err
}

// Consistency fetches /ledger/consistency?old=&new=.
func (h HTTPFetcher) Consistency(ctx context.Context, oldSize, newSize int64) ([]tlog.Hash, error) {
	body, err := h.get(ctx, "/ledger/consistency", url.Values{
		"old": {strconv.FormatInt(oldSize, 10)}, "new": {strconv.FormatInt(newSize, 10)}})
	if err != nil {
		return nil, err
	}
	var p ConsistencyProof
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("consistency proof: %w", err)
	}
	if p.Old != oldSize || p.New != newSize {
		return nil, fmt.Errorf("%w: asked for consistency %d→%d, got %d→%d", ErrVerification, oldSize, newSize, p.Old, p.New)
	}
	return p.Hashes, nil
}

// ProvenEntry fetches /ledger/entries/{index} and /ledger/entries/{index}/proof?size=.
func (h HTTPFetcher) ProvenEntry(ctx context.Context, index, size int64) (ProvenEntry, error) {
	is := strconv.FormatInt(index, 10)
	body, err := h.get(ctx, "/ledger/entries/"+is, nil)
	if err != nil {
		return ProvenEntry{}, err
	}
	var ev EntryView
	if err := json.Unmarshal(body, &ev); err != nil {
		return ProvenEntry{}, fmt.Errorf("entry %d: %w", index, err)
	}
	body, err = h.get(ctx, "/ledger/entries/"+is+"/proof", url.Values{"size": {strconv.FormatInt(size, 10)}})
	if err != nil {
		return ProvenEntry{}, err
	}
	var p InclusionProof
	if err := json.Unmarshal(body, &p); err != nil {
		return ProvenEntry{}, fmt.Errorf("proof of entry %d: %w", index, err)
	}
	if ev.Index != index || p.Index != index || p.Size != size {
		return ProvenEntry{}, fmt.Errorf("%w: asked for entry %d at size %d, got entry %d and a proof of %d at size %d",
			ErrVerification, index, size, ev.Index, p.Index, p.Size)
	}
	return ProvenEntry{Index: index, Data: ev.Data, Proof: p.Hashes}, nil
}
