package oai

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"ziyuan/catalog"
	"ziyuan/market"
)

// Namespaces and schema locations of the protocol and the two metadata formats.
const (
	NamespaceOAI           = "http://www.openarchives.org/OAI/2.0/"
	NamespaceOAIDC         = "http://www.openarchives.org/OAI/2.0/oai_dc/"
	NamespaceDC            = "http://purl.org/dc/elements/1.1/"
	NamespaceLOM           = "http://ltsc.ieee.org/xsd/LOM"
	NamespaceOAIIdentifier = "http://www.openarchives.org/OAI/2.0/oai-identifier"
	namespaceXSI           = "http://www.w3.org/2001/XMLSchema-instance"

	schemaOAI           = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
	schemaOAIDC         = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
	schemaLOM           = "http://ltsc.ieee.org/xsd/lomv1.0/lom.xsd"
	schemaOAIIdentifier = "http://www.openarchives.org/OAI/2.0/oai-identifier.xsd"
)

// Metadata prefixes.
const (
	PrefixDC  = "oai_dc"
	PrefixLOM = "lom"
)

// Datestamps are to the second, in UTC.
const (
	Granularity = "YYYY-MM-DDThh:mm:ssZ"
	timeLayout  = "2006-01-02T15:04:05Z"
	dayLayout   = "2006-01-02"
)

// The error codes of OAI-PMH 2.0 section 3.6.
const (
	ErrBadArgument             = "badArgument"
	ErrBadResumptionToken      = "badResumptionToken"
	ErrBadVerb                 = "badVerb"
	ErrCannotDisseminateFormat = "cannotDisseminateFormat"
	ErrIDDoesNotExist          = "idDoesNotExist"
	ErrNoRecordsMatch          = "noRecordsMatch"
	ErrNoMetadataFormats       = "noMetadataFormats"
	ErrNoSetHierarchy          = "noSetHierarchy"
)

// Repository is where the provider reads records; *market.Market is one.
type Repository interface {
	OAIRecords(ctx context.Context, q market.OAIQuery) ([]market.OAIRecord, error)
	OAICount(ctx context.Context, q market.OAIQuery) (int64, error)
	OAIRecord(ctx context.Context, id string) (market.OAIRecord, error)
	OAIEarliest(ctx context.Context) (time.Time, bool, error)
}

// Config describes the repository. RepositoryID and Key are required.
type Config struct {
	RepositoryName string
	// RepositoryID is the oai-identifier namespace, a domain name: identifiers read
	// oai:<RepositoryID>:<resource id>.
	RepositoryID string
	AdminEmails  []string
	// Key signs resumption tokens.
	Key []byte
	// Taxonomy gives the set hierarchy and the vocabularies' labels; nil means no sets.
	Taxonomy *catalog.Taxonomy
	// PageSize is the number of records (or headers) a list response holds (default 100).
	PageSize int
	// TokenLifetime bounds a resumption token's use (default one hour).
	TokenLifetime time.Duration
	Clock         func() time.Time
}

