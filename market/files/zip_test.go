package files_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"hash/crc32"
	"io/fs"
	"strings"
	"testing"

	"ziyuan/market/files"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// deflateRepeat returns a raw DEFLATE stream that inflates to prefix, total bytes of pattern
// repeated (total a multiple of 1 MiB, the pattern's length a power of two), then suffix, with
// the CRC-32 of it all, without ever holding the inflated bytes: it compresses 1 MiB once and
// repeats that block, which stays valid because the history it refers back to is the same
// periodic pattern everywhere.
func deflateRepeat(t testing.TB, prefix string, pattern string, total int64, suffix string) ([]byte, uint32) {
	t.Helper()
	const chunk = 1 << 20
	var out bytes.Buffer
	w, err := flate.NewWriter(&out, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(prefix))
	w.Flush()
	start := out.Len()
	ones := bytes.Repeat([]byte(pattern), chunk/len(pattern))
	w.Write(ones)
	w.Flush()
	block := bytes.Clone(out.Bytes()[start:])
	out.Truncate(start)

	crc := crc32.ChecksumIEEE([]byte(prefix))
	for n := int64(0); n < total; n += chunk {
		out.Write(block)
		crc = crc32.Update(crc, crc32.IEEETable, ones)
	}
	// The suffix, then a final empty fixed-Huffman block closes the stream.
	var tail bytes.Buffer
	tw, _ := flate.NewWriter(&tail, flate.NoCompression)
	tw.Write([]byte(suffix))
	tw.Flush()
	out.Write(tail.Bytes())
	out.Write([]byte{0x03, 0x00})
	crc = crc32.Update(crc, crc32.IEEETable, []byte(suffix))
	return out.Bytes(), crc
}

type rawEntry struct {
	hdr  zip.FileHeader
	data []byte // raw (already compressed) bytes
}

