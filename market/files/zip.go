package files

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// archive is a ZIP (a plain upload or an Office container) that passed the structural checks of
// openArchive. Its entries are read only through open, which counts the bytes actually produced
// against the limits: declared sizes are only a promise.
type archive struct {
	zr       *zip.Reader
	upload   string // the upload's sanitised name, for messages
	lim      Limits
	size     int64
	expanded int64 // bytes produced by open so far
	byName   map[string]*zip.File
	display  map[*zip.File]string
}

// nestedArchiveExts are archive extensions refused inside a plain ZIP upload.
var nestedArchiveExts = map[string]bool{
	"zip": true, "rar": true, "7z": true, "tar": true, "gz": true, "tgz": true, "bz2": true,
	"tbz2": true, "xz": true, "txz": true, "zst": true, "lz": true, "lzma": true, "z": true,
	"cab": true, "jar": true, "war": true, "apk": true, "ipa": true, "iso": true, "arj": true,
}

// zipDocumentExts are formats that are ZIPs inside but documents to the user: a ZIP of lesson
// plans in .docx is not a nested archive.
var zipDocumentExts = map[string]bool{
	"docx": true, "dotx": true, "pptx": true, "ppsx": true, "potx": true, "xlsx": true, "xltx": true,
	"odt": true, "ods": true, "odp": true, "epub": true,
}

// openArchive checks a ZIP's directory before anything is decompressed: the entry count (from
// the central directory itself, so that a lying end record cannot make us allocate millions of
// entries), then every entry's name, type, encryption, method, declared size and ratio.
func openArchive(ra io.ReaderAt, size int64, upload string, lim Limits) (*archive, error) {
	n, err := countZipEntries(ra, size, lim.MaxEntries)
	if err != nil {
		return nil, newError(ReasonCorrupt, upload).cause(err)
	}
	if n > lim.MaxEntries {
		return nil, newError(ReasonEntries, upload).limit(fmt.Sprint(lim.MaxEntries))
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, newError(ReasonCorrupt, upload).cause(err)
	}
	if len(zr.File) > lim.MaxEntries {
		return nil, newError(ReasonEntries, upload).limit(fmt.Sprint(lim.MaxEntries))
	}
	a := &archive{zr: zr, upload: upload, lim: lim, size: size,
		byName: make(map[string]*zip.File, len(zr.File)), display: make(map[*zip.File]string, len(zr.File))}
	var total uint64
	for _, f := range zr.File {
		name := entryName(f.Name)
		a.display[f] = name
		if err := checkEntryName(name); err != nil {
			return nil, newError(ReasonZipSlip, upload).entry(name).cause(err)
		}
		if f.Mode()&fs.ModeSymlink != 0 {
			return nil, newError(ReasonSymlink, upload).entry(name)
		}
		if _, dup := a.byName[f.Name]; dup {
			return nil, newError(ReasonDuplicate, upload).entry(name)
		}
		a.byName[f.Name] = f
		if f.Flags&0x1 != 0 {
			return nil, newError(ReasonEncrypted, upload).entry(name)
		}
		if f.Method != zip.Store && f.Method != zip.Deflate {
			return nil, newError(ReasonCompression, upload).entry(name).detail(fmt.Sprintf("method %d", f.Method))
		}
		if f.UncompressedSize64 > uint64(lim.MaxExpanded) {
			return nil, newError(ReasonExpansion, upload).entry(name).limit(formatBytes(lim.MaxExpanded))
		}
		total += f.UncompressedSize64
		if total > uint64(lim.MaxExpanded) {
			return nil, newError(ReasonExpansion, upload).limit(formatBytes(lim.MaxExpanded))
		}
		if tooCompressed(f.UncompressedSize64, f.CompressedSize64, lim) {
			return nil, newError(ReasonBomb, upload).entry(name).limit(fmt.Sprintf("%d:1", lim.MaxRatio))
		}
	}
	if tooCompressed(total, uint64(size), lim) {
		return nil, newError(ReasonBomb, upload).limit(fmt.Sprintf("%d:1", lim.MaxRatio))
	}
	return a, nil
}