var repositoryIDPattern = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+$`)

// ValidRepositoryID reports whether id may name a repository in oai identifiers.
func ValidRepositoryID(id string) bool { return repositoryIDPattern.MatchString(id) }

// Provider answers OAI-PMH requests. It is safe for concurrent use.
type Provider struct {
	repo Repository
	cfg  Config
	sets *setIndex
	tax  *catalog.Taxonomy
}

// NewProvider checks cfg and builds a provider over repo.
func NewProvider(repo Repository, cfg Config) (*Provider, error) {
	if !ValidRepositoryID(cfg.RepositoryID) {
		return nil, fmt.Errorf("OAI-PMH repository identifier %q is not a domain name", cfg.RepositoryID)
	}
	if len(cfg.Key) < 16 {
		return nil, errors.New("OAI-PMH provider needs a key of at least 16 bytes")
	}
	for _, e := range cfg.AdminEmails {
		if !emailPattern.MatchString(e) {
			return nil, fmt.Errorf("OAI-PMH admin email %q is not an address", e)
		}
	}
	if len(cfg.AdminEmails) == 0 {
		cfg.AdminEmails = []string{"admin@" + cfg.RepositoryID}
	}
	if cfg.RepositoryName == "" {
		cfg.RepositoryName = "资源 Ziyuan"
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 100
	}
	if cfg.TokenLifetime <= 0 {
		cfg.TokenLifetime = time.Hour
	}
	if cfg.Clock == nil {
		cfg.Clock = market.SystemClock
	}
	p := &Provider{repo: repo, cfg: cfg, tax: cfg.Taxonomy}
	if p.tax != nil {
		p.sets = newSetIndex(p.tax)
	} else {
		p.tax = catalog.DefaultTaxonomy() // labels only
	}
	return p, nil
}

var emailPattern = regexp.MustCompile(`^\S+@(\S+\.)+\S+$`)

// ValidAdminEmail reports whether s fits Identify's adminEmail.
func ValidAdminEmail(s string) bool { return emailPattern.MatchString(s) }

// Request is one protocol request.
type Request struct {
	// BaseURL is the endpoint's URL, echoed in responses; SiteURL the site's root, for links to
	// resource pages.
	BaseURL string
	SiteURL string
	Args    url.Values
	// ArgsErr reports arguments that could not be decoded (a bad escape): a badArgument.
	ArgsErr error
}

// Identifier returns the OAI identifier of a resource.
func (p *Provider) Identifier(resourceID string) string {
	return "oai:" + p.cfg.RepositoryID + ":" + resourceID
}

// protoError is an OAI-PMH error condition, answered in the XML body with HTTP 200.
type protoError struct {
	code, msg string
}

func (e *protoError) Error() string { return e.code + ": " + e.msg }

func perr(code, format string, args ...any) *protoError {
	return &protoError{code: code, msg: fmt.Sprintf(format, args...)}
}

// Serve answers a request with a complete OAI-PMH document. Protocol errors are part of the
// document; the error returned is a failure of the repository (the database), for which the
// protocol has no code: the HTTP layer answers 503 and harvesters retry.
func (p *Provider) Serve(ctx context.Context, req Request) ([]byte, error) {
	now := p.cfg.Clock().UTC()
	var body xmlWriter
	verb, echo, err := p.dispatch(ctx, req, now, &body)
	var pe *protoError
	if err != nil && !errors.As(err, &pe) {
		return nil, err
	}
	var doc xmlWriter
	doc.buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	doc.open("OAI-PMH", "xmlns", NamespaceOAI, "xmlns:xsi", namespaceXSI, "xsi:schemaLocation", NamespaceOAI+" "+schemaOAI)
	doc.buf.WriteByte('\n')
	doc.leaf("responseDate", now.Format(timeLayout))
	// A badVerb or badArgument response echoes the base URL only (section 3.2).
	if pe != nil && (pe.code == ErrBadVerb || pe.code == ErrBadArgument) {
		echo = nil
	} else {
		echo = append([]string{"verb", verb}, echo...)
	}
	doc.leaf("request", req.BaseURL, echo...)
	if pe != nil {
		doc.leaf("error", pe.msg, "code", pe.code)
	} else {
		doc.buf.Write(body.bytes())
	}
	doc.close("OAI-PMH")
	return doc.bytes(), nil
}

// verbArgs lists each verb's arguments: true for required ones. resumptionToken, where allowed,
// is exclusive.
var verbArgs = map[string]map[string]bool{
	"Identify":            {},
	"ListMetadataFormats": {"identifier": false},
	"ListSets":            {"resumptionToken": false},
	"GetRecord":           {"identifier": true, "metadataPrefix": true},
	"ListIdentifiers":     {"metadataPrefix": true, "from": false, "until": false, "set": false, "resumptionToken": false},
	"ListRecords":         {"metadataPrefix": true, "from": false, "until": false, "set": false, "resumptionToken": false},
}

// dispatch checks the verb and arguments and writes the verb's element into body. It returns
// the request attributes to echo (beyond the verb).
func (p *Provider) dispatch(ctx context.Context, req Request, now time.Time, body *xmlWriter) (string, []string, error) {
	verbs := req.Args["verb"]
	switch {
	case len(verbs) == 0:
		return "", nil, perr(ErrBadVerb, "the verb argument is missing")
	case len(verbs) > 1:
		return "", nil, perr(ErrBadVerb, "the verb argument is repeated")
	}
	verb := verbs[0]
	allowed, ok := verbArgs[verb]
	if !ok {
		return "", nil, perr(ErrBadVerb, "%q is not an OAI-PMH verb", printable(verb))
	}
	if req.ArgsErr != nil {
		return verb, nil, perr(ErrBadArgument, "the arguments cannot be decoded: %s", printable(req.ArgsErr.Error()))
	}
	args := map[string]string{}
	names := make([]string, 0, len(req.Args))
	for k := range req.Args {
		names = append(names, k)
	}
	sort.Strings(names)
	var echo []string
	for _, k := range names {
		if k == "verb" {
			continue
		}
		if _, ok := allowed[k]; !ok {
			return verb, nil, perr(ErrBadArgument, "%q is not an argument of %s", printable(k), verb)
		}
		vs := req.Args[k]
		if len(vs) > 1 {
			return verb, nil, perr(ErrBadArgument, "the %s argument is repeated", k)
		}
		if !cleanText(vs[0]) {
			return verb, nil, perr(ErrBadArgument, "the %s argument is not valid text", k)
		}
		args[k] = vs[0]
		echo = append(echo, k, vs[0])
	}
	if tok, ok := args["resumptionToken"]; ok {
		if len(args) > 1 {
			return verb, nil, perr(ErrBadArgument, "resumptionToken is an exclusive argument")
		}
		if verb == "ListSets" {
			return verb, echo, perr(ErrBadResumptionToken, "ListSets returns every set at once and issues no resumption tokens")
		}
		return verb, echo, p.list(ctx, req, verb, args, tok, now, body)
	}
	for k, required := range allowed {
		if _, ok := args[k]; required && !ok {
			return verb, nil, perr(ErrBadArgument, "%s needs the %s argument", verb, k)
		}
	}
	var err error
	switch verb {
	case "Identify":
		err = p.identify(ctx, req, now, body)
	case "ListMetadataFormats":
		err = p.listMetadataFormats(ctx, args, body)
	case "ListSets":
		err = p.listSets(body)
	case "GetRecord":
		err = p.getRecord(ctx, req, args, body)
	default:
		err = p.list(ctx, req, verb, args, "", now, body)
	}
	var pe *protoError
	if errors.As(err, &pe) && (pe.code == ErrBadArgument || pe.code == ErrBadVerb) {
		echo = nil
	}
	return verb, echo, err
}

// cleanText reports whether s can be echoed in an XML attribute as it is.
func cleanText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xFFFE || r == 0xFFFF || r >= 0xD800 && r <= 0xDFFF {
			return false
		}
	}
	return true
}

// uriLike reports whether s holds only characters a URI (or IRI) may: identifiers are echoed as
// xs:anyURI attributes, and a value that is not one would make the answer invalid.
func uriLike(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && (i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2])) {
			return false
		}
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("-._~:/?#[]@!$&'()*+,;=%", r):
		case r >= 0xA0 && unicode.IsPrint(r) && !unicode.IsSpace(r):
		default:
			return false
		}
	}
	return true
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// printable shortens a client's string for an error message.
func printable(s string) string {
	s = strings.ToValidUTF8(s, "?")
	if utf8.RuneCountInString(s) > 64 {
		s = string([]rune(s)[:64]) + "…"
	}
	return s
}

func (p *Provider) identify(ctx context.Context, req Request, now time.Time, w *xmlWriter) error {
	earliest, ok, err := p.repo.OAIEarliest(ctx)
	if err != nil {
		return err
	}
	if !ok {
		earliest = now // no records yet: every future datestamp is later
	}
	w.open("Identify")
	w.leaf("repositoryName", p.cfg.RepositoryName)
	w.leaf("baseURL", req.BaseURL)
	w.leaf("protocolVersion", "2.0")
	for _, e := range p.cfg.AdminEmails {
		w.leaf("adminEmail", e)
	}
	w.leaf("earliestDatestamp", earliest.UTC().Format(timeLayout))
	w.leaf("deletedRecord", "persistent")
	w.leaf("granularity", Granularity)
	w.open("description")
	w.open("oai-identifier", "xmlns", NamespaceOAIIdentifier, "xmlns:xsi", namespaceXSI,
		"xsi:schemaLocation", NamespaceOAIIdentifier+" "+schemaOAIIdentifier)
	w.leaf("scheme", "oai")
	w.leaf("repositoryIdentifier", p.cfg.RepositoryID)
	w.leaf("delimiter", ":")
	w.leaf("sampleIdentifier", p.Identifier("0190a5f2-7c1e-7d3a-9b4e-2f6c8d0e1a2b"))
	w.close("oai-identifier")
	w.close("description")
	w.close("Identify")
	return nil
}

// formats are the metadata formats every record is disseminated in.
var formats = []struct{ prefix, schema, namespace string }{
	{PrefixDC, schemaOAIDC, NamespaceOAIDC},
	{PrefixLOM, schemaLOM, NamespaceLOM},
}

func (p *Provider) listMetadataFormats(ctx context.Context, args map[string]string, w *xmlWriter) error {
	if id, ok := args["identifier"]; ok {
		rec, err := p.record(ctx, id)
		if err != nil {
			return err
		}
		if rec.Deleted {
			// A taken-down work is no longer disseminated in any format: only its deleted
			// header remains.
			return perr(ErrNoMetadataFormats, "%s has been withdrawn; no metadata formats are available for it", id)
		}
	}
	w.open("ListMetadataFormats")
	for _, f := range formats {
		w.open("metadataFormat")
		w.leaf("metadataPrefix", f.prefix)
		w.leaf("schema", f.schema)
		w.leaf("metadataNamespace", f.namespace)
		w.close("metadataFormat")
	}
	w.close("ListMetadataFormats")
	return nil
}

func (p *Provider) listSets(w *xmlWriter) error {
	if p.sets == nil {
		return perr(ErrNoSetHierarchy, "this repository does not support sets")
	}
	w.open("ListSets")
	for _, s := range p.sets.list {
		w.open("set")
		w.leaf("setSpec", s.Spec)
		w.leaf("setName", s.Name)
		w.close("set")
	}
	w.close("ListSets")
	return nil
}

var (
	prefixPattern = regexp.MustCompile(`^[A-Za-z0-9\-_.!~*'()]+$`)
	setPattern    = regexp.MustCompile(`^[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*$`)
)