// zipRaw writes entries whose headers (sizes, CRC, flags, method, mode) say whatever the test
// wants, true or not.
func zipRaw(t testing.TB, entries ...rawEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, e := range entries {
		h := e.hdr
		f, err := w.CreateRaw(&h)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(e.data)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func storedEntry(name string, data []byte) rawEntry {
	return rawEntry{hdr: zip.FileHeader{Name: name, Method: zip.Store, CRC32: crc32.ChecksumIEEE(data),
		CompressedSize64: uint64(len(data)), UncompressedSize64: uint64(len(data))}, data: data}
}

func TestZipBombs(t *testing.T) {
	// 1 GiB of zeros, about 1 MiB compressed: the ratio check refuses it from the directory.
	zeros, crc := deflateRepeat(t, "", "\x00", 1<<30, "")
	honest := zipRaw(t, rawEntry{hdr: zip.FileHeader{Name: "zeros.txt", Method: zip.Deflate, CRC32: crc,
		CompressedSize64: uint64(len(zeros)), UncompressedSize64: 1 << 30}, data: zeros})
	// The same bytes declaring 1 MiB: the directory looks harmless, counting while reading
	// catches it.
	lying := zipRaw(t, rawEntry{hdr: zip.FileHeader{Name: "zeros.txt", Method: zip.Deflate, CRC32: crc,
		CompressedSize64: uint64(len(zeros)), UncompressedSize64: 1 << 20}, data: zeros})
	// 64 MiB of XML text inside a DOCX that declares 64 KiB for its document part.
	prefix := `<?xml version="1.0"?><w:document ` + wordNS + `><w:body><w:p><w:r><w:t>`
	xmlBomb, xcrc := deflateRepeat(t, prefix, "a", 64<<20, `</w:t></w:r></w:p></w:body></w:document>`)
	docx := zipRaw(t,
		storedEntry("[Content_Types].xml", []byte(`<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`)),
		rawEntry{hdr: zip.FileHeader{Name: "word/document.xml", Method: zip.Deflate, CRC32: xcrc,
			CompressedSize64: uint64(len(xmlBomb)), UncompressedSize64: 64 << 10}, data: xmlBomb})
	// Many honest entries whose sum passes the expansion limit.
	random := bytes.Repeat([]byte("0123456789abcdef"), 1<<14) // 256 KiB, stored
	var many []rawEntry
	for i := range 5 {
		many = append(many, storedEntry(fmt.Sprintf("part%d.txt", i), random))
	}
	expanding := zipRaw(t, many...)

	tests := []struct {
		name string
		data []byte
		lim  files.Limits
		want *files.Error
	}{
		{"炸弹.zip", honest, files.Limits{}, files.ErrBomb},
		{"lying.zip", lying, files.Limits{}, files.ErrBomb},
		{"lying-ratio-ok.zip", lying, files.Limits{MaxRatio: 1 << 40}, files.ErrBomb},
		{"bomb.docx", docx, files.Limits{}, files.ErrBomb},
		{"expanding.zip", expanding, files.Limits{MaxExpanded: 1 << 20}, files.ErrExpansion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := inspect(t, tt.name, tt.data, tt.lim)
			assertRefused(t, err, tt.want, files.ClassInvalid, tt.name)
		})
	}
}

func TestZipEntryCount(t *testing.T) {
	// Stored entries: a deflate writer per entry would make building 10,001 of them slow.
	entries := make([]rawEntry, files.DefaultMaxEntries+1)
	for i := range entries {
		entries[i] = storedEntry(fmt.Sprintf("f%05d.txt", i), []byte("x"))
	}
	_, err := inspect(t, "many.zip", zipRaw(t, entries...), files.Limits{})
	assertRefused(t, err, files.ErrEntries, files.ClassInvalid, "10000")
	if _, err := inspect(t, "enough.zip", zipRaw(t, entries[:files.DefaultMaxEntries]...), files.Limits{}); err != nil {
		t.Errorf("%d entries refused: %v", files.DefaultMaxEntries, err)
	}
}

func TestZipRefusals(t *testing.T) {
	symlink := zip.FileHeader{Name: "link", Method: zip.Store}
	symlink.SetMode(fs.ModeSymlink | 0o777)
	good := zipOf(t, entry{"a.txt", "hello hello hello"}, entry{"b.txt", "world"})
	truncated := good[:len(good)-30]
	// Flip a byte of stored content: its CRC-32 no longer holds.
	badCRC := zipRaw(t, storedEntry("a.txt", []byte("hello")))
	badCRC[bytes.Index(badCRC, []byte("hello"))] = 'j'

	tests := []struct {
		name   string
		data   []byte
		want   *files.Error
		class  files.Class
		zhPart string
	}{
		{"课件.zip", zipOf(t, entry{"../../evil.sh", "rm -rf /"}), files.ErrZipSlip, files.ClassInvalid, "文件“课件.zip”中的条目“../../evil.sh”试图写到解压目录之外"},
		{"abs.zip", zipOf(t, entry{"/etc/cron.d/evil", "x"}), files.ErrZipSlip, files.ClassInvalid, "/etc/cron.d/evil"},
		{"backslash.zip", zipOf(t, entry{`..\..\Windows\evil.dll`, "x"}), files.ErrZipSlip, files.ClassInvalid, "解压目录之外"},
		{"drive.zip", zipOf(t, entry{"C:/Windows/evil.dll", "x"}), files.ErrZipSlip, files.ClassInvalid, "解压目录之外"},
		{"middle.zip", zipOf(t, entry{"a/../../b.txt", "x"}), files.ErrZipSlip, files.ClassInvalid, "解压目录之外"},
		{"slip.docx", append([]byte(nil), zipOf(t, entry{"[Content_Types].xml", "<Types/>"}, entry{"../evil.xml", "x"})...), files.ErrZipSlip, files.ClassInvalid, "解压目录之外"},
		{"symlink.zip", zipRaw(t, rawEntry{hdr: symlink, data: nil}), files.ErrSymlink, files.ClassInvalid, "符号链接"},
		{"nested.zip", zipOf(t, entry{"inner.zip", string(zipOf(t, entry{"a", "b"}))}), files.ErrNested, files.ClassInvalid, "“inner.zip”本身是压缩包"},
		{"renamed-nested.zip", zipOf(t, entry{"data.bin", string(zipOf(t, entry{"a", "b"}))}), files.ErrNested, files.ClassInvalid, "data.bin"},
		{"tgz.zip", zipOf(t, entry{"src.tar.gz", "\x1f\x8b\x08\x00"}), files.ErrNested, files.ClassInvalid, "src.tar.gz"},
		{"rar-as-docx.zip", zipOf(t, entry{"课件.docx", "Rar!\x1a\x07\x01\x00"}), files.ErrNested, files.ClassInvalid, "课件.docx"},
		{"gz-content.zip", zipOf(t, entry{"notes.txt", "\x1f\x8b\x08\x00\x00\x00"}), files.ErrNested, files.ClassInvalid, "notes.txt"},
		{"encrypted.zip", zipRaw(t, rawEntry{hdr: zip.FileHeader{Name: "a.txt", Method: zip.Store, Flags: 0x1, CompressedSize64: 5, UncompressedSize64: 5}, data: []byte("xxxxx")}), files.ErrEncrypted, files.ClassInvalid, "已加密"},
		{"lzma.zip", zipRaw(t, rawEntry{hdr: zip.FileHeader{Name: "a.txt", Method: 14, CompressedSize64: 5, UncompressedSize64: 5}, data: []byte("xxxxx")}), files.ErrCompression, files.ClassUnsupported, "压缩方法"},
		{"dup.zip", zipOf(t, entry{"a.txt", "1"}, entry{"a.txt", "2"}), files.ErrDuplicate, files.ClassInvalid, "重复"},
		{"truncated.zip", truncated, files.ErrCorrupt, files.ClassInvalid, "损坏"},
		{"crc.zip", badCRC, files.ErrCorrupt, files.ClassInvalid, "损坏"},
		{"garbage.zip", append([]byte("PK\x03\x04"), bytes.Repeat([]byte{0xaa}, 100)...), files.ErrCorrupt, files.ClassInvalid, "损坏"},
		{"empty.zip", []byte("PK\x05\x06" + strings.Repeat("\x00", 18)), files.ErrEmptyArchive, files.ClassInvalid, "没有任何文件"},
		{"dirs-only.zip", zipOf(t, entry{"a/", ""}, entry{"b/", ""}), files.ErrEmptyArchive, files.ClassInvalid, "没有任何文件"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := inspect(t, tt.name, tt.data, files.Limits{})
			assertRefused(t, err, tt.want, tt.class, tt.zhPart)
		})
	}
}

