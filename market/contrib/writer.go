package contrib

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math/bits"
	"strconv"
)

// Writer streams an export: the header, then records one by one, then the entries the records
// referred to, then the totals. Only the set of referenced indexes is kept in memory.
type Writer struct {
	w        *bufio.Writer
	size     int64
	needed   []uint64 // bitset of referenced entry indexes
	teachers int64
	entries  int64
	stage    int // 0 teachers, 1 entries, 2 closed
	buf      []byte
}

// NewWriter writes the header and opens the teachers list.
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	h.Format, h.Definitions = Format, Definitions
	head, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	x := &Writer{w: bufio.NewWriterSize(w, 1<<20), size: h.Ledger.TreeSize,
		needed: make([]uint64, (h.Ledger.TreeSize+63)/64)}
	x.w.Write(head[:len(head)-1])
	x.w.WriteString(",\n\"teachers\":[")
	return x, nil
}

// Record writes one teacher's record and remembers the entries it refers to. Every index must
// lie in the checkpoint's tree.
func (x *Writer) Record(r Record) error {
	if x.stage != 0 {
		return errors.New("contrib: record after the entries")
	}
	if ev := r.Evidence; ev != nil {
		for _, i := range ev.Works {
			if err := x.need(i); err != nil {
				return err
			}
		}
		for _, a := range ev.Adoptions {
			if err := x.need(a.Index); err != nil {
				return err
			}
		}
		for _, i := range ev.Derivatives {
			if err := x.need(i); err != nil {
				return err
			}
		}
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	sep := ",\n"
	if x.teachers == 0 {
		sep = "\n"
	}
	x.w.WriteString(sep)
	x.teachers++
	_, err = x.w.Write(b)
	return err
}

func (x *Writer) need(i int64) error {
	if i < 0 || i >= x.size {
		return errors.New("contrib: evidence index " + strconv.FormatInt(i, 10) + " is outside the checkpoint's tree")
	}
	x.needed[i/64] |= 1 << (i % 64)
	return nil
}

// Needed returns the referenced entry indexes, ascending. It ends the teachers list: entries
// follow.
func (x *Writer) Needed() []int64 {
	n := 0
	for _, w := range x.needed {
		n += bits.OnesCount64(w)
	}
	out := make([]int64, 0, n)
	for wi, w := range x.needed {
		for w != 0 {
			b := bits.TrailingZeros64(w)
			out = append(out, int64(wi)*64+int64(b))
			w &= w - 1
		}
	}
	if x.stage == 0 {
		x.stage = 1
		x.w.WriteString("\n],\n\"entries\":[")
	}
	return out
}

// Entry writes one proven entry; entries come in index order, after Needed.
func (x *Writer) Entry(e Entry) error {
	if x.stage != 1 {
		return errors.New("contrib: entries come after Needed and before Close")
	}
	b := x.buf[:0]
	if x.entries > 0 {
		b = append(b, ',')
	}
	b = append(b, "\n{\"index\":"...)
	b = strconv.AppendInt(b, e.Index, 10)
	b = append(b, ",\"data\":\""...)
	b = base64.StdEncoding.AppendEncode(b, e.Data)
	b = append(b, "\",\"proof\":["...)
	for i, h := range e.Proof {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, h[:])
		b = append(b, '"')
	}
	b = append(b, "]}"...)
	x.buf = b
	x.entries++
	_, err := x.w.Write(b)
	return err
}

// Close writes the totals and flushes.
func (x *Writer) Close(counts Counts) error {
	if x.stage == 0 {
		x.Needed()
	}
	if x.stage == 2 {
		return nil
	}
	x.stage = 2
	t, err := json.Marshal(Totals{Teachers: x.teachers, Entries: x.entries, Counts: counts})
	if err != nil {
		return err
	}
	x.w.WriteString("\n],\n\"totals\":")
	x.w.Write(t)
	x.w.WriteString("}\n")
	return x.w.Flush()
}