// checkPrefix refuses a malformed prefix (badArgument) and one we do not disseminate.
func checkPrefix(prefix string) error {
	if !prefixPattern.MatchString(prefix) {
		return perr(ErrBadArgument, "the metadataPrefix %q is malformed", printable(prefix))
	}
	if prefix != PrefixDC && prefix != PrefixLOM {
		return perr(ErrCannotDisseminateFormat, "records are disseminated as oai_dc and lom, not %s", prefix)
	}
	return nil
}

// record looks up an identifier: badArgument when it is not a URI at all, idDoesNotExist when it
// is not one of ours.
func (p *Provider) record(ctx context.Context, identifier string) (market.OAIRecord, error) {
	if !uriLike(identifier) {
		return market.OAIRecord{}, perr(ErrBadArgument, "the identifier is not a URI")
	}
	if _, err := url.Parse(identifier); err != nil {
		return market.OAIRecord{}, perr(ErrBadArgument, "the identifier is not a URI")
	}
	id, ok := strings.CutPrefix(identifier, "oai:"+p.cfg.RepositoryID+":")
	if !ok || !market.ValidID(id) {
		return market.OAIRecord{}, perr(ErrIDDoesNotExist, "%s is not an identifier of this repository", printable(identifier))
	}
	rec, err := p.repo.OAIRecord(ctx, id)
	if market.IsCode(err, market.CodeNotFound) {
		return rec, perr(ErrIDDoesNotExist, "no record %s", identifier)
	}
	return rec, err
}

