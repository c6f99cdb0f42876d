package oai

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"ziyuan/market"
)

// HarvestOptions configure one harvest.
type HarvestOptions struct {
	// BaseURL is the source repository's OAI-PMH endpoint; Set restricts to one of its sets.
	BaseURL string
	Set     string
	// From (YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ) overrides where the harvest starts; empty
	// continues from the last complete harvest of this source and set (everything the first time).
	From string
	// MetadataPrefix is lom or oai_dc; empty takes lom when the source offers it (it says more).
	MetadataPrefix string
	// Target says whom imported items belong to (default: the harvest account of
	// 国家中小学智慧教育公益资源中心).
	Target market.HarvestTarget
	HTTP   *http.Client
	// Sleep replaces the waits between retries (tests).
	Sleep func(ctx context.Context, d time.Duration) error
	// Overlap is how far before the last harvest's start the next one begins (default two
	// minutes): a record committed at the source while that harvest ran may carry a datestamp just
	// before it. Records seen twice are recognised as unchanged.
	Overlap time.Duration
	// Progress is told after each record: done so far, and the source's estimate of the total.
	Progress func(done, total int)
	// Notice receives remarks for the operator (retries, a source without deletions).
	Notice func(string)
	// UserAgent identifies the harvester to the source.
	UserAgent string
}

// Problem is a record that was not imported, with the reason.
type Problem struct {
	Identifier string
	// Kind is "unmappable" (the record cannot become a resource here), "skipped" (nothing was
	// done, see Reason) or "error" (it failed and is tried again next time).
	Kind   string
	Reason string
}

// Summary is what a harvest did.
type Summary struct {
	Repository string
	Prefix     string
	// From is the from argument the list was asked with ("" for everything).
	From string
	// Harvested counts the records received; the others what became of them.
	Harvested, Imported, Updated, Unchanged, Deleted, Skipped, Unmappable, Errors int
	Problems                                                                      []Problem
	// Complete reports that the harvest ran to the end without errors and was remembered as the
	// starting point of the next one.
	Complete bool
}

