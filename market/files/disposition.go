package files

import "strings"

// Attachment builds the Content-Disposition value that makes a browser save a download as
// name: an ASCII filename for old clients and a UTF-8 filename* (RFC 6266, RFC 5987) that keeps
// Chinese names. It is shared by every way a file leaves the marketplace (served by web, or
// through an S3 presigned URL that repeats it as response-content-disposition), so the two
// cannot drift apart.
//
// The result is always printable ASCII without line breaks, whatever name holds, so it is safe
// in a header and in a signed URL: quotes, backslashes, separators and controls become '_' in
// the fallback, and every byte outside RFC 5987's attr-char set is percent-encoded in
// filename*.
func Attachment(name string) string {
	name = strings.ToValidUTF8(name, "\uFFFD")
	var b strings.Builder
	b.WriteString(`attachment; filename="`)
	for _, r := range name {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == '/' {
			r = '_'
		}
		b.WriteRune(r)
	}
	b.WriteString(`"; filename*=UTF-8''`)
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(name); i++ {
		c := name[i]
		if isAttrChar(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xf])
	}
	return b.String()
}

// isAttrChar reports whether c may appear unencoded in an RFC 5987 ext-value. url.PathEscape
// is not enough: it leaves '=', ':' and '@' alone, which strict parsers (Go's
// mime.ParseMediaType among them) refuse in a token.
func isAttrChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}
