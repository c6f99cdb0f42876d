package oai

import (
	"regexp"
	"strings"
)

// ccCodes are the Creative Commons licences of the taxonomy, by their code.
var ccCodes = map[string]string{
	"cc-by": "by", "cc-by-sa": "by-sa", "cc-by-nc": "by-nc", "cc-by-nc-sa": "by-nc-sa", "cc-by-nd": "by-nd", "cc-by-nc-nd": "by-nc-nd",
}

// LicenseURL returns the deed of a Creative Commons licence code (version 4.0, which the
// taxonomy's labels name), or "" for the others (public-welfare and paid offers have no
// standard URL).
func LicenseURL(code string) string {
	if cc, ok := ccCodes[code]; ok {
		return "https://creativecommons.org/licenses/" + cc + "/4.0/"
	}
	return ""
}

var (
	ccURL     = regexp.MustCompile(`creativecommons\.org/licenses/(by(?:-nc)?(?:-sa|-nd)?)/`)
	ccZero    = regexp.MustCompile(`creativecommons\.org/(?:publicdomain|licenses/publicdomain)/`)
	codeToken = regexp.MustCompile(`(?i)(?:^|[^a-z-])(cc-by(?:-nc)?(?:-sa|-nd)?|public|paid)(?:$|[^a-z-])`)
)

// licenseFrom reads a licence code from a rights statement: a Creative Commons URL, one of our
// codes, or the words for public-welfare and paid offers. ok is false when nothing is recognised.
func licenseFrom(s string) (string, bool) {
	if m := ccURL.FindStringSubmatch(s); m != nil {
		return "cc-" + m[1], true
	}
	if ccZero.MatchString(s) {
		// Public domain (CC0, PDM): free to all, the closest of our offers is public-welfare.
		return "public", true
	}
	if m := codeToken.FindStringSubmatch(s); m != nil {
		return strings.ToLower(m[1]), true
	}
	low := strings.ToLower(s)
	switch {
	case strings.Contains(s, "付费") || strings.Contains(s, "收费"):
		return "paid", true
	case strings.Contains(s, "公益") || strings.Contains(s, "免费") || strings.Contains(low, "public welfare") || strings.Contains(low, "public domain"):
		return "public", true
	}
	return "", false
}
