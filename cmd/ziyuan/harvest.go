package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"ziyuan/market"
	"ziyuan/market/oai"
	"ziyuan/rights"
)

// cmdHarvest imports public-welfare resources from another OAI-PMH repository (market/oai does
// the work): incremental from the last complete harvest of the URL and set, into review, owned
// by a harvest account of a public-welfare institution.
func cmdHarvest(ctx context.Context, env *environment, args []string) error {
	var opts oai.HarvestOptions
	s, err := parseFlags("harvest", env, args, func(fs *flag.FlagSet) {
		fs.StringVar(&opts.BaseURL, "url", "", "the source's OAI-PMH base URL (required)")
		fs.StringVar(&opts.Set, "set", "", "harvest one set of the source (a setSpec)")
		fs.StringVar(&opts.From, "from", "", "start at this datestamp (YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ) instead of where the last harvest of the URL and set began")
		fs.StringVar(&opts.MetadataPrefix, "metadata-prefix", "", "lom or oai_dc (default: lom when the source offers it)")
		fs.StringVar(&opts.Target.InstitutionCode, "institution", market.DefaultHarvestInstitution, "code of the public-welfare institution the items are attributed to")
		fs.StringVar(&opts.Target.Login, "owner", market.DefaultHarvestLogin, "login of the account owning the items (created in the institution when missing)")
	})
	if err != nil {
		return err
	}
	if opts.BaseURL == "" {
		return usageError{"harvest needs --url (the source's OAI-PMH base URL)"}
	}
	log := s.logger(env.stderr)
	db, err := openStore(ctx, s, log)
	if err != nil {
		return err
	}
	defer db.Close()
	lg, err := openLedger(ctx, s, db, rights.Config{Logger: log})
	if err != nil {
		return err
	}
	// Harvested items have no files, so no blob store; the server's search worker applies
	// catalog changes (withdrawals) from the outbox.
	m := market.New(db, market.Options{Logger: log, Ledger: lg})
	bar := newProgress(env.stderr, "harvest", 0)
	opts.Progress = bar.set
	opts.UserAgent = "ziyuan-harvester/1.0 (OAI-PMH)"
	if s.PublicURL != "" {
		opts.UserAgent = "ziyuan-harvester/1.0 (OAI-PMH; +" + s.PublicURL + ")"
	}
	opts.Notice = func(msg string) { fmt.Fprintln(env.stderr, "harvest:", msg) }
	start := time.Now()
	var sum oai.Summary
	// Withdrawing a published copy points the ledger at its registration, which must have
	// been integrated: the ledger runs beside the harvest, as for `seed`, and the command
	// returns once a checkpoint covers the withdrawals (signed here or by a running server).
	herr := withLedger(ctx, lg, func() error {
		var err error
		sum, err = oai.Harvest(ctx, m, opts)
		bar.done()
		return err
	})
	printSummary(env, opts, sum, time.Since(start))
	if herr != nil {
		return domainError(herr)
	}
	if sum.Errors > 0 {
		return fmt.Errorf("%d records failed; the next harvest tries them again", sum.Errors)
	}
	return nil
}

func printSummary(env *environment, opts oai.HarvestOptions, sum oai.Summary, took time.Duration) {
	w := env.stdout
	what := opts.BaseURL
	if sum.Repository != "" {
		what = sum.Repository + " (" + opts.BaseURL + ")"
	}
	var scope []string
	if opts.Set != "" {
		scope = append(scope, "set "+opts.Set)
	}
	if sum.From != "" {
		scope = append(scope, "from "+sum.From)
	} else {
		scope = append(scope, "everything")
	}
	if sum.Prefix != "" {
		scope = append(scope, sum.Prefix)
	}
	fmt.Fprintf(w, "harvest of %s, %s, in %s:\n", what, strings.Join(scope, ", "), took.Round(time.Millisecond))
	fmt.Fprintf(w, "  harvested %d · imported %d · updated %d · unchanged %d · deleted %d · skipped %d · unmappable %d · errors %d\n",
		sum.Harvested, sum.Imported, sum.Updated, sum.Unchanged, sum.Deleted, sum.Skipped, sum.Unmappable, sum.Errors)
	for _, p := range sum.Problems {
		fmt.Fprintf(w, "  %-10s %s: %s\n", p.Kind, p.Identifier, p.Reason)
	}
	switch {
	case sum.Imported+sum.Updated > 0:
		fmt.Fprintln(w, "imported and updated items wait for review (/reviews).")
	case sum.Complete:
		fmt.Fprintln(w, "nothing new to review.")
	}
}
