package files

import (
	"context"
	"fmt"
	"io"

	"ziyuan/market/files/internal/pdf"
)

// PDF text comes from internal/pdf, our hardened fork of github.com/ledongthuc/pdf (pure Go).
// It reads text through each font's ToUnicode map, which is how Office, WPS and most exporters
// write Chinese, and the standard 8-bit encodings for Western text. It cannot read text drawn
// with fonts that lack a Unicode map (some scanners and old CAJ-style converters), scanned pages
// (no OCR), or encrypted PDFs; those uploads are accepted with empty Text and TextErr set.

// pdfConcurrency bounds PDF parses running at once: each is bounded in time and bytes read,
// but a server should not run many at the same time.
const pdfConcurrency = 2

// pdfMaxRead bounds the bytes the PDF lexer may consume (decompressed, re-reads included).
const pdfMaxRead = 256 << 20

func (in *Inspector) extractPDF(ctx context.Context, ra io.ReaderAt, size int64, sink *textSink) error {
	select {
	case in.pdfSlots <- struct{}{}:
		defer func() { <-in.pdfSlots }()
	case <-ctx.Done():
		return fmt.Errorf("waiting to extract PDF text: %w", ctx.Err())
	}
	deadline, _ := ctx.Deadline()
	err := pdf.ExtractText(&ctxReaderAt{ctx: ctx, ra: ra}, size, pdf.Options{Deadline: deadline, MaxRead: pdfMaxRead},
		func(s string) bool {
			sink.WriteString(s)
			return !sink.full()
		})
	if err != nil {
		return fmt.Errorf("PDF text: %w", err)
	}
	return nil
}

// ctxReaderAt fails reads once the context ends, which ends the parse.
type ctxReaderAt struct {
	ctx context.Context
	ra  io.ReaderAt
}

func (c *ctxReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.ra.ReadAt(p, off)
}
