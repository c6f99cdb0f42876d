package files

import (
	"bytes"
	"context"
	"errors"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// textSink collects extracted text up to a byte limit, cutting between characters.
type textSink struct {
	b         []byte
	max       int
	truncated bool
}

func newTextSink(max int) *textSink { return &textSink{max: max} }

func (s *textSink) WriteString(str string) {
	if s.truncated {
		return
	}
	if room := s.max - len(s.b); len(str) > room {
		str = truncateUTF8(str, room)
		s.truncated = true
	}
	s.b = append(s.b, str...)
}

func (s *textSink) WriteRune(r rune) {
	if s.truncated {
		return
	}
	if len(s.b)+utf8.RuneLen(r) > s.max {
		s.truncated = true
		return
	}
	s.b = utf8.AppendRune(s.b, r)
}

// full reports that nothing more will be kept, so that extractors can stop early.
func (s *textSink) full() bool { return s.truncated }

func (s *textSink) String() string { return string(s.b) }

// textEncoding names what a text upload was written in; MIME types carry it as the charset so
// that a browser shows GB18030 files correctly.
type textEncoding string

const (
	encUTF8    textEncoding = "utf-8"
	encUTF16   textEncoding = "utf-16"
	encGB18030 textEncoding = "gb18030"
)

// errNotText means the bytes are not text in the encoding tried; errBinary that they are not
// text in any encoding (control characters).
var (
	errNotText = errors.New("not valid text in this encoding")
	errBinary  = errors.New("control characters: binary data")
)

// textScan is what scanning a text upload found.
type textScan struct {
	enc    textEncoding
	script bool   // a <script> tag outside Markdown code
	first  string // the first kilobyte, for HTML sniffing
}

// scanText decodes a whole text upload, validating every character, and sends the text to sink.
// UTF-8 (with or without BOM) and UTF-16 with BOM are recognised; other bytes are tried as
// GB18030, what Notepad and Excel on Chinese Windows write. open must return the file from its
// start each time it is called.
func scanText(ctx context.Context, open func() (io.Reader, error), head []byte, markdown bool, max int) (textScan, *textSink, error) {
	try := func(enc textEncoding) (textScan, *textSink, error) {
		r, err := open()
		if err != nil {
			return textScan{}, nil, err
		}
		var dec io.Reader
		switch enc {
		case encUTF16:
			dec = transform.NewReader(r, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder())
		case encGB18030:
			dec = transform.NewReader(r, simplifiedchinese.GB18030.NewDecoder())
		default:
			dec = transform.NewReader(r, unicode.BOMOverride(transform.Nop))
		}
		sink := newTextSink(max)
		sc, err := scanUTF8(ctx, dec, enc != encUTF8, markdown, sink)
		sc.enc = enc
		return sc, sink, err
	}
	if hasUTF16BOM(head) {
		return try(encUTF16)
	}
	sc, sink, err := try(encUTF8)
	if errors.Is(err, errNotText) && !bytes.HasPrefix(head, []byte{0xef, 0xbb, 0xbf}) {
		return try(encGB18030)
	}
	return sc, sink, err
}

// scanUTF8 validates a stream of UTF-8 chunk by chunk (the file may be 200 MiB; only the kept
// text is held), refuses control characters, and watches for <script outside Markdown code.
// When decoded is set, U+FFFD marks a byte the decoder could not map.
func scanUTF8(ctx context.Context, r io.Reader, decoded, markdown bool, sink *textSink) (textScan, error) {
	var (
		sc      textScan
		first   []byte
		buf     = make([]byte, 64<<10)
		carry   int
		lineBuf [3]rune
		lineLen int
		inFence bool
		inCode  bool
		match   int // how much of "<script" has matched
	)
	const tag = "<script"
	for {
		if err := ctx.Err(); err != nil {
			return sc, err
		}
		n, err := r.Read(buf[carry:])
		n += carry
		carry = 0
		data := buf[:n]
		for i := 0; i < len(data); {
			c, size := rune(data[i]), 1
			if c >= utf8.RuneSelf {
				if !utf8.FullRune(data[i:]) && err == nil {
					carry = copy(buf, data[i:])
					break
				}
				c, size = utf8.DecodeRune(data[i:])
				if c == utf8.RuneError && (size == 1 || decoded) {
					return sc, errNotText
				}
			} else if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' || c == 0x7f {
				return sc, errBinary
			}
			i += size
			if len(first) < 1024 {
				first = utf8.AppendRune(first, c)
			}
			sink.WriteRune(c)

			// Markdown code (fenced blocks, `spans`) may show a <script> tag as an example.
			if c == '\n' {
				lineLen, inCode = 0, false
			} else if lineLen < 3 && !(lineLen == 0 && c == ' ') {
				lineBuf[lineLen] = c
				lineLen++
				if lineLen == 3 && markdown && (string(lineBuf[:]) == "```" || string(lineBuf[:]) == "~~~") {
					inFence = !inFence
				}
			}
			if markdown && c == '`' {
				inCode = !inCode
			}
			if inFence || inCode {
				match = 0
				continue
			}
			lc := c
			if 'A' <= lc && lc <= 'Z' {
				lc += 'a' - 'A'
			}
			switch {
			case lc == rune(tag[match]):
				match++
				if match == len(tag) {
					sc.script = true
					match = 0
				}
			case lc == '<':
				match = 1
			default:
				match = 0
			}
		}
		if err == io.EOF {
			if carry > 0 {
				return sc, errNotText
			}
			sc.first = string(first)
			return sc, nil
		}
		if err != nil {
			return sc, err
		}
	}
}

