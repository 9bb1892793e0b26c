// Package demo prepares a data directory for `minwon demo`: it seeds the
// deterministic synthetic population on first start, creates a login for
// every citizen and corporate representative, and writes their passwords to
// demo-accounts.csv. On later starts it regenerates the same population from
// the recorded seed.
//
// The accounts file is the only place a password is written in clear, and
// only demo passwords; package demo never logs one.
package demo

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/minwon/minwon/internal/auth"
	"github.com/minwon/minwon/internal/datadir"
	"github.com/minwon/minwon/internal/ident"
	"github.com/minwon/minwon/internal/keyfile"
	"github.com/minwon/minwon/internal/population"
	"github.com/minwon/minwon/internal/store"
)

const metaKey = "population"

// seedMeta is what the store records about the seeded population.
type seedMeta struct {
	People int   `json:"people"`
	Seed   int64 `json:"seed"`
}

// Prepared is a data directory ready to serve.
type Prepared struct {
	World        *population.World
	AccountsPath string
	Fresh        bool // seeded by this call
}

// Prepare seeds db and dir with the population cfg describes, or, if they
// were seeded before, checks cfg matches and regenerates the same world.
// Progress lines go to progress.
func Prepare(ctx context.Context, db *store.DB, dir string, cfg population.Config, progress io.Writer) (*Prepared, error) {
	accountsPath := datadir.Dir(dir).Accounts()
	raw, err := db.Meta(ctx, metaKey)
	switch {
	case err == nil:
		var m seedMeta
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			return nil, fmt.Errorf("demo: recorded population is unreadable: %w", err)
		}
		if m.People != cfg.People || m.Seed != cfg.Seed {
			return nil, fmt.Errorf("demo: %s was seeded with --people %d --seed %d; start with those flags or choose another --data directory", dir, m.People, m.Seed)
		}
		start := time.Now()
		w, err := population.Generate(cfg)
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		fmt.Fprintf(progress, "population: %d people regenerated from seed %d in %s\n", len(w.People), cfg.Seed, time.Since(start).Round(time.Millisecond))
		if _, err := os.Stat(accountsPath); err != nil {
			fmt.Fprintf(progress, "warning: %s is missing; passwords are stored only as hashes and cannot be recovered (start with a new --data directory for a new file)\n", accountsPath)
		}
		if err := indexSubjects(ctx, db, dir, w, progress); err != nil {
			return nil, err
		}
		return &Prepared{World: w, AccountsPath: accountsPath}, nil
	case errors.Is(err, store.ErrNotFound):
	default:
		return nil, err
	}

	w, stats, err := Seed(ctx, db, dir, cfg, progress)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "seeded %d people, %d corporations, %d accounts in %s (generate %s, hash %s, store %s)\n",
		len(w.People), len(w.Corporations), stats.Accounts, stats.Total.Round(time.Millisecond),
		stats.Generate.Round(time.Millisecond), stats.Hash.Round(time.Millisecond), stats.Store.Round(time.Millisecond))
	if err := indexSubjects(ctx, db, dir, w, progress); err != nil {
		return nil, err
	}
	return &Prepared{World: w, AccountsPath: accountsPath, Fresh: true}, nil
}

// indexSubjects indexes w under the data directory's subject-index key.
func indexSubjects(ctx context.Context, db *store.DB, dir string, w *population.World, progress io.Writer) error {
	key, err := keyfile.LoadOrCreateSecret(datadir.Dir(dir).Keys().SubjectIndexKey())
	if err != nil {
		return err
	}
	if err := IndexSubjects(ctx, db, w, ident.NewIndexer(key), progress); err != nil {
		return err
	}
	return WriteResidents(dir, w)
}

// SeedStats times the phases of a seed.
type SeedStats struct {
	Accounts                            int
	Generate, Hash, Write, Store, Total time.Duration
}

