package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/minwon/minwon/internal/app"
	"github.com/minwon/minwon/internal/backup"
	"github.com/minwon/minwon/internal/config"
	"github.com/minwon/minwon/internal/datadir"
	"github.com/minwon/minwon/internal/doclog"
	"github.com/minwon/minwon/internal/keyfile"
	"github.com/minwon/minwon/internal/store"
)

// demoLogOrigin names the demo's transparency log in its checkpoints.
const demoLogOrigin = "minwon.demo/log"

// operatorName is who started this process, for the audit record of an
// accepted log rollback.
func operatorName() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "console:" + u.Username
	}
	return "console"
}

// appWitness turns the config's witness into the app's.
func appWitness(w *config.Witness) *app.Witness {
	if w == nil {
		return nil
	}
	return &app.Witness{URL: w.URL, VerifierKey: w.VerifierKey}
}

// demoWitness is the demo's --witness-url and --witness-key, if given.
func demoWitness(w config.Witness) *app.Witness {
	if w.URL == "" {
		return nil
	}
	return appWitness(&w)
}

// sqliteTarget is the SQLite database a backup or restore works on: a
// demo's data directory, or a serve config with SQLite.
type sqliteTarget struct {
	database string // minwon.db
	dir      string // its data directory (the lock, the seen checkpoint)
	seen     string
	log      backup.Log
}

func resolveTarget(cmd, data, configPath string) (sqliteTarget, error) {
	if (data == "") == (configPath == "") {
		return sqliteTarget{}, usageError{fmt.Errorf("%s: give exactly one of --data DIR and --config FILE", cmd)}
	}
	if data != "" {
		dir := datadir.Dir(data)
		lg, err := logOf(demoLogOrigin, dir.Keys().LogKey())
		if err != nil {
			return sqliteTarget{}, err
		}
		return sqliteTarget{database: dir.Database(), dir: data, seen: dir.SeenCheckpoint(), log: lg}, nil
	}
	cfg, err := config.Load(configPath)
	if err != nil {
		return sqliteTarget{}, err
	}
	if cfg.Database.SQLite == "" {
		return sqliteTarget{}, fmt.Errorf("%s: %w", cmd, store.ErrNotSQLite)
	}
	lg, err := logOf(cfg.LogOrigin, cfg.LogKey)
	if err != nil {
		return sqliteTarget{}, err
	}
	return sqliteTarget{database: cfg.Database.SQLite, dir: filepath.Dir(cfg.Database.SQLite), seen: cfg.CheckpointFile, log: lg}, nil
}

// logOf names the log a backup must hold: its origin and the public half
// of the checkpoint key file (only the public key is used).
func logOf(origin, keyPath string) (backup.Log, error) {
	if _, err := os.Stat(keyPath); err != nil {
		return backup.Log{}, fmt.Errorf("the log checkpoint key: %w", err)
	}
	key, err := keyfile.LoadOrCreate(keyPath)
	if err != nil {
		return backup.Log{}, err
	}
	vkey, err := doclog.VerifierKey(origin, key.Public().(ed25519.PublicKey))
	if err != nil {
		return backup.Log{}, err
	}
	return backup.Log{Origin: origin, VerifierKeys: []string{vkey}}, nil
}

func openCopy(ctx context.Context, path string) (backup.Copy, error) {
	return store.OpenSQLite(ctx, path)
}

func runBackup(args []string) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	data := fs.String("data", "", "a demo's data directory")
	cfgPath := fs.String("config", "", "serve's config file (SQLite only; PostgreSQL: docs/OPERATIONS.md)")
	out := fs.String("out", "", "the backup file to write (must not exist)")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if fs.NArg() > 0 || *out == "" {
		return usageError{errors.New("backup: usage: minwon backup --data DIR | --config FILE --out FILE")}
	}
	t, err := resolveTarget("backup", *data, *cfgPath)
	if err != nil {
		return err
	}
	if _, err := os.Stat(t.database); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	ctx := context.Background()
	db, err := store.OpenSQLite(ctx, t.database)
	if err != nil {
		return err
	}
	defer db.Close()
	var estimate int64
	for _, p := range []string{t.database, t.database + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			estimate += fi.Size()
		}
	}
	r, err := backup.Backup(ctx, db, openCopy, t.log, *out, estimate, os.Stderr)
	if err != nil {
		return err
	}
	printResult("backup written", r)
	fmt.Println("The database only: keep the key directory and the PKI directory too, apart from it (docs/OPERATIONS.md).")
	return nil
}

func runRestore(args []string) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	data := fs.String("data", "", "a demo's data directory")
	cfgPath := fs.String("config", "", "serve's config file (SQLite only)")
	from := fs.String("from", "", "the backup file (written by minwon backup)")
	force := fs.Bool("force", false, "restore a backup older than the checkpoint the world already saw (the server then refuses to start until --accept-log-rollback)")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if fs.NArg() > 0 || *from == "" {
		return usageError{errors.New("restore: usage: minwon restore --data DIR | --config FILE --from FILE [--force]")}
	}
	t, err := resolveTarget("restore", *data, *cfgPath)
	if err != nil {
		return err
	}
	r, err := backup.RestoreFrom(context.Background(), openCopy, t.log, *from,
		backup.Restore{Database: t.database, Dir: t.dir, Seen: t.seen, Force: *force}, os.Stderr)
	if err != nil {
		return err
	}
	printResult("restored", r)
	fmt.Println("The replaced database is kept beside it as minwon.db.before-restore-TIME.")
	return nil
}

func printResult(what string, r backup.Result) {
	fmt.Printf("%s: %s\n", what, r.Path)
	fmt.Printf("  size:       %d bytes\n", r.Bytes)
	fmt.Printf("  log size:   %d entries\n", r.LogSize)
	if r.Checkpoint == nil {
		fmt.Println("  checkpoint: none (no server has run on this database yet)")
		return
	}
	fmt.Println("  checkpoint:")
	for line := range strings.Lines(string(r.Checkpoint)) {
		if line == "\n" {
			fmt.Println()
		} else {
			fmt.Print("    ", line)
		}
	}
}