func (p *Provider) getRecord(ctx context.Context, req Request, args map[string]string, w *xmlWriter) error {
	prefix := args["metadataPrefix"]
	if !prefixPattern.MatchString(prefix) {
		return checkPrefix(prefix)
	}
	rec, err := p.record(ctx, args["identifier"])
	if err != nil {
		return err
	}
	if err := checkPrefix(prefix); err != nil {
		return err
	}
	w.open("GetRecord")
	p.writeRecord(w, req, rec, prefix)
	w.close("GetRecord")
	return nil
}

// parseDate reads a from or until argument in either granularity; day reports the coarser one.
func parseDate(s string) (t time.Time, day bool, err error) {
	switch len(s) {
	case len(dayLayout):
		t, err = time.Parse(dayLayout, s)
		day = true
	case len(timeLayout):
		// time.Parse would accept fractional seconds here; the fixed length rules them out.
		t, err = time.Parse(timeLayout, s)
	default:
		err = errors.New("wrong length")
	}
	if err == nil && t.Year() < 1 {
		err = errors.New("year out of range")
	}
	return t, day, err
}

// listQuery turns a list's arguments into a market query.
func (p *Provider) listQuery(st listState) (market.OAIQuery, error) {
	var q market.OAIQuery
	var fromDay, untilDay bool
	var err error
	if st.From != "" {
		if q.From, fromDay, err = parseDate(st.From); err != nil {
			return q, perr(ErrBadArgument, "from must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ")
		}
	}
	if st.Until != "" {
		var until time.Time
		if until, untilDay, err = parseDate(st.Until); err != nil {
			return q, perr(ErrBadArgument, "until must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ")
		}
		if st.From != "" && fromDay != untilDay {
			return q, perr(ErrBadArgument, "from and until must have the same granularity")
		}
		if st.From != "" && q.From.After(until) {
			return q, perr(ErrBadArgument, "from is later than until")
		}
		// until is inclusive at its granularity: the whole second, or the whole day.
		if untilDay {
			q.Before = until.AddDate(0, 0, 1)
		} else {
			q.Before = until.Add(time.Second)
		}
	}
	if st.Set != "" {
		if !setPattern.MatchString(st.Set) {
			return q, perr(ErrBadArgument, "the set %q is malformed", printable(st.Set))
		}
		if p.sets == nil {
			return q, perr(ErrNoSetHierarchy, "this repository does not support sets")
		}
		s, ok := p.sets.bySpec[st.Set]
		if !ok {
			return q, perr(ErrNoRecordsMatch, "there is no set %s", st.Set)
		}
		q.Stage, q.Subject = s.Stage, s.Subject
	}
	return q, nil
}