// Seed generates the population, creates the accounts, writes the accounts
// file and records the seed, in that order: the store commit comes last, so
// an interrupted seed leaves no record and the next start seeds afresh.
func Seed(ctx context.Context, db *store.DB, dir string, cfg population.Config, progress io.Writer) (*population.World, SeedStats, error) {
	var st SeedStats
	t0 := time.Now()
	w, err := population.GenerateProgress(cfg, func(done, total int) {
		fmt.Fprintf(progress, "population: %d/%d people\n", done, total)
	})
	if err != nil {
		return nil, st, fmt.Errorf("demo: %w", err)
	}
	st.Generate = time.Since(t0)

	t1 := time.Now()
	rows, accounts, err := makeAccounts(ctx, w, progress)
	if err != nil {
		return nil, st, err
	}
	st.Hash = time.Since(t1)
	st.Accounts = len(accounts)

	t2 := time.Now()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, st, fmt.Errorf("demo: %w", err)
	}
	if err := writeAccounts(datadir.Dir(dir).Accounts(), rows); err != nil {
		return nil, st, err
	}
	st.Write = time.Since(t2)

	t3 := time.Now()
	meta, _ := json.Marshal(seedMeta{People: cfg.People, Seed: cfg.Seed})
	if err := db.Seed(ctx, map[string]string{metaKey: string(meta)}, accounts); err != nil {
		return nil, st, fmt.Errorf("demo: %w", err)
	}
	st.Store = time.Since(t3)
	st.Total = time.Since(t0)
	return w, st, nil
}

// accountRow is one line of demo-accounts.csv.
type accountRow struct {
	login, password, subject, name, birthDate, kind string
}

// makeAccounts creates a login for every person and every corporation (the
// representative's account acting for it) and hashes the passwords on every
// core.
func makeAccounts(ctx context.Context, w *population.World, progress io.Writer) ([]accountRow, []auth.Account, error) {
	n := len(w.People) + len(w.Corporations)
	rows := make([]accountRow, 0, n)
	for i := range w.People {
		p := &w.People[i]
		rows = append(rows, accountRow{login: fmt.Sprintf("user%07d", i+1), subject: p.Subject, name: p.Name, birthDate: p.BirthDate.Format("2006-01-02"), kind: "person"})
	}
	for i := range w.Corporations {
		c := &w.Corporations[i]
		rows = append(rows, accountRow{login: fmt.Sprintf("corp%06d", i+1), subject: c.Subject, name: c.Name, kind: "corporate"})
	}
	accounts := make([]auth.Account, n)

	workers := runtime.GOMAXPROCS(0)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		done     int
	)
	step := max(n/10, 1)
	next := make(chan int, workers*4)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				pw, err := auth.GeneratePassword()
				var hash string
				if err == nil {
					hash, err = auth.HashPassword(pw, auth.Generated)
				}
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				done++
				if done%step == 0 && done < n {
					fmt.Fprintf(progress, "accounts: %d/%d passwords hashed\n", done, n)
				}
				mu.Unlock()
				rows[i].password = pw
				accounts[i] = auth.Account{Login: rows[i].login, PasswordHash: hash, Subject: rows[i].subject, Kind: rows[i].kind}
			}
		}()
	}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if firstErr != nil {
		return nil, nil, fmt.Errorf("demo: %w", firstErr)
	}
	return rows, accounts, nil
}

// writeAccounts writes the accounts file readable by its owner only, via a
// temporary file and rename so a crash never leaves half a file.
func writeAccounts(path string, rows []accountRow) error {
	recs := make([][]string, len(rows))
	for i, r := range rows {
		recs[i] = []string{r.login, r.password, r.subject, r.name, r.birthDate, r.kind}
	}
	return writeCSV(path, []string{"login", "password", "subject", "name", "birth_date", "kind"}, recs)
}

// writeCSV writes a CSV file readable by the owner only, fsynced, in
// place of any older one.
func writeCSV(path string, header []string, recs [][]string) error {
	name := filepath.Base(path)
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+name+"-*")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("demo: %w", err)
	}
	cw := csv.NewWriter(tmp)
	cw.Write(header)
	cw.WriteAll(recs)
	if err := cw.Error(); err != nil {
		tmp.Close()
		return fmt.Errorf("demo: write %s: %w", name, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("demo: write %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("demo: write %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("demo: write %s: %w", name, err)
	}
	return nil
}
