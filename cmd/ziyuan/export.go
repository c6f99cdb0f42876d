package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"ziyuan/market"
	"ziyuan/market/contrib"
	"ziyuan/rights"
)

const exportUsage = `usage:
  ziyuan export contributions --from YYYY-MM-DD --to YYYY-MM-DD [--institution ID] [--teacher ID]
                              [--subject S] [--stage S] --format csv|xlsx|json --out FILE
      the teachers' contribution records of the period [from, to) in China time (docs/contributions.md);
      JSON carries the ledger entries behind each count with inclusion proofs against one signed
      checkpoint, which ` + "`ziyuan ledger verify --export FILE`" + ` checks offline`

func cmdExport(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 || args[0] != "contributions" {
		return usageError{exportUsage}
	}
	var q market.ContributionQuery
	var format, out string
	s, err := parseFlags("export contributions", env, args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&q.From, "from", "", "first day of the period, YYYY-MM-DD (China time)")
		fs.StringVar(&q.To, "to", "", "day after the period, YYYY-MM-DD (excluded)")
		fs.StringVar(&q.InstitutionID, "institution", "", "only this institution and those under it")
		fs.StringVar(&q.TeacherID, "teacher", "", "only this teacher")
		fs.StringVar(&q.Subject, "subject", "", "only works of this subject (学科)")
		fs.StringVar(&q.Stage, "stage", "", "only works of this stage (学段)")
		fs.StringVar(&format, "format", "", "csv, xlsx or json")
		fs.StringVar(&out, "out", "", "file to write")
	})
	if err != nil {
		return err
	}
	if q.From == "" || q.To == "" || out == "" || !slices.Contains(market.ContributionFormats, format) {
		return usageError{"export contributions needs --from, --to, --format csv|xlsx|json and --out\n" + exportUsage}
	}
	log := s.logger(env.stderr)
	db, err := openStore(ctx, s, log)
	if err != nil {
		return err
	}
	defer db.Close()
	opts := market.Options{Logger: log}
	if format == market.FormatJSON {
		// Reading only: the ledger is opened for its checkpoint, entries and proofs; its
		// sequencer and publisher belong to the server.
		if opts.Ledger, err = openLedger(ctx, s, db, rights.Config{Logger: log}); err != nil {
			return err
		}
	}
	m := market.New(db, opts)
	// Written beside the target and renamed at the end: a failed export leaves no half file.
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	start := time.Now()
	var bar *progress
	phase := ""
	progressFn := func(p string, done, total int64) {
		if p != phase {
			if bar != nil {
				bar.done()
			}
			phase, bar = p, newProgress(env.stderr, "export "+p, int(total))
		}
		bar.set(int(done), int(total))
	}
	// Buffered: the writers emit small pieces (a cell, an entry, a proof), each a system call
	// on a bare file.
	buf := bufio.NewWriterSize(tmp, 1<<20)
	err = m.ExportContributions(market.AsOperator(ctx, "cli"), q, format, buf, progressFn)
	if bar != nil {
		bar.done()
	}
	if err == nil {
		err = buf.Flush()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return domainError(err)
	}
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return err
	}
	st, _ := os.Stat(out)
	fmt.Fprintf(env.stdout, "contribution records %s to %s written to %s (%s, %d bytes) in %s\n", q.From, q.To, out, format, st.Size(),
		time.Since(start).Round(time.Millisecond))
	if format == market.FormatJSON {
		fmt.Fprintf(env.stdout, "check it offline: ziyuan ledger verify --export %s --key '%s'\n", out, opts.Ledger.VerifierKey())
	}
	return nil
}

// verifyExport checks a contribution export's proofs and records offline.
func verifyExport(env *environment, file, key string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	rep, err := contrib.Verify(f, key)
	if err != nil {
		return fmt.Errorf("export does NOT verify: %w", err)
	}
	fmt.Fprint(env.stdout, rep.String())
	if rep.KeyFromFile {
		fmt.Fprintln(env.stderr, strings.TrimSpace(`warning: no --key given: the export was checked with the key it carries itself, which shows only that the file is consistent.`))
	}
	return nil
}