// list answers ListIdentifiers and ListRecords, a page at a time.
func (p *Provider) list(ctx context.Context, req Request, verb string, args map[string]string, token string, now time.Time, w *xmlWriter) error {
	var st listState
	if token != "" {
		var err error
		if st, err = decodeToken(p.cfg.Key, token, verb, now); err != nil {
			if errors.Is(err, errTokenExpired) {
				return perr(ErrBadResumptionToken, "the resumption token has expired; start the list again")
			}
			return perr(ErrBadResumptionToken, "the resumption token is invalid")
		}
	} else {
		st = listState{Verb: verb, Prefix: args["metadataPrefix"], Set: args["set"], From: args["from"], Until: args["until"]}
		if !prefixPattern.MatchString(st.Prefix) {
			return checkPrefix(st.Prefix)
		}
	}
	q, err := p.listQuery(st)
	if err != nil {
		return err
	}
	if err := checkPrefix(st.Prefix); err != nil {
		return err
	}
	if token == "" {
		if st.Total, err = p.repo.OAICount(ctx, q); err != nil {
			return err
		}
		if st.Total == 0 {
			return perr(ErrNoRecordsMatch, "no records match")
		}
	} else {
		q.After = &market.OAICursor{Datestamp: time.UnixMicro(st.AfterDS).UTC(), ID: st.AfterID}
	}
	q.Limit, q.HeadersOnly = p.cfg.PageSize+1, verb == "ListIdentifiers"
	recs, err := p.repo.OAIRecords(ctx, q)
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		// Only when the records left changed sets since the token was issued.
		return perr(ErrNoRecordsMatch, "no records remain in this list")
	}
	more := len(recs) > p.cfg.PageSize
	if more {
		recs = recs[:p.cfg.PageSize]
	}
	w.open(verb)
	for _, rec := range recs {
		if verb == "ListIdentifiers" {
			p.writeHeader(w, rec)
		} else {
			p.writeRecord(w, req, rec, st.Prefix)
		}
	}
	// The complete list size is counted when the list starts; records changing meanwhile can
	// make the last page's cursor outrun it, and the attribute must stay a positive integer.
	size := max(st.Total, int64(st.Cursor+len(recs)))
	switch {
	case more:
		last := recs[len(recs)-1]
		next := st
		next.AfterDS, next.AfterID = last.Datestamp.UnixMicro(), last.ID
		next.Cursor += len(recs)
		next.Expires = now.Add(p.cfg.TokenLifetime).Unix()
		w.leaf("resumptionToken", encodeToken(p.cfg.Key, next), "expirationDate", time.Unix(next.Expires, 0).UTC().Format(timeLayout),
			"completeListSize", strconv.FormatInt(size, 10), "cursor", strconv.Itoa(st.Cursor))
	case st.Cursor > 0:
		// The last page of a list that took several: an empty token says it is complete.
		w.leaf("resumptionToken", "", "completeListSize", strconv.FormatInt(size, 10), "cursor", strconv.Itoa(st.Cursor))
	}
	w.close(verb)
	return nil
}

