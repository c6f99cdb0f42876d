package oai

import (
	"bytes"
	"encoding/xml"
)

// xmlWriter builds a document by hand. encoding/xml's marshaller cannot produce prefixed names
// with their declarations where OAI-PMH puts them (oai_dc:dc, xsi:schemaLocation), and a
// response is a flat sequence of well-known elements, so writing it directly is simpler and
// keeps every byte under our control. All text goes through xml.EscapeText, which also turns
// characters XML forbids into U+FFFD: whatever a resource's title holds, the document stays
// well-formed.
type xmlWriter struct {
	buf bytes.Buffer
}

func (w *xmlWriter) text(s string) {
	xml.EscapeText(&w.buf, []byte(s))
}

// open writes a start tag; attrs are name, value pairs.
func (w *xmlWriter) open(name string, attrs ...string) {
	w.buf.WriteByte('<')
	w.buf.WriteString(name)
	for i := 0; i+1 < len(attrs); i += 2 {
		w.buf.WriteByte(' ')
		w.buf.WriteString(attrs[i])
		w.buf.WriteString(`="`)
		w.text(attrs[i+1])
		w.buf.WriteByte('"')
	}
	w.buf.WriteByte('>')
}

func (w *xmlWriter) close(name string) {
	w.buf.WriteString("</")
	w.buf.WriteString(name)
	w.buf.WriteString(">\n")
}

// leaf writes an element holding text.
func (w *xmlWriter) leaf(name, text string, attrs ...string) {
	w.open(name, attrs...)
	w.text(text)
	w.close(name)
}

// leafIf writes the element unless text is empty.
func (w *xmlWriter) leafIf(name, text string, attrs ...string) {
	if text != "" {
		w.leaf(name, text, attrs...)
	}
}

func (w *xmlWriter) bytes() []byte { return w.buf.Bytes() }
