package files

import (
	"bytes"
	"encoding/binary"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
)

// headSize is how much of a file content sniffing looks at.
const headSize = 8 << 10

// container says that the head announced a container whose contents decide the format.
type container int

const (
	notContainer container = iota
	containerZIP
	containerOLE
	containerText // no binary signature: maybe text
)

// sniffed is what the signature at the start of a file says.
type sniffed struct {
	format    format
	container container
	// refused is set when the head identifies something we do not accept; detail names it.
	refused Reason
	detail  string
}

func refuse(r Reason, detail string) sniffed { return sniffed{refused: r, detail: detail} }
func accept(f format) sniffed                { return sniffed{format: f} }

// sniff identifies a file by its first bytes. Signatures of refused formats are checked first
// so that, for instance, an executable never reaches a parser.
func sniff(head []byte) sniffed {
	has := func(prefix string) bool { return bytes.HasPrefix(head, []byte(prefix)) }
	at := func(off int, s string) bool { return len(head) >= off+len(s) && string(head[off:off+len(s)]) == s }
	switch {
	case has("\x7fELF"):
		return refuse(ReasonExecutable, "ELF executable")
	case has("MZ") && binaryHead(head):
		return refuse(ReasonExecutable, "Windows executable (PE/MZ)")
	case has("\xfe\xed\xfa\xce"), has("\xfe\xed\xfa\xcf"), has("\xce\xfa\xed\xfe"), has("\xcf\xfa\xed\xfe"):
		return refuse(ReasonExecutable, "Mach-O executable")
	case has("\xca\xfe\xba\xbe"):
		return refuse(ReasonExecutable, "Mach-O or Java class file")
	case has("\x00asm"):
		return refuse(ReasonExecutable, "WebAssembly module")
	case has("dex\n"):
		return refuse(ReasonExecutable, "Android DEX")

	case hasUTF16BOM(head):
		return sniffed{container: containerText} // Notepad's "Unicode"

	case has("%PDF-"):
		return accept(fmtPDF)
	case has("PK\x03\x04"), has("PK\x07\x08PK\x03\x04"):
		return sniffed{container: containerZIP}
	case has("PK\x05\x06"):
		return refuse(ReasonEmptyArchive, "")
	case has("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
		return sniffed{container: containerOLE}

	case has("\x89PNG\r\n\x1a\n"):
		return accept(fmtPNG)
	case has("\xff\xd8\xff"):
		return accept(fmtJPEG)
	case has("GIF87a"), has("GIF89a"):
		return accept(fmtGIF)
	case has("RIFF") && at(8, "WEBP"):
		if at(12, "VP8 ") || at(12, "VP8L") || at(12, "VP8X") {
			return accept(fmtWEBP)
		}
		return refuse(ReasonCorrupt, "")
	case has("RIFF") && at(8, "WAVE"):
		return accept(fmtWAV)
	case has("RIFF") && at(8, "AVI "):
		return refuse(ReasonType, "AVI video")
	case has("OggS\x00"):
		return accept(fmtOGG)
	case has("ID3"), len(head) >= 2 && head[0] == 0xff && head[1]&0xe0 == 0xe0:
		return accept(fmtMP3) // confirmed by checkMP3
	case at(4, "ftyp"):
		return sniffISOMedia(head)
	case has("\x1a\x45\xdf\xa3"):
		doc := head[:min(len(head), 64)]
		if bytes.Contains(doc, []byte("webm")) {
			return accept(fmtWEBM)
		}
		return refuse(ReasonType, "Matroska (MKV) video")

	case has("Rar!\x1a\x07"):
		return refuse(ReasonType, "RAR archive")
	case has("7z\xbc\xaf\x27\x1c"):
		return refuse(ReasonType, "7-Zip archive")
	case has("\x1f\x8b"):
		return refuse(ReasonType, "gzip archive")
	case has("BZh") && binaryHead(head):
		return refuse(ReasonType, "bzip2 archive")
	case has("\xfd7zXZ\x00"):
		return refuse(ReasonType, "xz archive")
	case has("\x28\xb5\x2f\xfd"):
		return refuse(ReasonType, "Zstandard archive")
	case at(257, "ustar"):
		return refuse(ReasonType, "tar archive")
	case has("MSCF"):
		return refuse(ReasonType, "Windows cabinet")
	case has("BM") && binaryHead(head):
		return refuse(ReasonType, "BMP image")
	case has("II*\x00"), has("MM\x00*"):
		return refuse(ReasonType, "TIFF image")
	case has("{\\rtf"):
		return refuse(ReasonType, "RTF document")
	case has("fLaC"):
		return refuse(ReasonType, "FLAC audio")
	case has("FLV\x01"):
		return refuse(ReasonType, "Flash video")
	case has("\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
		return refuse(ReasonType, "Windows Media file")
	}
	if binaryHead(head) && !hasUTF16BOM(head) {
		return refuse(ReasonType, "binary data")
	}
	return sniffed{container: containerText}
}

// isArchiveHead reports whether an archive entry's first bytes are themselves an archive. OOXML
// documents are ZIPs too; the caller decides by name whether that is acceptable.
func isArchiveHead(head []byte) (string, bool) {
	s := sniff(head)
	switch {
	case s.container == containerZIP, s.refused == ReasonEmptyArchive:
		return "ZIP archive", true
	case s.refused == ReasonType && (s.detail == "RAR archive" || s.detail == "7-Zip archive" ||
		s.detail == "gzip archive" || s.detail == "bzip2 archive" || s.detail == "xz archive" ||
		s.detail == "Zstandard archive" || s.detail == "tar archive" || s.detail == "Windows cabinet"):
		return s.detail, true
	}
	return "", false
}

// binaryHead reports bytes that never occur in text: NUL and the C0 controls other than tab,
// line feeds, form feed and escape-free whitespace.
func binaryHead(head []byte) bool {
	for _, c := range head {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' {
			return true
		}
	}
	return false
}

func hasUTF16BOM(head []byte) bool {
	return bytes.HasPrefix(head, []byte{0xff, 0xfe}) || bytes.HasPrefix(head, []byte{0xfe, 0xff})
}

// sniffISOMedia tells MP4 video, M4A audio and the ISO media formats we refuse apart by brand.
func sniffISOMedia(head []byte) sniffed {
	if len(head) < 16 {
		return refuse(ReasonCorrupt, "")
	}
	boxSize := int(binary.BigEndian.Uint32(head))
	if boxSize < 16 || boxSize > len(head) {
		boxSize = min(len(head), 64)
	}
	brands := []string{string(head[8:12])}
	for off := 16; off+4 <= boxSize; off += 4 {
		brands = append(brands, string(head[off:off+4]))
	}
	audio := map[string]bool{"M4A ": true, "M4B ": true, "M4P ": true, "F4A ": true, "F4B ": true}
	video := map[string]bool{"isom": true, "iso2": true, "iso3": true, "iso4": true, "iso5": true,
		"iso6": true, "iso8": true, "iso9": true, "mp41": true, "mp42": true, "mp71": true, "avc1": true,
		"dash": true, "M4V ": true, "M4VH": true, "M4VP": true, "MSNV": true, "f4v ": true, "mmp4": true,
		"NDAS": true}
	refused := map[string]string{"qt  ": "QuickTime (MOV) video", "heic": "HEIC image", "heix": "HEIC image",
		"mif1": "HEIF image", "msf1": "HEIF image", "avif": "AVIF image", "3gp4": "3GP video",
		"3gp5": "3GP video", "3gp6": "3GP video", "3g2a": "3GP video", "crx ": "Canon raw image"}
	major := brands[0]
	switch {
	case audio[major]:
		return accept(fmtM4A)
	case video[major]:
		return accept(fmtMP4)
	case refused[major] != "":
		return refuse(ReasonType, refused[major])
	}
	for _, b := range brands[1:] {
		if audio[b] {
			return accept(fmtM4A)
		}
		if video[b] {
			return accept(fmtMP4)
		}
	}
	return refuse(ReasonType, "ISO media ("+sanitiseBrand(major)+")")
}

func sanitiseBrand(b string) string {
	out := []byte(b)
	for i, c := range out {
		if c < 0x20 || c > 0x7e {
			out[i] = '?'
		}
	}
	return string(out)
}

// checkImage decodes the image header: a PNG signature followed by garbage is not an image.
func checkImage(f format, r io.Reader) bool {
	var err error
	switch f.mime {
	case fmtPNG.mime:
		_, err = png.DecodeConfig(r)
	case fmtJPEG.mime:
		_, err = jpeg.DecodeConfig(r)
	case fmtGIF.mime:
		_, err = gif.DecodeConfig(r)
	}
	return err == nil
}

// checkMP3 confirms an MP3: after an optional ID3v2 tag come two consecutive MPEG audio Layer
// III frame headers (or one frame that ends the file). Two bytes of 0xFFFB alone prove nothing.
func checkMP3(ra io.ReaderAt, size int64) bool {
	var off int64
	var hdr [10]byte
	if _, err := ra.ReadAt(hdr[:], 0); err == nil && string(hdr[:3]) == "ID3" {
		for _, b := range hdr[6:10] {
			if b&0x80 != 0 {
				return false
			}
		}
		tag := int64(hdr[6])<<21 | int64(hdr[7])<<14 | int64(hdr[8])<<7 | int64(hdr[9])
		off = 10 + tag
		if hdr[5]&0x10 != 0 {
			off += 10
		}
		// Encoders may pad between the tag and the first frame; look a little further.
		buf := make([]byte, 64<<10)
		n, _ := ra.ReadAt(buf, off)
		i := 0
		for i+1 < n && (buf[i] != 0xff || buf[i+1]&0xe0 != 0xe0) {
			i++
		}
		off += int64(i)
	}
	var fh [4]byte
	if _, err := ra.ReadAt(fh[:], off); err != nil {
		return false
	}
	n := mp3FrameLen(fh)
	if n <= 0 {
		return false
	}
	if off+int64(n) == size {
		return true
	}
	if _, err := ra.ReadAt(fh[:], off+int64(n)); err != nil {
		return false
	}
	return mp3FrameLen(fh) > 0
}

// mp3FrameLen returns the length of the MPEG Layer III frame whose header is h, or 0.
func mp3FrameLen(h [4]byte) int {
	if h[0] != 0xff || h[1]&0xe0 != 0xe0 {
		return 0
	}
	version := (h[1] >> 3) & 3 // 0: MPEG 2.5, 1: reserved, 2: MPEG 2, 3: MPEG 1
	layer := (h[1] >> 1) & 3   // 1: Layer III
	bitrateIdx := h[2] >> 4
	rateIdx := (h[2] >> 2) & 3
	padding := int(h[2]>>1) & 1
	if version == 1 || layer != 1 || bitrateIdx == 0 || bitrateIdx == 15 || rateIdx == 3 {
		return 0
	}
	v1 := [...]int{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320}
	v2 := [...]int{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160}
	rates := map[byte][3]int{3: {44100, 48000, 32000}, 2: {22050, 24000, 16000}, 0: {11025, 12000, 8000}}
	rate := rates[version][rateIdx]
	if version == 3 {
		return 144*v1[bitrateIdx]*1000/rate + padding
	}
	return 72*v2[bitrateIdx]*1000/rate + padding
}