func (p *Provider) writeHeader(w *xmlWriter, rec market.OAIRecord) {
	if rec.Deleted {
		w.open("header", "status", "deleted")
	} else {
		w.open("header")
	}
	w.leaf("identifier", p.Identifier(rec.ID))
	w.leaf("datestamp", rec.Datestamp.UTC().Format(timeLayout))
	if p.sets != nil {
		for _, s := range p.sets.specsOf(rec.Stage, rec.Subject) {
			w.leaf("setSpec", s)
		}
	}
	w.close("header")
}

func (p *Provider) writeRecord(w *xmlWriter, req Request, rec market.OAIRecord, prefix string) {
	w.open("record")
	p.writeHeader(w, rec)
	if !rec.Deleted {
		w.open("metadata")
		d := dissemination{p: p, site: strings.TrimSuffix(req.SiteURL, "/")}
		if prefix == PrefixLOM {
			d.writeLOM(w, rec)
		} else {
			d.writeDC(w, rec)
		}
		w.close("metadata")
	}
	w.close("record")
}

// dissemination writes one record's metadata.
type dissemination struct {
	p    *Provider
	site string
}

func (d dissemination) pageURL(id string) string { return d.site + "/resources/" + id }

// mimeTypes lists the distinct media types of a record's files, without parameters.
func mimeTypes(files []market.FileInfo) []string {
	var out []string
	for _, f := range files {
		mt, _, _ := strings.Cut(f.MIME, ";")
		mt = strings.TrimSpace(mt)
		if mt != "" && !slices.Contains(out, mt) {
			out = append(out, mt)
		}
	}
	return out
}

// creator and publisher of a record: the source's for harvested works.
func creator(rec market.OAIRecord) string {
	if rec.Source != nil && rec.Source.Creator != "" {
		return rec.Source.Creator
	}
	return rec.Author
}

func publisher(rec market.OAIRecord) string {
	if rec.Source != nil && rec.Source.Publisher != "" {
		return rec.Source.Publisher
	}
	return rec.Institution
}