// TestZipGBKNames: ZIPs from Chinese Windows carry GBK names without the UTF-8 flag. A GBK
// character whose second byte is 0x5C (a backslash in ASCII) must not be mistaken for a path
// separator, and refusals must quote the name readably.
func TestZipGBKNames(t *testing.T) {
	enc := simplifiedchinese.GBK.NewEncoder()
	var tricky rune
	for r := rune(0x4e00); r < 0x9fff; r++ {
		b, err := enc.Bytes([]byte(string(r)))
		if err == nil && len(b) == 2 && b[1] == '\\' {
			tricky = r
			break
		}
	}
	if tricky == 0 {
		t.Fatal("no GBK character with a 0x5C trail byte")
	}
	name := "资料/第一课" + string(tricky) + ".txt"
	gbkName, _ := enc.Bytes([]byte(name))
	data := zipRaw(t, rawEntry{hdr: zip.FileHeader{Name: string(gbkName), NonUTF8: true, Method: zip.Store,
		CRC32: crc32.ChecksumIEEE([]byte("内容")), CompressedSize64: 6, UncompressedSize64: 6}, data: []byte("内容")})
	if _, err := inspect(t, "gbk.zip", data, files.Limits{}); err != nil {
		t.Errorf("GBK names refused: %v", err)
	}

	slip, _ := enc.Bytes([]byte("../../课件.sh"))
	bad := zipRaw(t, storedEntry(string(slip), []byte("x")))
	_, err := inspect(t, "gbk-slip.zip", bad, files.Limits{})
	assertRefused(t, err, files.ErrZipSlip, files.ClassInvalid, "“../../课件.sh”")
}