// htmlSniff reports text that a browser would sniff as HTML or XML (and so could run scripts
// in), following the WHATWG patterns that net/http's DetectContentType implements.
func htmlSniff(first string) (string, bool) {
	s := strings.TrimLeft(first, "\t\n\f\r \ufeff")
	lower := strings.ToLower(s[:min(len(s), 64)])
	if strings.HasPrefix(lower, "<?xml") {
		return "XML", true
	}
	for _, p := range []string{"<!doctype html", "<html", "<head", "<script", "<iframe", "<h1", "<div",
		"<font", "<table", "<a", "<style", "<title", "<b", "<body", "<br", "<p", "<!--", "<svg"} {
		if strings.HasPrefix(lower, p) {
			rest := lower[len(p):]
			if p == "<!--" || rest == "" || rest[0] == ' ' || rest[0] == '>' || rest[0] == '\t' || rest[0] == '\n' || rest[0] == '\r' || rest[0] == '/' {
				if p == "<svg" {
					return "SVG", true
				}
				return "HTML", true
			}
		}
	}
	return "", false
}

// normaliseNewlines turns CRLF and CR into LF.
func normaliseNewlines(s string) string {
	if !strings.ContainsRune(s, '\r') {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

var (
	mdFence     = regexp.MustCompile("^ {0,3}(```|~~~)")
	mdHeading   = regexp.MustCompile(`^ {0,3}#{1,6}(\s+|$)`)
	mdHeadTail  = regexp.MustCompile(`\s+#+\s*$`)
	mdQuote     = regexp.MustCompile(`^\s*(>\s?)+`)
	mdList      = regexp.MustCompile(`^\s*([-*+]|\d{1,9}[.)])\s+(\[[ xX]\]\s+)?`)
	mdRule      = regexp.MustCompile(`^\s{0,3}([-*_=]\s*){3,}$`)
	mdTableSep  = regexp.MustCompile(`^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$`)
	mdRefDef    = regexp.MustCompile(`^\s{0,3}\[[^\]]+\]:\s+\S+.*$`)
	mdImage     = regexp.MustCompile(`!\[([^\]]*)\]\([^)]*\)`)
	mdLink      = regexp.MustCompile(`\[([^\]]*)\](\([^)]*\)|\[[^\]]*\])`)
	mdAutolink  = regexp.MustCompile(`<((?:https?|mailto|ftp):[^>\s]+)>`)
	mdHTMLTag   = regexp.MustCompile(`<!--.*?-->|</?[A-Za-z][A-Za-z0-9-]*(\s[^<>]*)?/?>`)
	mdEmphasis  = regexp.MustCompile(`\*\*|__|~~|\*`)
	mdCodeTicks = regexp.MustCompile("`+")
)

// stripMarkdown removes Markdown markup roughly, keeping the words a reader sees: good enough
// for search and fingerprints, not a renderer.
func stripMarkdown(s string) string {
	var out strings.Builder
	inFence := false
	for line := range strings.Lines(s) {
		line = strings.TrimRight(line, "\n")
		if mdFence.MatchString(line) {
			inFence = !inFence
			continue
		}
		if inFence {
			out.WriteString(line)
			out.WriteByte('\n')
			continue
		}
		if mdRule.MatchString(line) || mdTableSep.MatchString(line) && strings.Contains(line, "-") || mdRefDef.MatchString(line) {
			out.WriteByte('\n')
			continue
		}
		if mdHeading.MatchString(line) {
			line = mdHeadTail.ReplaceAllString(mdHeading.ReplaceAllString(line, ""), "")
		}
		line = mdQuote.ReplaceAllString(line, "")
		line = mdList.ReplaceAllString(line, "")
		line = mdImage.ReplaceAllString(line, "$1")
		line = mdLink.ReplaceAllString(line, "$1")
		line = mdAutolink.ReplaceAllString(line, "$1")
		line = mdHTMLTag.ReplaceAllString(line, "")
		line = mdEmphasis.ReplaceAllString(line, "")
		line = mdCodeTicks.ReplaceAllString(line, "")
		if strings.Contains(line, "|") {
			line = strings.TrimSpace(strings.ReplaceAll(line, "|", " "))
		}
		out.WriteString(strings.TrimRight(line, " \t"))
		out.WriteByte('\n')
	}
	return strings.TrimSpace(out.String())
}
