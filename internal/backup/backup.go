// Package backup owns backing up and restoring a SQLite data directory's
// database while minwon runs: a consistent copy written beside its
// destination, checked (SQLite's integrity check, and the transparency
// log's head against its signed checkpoint) and only then renamed into
// place; and a restore that refuses a running server's directory and a
// backup older than a checkpoint the world already saw (package rollback).
//
// It copies the database only. Keys and the simulated PKI are files
// (DATA/keys, DATA/pki): docs/OPERATIONS.md says what else to back up;
// package backup never copies a private key.
package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/minwon/minwon/internal/doclog"
	"github.com/minwon/minwon/internal/rollback"
)

// Source is a live database that can copy itself consistently.
type Source interface {
	BackupTo(ctx context.Context, path string) error
}

// Copy is an opened backup file, to be checked.
type Copy interface {
	doclog.Store
	IntegrityCheck(ctx context.Context) error
	Close() error
}

// Opener opens a database file (the backup being checked).
type Opener func(ctx context.Context, path string) (Copy, error)

// Log names the log the copy must hold: its origin and the note verifier
// keys its checkpoints are signed with.
type Log struct {
	Origin       string
	VerifierKeys []string
}

// Result is what a backup or a restore checked.
type Result struct {
	Path       string
	Bytes      int64
	LogSize    int64
	Checkpoint []byte // the newest signed checkpoint in the copy
}

// ErrExists refuses to overwrite an existing backup file.
var ErrExists = errors.New("backup: the output file exists; choose another name")

// Backup copies src to out: into a temporary file beside out, checked,
// fsynced, then renamed. progress, if not nil, hears how far the copy is
// every second (estimate is the expected size, e.g. the database and its
// WAL; 0 if unknown).
func Backup(ctx context.Context, src Source, open Opener, log Log, out string, estimate int64, progress io.Writer) (Result, error) {
	if _, err := os.Lstat(out); err == nil {
		return Result{}, ErrExists
	}
	dir := filepath.Dir(out)
	tmp := filepath.Join(dir, "."+filepath.Base(out)+fmt.Sprintf(".tmp-%d", os.Getpid()))
	os.Remove(tmp)
	defer os.Remove(tmp)

	stopWatch := watch(tmp, estimate, progress)
	err := src.BackupTo(ctx, tmp)
	stopWatch()
	if err != nil {
		return Result{}, err
	}
	if progress != nil {
		fmt.Fprintln(progress, "checking the copy: integrity check, log head against its checkpoint")
	}
	r, err := Check(ctx, open, log, tmp)
	if err != nil {
		return Result{}, err
	}
	if err := syncFile(tmp); err != nil {
		return Result{}, err
	}
	if err := os.Rename(tmp, out); err != nil {
		return Result{}, fmt.Errorf("backup: %w", err)
	}
	if err := rollback.SyncDir(dir); err != nil {
		return Result{}, fmt.Errorf("backup: %w", err)
	}
	r.Path = out
	return r, nil
}

// Check opens the database file at path and checks it: SQLite's integrity
// check, then its log (doclog.VerifyHead).
func Check(ctx context.Context, open Opener, log Log, path string) (Result, error) {
	c, err := open(ctx, path)
	if err != nil {
		return Result{}, fmt.Errorf("backup: open the copy: %w", err)
	}
	defer c.Close()
	if err := c.IntegrityCheck(ctx); err != nil {
		return Result{}, err
	}
	cp, signed, err := doclog.VerifyHead(ctx, c, log.Origin, log.VerifierKeys...)
	if errors.Is(err, doclog.ErrNoCheckpoint) {
		// A database no server has run on yet (seeded only): no log.
		cp, signed, err = doclog.Checkpoint{}, nil, nil
	}
	if err != nil {
		return Result{}, fmt.Errorf("backup: the copy's log: %w", err)
	}
	if err := c.Close(); err != nil {
		return Result{}, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return Result{}, err
	}
	return Result{Path: path, Bytes: fi.Size(), LogSize: cp.Size, Checkpoint: signed}, nil
}

// watch prints the size of path every second until the returned func is
// called.
func watch(path string, estimate int64, w io.Writer) func() {
	if w == nil {
		return func() {}
	}
	stop, done := make(chan struct{}), make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				fi, err := os.Stat(path)
				if err != nil {
					continue
				}
				if estimate > 0 {
					fmt.Fprintf(w, "copying: %d of about %d MiB (%d%%), %s\n", fi.Size()>>20, estimate>>20, min(100, 100*fi.Size()/estimate), time.Since(start).Round(time.Second))
				} else {
					fmt.Fprintf(w, "copying: %d MiB, %s\n", fi.Size()>>20, time.Since(start).Round(time.Second))
				}
			}
		}
	}()
	return func() { close(stop); <-done }
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ErrRunning refuses to restore into a data directory a server is using.
var ErrRunning = errors.New("backup: a minwon server is running on this data directory (it holds its lock); stop it first")

