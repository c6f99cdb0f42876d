package oai

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/encoding/htmlindex"
)

// Client asks an OAI-PMH repository, one request at a time and politely: it identifies itself,
// waits as long as a 503's Retry-After asks (OAI-PMH's flow control), backs off exponentially
// after network failures and 5xx answers, and gives up after MaxAttempts.
type Client struct {
	BaseURL   string
	HTTP      *http.Client
	UserAgent string
	// MaxAttempts bounds the tries of one request (default 6).
	MaxAttempts int
	// Sleep waits between tries; nil waits for real, honouring ctx. Tests make it instant.
	Sleep func(ctx context.Context, d time.Duration) error
	// Retrying, when set, is told before each wait, for the operator.
	Retrying func(wait time.Duration, reason string)
}

// Limits of a polite client.
const (
	maxRetryAfter = 10 * time.Minute
	maxBackoff    = time.Minute
	maxResponse   = 64 << 20
)

// ProtocolError is an OAI-PMH error the repository answered with.
type ProtocolError struct {
	Code, Message string
}

func (e *ProtocolError) Error() string { return "OAI-PMH " + e.Code + ": " + e.Message }

// envelope is an OAI-PMH response as the harvester reads it.
type envelope struct {
	XMLName      xml.Name `xml:"http://www.openarchives.org/OAI/2.0/ OAI-PMH"`
	ResponseDate string   `xml:"responseDate"`
	Errors       []struct {
		Code    string `xml:"code,attr"`
		Message string `xml:",chardata"`
	} `xml:"error"`
	Identify *struct {
		RepositoryName    string `xml:"repositoryName"`
		BaseURL           string `xml:"baseURL"`
		EarliestDatestamp string `xml:"earliestDatestamp"`
		DeletedRecord     string `xml:"deletedRecord"`
		Granularity       string `xml:"granularity"`
	} `xml:"Identify"`
	ListMetadataFormats *struct {
		Formats []struct {
			Prefix    string `xml:"metadataPrefix"`
			Namespace string `xml:"metadataNamespace"`
		} `xml:"metadataFormat"`
	} `xml:"ListMetadataFormats"`
	ListRecords *struct {
		Records []recordXML `xml:"record"`
		Token   *tokenXML   `xml:"resumptionToken"`
	} `xml:"ListRecords"`
}

type tokenXML struct {
	Value            string `xml:",chardata"`
	CompleteListSize string `xml:"completeListSize,attr"`
	Cursor           string `xml:"cursor,attr"`
}

// Identity is what Identify says about a repository.
type Identity struct {
	RepositoryName string
	BaseURL        string
	DeletedRecord  string
	// DayGranularity is set for repositories that only take YYYY-MM-DD.
	DayGranularity bool
	ResponseDate   time.Time
}

// Identify asks the repository who it is.
func (c *Client) Identify(ctx context.Context) (Identity, error) {
	env, err := c.call(ctx, url.Values{"verb": {"Identify"}})
	if err != nil {
		return Identity{}, err
	}
	if env.Identify == nil {
		return Identity{}, errors.New("the Identify answer has no Identify element")
	}
	id := Identity{RepositoryName: strings.TrimSpace(env.Identify.RepositoryName), BaseURL: strings.TrimSpace(env.Identify.BaseURL),
		DeletedRecord: strings.TrimSpace(env.Identify.DeletedRecord), DayGranularity: strings.TrimSpace(env.Identify.Granularity) == "YYYY-MM-DD"}
	id.ResponseDate, _ = time.Parse(time.RFC3339, strings.TrimSpace(env.ResponseDate))
	return id, nil
}

// MetadataFormats lists the repository's formats: prefix → namespace.
func (c *Client) MetadataFormats(ctx context.Context) (map[string]string, error) {
	env, err := c.call(ctx, url.Values{"verb": {"ListMetadataFormats"}})
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	if env.ListMetadataFormats != nil {
		for _, f := range env.ListMetadataFormats.Formats {
			out[strings.TrimSpace(f.Prefix)] = strings.TrimSpace(f.Namespace)
		}
	}
	return out, nil
}

// Page is one answer of a record list.
type Page struct {
	ResponseDate time.Time
	Records      []SourceRecord
	// CompleteListSize is the repository's estimate (0 when it gives none).
	CompleteListSize int
}

