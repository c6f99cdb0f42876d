package files

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Upload is an inspected, accepted upload waiting in a private temporary file. The caller
// stores it (Store, or Open and copy) and must Close it, which removes the temporary file.
// An Upload is not safe for concurrent use.
type Upload struct {
	// Name is the sanitised name, with the extension of the detected format when the client's
	// had none (or an unknown one).
	Name string
	Size int64
	// SHA256 is the lower-case hex digest of the content, the blob's address.
	SHA256 string
	// MIME is the detected media type, with a charset for text (utf-8, utf-16 or gb18030: the
	// bytes are stored as uploaded).
	MIME string
	Kind Kind
	// Text is the extracted text in UTF-8, at most Limits.MaxText bytes (TextTruncated says
	// whether more was dropped): the words of documents, the entry names of a ZIP, nothing for
	// images, audio, video and legacy (OLE2) Office files.
	Text          string
	TextTruncated bool
	// TextErr says why text extraction failed or stopped early (a PDF we cannot read, the
	// extraction timeout); the upload itself is fine. Log it; do not show it.
	TextErr error

	path string
}

// Open opens the uploaded bytes for reading. The file supports Seek and Stat.
func (u *Upload) Open() (*os.File, error) {
	if u.path == "" {
		return nil, errors.New("files: upload already closed")
	}
	return os.Open(u.path)
}

// Store puts the upload into blobs under its SHA-256.
func (u *Upload) Store(ctx context.Context, blobs Blobs) error {
	f, err := u.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	return blobs.Put(ctx, u.SHA256, f, u.Size)
}

