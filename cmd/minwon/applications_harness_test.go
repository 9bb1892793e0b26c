package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/datadir"
	"github.com/minwon/minwon/internal/loadtest"
)

// The applications mode of the harness, small: move-in reports and
// childcare applications are submitted while the registry is healthy,
// down and healed, the demo (this test binary as minwon) is killed with
// SIGKILL while the backlog drains and restarted; every submission must
// reach its final state exactly once, the registry's journal must hold one
// write per report, and the movers' 등본 must show their new address.
func TestApplicationsHarnessKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns minwon demo")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "data")
	srv := &loadtest.Spawned{Binary: exe, Dir: dir, Env: []string{runMainEnv}, Args: []string{"--people", "200", "--seed", "5"}}
	if err := srv.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	accts, err := loadtest.ReadAccounts(datadir.Dir(dir).Accounts())
	if err != nil {
		t.Fatal(err)
	}
	op, err := loadtest.DemoOperatorTLS(dir)
	if err != nil {
		t.Fatal(err)
	}
	progress := &timedWriter{}
	t.Cleanup(func() {
		if t.Failed() || testing.Verbose() {
			t.Log(progress.String())
		}
	})
	res, err := loadtest.RunApplications(t.Context(), loadtest.AppOptions{
		Server: srv, DataDir: dir, Accounts: accts, AgencyTLS: op, Clients: 8,
		Phase: 1500 * time.Millisecond, Outage: 1500 * time.Millisecond, CrashAfter: 10,
		DrainTimeout: 90 * time.Second, Sample: 3, Progress: progress,
	})
	if err != nil {
		t.Fatal(err)
	}
	loadtest.PrintApplications(progress, res)
	switch {
	case !res.OK():
		t.Errorf("problems: %v", res.Problems)
	case res.Kills != 1:
		t.Errorf("%d kills, want 1", res.Kills)
	case res.PerPhase["healthy"] == 0 || res.PerPhase["registry_down"] == 0 || res.PerPhase["healed"] == 0:
		t.Errorf("submissions per phase %v: a phase had none", res.PerPhase)
	case res.Statuses["completed"] == 0 || res.JournalWrites != res.Statuses["completed"]:
		t.Errorf("%d completed, %d registry writes", res.Statuses["completed"], res.JournalWrites)
	case res.CopiesChecked != 3:
		t.Errorf("%d 등본 checked, want 3", res.CopiesChecked)
	case res.DrainSeconds <= 0:
		t.Errorf("drain time %.2fs", res.DrainSeconds)
	}
}
