// Package oaitest checks OAI-PMH documents in tests: well-formedness with encoding/xml, and
// validity against the OAI-PMH, oai_dc, oai-identifier and LOM schemas in testdata/oai-pmh with
// xmllint, offline.
//
// Without xmllint (Debian libxml2-utils) schema checks skip with a message, unless
// ZIYUAN_REQUIRE_XMLLINT=1 (set by `make test`), which makes them fail instead.
package oaitest

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// SchemaDir is the directory of the schemas (the repository's testdata/oai-pmh).
func SchemaDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "testdata", "oai-pmh")
}

// Xmllint returns xmllint's path, skipping the test when it is missing (failing it when
// ZIYUAN_REQUIRE_XMLLINT=1).
func Xmllint(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("xmllint")
	if err == nil {
		return p
	}
	if os.Getenv("ZIYUAN_REQUIRE_XMLLINT") == "1" {
		t.Fatal("xmllint not found but ZIYUAN_REQUIRE_XMLLINT=1: install Debian's libxml2-utils (make test does)")
	}
	t.Skip("schema validation skipped: xmllint not found (apt-get install libxml2-utils; make test installs it)")
	return ""
}

// Validate checks every document against the schemas with one xmllint run and fails the test
// naming each invalid document with xmllint's complaint.
func Validate(t testing.TB, docs map[string][]byte) {
	t.Helper()
	if len(docs) == 0 {
		t.Fatal("oaitest.Validate: no documents")
	}
	lint := Xmllint(t)
	dir := t.TempDir()
	var files []string
	for name, doc := range docs {
		if err := WellFormed(doc); err != nil {
			t.Errorf("%s is not well-formed XML: %v\n%s", name, err, doc)
			continue
		}
		f := filepath.Join(dir, safeName(name)+".xml")
		if err := os.WriteFile(f, doc, 0o600); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	args := append([]string{"--noout", "--nonet", "--schema", filepath.Join(SchemaDir(), "wrapper.xsd")}, files...)
	out, err := exec.Command(lint, args...).CombinedOutput()
	if err != nil {
		var bad []string
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, "fails to validate") || strings.Contains(line, "error") {
				bad = append(bad, line)
			}
		}
		t.Fatalf("xmllint: %v\n%s", err, strings.Join(bad, "\n"))
	}
}

func safeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// WellFormed parses a document completely with encoding/xml and checks that its root is
// OAI-PMH in the protocol's namespace.
func WellFormed(doc []byte) error {
	dec := xml.NewDecoder(bytes.NewReader(doc))
	root := ""
	depth := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				if root != "" {
					return errors.New("more than one root element")
				}
				root = el.Name.Space + " " + el.Name.Local
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
	if root != "http://www.openarchives.org/OAI/2.0/ OAI-PMH" {
		return fmt.Errorf("root element %q, want OAI-PMH", root)
	}
	return nil
}

// ErrorCode returns the code of the document's first error element, "" when it has none.
func ErrorCode(doc []byte) string {
	var env struct {
		Errors []struct {
			Code string `xml:"code,attr"`
		} `xml:"error"`
	}
	if xml.Unmarshal(doc, &env) != nil || len(env.Errors) == 0 {
		return ""
	}
	return env.Errors[0].Code
}
