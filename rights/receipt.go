package rights

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// ReceiptFormat names the receipt file format and its version.
const ReceiptFormat = "ziyuan-ledger-receipt/v1"

// maxReceiptSize bounds a receipt: an entry (< 64 KiB, base64), a proof of at most 63 hashes,
// a checkpoint. Anything larger is not a receipt.
const maxReceiptSize = 256 << 10

// Receipt is the self-contained evidence a teacher keeps for one ledger entry: the exact entry
// bytes, its inclusion proof, and the signed checkpoint the proof leads to. It is JSON so that
// people can read it and any language can check it with an RFC 6962 and a note library.
type Receipt struct {
	Format string `json:"format"`
	// Index is the entry's position in the log.
	Index int64 `json:"index"`
	// Entry is the exact leaf bytes (base64 in JSON); their RFC 6962 leaf hash is proved.
	Entry []byte `json:"entry"`
	// Proof is the inclusion proof from the entry to the checkpoint's root.
	Proof []tlog.Hash `json:"proof"`
	// Checkpoint is the signed C2SP checkpoint note.
	Checkpoint string `json:"checkpoint"`
	// VerifierKey is the log's public key at issue time, for convenience only: a receipt
	// cannot vouch for itself, so VerifyReceipt takes the key from the verifier.
	VerifierKey string `json:"verifier_key,omitempty"`
}

// Report says what a verified receipt or entry proves: that the entry with these contents is
// at Index in the log Origin, whose signed tree of TreeSize entries has root Root.
type Report struct {
	Origin   string    `json:"origin"`
	TreeSize int64     `json:"tree_size"`
	Root     tlog.Hash `json:"root"`
	Index    int64     `json:"index"`
	LeafHash tlog.Hash `json:"leaf_hash"`
	Entry    Entry     `json:"entry"`
}

// String is a short human summary, e.g. for `ziyuan ledger verify --receipt`.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "verified: entry %d of %s (signed tree of %d entries, root %s)\n", r.Index, r.Origin, r.TreeSize, r.Root)
	fmt.Fprintf(&b, "  type     %s\n  time     %s\n", r.Entry.Type, r.Entry.Time.UTC().Format("2006-01-02T15:04:05.999999999Z07:00"))
	for _, s := range r.Entry.Subjects {
		fmt.Fprintf(&b, "  %-8s %s\n", s.Role, s.ID)
	}
	if !r.Entry.ContentSHA256.IsZero() {
		fmt.Fprintf(&b, "  content  sha256:%s\n", r.Entry.ContentSHA256)
	}
	if l := r.Entry.License; l != nil {
		fmt.Fprintf(&b, "  licence  %s %s\n", l.Code, l.Scope)
	}
	return b.String()
}

// Receipt builds the receipt file for entry index against the latest checkpoint. An entry not
// yet covered by a checkpoint gives ErrPending.
func (l *Log) Receipt(ctx context.Context, index int64) ([]byte, error) {
	ev, err := l.Entry(ctx, index)
	if err != nil {
		return nil, err
	}
	p, err := l.InclusionProof(ctx, index, 0)
	if err != nil {
		return nil, err
	}
	r := Receipt{
		Format:      ReceiptFormat,
		Index:       index,
		Entry:       ev.Data,
		Proof:       p.Hashes,
		Checkpoint:  p.Checkpoint,
		VerifierKey: l.key.VerifierKey(),
	}
	// Check what we hand out: a receipt that does not verify is worse than none.
	out, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	if _, err := VerifyReceipt(out, l.key.VerifierKey()); err != nil {
		return nil, fmt.Errorf("%w: built a receipt that does not verify: %v", ErrInconsistent, err)
	}
	return append(out, '\n'), nil
}

// ParseReceipt parses a receipt file strictly: known format, no unknown fields, no trailing
// data, bounded size. It checks the shape only; VerifyReceipt checks the content.
func ParseReceipt(data []byte) (Receipt, error) {
	var r Receipt
	if len(data) > maxReceiptSize {
		return r, fmt.Errorf("%w: receipt of %d bytes, more than %d", ErrTooLarge, len(data), maxReceiptSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return Receipt{}, fmt.Errorf("%w: receipt is not valid JSON: %v", ErrInvalid, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Receipt{}, fmt.Errorf("%w: receipt has data after its JSON object", ErrInvalid)
	}
	if r.Format != ReceiptFormat {
		return Receipt{}, fmt.Errorf("%w: receipt format %q, want %q", ErrInvalid, r.Format, ReceiptFormat)
	}
	if r.Index < 0 || len(r.Entry) == 0 || r.Checkpoint == "" || len(r.Proof) > 64 {
		return Receipt{}, fmt.Errorf("%w: receipt lacks an index, entry, proof or checkpoint", ErrInvalid)
	}
	return r, nil
}

// VerifyReceipt verifies a receipt offline with the log's verifier key (obtained out of band,
// e.g. from /ledger/key or the operator): the checkpoint's signature, the entry's canonical
// encoding, and its inclusion in the signed tree. It needs no access to our database.
func VerifyReceipt(data []byte, verifierKey string) (Report, error) {
	if strings.TrimSpace(verifierKey) == "" {
		return Report{}, fmt.Errorf("%w: a verifier key is required: a receipt cannot vouch for itself", ErrInvalid)
	}
	r, err := ParseReceipt(data)
	if err != nil {
		return Report{}, err
	}
	reports, err := VerifyEntries([]byte(r.Checkpoint), verifierKey, []ProvenEntry{{Index: r.Index, Data: r.Entry, Proof: r.Proof}})
	if err != nil {
		return Report{}, err
	}
	return reports[0], nil
}

// ProvenEntry is an entry with its inclusion proof, as a contribution export lists them.
type ProvenEntry struct {
	Index int64       `json:"index"`
	Data  []byte      `json:"data"`
	Proof []tlog.Hash `json:"proof"`
}

// VerifyEntries verifies many entries against one signed checkpoint: the signature once, then
// each entry's canonical encoding and inclusion. It stops at the first failure, naming it.
func VerifyEntries(checkpoint []byte, verifierKey string, entries []ProvenEntry) ([]Report, error) {
	c, err := OpenCheckpoint(checkpoint, verifierKey)
	if err != nil {
		return nil, err
	}
	out := make([]Report, 0, len(entries))
	for _, pe := range entries {
		e, err := c.VerifyInclusion(pe.Index, pe.Data, pe.Proof)
		if err != nil {
			return out, err
		}
		out = append(out, Report{
			Origin: c.Origin, TreeSize: c.Size, Root: c.Root,
			Index: pe.Index, LeafHash: tlog.RecordHash(pe.Data), Entry: e,
		})
	}
	return out, nil
}
