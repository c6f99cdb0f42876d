package files

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// MaxNameBytes bounds a sanitised name. File systems allow 255 bytes; we keep room for a
// suffix such as " (2)" or an added extension. A Chinese character takes three bytes.
const MaxNameBytes = 200

// maxExtBytes is the longest suffix still treated as an extension when trimming a long name.
const maxExtBytes = 16

// fallbackStem names a file whose name sanitises to nothing.
const fallbackStem = "file"

// SafeName turns a client-supplied file name into one that is safe to store, show and send back
// in a Content-Disposition header on any operating system: the last path element only, valid
// UTF-8 in NFC, no control, format (bidi override, zero-width) or Windows-reserved characters,
// no leading dots or trailing dots and spaces, no reserved device name, at most MaxNameBytes
// bytes with the extension kept. It never returns an empty string. SafeName is idempotent.
func SafeName(name string) string {
	name = strings.ToValidUTF8(name, "")
	// Browsers on Windows sometimes send the full path; either separator ends a directory.
	name = strings.ReplaceAll(name, "\\", "/")
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	space := false
	for _, r := range name {
		switch {
		case unicode.Is(unicode.Cc, r), unicode.Is(unicode.Cf, r), r == utf8.RuneError:
			// Controls and invisible format characters (U+202E turns "gpj.exe" into "exe.jpg"
			// on screen) are dropped.
			continue
		case strings.ContainsRune(`<>:"/\|?*`, r):
			r = '_'
		case unicode.IsSpace(r):
			// Every kind of space (including the ideographic U+3000) becomes one ASCII space.
			if space {
				continue
			}
			space = true
			b.WriteRune(' ')
			continue
		}
		space = false
		b.WriteRune(r)
	}
	// Composition after filtering, so that a second pass finds nothing new to compose.
	name = norm.NFC.String(b.String())
	name = strings.TrimLeft(name, ". ")
	name = strings.TrimRight(name, ". ")

	stem, ext := splitExt(name)
	if stem == "" {
		stem = fallbackStem
	}
	if reservedDevice(stem) {
		stem = "_" + stem
	}
	if len(ext) > maxExtBytes {
		stem, ext = stem+ext, ""
	}
	if len(stem)+len(ext) > MaxNameBytes {
		stem = truncateUTF8(stem, MaxNameBytes-len(ext))
		stem = strings.TrimRight(stem, ". ")
		if stem == "" {
			stem = fallbackStem
		}
	}
	return stem + ext
}

// splitExt splits "课件.final.pptx" into "课件.final" and ".pptx". A name that is only an
// extension has no stem.
func splitExt(name string) (stem, ext string) {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return name, ""
	}
	return name[:i], name[i:]
}

// extOf returns the lower-case extension of name without the dot.
func extOf(name string) string {
	_, ext := splitExt(name)
	return strings.ToLower(strings.TrimPrefix(ext, "."))
}

// reservedDevice reports Windows device names, which cannot be file names even with an
// extension ("con.txt"), nor with trailing spaces or further dots ("nul.tar.gz").
func reservedDevice(stem string) bool {
	base, _, _ := strings.Cut(stem, ".")
	base = strings.ToUpper(strings.TrimRight(base, " "))
	switch base {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(base) == 4 && (strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT")) {
		return base[3] >= '0' && base[3] <= '9'
	}
	if strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT") {
		switch base[3:] {
		case "¹", "²", "³":
			return true
		}
	}
	return false
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// withExt returns name with ext (without dot) added, keeping the result within MaxNameBytes.
func withExt(name, ext string) string {
	stem := name
	if len(stem)+1+len(ext) > MaxNameBytes {
		stem = strings.TrimRight(truncateUTF8(stem, MaxNameBytes-1-len(ext)), ". ")
		if stem == "" {
			stem = fallbackStem
		}
	}
	return stem + "." + ext
}