// ListRecords walks a record list to its end, following resumption tokens, and hands each page
// to fn. noRecordsMatch is an empty list, not an error: fn gets one empty page.
func (c *Client) ListRecords(ctx context.Context, prefix, set, from string, fn func(Page) error) error {
	args := url.Values{"verb": {"ListRecords"}, "metadataPrefix": {prefix}}
	if set != "" {
		args.Set("set", set)
	}
	if from != "" {
		args.Set("from", from)
	}
	for pages := 0; ; pages++ {
		env, err := c.call(ctx, args)
		var pe *ProtocolError
		if errors.As(err, &pe) && pe.Code == ErrNoRecordsMatch && pages == 0 {
			rd, _ := time.Parse(time.RFC3339, strings.TrimSpace(env.ResponseDate))
			return fn(Page{ResponseDate: rd})
		}
		if err != nil {
			return err
		}
		if env.ListRecords == nil {
			return errors.New("the ListRecords answer has no ListRecords element")
		}
		page := Page{}
		page.ResponseDate, _ = time.Parse(time.RFC3339, strings.TrimSpace(env.ResponseDate))
		tok := env.ListRecords.Token
		if tok != nil {
			page.CompleteListSize, _ = strconv.Atoi(strings.TrimSpace(tok.CompleteListSize))
		}
		for _, r := range env.ListRecords.Records {
			page.Records = append(page.Records, r.source(prefix))
		}
		if err := fn(page); err != nil {
			return err
		}
		if tok == nil || strings.TrimSpace(tok.Value) == "" {
			return nil
		}
		if pages > 1_000_000 {
			return errors.New("the repository's list does not end")
		}
		args = url.Values{"verb": {"ListRecords"}, "resumptionToken": {strings.TrimSpace(tok.Value)}}
	}
}

// call sends one request, retrying as the type's comment says, and parses the answer. An OAI-PMH
// error answer is returned as *ProtocolError together with the envelope.
func (c *Client) call(ctx context.Context, args url.Values) (*envelope, error) {
	attempts := c.MaxAttempts
	if attempts <= 0 {
		attempts = 6
	}
	backoff := time.Second
	for attempt := 1; ; attempt++ {
		body, wait, err := c.fetch(ctx, args)
		if err == nil {
			return parseEnvelope(body)
		}
		if wait < 0 || attempt >= attempts || ctx.Err() != nil {
			return nil, err
		}
		if wait == 0 {
			wait = backoff
			backoff = min(2*backoff, maxBackoff)
		}
		if c.Retrying != nil {
			c.Retrying(wait, err.Error())
		}
		if err := c.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// fetch does one HTTP exchange. wait says what to do on failure: -1 give up, 0 back off, more
// than 0 wait that long (Retry-After).
func (c *Client) fetch(ctx context.Context, args url.Values) ([]byte, time.Duration, error) {
	u := c.BaseURL
	if strings.Contains(u, "?") {
		u += "&"
	} else {
		u += "?"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u+args.Encode(), nil)
	if err != nil {
		return nil, -1, err
	}
	ua := c.UserAgent
	if ua == "" {
		ua = "ziyuan-harvester/1.0"
	}
	req.Header.Set("User-Agent", ua)
	req.Header.Set("Accept", "text/xml, application/xml")
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 2 * time.Minute}
	}
	res, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, -1, ctx.Err()
		}
		return nil, 0, err
	}
	defer res.Body.Close()
	switch {
	case res.StatusCode == http.StatusServiceUnavailable || res.StatusCode == http.StatusTooManyRequests:
		io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
		return nil, retryAfter(res.Header.Get("Retry-After"), time.Now()), fmt.Errorf("%s answered %s", c.BaseURL, res.Status)
	case res.StatusCode >= 500:
		io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
		return nil, 0, fmt.Errorf("%s answered %s", c.BaseURL, res.Status)
	case res.StatusCode != http.StatusOK:
		return nil, -1, fmt.Errorf("%s answered %s", c.BaseURL, res.Status)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxResponse+1))
	if err != nil {
		return nil, 0, err
	}
	if len(body) > maxResponse {
		return nil, -1, fmt.Errorf("%s sent an answer over %d MiB", c.BaseURL, maxResponse>>20)
	}
	return body, 0, nil
}

// retryAfter reads a Retry-After header (seconds or an HTTP date), at least a second and at
// most maxRetryAfter; 0 when absent or unreadable (back off instead).
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.Atoi(h); err == nil {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	} else {
		return 0
	}
	return min(max(d, time.Second), maxRetryAfter)
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func parseEnvelope(body []byte) (*envelope, error) {
	var env envelope
	dec := xml.NewDecoder(bytes.NewReader(body))
	// Chinese repositories may answer in GBK or GB18030 rather than UTF-8.
	dec.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		e, err := htmlindex.Get(label)
		if err != nil {
			return nil, fmt.Errorf("unknown encoding %q", label)
		}
		return e.NewDecoder().Reader(r), nil
	}
	if err := dec.Decode(&env); err != nil {
		return nil, fmt.Errorf("the answer is not an OAI-PMH document: %w", err)
	}
	if len(env.Errors) > 0 {
		e := env.Errors[0]
		return &env, &ProtocolError{Code: strings.TrimSpace(e.Code), Message: strings.TrimSpace(e.Message)}
	}
	return &env, nil
}
