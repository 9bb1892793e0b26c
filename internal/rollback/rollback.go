// Package rollback keeps what the world has seen of the transparency log
// outside the database, and refuses to serve a database that has lost some
// of it: after a restore from an older backup, a lost disk or a fork, the
// log would otherwise go on appending at indexes whose documents were
// already handed out, and give them new, different entries.
//
// The seen checkpoint is a file (DATA/checkpoint.last, or serve's
// checkpoint_file), written atomically after every new checkpoint; a
// witness's cosigned size (package witness) is the second, independent
// source. Package rollback never decides to go on after a rollback: only
// an operator does, by starting with --accept-log-rollback, which the
// caller records as an audit event and an incident.
package rollback

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/minwon/minwon/internal/doclog"
)

// ReadSeen returns the checkpoint kept at path, or nil if there is none yet
// (a new data directory).
func ReadSeen(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("rollback: read the seen checkpoint: %w", err)
	}
	return b, nil
}

// WriteFile replaces path with data atomically and durably: a temporary
// file beside it, fsynced, renamed, the directory fsynced. A crash leaves
// either the old file or the new one.
func WriteFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return SyncDir(dir)
}

// SyncDir fsyncs a directory, so a rename in it is durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Check compares the log with the checkpoint kept at path. It returns nil
// if the log extends it (or there is none), and an error for which
// doclog.IsRollback holds if the log lost entries or forked from it.
func Check(ctx context.Context, log *doclog.Log, path string) error {
	seen, err := ReadSeen(path)
	if err != nil || seen == nil {
		return err
	}
	if err := log.CheckSeen(ctx, seen); err != nil {
		return fmt.Errorf("the checkpoint kept in %s: %w", path, err)
	}
	return nil
}

// Keeper writes the log's newest checkpoint to a file after each new one.
type Keeper struct {
	Path string
	Log  *doclog.Log
	// OnError hears a failed write (the next checkpoint retries).
	OnError func(error)

	wake chan struct{}
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// Start writes the current checkpoint and then follows the log until Close.
func (k *Keeper) Start() error {
	k.wake, k.stop, k.done = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	var last []byte
	write := func() error {
		_, _, cp := k.Log.Checkpoint()
		if cp == nil || bytes.Equal(cp, last) {
			return nil
		}
		if err := WriteFile(k.Path, cp); err != nil {
			return fmt.Errorf("rollback: write %s: %w", k.Path, err)
		}
		last = cp
		return nil
	}
	if err := write(); err != nil {
		return err
	}
	k.Log.OnCheckpoint(func() {
		select {
		case k.wake <- struct{}{}:
		default:
		}
	})
	go func() {
		defer close(k.done)
		for {
			select {
			case <-k.stop:
				// The last checkpoint before a stop is kept too: a server
				// stopped right after an issuance must not leave a file
				// older than what its clients saw.
				if err := write(); err != nil && k.OnError != nil {
					k.OnError(err)
				}
				return
			case <-k.wake:
				if err := write(); err != nil && k.OnError != nil {
					k.OnError(err)
				}
			}
		}
	}()
	return nil
}

// Close stops following the log.
func (k *Keeper) Close() {
	if k.stop == nil {
		return
	}
	k.once.Do(func() { close(k.stop) })
	<-k.done
}

// KeepRolledBack keeps the checkpoint file a rollback was accepted against
// beside it (PATH.rolled-back-TIME), for the incident's record, before the
// keeper replaces it with the log's smaller checkpoint.
func KeepRolledBack(path string, now time.Time) (string, error) {
	seen, err := ReadSeen(path)
	if err != nil || seen == nil {
		return "", err
	}
	dst := path + ".rolled-back-" + now.UTC().Format("20060102T150405.000Z")
	if err := WriteFile(dst, seen); err != nil {
		return "", err
	}
	return dst, nil
}
