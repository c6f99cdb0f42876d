package pdf

import (
	"errors"
	"fmt"
	"io"
	"math"
	"time"
	"unicode"
)

// This file is Ziyuan's addition to the fork (see README.md): limits that make a parse of a
// hostile PDF end, in bounded time and memory, with an error.

// Limits on what one parse may allocate.
const (
	maxTokens     = 4 << 20  // tokens in one object or content stream
	maxTokenBytes = 16 << 20 // bytes in one string, name or keyword
	maxElements   = 1 << 20  // entries in one array or dictionary, operands on the stack
	maxDicts      = 64       // nested PostScript dictionaries (begin … end) in a CMap
	maxXref       = 1 << 22  // objects in a file
)

// Errors that end a parse.
var (
	ErrDeadline = errors.New("pdf: parse deadline passed")
	ErrBudget   = errors.New("pdf: parse read budget exhausted")
	errFull     = errors.New("pdf: caller wants no more text")
)

// stopPanic carries a guard's verdict through the panic-based parser to the top, past the
// recovers that skip single malformed operands.
type stopPanic struct{ err error }

// guard bounds one parse: every refill of a lexer buffer spends its bytes (at least one, so
// that loops spinning at the end of a stream spend too) and checks the deadline.
type guard struct {
	deadline time.Time
	left     int64
	stop     error
}

func (g *guard) spend(n int) {
	if g == nil {
		return
	}
	g.left -= int64(n) + 1
	if g.stop == nil {
		switch {
		case g.left < 0:
			g.stop = ErrBudget
		case !g.deadline.IsZero() && time.Now().After(g.deadline):
			g.stop = ErrDeadline
		}
	}
	if g.stop != nil {
		panic(stopPanic{g.stop})
	}
}

func (b *buffer) checkTokenLen(n int) {
	if n > maxTokenBytes {
		b.errorf("token longer than %d bytes", maxTokenBytes)
	}
}

// maxObjects bounds object numbers: by a constant, and by the file's size, since every
// object takes at least a byte.
func (r *Reader) maxObjects() int64 {
	return min(maxXref, max(r.end, 1024))
}

func (v Value) guard() *guard {
	if v.r == nil {
		return nil
	}
	return v.r.g
}

// Options bound ExtractText.
type Options struct {
	// Deadline ends the parse (zero: none).
	Deadline time.Time
	// MaxRead bounds the bytes the lexer consumes, decompressed, over the whole parse,
	// counting objects read more than once (zero: 256 MiB).
	MaxRead int64
	// MaxPages bounds the pages read (zero: 5,000).
	MaxPages int
}

// ExtractText sends the text of each page, in page order, to emit, which returns false to stop.
// Text from fonts without a Unicode mapping cannot be recovered and is dropped. A page that
// fails to parse is skipped; a limit (deadline, read budget) ends the parse with ErrDeadline or
// ErrBudget after the text found so far was emitted. ExtractText never panics.
func ExtractText(f io.ReaderAt, size int64, opt Options, emit func(string) bool) (err error) {
	if opt.MaxRead <= 0 {
		opt.MaxRead = 256 << 20
	}
	if opt.MaxPages <= 0 {
		opt.MaxPages = 5000
	}
	g := &guard{deadline: opt.Deadline, left: opt.MaxRead}
	defer func() {
		if x := recover(); x != nil {
			err = panicError(x)
		}
		if errors.Is(err, errFull) {
			err = nil
		}
	}()
	r, err := newReader(f, size, nil, g)
	if err != nil {
		if g.stop != nil {
			return g.stop
		}
		return err
	}
	if r.trailer["Encrypt"] != nil {
		return errors.New("pdf: encrypted")
	}
	out := &textOut{emit: emit}
	fonts := map[objptr]*Font{}
	var firstErr error
	for i, p := range collectPages(r.Trailer().Key("Root").Key("Pages"), opt.MaxPages) {
		err := pageText(p, fonts, out)
		if g.stop != nil {
			return g.stop
		}
		if errors.Is(err, errFull) {
			return nil
		}
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("page %d: %w", i+1, err)
		}
		out.sep("\n")
	}
	return firstErr
}

// collectPages walks the page tree once, depth first, in document order. Upstream's Page(i)
// walks from the root for every page, resolving each kid twice: quadratic in a flat tree of
// thousands of pages, and endless in a tree that contains itself. Here each node is visited
// once and the depth is bounded.
func collectPages(root Value, limit int) []Page {
	var out []Page
	seen := map[objptr]bool{}
	var walk func(v Value, depth int)
	walk = func(v Value, depth int) {
		if len(out) >= limit || depth > 64 || v.Kind() != Dict {
			return
		}
		if v.ptr != (objptr{}) {
			if seen[v.ptr] {
				return
			}
			seen[v.ptr] = true
		}
		if kids := v.Key("Kids"); kids.Kind() == Array && v.Key("Type").Name() != "Page" {
			for i := 0; i < kids.Len() && len(out) < limit; i++ {
				walk(kids.Index(i), depth+1)
			}
			return
		}
		out = append(out, Page{v})
	}
	walk(root, 0)
	return out
}

