package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"

	"github.com/minwon/minwon/internal/config"
	"github.com/minwon/minwon/internal/datadir"
	"github.com/minwon/minwon/internal/keyfile"
	"github.com/minwon/minwon/internal/seal"
	"github.com/minwon/minwon/internal/store"
)

// runRotateDataKEK replaces the key-encryption key of the stored documents:
// the data keys are rewrapped under a new data-kek.key; the documents are
// not touched.
func runRotateDataKEK(args []string) error {
	fs := flag.NewFlagSet("rotate-data-kek", flag.ContinueOnError)
	path := fs.String("config", "", "serve's config file (its database and key_dir)")
	data := fs.String("data", "", "a demo's data directory (its SQLite database and keys)")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if fs.NArg() > 0 || (*path == "") == (*data == "") {
		return usageError{errors.New("rotate-data-kek: usage: minwon rotate-data-kek --config FILE | --data DIR")}
	}
	ctx := context.Background()
	var db *store.DB
	var keys datadir.KeyDir
	if *path != "" {
		cfg, err := config.Load(*path)
		if err != nil {
			return err
		}
		if db, err = cfg.OpenStore(ctx, "minwon-rotate-data-kek"); err != nil {
			return err
		}
		keys = datadir.KeyDir(cfg.KeyDir)
	} else {
		dir := datadir.Dir(*data)
		var err error
		if db, err = store.OpenSQLite(ctx, dir.Database()); err != nil {
			return err
		}
		keys = dir.Keys()
	}
	defer db.Close()
	r, err := rotateDataKEK(ctx, db, keys)
	if err != nil {
		return err
	}
	fmt.Printf("rewrapped %d data keys from %s to %s; %s now holds %s.\n", r.rewrapped, r.old, r.next, keys.DataKEK(), r.next)
	fmt.Printf("The old KEK is kept as %s for backups taken before now: delete it when they expire.\n", r.retired)
	fmt.Println("Running nodes keep working; give every node the new key file before it restarts.")
	return nil
}

type kekRotation struct {
	old, next, retired string
	rewrapped          int
}

// rotateDataKEK rewraps db's data keys from the key dir's data-kek.key to
// a new KEK, then puts the new key in data-kek.key and keeps the old one as
// data-kek.key.retired-ID. The new key is first written as
// data-kek.key.next, so a rotation cut short is finished by running it
// again (the data keys already rewrapped are left alone).
func rotateDataKEK(ctx context.Context, db *store.DB, keys datadir.KeyDir) (kekRotation, error) {
	current := keys.DataKEK()
	if _, err := os.Stat(current); err != nil {
		if _, nerr := os.Stat(current + ".next"); nerr == nil && errors.Is(err, fs.ErrNotExist) {
			return kekRotation{}, fmt.Errorf("rotate-data-kek: a rotation stopped between its two renames: move %s.next to %s", current, current)
		}
		return kekRotation{}, fmt.Errorf("rotate-data-kek: the current KEK: %w", err)
	}
	oldSecret, err := keyfile.LoadOrCreateSecret(current)
	if err != nil {
		return kekRotation{}, err
	}
	nextSecret, err := keyfile.LoadOrCreateSecret(current + ".next")
	if err != nil {
		return kekRotation{}, err
	}
	old, err := seal.NewKEK(oldSecret)
	if err != nil {
		return kekRotation{}, err
	}
	next, err := seal.NewKEK(nextSecret)
	if err != nil {
		return kekRotation{}, err
	}
	n, err := seal.Rotate(ctx, db, old, next)
	if err != nil {
		return kekRotation{}, err
	}
	r := kekRotation{old: old.ID(), next: next.ID(), retired: current + ".retired-" + old.ID(), rewrapped: n}
	if err := os.Rename(current, r.retired); err != nil {
		return kekRotation{}, fmt.Errorf("rotate-data-kek: the data keys are rewrapped under %s.next; run again to finish: %w", current, err)
	}
	if err := os.Rename(current+".next", current); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return kekRotation{}, fmt.Errorf("rotate-data-kek: move %s.next to %s by hand: %w", current, current, err)
	}
	return r, nil
}