// LockFile is the file a server holds locked (flock) while it uses a data
// directory.
const LockFile = "minwon.lock"

// Lock takes dir's lock without waiting; it returns ErrRunning if another
// process holds it. The lock ends with the returned func or the process.
func Lock(dir string) (func(), error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, LockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrRunning
		}
		return nil, fmt.Errorf("backup: lock %s: %w", dir, err)
	}
	return func() { f.Close() }, nil
}

// Restore options.
type Restore struct {
	Database string // the data directory's database file (minwon.db)
	Dir      string // the data directory, for its lock
	Seen     string // the seen checkpoint file (rollback); "" for none
	// Force restores a backup older than the seen checkpoint: the server
	// will still refuse to start until an operator accepts the rollback.
	Force bool
	Now   func() time.Time
}

// RestoreFrom replaces the data directory's database with the backup at
// from, after checking it. The database it replaces (with its -wal and
// -shm) is kept beside it as minwon.db.before-restore-TIME.
func RestoreFrom(ctx context.Context, open Opener, log Log, from string, opt Restore, progress io.Writer) (Result, error) {
	unlock, err := Lock(opt.Dir)
	if err != nil {
		return Result{}, err
	}
	defer unlock()
	if opt.Now == nil {
		opt.Now = time.Now
	}
	tmp := opt.Database + ".restore-tmp"
	os.Remove(tmp)
	defer os.Remove(tmp)
	var size int64
	if fi, err := os.Stat(from); err == nil {
		size = fi.Size()
	}
	if progress != nil {
		fmt.Fprintf(progress, "copying %s (%d MiB)\n", from, size>>20)
	}
	stopWatch := watch(tmp, size, progress)
	err = copyFile(from, tmp)
	stopWatch()
	if err != nil {
		return Result{}, err
	}
	if progress != nil {
		fmt.Fprintln(progress, "checking the backup: integrity check, log head against its checkpoint")
	}
	r, err := Check(ctx, open, log, tmp)
	if err != nil {
		return Result{}, err
	}
	if opt.Seen != "" {
		if err := againstSeen(ctx, open, log, tmp, r, opt.Seen); err != nil {
			if !opt.Force {
				return Result{}, fmt.Errorf("%w\nrefusing to restore; --force restores it anyway, and the server will then refuse to start until an operator accepts the rollback (--accept-log-rollback)", err)
			}
			if progress != nil {
				fmt.Fprintf(progress, "warning: %v\nrestoring anyway (--force); the server will refuse to start until an operator accepts the rollback\n", err)
			}
		}
	}
	if err := syncFile(tmp); err != nil {
		return Result{}, err
	}
	stamp := opt.Now().UTC().Format("20060102T150405Z")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		err := os.Rename(opt.Database+suffix, opt.Database+".before-restore-"+stamp+suffix)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return Result{}, fmt.Errorf("backup: keep the current database: %w", err)
		}
	}
	if err := os.Rename(tmp, opt.Database); err != nil {
		return Result{}, fmt.Errorf("backup: %w", err)
	}
	if err := rollback.SyncDir(filepath.Dir(opt.Database)); err != nil {
		return Result{}, err
	}
	r.Path = opt.Database
	return r, nil
}

// againstSeen checks that the backup at path (checked as r) holds the tree
// of the seen checkpoint: as many entries at least, and the same root at
// its size.
func againstSeen(ctx context.Context, open Opener, log Log, path string, r Result, seenPath string) error {
	seen, err := rollback.ReadSeen(seenPath)
	if err != nil || seen == nil {
		return err
	}
	cp, err := doclog.OpenCheckpoint(seen, log.VerifierKeys...)
	if err != nil {
		return fmt.Errorf("backup: the checkpoint kept in %s: %w", seenPath, err)
	}
	if cp.Size > r.LogSize {
		return fmt.Errorf("the backup is older than the checkpoint kept in %s: %w", seenPath, &doclog.RollbackError{Have: r.LogSize, Seen: cp.Size})
	}
	c, err := open(ctx, path)
	if err != nil {
		return err
	}
	defer c.Close()
	root, err := doclog.TreeAt(ctx, c, cp.Size)
	if err != nil {
		return err
	}
	if root != cp.Root {
		return fmt.Errorf("the backup disagrees with the checkpoint kept in %s: %w", seenPath, &doclog.ForkError{Have: r.LogSize, Seen: cp.Size, Reason: "another root at that size"})
	}
	return nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("backup: %w", err)
	}
	return out.Close()
}