func panicError(x any) error {
	switch x := x.(type) {
	case stopPanic:
		return x.err
	case error:
		return x
	}
	return fmt.Errorf("malformed PDF: %v", x)
}

// textOut joins shown strings into lines: a separator is emitted only between text, and a space
// only between two non-CJK characters (Chinese has no spaces between words).
type textOut struct {
	emit    func(string) bool
	pending string
	last    rune
}

func (o *textOut) sep(s string) {
	if o.last != 0 && (o.pending == "" || s == "\n") {
		o.pending = s
	}
}

func (o *textOut) text(s string) {
	clean := make([]rune, 0, len(s))
	for _, r := range s {
		if r == unicode.ReplacementChar || r == noRune || unicode.IsControl(r) && r != '\t' {
			continue
		}
		clean = append(clean, r)
	}
	if len(clean) == 0 {
		return
	}
	if o.pending == " " && (cjk(o.last) || cjk(clean[0]) || unicode.IsSpace(o.last) || unicode.IsSpace(clean[0])) {
		o.pending = ""
	}
	if o.pending != "" && !o.emit(o.pending) {
		panic(stopPanic{errFull})
	}
	o.pending = ""
	if !o.emit(string(clean)) {
		panic(stopPanic{errFull})
	}
	o.last = clean[len(clean)-1]
}

func cjk(r rune) bool {
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r) ||
		unicode.Is(unicode.Hangul, r) || r >= 0x3000 && r <= 0x303f || r >= 0xff00 && r <= 0xffef
}

// pageText interprets a page's content stream for its text operators. A new line starts
// where the text moves to another baseline; a move along the line may separate words.
func pageText(p Page, fonts map[objptr]*Font, out *textOut) (err error) {
	defer func() {
		if x := recover(); x != nil {
			if sp, ok := x.(stopPanic); ok {
				panic(sp)
			}
			err = panicError(x)
		}
	}()
	strm := p.V.Key("Contents")
	if strm.IsNull() {
		return nil
	}
	// Resources are inherited up the Parent chain: look them up once per page, and each font
	// once per document.
	fontDict := p.Resources().Key("Font")
	byName := map[string]TextEncoding{}
	font := func(name string) TextEncoding {
		if enc, ok := byName[name]; ok {
			return enc
		}
		v := fontDict.Key(name)
		var enc TextEncoding = &nopEncoder{}
		switch f, ok := fonts[v.ptr]; {
		case v.IsNull():
		case ok && v.ptr != (objptr{}):
			enc = f.Encoder()
		default:
			f := &Font{V: v}
			if v.ptr != (objptr{}) {
				fonts[v.ptr] = f
			}
			enc = f.Encoder()
		}
		byName[name] = enc
		return enc
	}
	var enc TextEncoding = &nopEncoder{}
	// y is the current baseline; shownY the baseline of the text shown last.
	y, shownY, leading, moved := 0.0, math.NaN(), 0.0, false
	newline := false
	show := func(s string) {
		switch {
		case newline || !math.IsNaN(shownY) && math.Abs(y-shownY) > 0.5:
			out.sep("\n")
		case moved:
			out.sep(" ")
		}
		moved, newline, shownY = false, false, y
		out.text(decodeText(enc, s))
	}
	nextLine := func() { y -= leading; moved, newline = true, true }
	Interpret(strm, func(stk *Stack, op string) {
		args := popArgs(stk)
		num := func(i int) float64 {
			if i >= len(args) {
				return 0
			}
			switch args[i].Kind() {
			case Integer, Real:
				return args[i].Float64()
			}
			return 0
		}
		switch op {
		case "BT":
			y, moved = 0, true // the text matrix starts as the identity
		case "Tf":
			if len(args) == 2 {
				enc = font(args[0].Name())
			}
		case "TL":
			leading = num(0)
		case "Td":
			y, moved = y+num(1), true
		case "TD":
			leading = -num(1)
			y, moved = y+num(1), true
		case "Tm":
			y, moved = num(5), true
		case "T*":
			nextLine()
		case "'", "\"":
			nextLine()
			if len(args) > 0 {
				show(args[len(args)-1].RawString())
			}
		case "Tj":
			if len(args) == 1 {
				show(args[0].RawString())
			}
		case "TJ":
			if len(args) != 1 {
				return
			}
			v := args[0]
			for i := 0; i < v.Len(); i++ {
				x := v.Index(i)
				switch x.Kind() {
				case String:
					show(x.RawString())
				case Integer, Real:
					if x.Float64() < -250 { // a gap wider than a quarter em separates words
						out.sep(" ")
					}
				}
			}
		}
	})
	return nil
}