// tooCompressed applies the ratio limit to sizes above the floor.
func tooCompressed(uncompressed, compressed uint64, lim Limits) bool {
	return uncompressed > uint64(lim.RatioFloor) && uncompressed/max(compressed, 1) >= uint64(lim.MaxRatio)
}

// entryName returns an entry's name as people and unzip tools on Chinese Windows see it: ZIPs
// made there carry GBK names without the UTF-8 flag.
func entryName(raw string) string {
	if utf8.ValidString(raw) {
		return raw
	}
	if s, err := simplifiedchinese.GB18030.NewDecoder().String(raw); err == nil && !strings.ContainsRune(s, utf8.RuneError) {
		return s
	}
	return strings.ToValidUTF8(raw, "\uFFFD")
}

// checkEntryName refuses every name that could place a file outside the extraction folder on
// some system: parent references, absolute paths, backslashes (a separator on Windows), drive
// letters and colons (alternate data streams), and NUL bytes, which truncate names in C.
func checkEntryName(name string) error {
	switch {
	case name == "":
		return errors.New("empty name")
	case strings.ContainsRune(name, 0):
		return errors.New("NUL in name")
	case strings.Contains(name, `\`):
		return errors.New("backslash in name")
	case strings.HasPrefix(name, "/"):
		return errors.New("absolute path")
	case strings.Contains(name, ":"):
		return errors.New("drive letter or stream name")
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return errors.New("parent directory reference")
		}
	}
	return nil
}

// countZipEntries walks the central directory and counts its headers, stopping past limit.
func countZipEntries(ra io.ReaderAt, size int64, limit int) (int, error) {
	const eocdLen = 22
	if size < eocdLen {
		return 0, errors.New("too short for a ZIP")
	}
	tailLen := min(size, eocdLen+65535)
	tail := make([]byte, tailLen)
	if _, err := ra.ReadAt(tail, size-tailLen); err != nil {
		return 0, err
	}
	i := bytes.LastIndex(tail, []byte("PK\x05\x06"))
	if i < 0 || len(tail)-i < eocdLen {
		return 0, errors.New("no end of central directory")
	}
	le := binary.LittleEndian
	cdOff := int64(le.Uint32(tail[i+16:]))
	if cdOff == 0xffffffff {
		// ZIP64: the locator just before the end record points at the ZIP64 end record.
		loc := i - 20
		if loc < 0 || string(tail[loc:loc+4]) != "PK\x06\x07" {
			return 0, errors.New("bad ZIP64 locator")
		}
		recOff := int64(le.Uint64(tail[loc+8:]))
		var rec [56]byte
		if recOff < 0 || recOff > size-56 {
			return 0, errors.New("bad ZIP64 end record offset")
		}
		if _, err := ra.ReadAt(rec[:], recOff); err != nil || string(rec[:4]) != "PK\x06\x06" {
			return 0, errors.New("bad ZIP64 end record")
		}
		cdOff = int64(le.Uint64(rec[48:]))
	}
	if cdOff < 0 || cdOff > size {
		return 0, errors.New("central directory offset out of range")
	}
	sr := io.NewSectionReader(ra, cdOff, size-cdOff)
	var hdr [46]byte
	n := 0
	for n <= limit {
		if _, err := io.ReadFull(sr, hdr[:]); err != nil || string(hdr[:4]) != "PK\x01\x02" {
			break
		}
		n++
		skip := int64(le.Uint16(hdr[28:])) + int64(le.Uint16(hdr[30:])) + int64(le.Uint16(hdr[32:]))
		if _, err := sr.Seek(skip, io.SeekCurrent); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// open returns a reader of an entry's uncompressed bytes that stops with a refusal the moment
// the entry produces more than it declared, more than the ratio allows, or the archive more than
// MaxExpanded in all; at the end it checks the size and CRC-32 it promised.
func (a *archive) open(ctx context.Context, f *zip.File) (io.ReadCloser, error) {
	raw, err := f.OpenRaw()
	if err != nil {
		return nil, newError(ReasonCorrupt, a.upload).entry(a.display[f]).cause(err)
	}
	var rc io.ReadCloser
	switch f.Method {
	case zip.Store:
		rc = io.NopCloser(raw)
	case zip.Deflate:
		rc = flate.NewReader(raw)
	default:
		return nil, newError(ReasonCompression, a.upload).entry(a.display[f])
	}
	return &entryReader{ctx: ctx, a: a, f: f, rc: rc, crc: crc32.NewIEEE()}, nil
}

type entryReader struct {
	ctx context.Context
	a   *archive
	f   *zip.File
	rc  io.ReadCloser
	crc hash.Hash32
	n   uint64
	err error
}

func (r *entryReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if err := r.ctx.Err(); err != nil {
		r.err = err
		return 0, err
	}
	n, err := r.rc.Read(p)
	r.n += uint64(n)
	r.a.expanded += int64(n)
	r.crc.Write(p[:n])
	name := r.a.display[r.f]
	lim := r.a.lim
	switch {
	case r.n > r.f.UncompressedSize64:
		// The entry lied about its size: the classic way past a check of declared sizes.
		r.err = newError(ReasonBomb, r.a.upload).entry(name).limit(fmt.Sprintf("%d:1", lim.MaxRatio)).
			cause(fmt.Errorf("entry produced more than its declared %d bytes", r.f.UncompressedSize64))
	case tooCompressed(r.n, r.f.CompressedSize64, lim):
		r.err = newError(ReasonBomb, r.a.upload).entry(name).limit(fmt.Sprintf("%d:1", lim.MaxRatio))
	case r.a.expanded > lim.MaxExpanded:
		r.err = newError(ReasonExpansion, r.a.upload).limit(formatBytes(lim.MaxExpanded))
	case err == io.EOF:
		if r.n != r.f.UncompressedSize64 || r.crc.Sum32() != r.f.CRC32 {
			r.err = newError(ReasonCorrupt, r.a.upload).entry(name).cause(errors.New("size or CRC-32 mismatch"))
		} else {
			r.err = io.EOF
		}
	case err != nil:
		r.err = newError(ReasonCorrupt, r.a.upload).entry(name).cause(err)
	}
	if r.err != nil && r.err != io.EOF {
		return 0, r.err
	}
	return n, r.err
}

func (r *entryReader) Close() error { return r.rc.Close() }

// readEntry reads a whole (small) entry, refusing more than max bytes.
func (a *archive) readEntry(ctx context.Context, f *zip.File, max int64) ([]byte, error) {
	rc, err := a.open(ctx, f)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, newError(ReasonCorrupt, a.upload).entry(a.display[f]).cause(fmt.Errorf("part larger than %d bytes", max))
	}
	return data, nil
}

// verifyPlain reads every entry of a plain ZIP upload to the end, so that what we accept is
// what the teacher who downloads it will unpack: sizes and checksums hold, nothing inside is
// another archive.
// The entry names go to sink: for a ZIP they are the text worth searching.
func (a *archive) verifyPlain(ctx context.Context, sink *textSink) error {
	files := 0
	buf := make([]byte, 64<<10)
	for _, f := range a.zr.File {
		name := a.display[f]
		if f.FileInfo().IsDir() {
			if f.UncompressedSize64 != 0 {
				return newError(ReasonCorrupt, a.upload).entry(name)
			}
			continue
		}
		files++
		sink.WriteString(name + "\n")
		ext := extOf(name)
		if nestedArchiveExts[ext] {
			return newError(ReasonNested, a.upload).entry(name)
		}
		rc, err := a.open(ctx, f)
		if err != nil {
			return err
		}
		head := make([]byte, 512)
		n, err := io.ReadFull(rc, head)
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			rc.Close()
			return err
		}
		// A .docx is a ZIP inside, and may be one; it may not be a RAR.
		if kind, isArchive := isArchiveHead(head[:n]); isArchive && !(zipDocumentExts[ext] && kind == "ZIP archive") {
			rc.Close()
			return newError(ReasonNested, a.upload).entry(name)
		}
		_, err = io.CopyBuffer(io.Discard, rc, buf)
		rc.Close()
		if err != nil {
			return err
		}
	}
	if files == 0 {
		return newError(ReasonEmptyArchive, a.upload)
	}
	return nil
}
