package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"ziyuan/market/store"
	"ziyuan/rights"
)

// ledgerKey returns the checkpoint signing key: the setting when given, else the data
// directory's key file, created on first start with 0600 permissions.
func (s *settings) ledgerKey() (*rights.Key, error) {
	if s.LedgerKey != "" {
		return rights.NewKey(s.LedgerKey, s.LedgerOrigin)
	}
	return rights.LoadOrCreateKey(s.Data, s.LedgerOrigin)
}

// openLedger opens the ledger on db, refusing a database rolled back behind the last
// checkpoint this server published (kept in the data directory).
func openLedger(ctx context.Context, s *settings, db *store.DB, cfg rights.Config) (*rights.Log, error) {
	key, err := s.ledgerKey()
	if err != nil {
		return nil, err
	}
	cfg.DB, cfg.Key = db.DB, key
	cfg.CheckpointFile = filepath.Join(s.Data, "ledger-checkpoint")
	return rights.Open(ctx, cfg)
}

const ledgerUsage = `usage:
  ziyuan ledger verify --receipt FILE --key KEY     check a receipt offline
  ziyuan ledger verify --url URL [--key KEY] [--state FILE]
                                                    audit a running server's ledger
  ziyuan ledger verify --export FILE [--key KEY]    check a contribution export offline
  ziyuan ledger fsck                                recompute the tree from the stored entries`

func cmdLedger(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 {
		return usageError{ledgerUsage}
	}
	switch args[0] {
	case "verify":
		return cmdLedgerVerify(ctx, env, args[1:])
	case "fsck":
		return cmdLedgerFsck(ctx, env, args[1:])
	}
	return usageError{ledgerUsage}
}

func cmdLedgerVerify(ctx context.Context, env *environment, args []string) error {
	var receipt, key, url, state, export string
	var sample int
	_, err := parseFlags("ledger verify", env, args, func(fs *flag.FlagSet) {
		fs.StringVar(&receipt, "receipt", "", "receipt file to verify offline")
		fs.StringVar(&export, "export", "", "contribution export (JSON) whose proofs and counts to verify offline")
		fs.StringVar(&key, "key", "", "the log's verifier key, or a file holding it")
		fs.StringVar(&url, "url", "", "base URL of a Ziyuan server to audit (e.g. https://ziyuan.example.edu.cn)")
		fs.StringVar(&state, "state", defaultAuditState(env), "file remembering the last checkpoint verified from --url")
		fs.IntVar(&sample, "sample", 16, "how many random entries to check besides the first and newest")
	})
	if err != nil {
		return err
	}
	given := 0
	for _, v := range []string{receipt, url, export} {
		if v != "" {
			given++
		}
	}
	if given != 1 {
		return usageError{"ledger verify needs exactly one of --receipt, --url and --export\n" + ledgerUsage}
	}
	key, err = readKeyArg(key)
	if err != nil {
		return err
	}
	if export != "" {
		return verifyExport(env, export, key)
	}
	if receipt != "" {
		if key == "" {
			return usageError{"ledger verify --receipt needs --key: a receipt cannot vouch for itself. Get the key from the log's operator or GET /api/v1/ledger/key"}
		}
		data, err := os.ReadFile(receipt)
		if err != nil {
			return err
		}
		rep, err := rights.VerifyReceipt(data, key)
		if err != nil {
			return fmt.Errorf("receipt does NOT verify: %w", err)
		}
		fmt.Fprint(env.stdout, rep.String())
		return nil
	}
	base := strings.TrimSuffix(url, "/")
	if !strings.HasSuffix(base, "/api/v1") {
		base += "/api/v1"
	}
	fetcher := rights.HTTPFetcher{BaseURL: base}
	if key == "" {
		if key, err = pinnedKey(ctx, env, fetcher, state); err != nil {
			return err
		}
	}
	rep, err := rights.Audit(ctx, fetcher, rights.AuditConfig{VerifierKey: key, StateFile: state, Sample: sample})
	if err != nil {
		return fmt.Errorf("ledger audit FAILED: %w", err)
	}
	fmt.Fprintf(env.stdout, "verified: %s, signed tree of %d entries, root %s\n", rep.Origin, rep.Size, rep.Root)
	if rep.PreviousSize >= 0 {
		fmt.Fprintf(env.stdout, "  consistent with the tree of %d entries checked last time\n", rep.PreviousSize)
	} else {
		fmt.Fprintf(env.stdout, "  first audit: remembered in %s for the next consistency check\n", state)
	}
	fmt.Fprintf(env.stdout, "  %d entries checked (bytes and inclusion proofs): %v\n", len(rep.Audited), rep.Audited)
	return nil
}

// readKeyArg accepts a verifier key or the name of a file holding one.
func readKeyArg(k string) (string, error) {
	k = strings.TrimSpace(k)
	if k == "" {
		return "", nil
	}
	if _, err := note.NewVerifier(k); err == nil {
		return k, nil
	}
	b, err := os.ReadFile(k)
	if err != nil {
		return "", fmt.Errorf("--key is neither a verifier key (name+hash+key) nor a readable file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

func defaultAuditState(env *environment) string {
	dir := env.getenv("XDG_STATE_HOME")
	if dir == "" {
		if home := env.getenv("HOME"); home != "" {
			dir = filepath.Join(home, ".local", "state")
		}
	}
	return filepath.Join(dir, "ziyuan", "ledger-audit")
}

// pinnedKey returns the key remembered beside the audit state, or fetches the server's key
// and remembers it (trust on first use), saying so.
func pinnedKey(ctx context.Context, env *environment, f rights.HTTPFetcher, state string) (string, error) {
	file := state + ".key"
	if b, err := os.ReadFile(file); err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	key, err := f.Key(ctx)
	if err != nil {
		return "", fmt.Errorf("fetch the verifier key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return "", err
	}
	if err := os.WriteFile(file, []byte(key+"\n"), 0o600); err != nil {
		return "", err
	}
	fmt.Fprintf(env.stderr, "warning: no --key given; trusting the server's key %s on first use (pinned in %s). Compare it with one from the log's operator.\n", key, file)
	return key, nil
}

func cmdLedgerFsck(ctx context.Context, env *environment, args []string) error {
	s, err := parseFlags("ledger fsck", env, args, nil)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, store.Config{DataDir: s.Data, URL: s.DatabaseURL})
	if err != nil {
		return err
	}
	defer db.Close()
	rep, err := rights.Fsck(ctx, db.DB)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.stdout, rep.String())
	if !rep.OK() {
		return errors.New("the stored ledger differs from its own entries; restore a backup that fsck passes")
	}
	return nil
}