// Close removes the temporary file. It is safe to call more than once.
func (u *Upload) Close() error {
	if u.path == "" {
		return nil
	}
	p := u.path
	u.path = ""
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// Inspector inspects uploads under one set of limits. It is safe for concurrent use; a server
// keeps one, so that its bound on concurrent PDF parses holds across requests.
type Inspector struct {
	lim    Limits
	tmpDir string
	// pdfSlots bounds concurrent PDF text extractions (see pdf.go).
	pdfSlots chan struct{}
}

// NewInspector returns an Inspector. Zero limits take their defaults; an empty tmpDir means
// os.TempDir(). Temporary files are created there with mode 0600 and removed on every path.
func NewInspector(lim Limits, tmpDir string) *Inspector {
	if tmpDir == "" {
		tmpDir = os.TempDir()
	}
	return &Inspector{lim: lim.withDefaults(), tmpDir: tmpDir, pdfSlots: make(chan struct{}, pdfConcurrency)}
}

// Limits returns the limits in force, defaults filled in.
func (in *Inspector) Limits() Limits { return in.lim }

// Inspect is NewInspector(lim, tmpDir).Inspect(ctx, name, r), for one-off use.
func Inspect(ctx context.Context, name string, r io.Reader, lim Limits, tmpDir string) (*Upload, error) {
	return NewInspector(lim, tmpDir).Inspect(ctx, name, r)
}

// Inspect reads an upload named name (as the client sent it) from r and decides whether to
// accept it. A refusal is an *Error (see ClassOf); any other error (reading r, the temporary
// directory, a cancelled context) is the caller's to treat as internal. On every error no
// temporary file remains.
func (in *Inspector) Inspect(ctx context.Context, name string, r io.Reader) (*Upload, error) {
	name = SafeName(name)
	ext := extOf(name)
	if blockedExts[ext] {
		return nil, newError(ReasonExtension, name).detail(ext)
	}
	tmp, err := os.CreateTemp(in.tmpDir, "ziyuan-upload-*")
	if err != nil {
		return nil, fmt.Errorf("files: temporary file: %w", err)
	}
	accepted := false
	defer func() {
		if !accepted {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	h := sha256.New()
	buf := make([]byte, 256<<10)
	size, err := io.CopyBuffer(io.MultiWriter(tmp, h), &ctxReader{ctx: ctx, r: io.LimitReader(r, in.lim.MaxSize+1)}, buf)
	if err != nil {
		return nil, fmt.Errorf("files: receive %q: %w", name, err)
	}
	if size > in.lim.MaxSize {
		return nil, newError(ReasonTooLarge, name).limit(formatBytes(in.lim.MaxSize))
	}
	if size == 0 {
		return nil, newError(ReasonEmpty, name)
	}
	u := &Upload{Name: name, Size: size, SHA256: hex.EncodeToString(h.Sum(nil))}
	if err := in.examine(ctx, tmp, u, ext); err != nil {
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("files: temporary file: %w", err)
	}
	u.path = tmp.Name()
	accepted = true
	return u, nil
}

// examine decides the format of the bytes in f, checks them, fixes the name and extracts text.
func (in *Inspector) examine(ctx context.Context, f *os.File, u *Upload, ext string) error {
	head := make([]byte, headSize)
	n, err := f.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		return fmt.Errorf("files: read back %q: %w", u.Name, err)
	}
	head = head[:n]
	s := sniff(head)
	if s.refused != "" {
		return newError(s.refused, u.Name).detail(s.detail)
	}
	sink := newTextSink(in.lim.MaxText)
	var (
		arch  *archive
		doc   *ooxml
		fm    = s.format
		text  *textScan
		ectx  context.Context
		ecncl context.CancelFunc
	)
	switch s.container {
	case containerZIP:
		if arch, err = openArchive(f, u.Size, u.Name, in.lim); err != nil {
			return err
		}
		if doc, err = detectOOXML(ctx, arch); err != nil {
			return err
		}
		fm = fmtZIP
		if doc != nil {
			fm = doc.format
		}
	case containerOLE:
		names, err := oleNames(f, u.Size)
		if err != nil {
			return newError(ReasonCorrupt, u.Name).cause(err)
		}
		var reason Reason
		var detail string
		if fm, reason, detail = classifyOLE(names); reason != "" {
			return newError(reason, u.Name).detail(detail)
		}
	case containerText:
		open := func() (io.Reader, error) { return io.NewSectionReader(f, 0, u.Size), nil }
		sc, tsink, err := scanText(ctx, open, head, markdownExts[ext], in.lim.MaxText)
		switch {
		case errors.Is(err, errNotText):
			return newError(ReasonEncoding, u.Name)
		case errors.Is(err, errBinary):
			return newError(ReasonType, u.Name).detail("binary data")
		case err != nil:
			return err
		}
		text, sink = &sc, tsink
		fm = fmtText
		if markdownExts[ext] {
			fm = fmtMD
		} else if kind, html := htmlSniff(sc.first); html {
			return newError(ReasonScript, u.Name).detail(kind)
		}
		if sc.script {
			return newError(ReasonScript, u.Name).detail("<script>")
		}
		if sc.enc != encUTF8 {
			fm.mime = strings.Replace(fm.mime, "utf-8", string(sc.enc), 1)
		}
	default:
		switch fm.kind {
		case KindImage:
			if fm.mime != fmtWEBP.mime && !checkImage(fm, io.NewSectionReader(f, 0, u.Size)) {
				return newError(ReasonCorrupt, u.Name)
			}
		case KindAudio:
			if fm.mime == fmtMP3.mime && !checkMP3(f, u.Size) {
				return newError(ReasonType, u.Name).detail("unknown binary data")
			}
		}
	}

	fm, u.Name, err = nameFor(u.Name, ext, fm, head)
	if err != nil {
		return err
	}
	u.MIME, u.Kind = fm.mime, fm.kind

	// The container is judged; now the contents, with extraction bounded in time.
	ectx, ecncl = context.WithTimeout(ctx, in.lim.ExtractTimeout)
	defer ecncl()
	switch {
	case arch != nil && doc == nil:
		if err := arch.verifyPlain(ctx, sink); err != nil {
			return err
		}
	case doc != nil:
		u.TextErr = extractOOXML(ectx, arch, doc, sink)
	case fm.kind == KindPDF:
		u.TextErr = in.extractPDF(ectx, f, u.Size, sink)
	}
	if err := hardError(ctx, u.TextErr); err != nil {
		return err
	}
	u.Text, u.TextTruncated = normaliseNewlines(sink.String()), sink.truncated
	if fm.kind == KindMarkdown {
		u.Text = stripMarkdown(u.Text)
	}
	if text == nil && fm.kind != KindPDF {
		u.Text = strings.TrimSpace(u.Text)
	}
	return nil
}

// hardError separates refusals and cancellations, which fail the upload, from extraction
// trouble (a malformed part, the extraction timeout), which only costs us the text.
func hardError(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

// nameFor reconciles the client's extension with the detected format: an extension promising
// another family is refused, a missing or unknown one gets the format's, and a text file's
// extension decides Markdown.
func nameFor(name, ext string, fm format, head []byte) (format, string, error) {
	fam, known := extFamily[ext]
	if fm.mime == fmtMP4.mime && ext == "m4a" {
		// Many M4A files carry a generic MP4 brand; the extension says it is audio.
		fm, fam = fmtM4A, famAudio
	}
	switch {
	case known && fam != fm.family:
		if fm.family == famText && bytes.HasPrefix(head, []byte("#!")) {
			return fm, name, newError(ReasonExecutable, name).detail("script (#!)")
		}
		return fm, name, newError(ReasonMismatch, name).detail(fm.label)
	case ext == "" || !known && fm.family != famText:
		return fm, withExt(name, fm.ext), nil
	}
	return fm, name, nil
}

// ctxReader stops a copy when its context ends: a slow client cannot hold a request forever.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
