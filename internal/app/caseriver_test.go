package app_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/agency"
	"github.com/minwon/minwon/internal/app"
	"github.com/minwon/minwon/internal/apptest"
	"github.com/minwon/minwon/internal/casework"
	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/storetest"
)

// On River (PostgreSQL), a worker that dies after the registry applied its
// write and before the outcome is recorded (here its transaction is held
// up past its lease, and River cancels it) leaves the job to River's
// retry: the second run gets the registry's first answer, and the report,
// the store's job row and the River job each complete once.
func TestRiverJobRunTwiceCompletesOnce(t *testing.T) {
	b := storetest.Postgres(t)
	env := apptest.StartOpts(t, 100, 2, apptest.Options{Backend: &b, Casework: app.CaseworkOptions{Lease: 2 * time.Second}})
	pg := env.DB.PostgresDB()
	if pg == nil {
		t.Fatal("no PostgreSQL handle")
	}
	p := &env.World.People[0]
	c := env.Login(t, env.AccountOf(t, p.Subject))
	reg := env.Agencies[linkage.Registry]
	reg.SetFaults(agency.Faults{Error: 1})
	const addr = "광주광역시 북구 누리로 7"
	code, acc, _ := submit(t, c, map[string]any{"service": "move-in-report", "payload": map[string]any{"new_address": addr, "moved_in": day(0)}}, newKey())
	if code != http.StatusAccepted {
		t.Fatalf("submit: %d", code)
	}
	ctx := context.Background()
	// Hold the application's row: the worker can write to the registry
	// but not record the outcome.
	hold, err := pg.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback()
	if _, err := hold.ExecContext(ctx, `SELECT id FROM applications WHERE id = $1 FOR UPDATE`, acc.ID); err != nil {
		t.Fatal(err)
	}
	reg.SetFaults(agency.Faults{})
	job := func() (state string, attempt, errs int) {
		t.Helper()
		err := pg.QueryRowContext(ctx, `SELECT state, attempt, COALESCE(array_length(errors, 1), 0) FROM river_job WHERE args->>'application' = $1`, acc.ID).Scan(&state, &attempt, &errs)
		if err != nil {
			t.Fatal(err)
		}
		return state, attempt, errs
	}
	// Wait for a run that wrote to the registry, then for a later run: the
	// one that wrote died before completing (it could not).
	deadline := time.Now().Add(20 * time.Second)
	wrote := 0
	for {
		_, attempt, _ := job()
		if wrote == 0 && registryPerson(t, env, p.Subject).Address == addr {
			wrote = attempt
		}
		if wrote > 0 && attempt > wrote {
			break
		}
		if time.Now().After(deadline) {
			state, attempt, errs := job()
			t.Fatalf("no run died after the registry write: job %s, attempt %d (wrote at %d), %d errors", state, attempt, wrote, errs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if a, err := env.DB.Application(ctx, acc.ID); err != nil || a.Status != casework.Queued {
		t.Fatalf("completed while its row was held: %v", err)
	}
	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	got := waitStatus(t, c, acc.ID, casework.Completed, casework.Failed)
	if s := statuses(got); !slices.Equal(s, []string{"received", "queued", "completed"}) {
		t.Errorf("history %v", s)
	}
	// River's completion is committed with the outcome.
	if state, attempt, _ := job(); state != "completed" || attempt < 2 {
		t.Errorf("River job %s after %d attempts, want completed after a second run", state, attempt)
	}
	if counts, err := env.DB.JobCounts(ctx); err != nil || counts["done"] != 1 || counts["pending"] != 0 {
		t.Errorf("job rows %v %v", counts, err)
	}
	hist, err := env.App.Links.Fetch(ctx, "resident-registration-abstract", linkage.Registry, "person", p.Subject, []string{"address_history"})
	if err != nil {
		t.Fatal(err)
	}
	ph, _ := hist.Person()
	n := 0
	for _, h := range ph.AddressHistory {
		if h.Address == addr {
			n++
		}
	}
	if n != 1 {
		t.Errorf("moved in %d times: %+v", n, ph.AddressHistory)
	}
}
