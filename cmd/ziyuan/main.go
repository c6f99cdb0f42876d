// Command ziyuan runs the Ziyuan marketplace: the server and its operator commands. It wires
// the packages together and holds no business logic.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `ziyuan — 资源: the resource marketplace and IP-rights ledger of online learning spaces

Usage:
  ziyuan serve                                   run the server (embedded defaults: SQLite, local files)
  ziyuan migrate                                 bring the database schema up to date
  ziyuan admin create --login L --password P [--name N]
                                                 create a platform administrator
  ziyuan seed --demo                             load the demo institutions and accounts (idempotent)
  ziyuan reindex [--in-place] [--margin 5m]      rebuild the search index from the database (Meilisearch:
                                                 a new index swapped in without downtime)
  ziyuan export contributions --from D --to D [--institution ID] --format csv|xlsx|json --out FILE
                                                 export teachers' contribution records
  ziyuan ledger verify --receipt FILE --key KEY  check a ledger receipt offline
  ziyuan ledger verify --url URL [--key KEY]     audit a running server's ledger
  ziyuan ledger verify --export FILE [--key KEY] check a contribution export's proofs offline
  ziyuan ledger fsck                             recompute the ledger tree from the stored entries
  ziyuan harvest --url URL [--set S] [--from D]  import public-welfare resources from an OAI-PMH repository

Every command accepts the settings below as flags, each with an environment fallback:
`

// command is one subcommand: it parses its own flags and runs.
type command struct {
	name string
	run  func(ctx context.Context, env *environment, args []string) error
}

// environment is what commands share: where they write and how they read the environment.
type environment struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := &environment{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	if err := run(ctx, env, os.Args[1:]); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "ziyuan:", err)
		}
		os.Exit(exitCode(err))
	}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func exitCode(err error) int {
	var ue usageError
	if errors.As(err, &ue) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

func run(ctx context.Context, env *environment, args []string) error {
	commands := []command{
		{"serve", cmdServe},
		{"migrate", cmdMigrate},
		{"admin", cmdAdmin},
		{"seed", cmdSeed},
		{"ledger", cmdLedger},
		{"reindex", cmdReindex},
		{"harvest", cmdHarvest},
		{"export", cmdExport},
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(env.stdout, env.getenv)
		if len(args) == 0 {
			return usageError{"no command given"}
		}
		return nil
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, env, args[1:])
		}
	}
	return usageError{fmt.Sprintf("unknown command %q (try: ziyuan help)", args[0])}
}

func printUsage(w io.Writer, getenv func(string) string) {
	fmt.Fprint(w, usage)
	fs := flag.NewFlagSet("ziyuan", flag.ContinueOnError)
	fs.SetOutput(w)
	bindSettings(fs, getenv)
	fs.PrintDefaults()
}