// Harvest imports the records of a source repository that changed since its last complete
// harvest: new ones wait for review, changed ones get a new version for review, deleted ones
// are taken down here. The Summary is valid also when an error ends the harvest early.
func Harvest(ctx context.Context, m *market.Market, opts HarvestOptions) (Summary, error) {
	var sum Summary
	base := strings.TrimSpace(opts.BaseURL)
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return sum, fmt.Errorf("the source URL %q is not an http(s) URL", opts.BaseURL)
	}
	if opts.Set != "" && !setPattern.MatchString(opts.Set) {
		return sum, fmt.Errorf("the set %q is not a setSpec", opts.Set)
	}
	if opts.Overlap <= 0 {
		opts.Overlap = 2 * time.Minute
	}
	notice := opts.Notice
	if notice == nil {
		notice = func(string) {}
	}
	acc, err := m.PrepareHarvest(ctx, opts.Target)
	if err != nil {
		return sum, err
	}
	if acc.Created {
		notice(fmt.Sprintf("created the harvest account %s in %s", acc.Login, acc.Institution))
	}
	client := &Client{BaseURL: base, HTTP: opts.HTTP, UserAgent: opts.UserAgent, Sleep: opts.Sleep,
		Retrying: func(wait time.Duration, reason string) {
			notice(fmt.Sprintf("%s; retrying in %s", reason, wait.Round(time.Second)))
		}}
	id, err := client.Identify(ctx)
	if err != nil {
		return sum, fmt.Errorf("Identify: %w", err)
	}
	sum.Repository = id.RepositoryName
	if id.DeletedRecord == "no" {
		notice("the source keeps no deleted records: works it withdraws are not noticed here")
	}
	sum.Prefix = opts.MetadataPrefix
	if sum.Prefix == "" {
		formats, err := client.MetadataFormats(ctx)
		if err != nil {
			return sum, fmt.Errorf("ListMetadataFormats: %w", err)
		}
		sum.Prefix = PrefixDC
		for prefix, ns := range formats {
			if ns == NamespaceLOM {
				sum.Prefix = prefix
			}
		}
	} else if opts.MetadataPrefix != PrefixDC && opts.MetadataPrefix != PrefixLOM {
		return sum, fmt.Errorf("metadata prefix %q: Ziyuan reads oai_dc and lom", opts.MetadataPrefix)
	}
	state, err := m.HarvestSource(ctx, base, opts.Set)
	if err != nil {
		return sum, err
	}
	layout := timeLayout
	if id.DayGranularity {
		layout = dayLayout
	}
	switch {
	case opts.From != "":
		t, _, err := parseDate(opts.From)
		if err != nil {
			return sum, fmt.Errorf("--from %q: use YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ", opts.From)
		}
		sum.From = t.Format(layout)
	case !state.LastResponseDate.IsZero():
		sum.From = state.LastResponseDate.Add(-opts.Overlap).UTC().Format(layout)
	}

	mapper := Mapper{Taxonomy: m.Taxonomy()}
	var started time.Time
	done := 0
	problem := func(identifier, kind, reason string) {
		sum.Problems = append(sum.Problems, Problem{Identifier: identifier, Kind: kind, Reason: reason})
	}
	err = client.ListRecords(ctx, sum.Prefix, opts.Set, sum.From, func(p Page) error {
		if started.IsZero() {
			started = p.ResponseDate
		}
		total := max(p.CompleteListSize, done+len(p.Records))
		for _, rec := range p.Records {
			done++
			sum.Harvested++
			if err := importOne(ctx, m, acc, mapper, state.SourceID, base, rec, &sum, problem); err != nil {
				return err
			}
			if opts.Progress != nil {
				opts.Progress(done, total)
			}
		}
		return nil
	})
	if err != nil {
		return sum, err
	}
	if sum.Errors > 0 {
		return sum, nil
	}
	if started.IsZero() {
		started = id.ResponseDate
	}
	if started.IsZero() {
		notice("the source's responseDate is unreadable: the next harvest starts from the beginning again")
		return sum, nil
	}
	if err := m.CompleteHarvest(ctx, state.SourceID, started, id.RepositoryName); err != nil {
		return sum, err
	}
	sum.Complete = true
	return sum, nil
}

// importOne maps and imports one record, counting the outcome. It returns an error only for
// failures that end the harvest (the database is gone, the context is done).
func importOne(ctx context.Context, m *market.Market, acc market.HarvestAccount, mapper Mapper, sourceID, base string,
	rec SourceRecord, sum *Summary, problem func(identifier, kind, reason string)) error {
	if rec.Identifier == "" {
		sum.Unmappable++
		problem("(no identifier)", "unmappable", "the record has no identifier")
		return nil
	}
	hr, err := mapper.Map(rec)
	var um *Unmappable
	if errors.As(err, &um) {
		sum.Unmappable++
		problem(rec.Identifier, "unmappable", um.Reason)
		return nil
	}
	hr.SourceID, hr.BaseURL = sourceID, base
	res, err := m.ImportHarvested(ctx, acc, hr)
	switch code := market.ErrorCode(err); {
	case err == nil:
	case code == market.CodeInvalid:
		sum.Unmappable++
		problem(rec.Identifier, "unmappable", errorText(err))
		return nil
	case code == market.CodeInternal || code == market.CodeUnavailable && ctx.Err() != nil:
		return err
	default:
		sum.Errors++
		problem(rec.Identifier, "error", errorText(err))
		return nil
	}
	switch res.Outcome {
	case market.HarvestImported:
		sum.Imported++
	case market.HarvestUpdated:
		sum.Updated++
	case market.HarvestUnchanged:
		sum.Unchanged++
	case market.HarvestWithdrawn:
		sum.Deleted++
	case market.HarvestSkipped:
		sum.Skipped++
		if !rec.Deleted || res.ResourceID != "" {
			problem(rec.Identifier, "skipped", res.Reason)
		}
	}
	return nil
}

// errorText is a domain error's English message, for the operator's report.
func errorText(err error) string {
	var de *market.Error
	if errors.As(err, &de) {
		return de.Msg.English()
	}
	return err.Error()
}
