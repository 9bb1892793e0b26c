// Package pgpair runs two PostgreSQL clusters on this machine, a primary
// and a synchronous streaming standby, each in a directory of its own and
// on a port of its own: the two sites of the alternate-site drill. It sets
// them up (initdb, pg_basebackup -R), loses the primary the way a burnt-down
// site is lost (pg_ctl stop -m immediate: no shutdown checkpoint, no last
// WAL sent), promotes the standby, and at Close stops both and removes
// their directories.
//
// It only ever starts, stops and connects to the clusters it created: never
// the machine's own cluster, never another port.
package pgpair

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNoBinaries: the PostgreSQL server programs are not on this machine.
var ErrNoBinaries = errors.New("pgpair: PostgreSQL server programs (initdb, pg_ctl, pg_basebackup) not found: set MINWON_PG_BIN to their directory")

// StandbyName is the standby's application_name, which the primary's
// synchronous_standby_names waits for.
const StandbyName = "site_b"

// Options configure a pair.
type Options struct {
	// Parent is the directory the pair's own directory is made in
	// (default os.TempDir()). When running as root the clusters run as the
	// postgres user, which must be able to reach it.
	Parent string
	// BinDir holds initdb, pg_ctl and pg_basebackup (default FindBin()).
	BinDir      string
	PrimaryPort int // 0: any free port
	StandbyPort int // 0: any free port
	// SynchronousCommit is the primary's synchronous_commit: "on"
	// (default: a COMMIT returns once the standby has the WAL on disk) or
	// "remote_apply" (once the standby has also replayed it).
	SynchronousCommit string
	// Asynchronous makes the standby asynchronous: COMMIT on the primary
	// does not wait for it. Unsafe for minwon (a fail-over can lose what
	// clients hold); only to show that the drill catches that loss.
	Asynchronous bool
	Log          io.Writer // what the pair does, one line a step; nil: nothing
}

// Pair is a running primary and standby.
type Pair struct {
	opt   Options
	dir   string
	runAs string // "postgres" when this process is root (initdb refuses root)
}

// FindBin returns the directory of the PostgreSQL server programs:
// $MINWON_PG_BIN, else the newest /usr/lib/postgresql/N/bin, else the
// directory of initdb on PATH. ErrNoBinaries if none has all three.
func FindBin() (string, error) {
	var dirs []string
	if d := os.Getenv("MINWON_PG_BIN"); d != "" {
		dirs = append(dirs, d)
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(found, func(i, j int) bool { return version(found[i]) > version(found[j]) })
	dirs = append(dirs, found...)
	if p, err := exec.LookPath("initdb"); err == nil {
		dirs = append(dirs, filepath.Dir(p))
	}
	for _, d := range dirs {
		ok := true
		for _, prog := range []string{"initdb", "pg_ctl", "pg_basebackup"} {
			if fi, err := os.Stat(filepath.Join(d, prog)); err != nil || fi.IsDir() {
				ok = false
			}
		}
		if ok {
			return d, nil
		}
	}
	return "", ErrNoBinaries
}

// version is N of /usr/lib/postgresql/N/bin.
func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// Start creates both clusters and starts them, and returns once the
// standby streams synchronously. On failure it removes what it made.
func Start(ctx context.Context, opt Options) (p *Pair, err error) {
	if opt.BinDir == "" {
		if opt.BinDir, err = FindBin(); err != nil {
			return nil, err
		}
	}
	if opt.PrimaryPort == 0 || opt.StandbyPort == 0 {
		ports, err := FreePorts(2)
		if err != nil {
			return nil, err
		}
		opt.PrimaryPort, opt.StandbyPort = cmp.Or(opt.PrimaryPort, ports[0]), cmp.Or(opt.StandbyPort, ports[1])
	}
	switch opt.SynchronousCommit {
	case "":
		opt.SynchronousCommit = "on"
	case "on", "remote_apply":
	default:
		return nil, fmt.Errorf("pgpair: synchronous_commit %q: on or remote_apply (anything weaker can lose a commit a client was told about)", opt.SynchronousCommit)
	}
	if opt.Log == nil {
		opt.Log = io.Discard
	}
	dir, err := os.MkdirTemp(opt.Parent, "minwon-sites-")
	if err != nil {
		return nil, err
	}
	p = &Pair{opt: opt, dir: dir}
	defer func() {
		if err != nil {
			p.Close()
			p = nil
		}
	}()
	if os.Geteuid() == 0 {
		if err := p.giveToPostgres(); err != nil {
			return nil, err
		}
	}
	if err := p.initPrimary(ctx); err != nil {
		return nil, err
	}
	if err := p.initStandby(ctx); err != nil {
		return nil, err
	}
	return p, p.waitSynchronous(ctx)
}

// giveToPostgres hands the pair's directory to the postgres user, as
// which the clusters then run.
func (p *Pair) giveToPostgres() error {
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("pgpair: running as root, and initdb refuses root: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(p.dir, uid, gid); err != nil {
		return err
	}
	p.runAs = "postgres"
	return nil
}

// FreePorts returns n distinct loopback ports nothing listens on right
// now (all held open at once, so the kernel cannot hand out one twice).
func FreePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Dir is the pair's directory: primary/, standby/ and their logs.
func (p *Pair) Dir() string { return p.dir }

func (p *Pair) primaryDir() string { return filepath.Join(p.dir, "primary") }
func (p *Pair) standbyDir() string { return filepath.Join(p.dir, "standby") }

// DSN is a connection string for database db on the primary (site A) or
// the standby (site B).
func (p *Pair) DSN(standby bool, db string) string {
	port := p.opt.PrimaryPort
	if standby {
		port = p.opt.StandbyPort
	}
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", port, db)
}

// run runs a PostgreSQL program, as the postgres user when root.
func (p *Pair) run(ctx context.Context, prog string, args ...string) error {
	path := filepath.Join(p.opt.BinDir, prog)
	var cmd *exec.Cmd
	if p.runAs != "" {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", p.runAs, "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// The server pg_ctl starts must not die with a Ctrl-C meant for us:
	// Close stops it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pgpair: %s %s: %w: %s", prog, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}

// appendConf appends settings to a cluster's postgresql.auto.conf (later
// lines win), as the cluster's owner.
func (p *Pair) appendConf(dataDir string, settings [][2]string) error {
	var b strings.Builder
	for _, s := range settings {
		fmt.Fprintf(&b, "%s = '%s'\n", s[0], strings.ReplaceAll(s[1], "'", "''"))
	}
	f, err := os.OpenFile(filepath.Join(dataDir, "postgresql.auto.conf"), os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(b.String()); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (p *Pair) pgctl(ctx context.Context, dataDir string, args ...string) error {
	return p.run(ctx, "pg_ctl", append([]string{"-D", dataDir, "-w", "-t", "60"}, args...)...)
}

func (p *Pair) initPrimary(ctx context.Context) error {
	fmt.Fprintf(p.opt.Log, "site A: initdb %s, port %d\n", p.primaryDir(), p.opt.PrimaryPort)
	// trust on loopback: the drill's clusters listen on 127.0.0.1 only and
	// live for one drill; initdb's pg_hba also allows replication there.
	if err := p.run(ctx, "initdb", "-D", p.primaryDir(), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"); err != nil {
		return err
	}
	if err := p.appendConf(p.primaryDir(), [][2]string{
		{"listen_addresses", "127.0.0.1"},
		{"port", strconv.Itoa(p.opt.PrimaryPort)},
		{"unix_socket_directories", p.dir},
		{"wal_level", "replica"},
		{"max_wal_senders", "4"},
		// A COMMIT returns only once site B holds it: an issuance number
		// is handed out after its COMMIT, so no number a client holds
		// can be missing on B after a fail-over.
		{"synchronous_standby_names", p.synchronousNames()},
		{"synchronous_commit", p.opt.SynchronousCommit},
	}); err != nil {
		return err
	}
	return p.pgctl(ctx, p.primaryDir(), "-l", filepath.Join(p.dir, "primary.log"), "start")
}

func (p *Pair) synchronousNames() string {
	if p.opt.Asynchronous {
		return ""
	}
	return "FIRST 1 (" + StandbyName + ")"
}

func (p *Pair) initStandby(ctx context.Context) error {
	conninfo := fmt.Sprintf("host=127.0.0.1 port=%d user=postgres application_name=%s", p.opt.PrimaryPort, StandbyName)
	fmt.Fprintf(p.opt.Log, "site B: pg_basebackup -R from site A into %s, port %d\n", p.standbyDir(), p.opt.StandbyPort)
	if err := p.run(ctx, "pg_basebackup", "-D", p.standbyDir(), "-d", conninfo, "-R", "-X", "stream", "-c", "fast"); err != nil {
		return err
	}
	if err := p.appendConf(p.standbyDir(), [][2]string{
		{"port", strconv.Itoa(p.opt.StandbyPort)},
		{"primary_conninfo", conninfo},
		{"hot_standby", "on"},
		// Once promoted, site B has no synchronous partner of its own until
		// a new standby is built: it must not wait for one.
		{"synchronous_standby_names", ""},
	}); err != nil {
		return err
	}
	return p.pgctl(ctx, p.standbyDir(), "-l", filepath.Join(p.dir, "standby.log"), "start")
}

// query runs one query returning one value on the primary or the standby.
func (p *Pair) query(ctx context.Context, standby bool, q string, into any) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, p.DSN(standby, "postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return conn.QueryRow(ctx, q).Scan(into)
}

// poll calls ok every 50 ms until it says true or the timeout passes.
func poll(ctx context.Context, timeout time.Duration, what string, ok func() bool) error {
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			return fmt.Errorf("pgpair: no %s within %s", what, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

// SyncState is the standby's sync_state as the primary sees it ("sync"
// when commits wait for it), or "" when it is not connected.
func (p *Pair) SyncState(ctx context.Context) string {
	var s string
	if p.query(ctx, false, "SELECT coalesce(max(sync_state), '') FROM pg_stat_replication WHERE application_name = '"+StandbyName+"'", &s) != nil {
		return ""
	}
	return s
}

func (p *Pair) waitSynchronous(ctx context.Context) error {
	want := "sync"
	if p.opt.Asynchronous {
		want = "async"
	}
	err := poll(ctx, 60*time.Second, want+" standby", func() bool { return p.SyncState(ctx) == want })
	if err == nil {
		fmt.Fprintf(p.opt.Log, "site B streams from site A (%s, synchronous_commit = %s)\n", want, p.opt.SynchronousCommit)
	}
	return err
}

// CutStandby stops site B's streaming from A, as a broken link between
// the sites would. With a synchronous standby A's commits then wait; with
// an asynchronous one A goes on alone and B falls behind.
func (p *Pair) CutStandby(ctx context.Context) error {
	fmt.Fprintf(p.opt.Log, "site B: streaming from site A cut\n")
	conn, err := pgx.Connect(ctx, p.DSN(true, "postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "ALTER SYSTEM SET primary_conninfo = ''"); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "SELECT pg_reload_conf()"); err != nil {
		return err
	}
	return poll(ctx, 30*time.Second, "end of streaming", func() bool { return p.SyncState(ctx) == "" })
}

// CreateDatabase creates a database on the primary; it reaches the
// standby through replication.
func (p *Pair) CreateDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, p.DSN(false, "postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	return err
}

// LosePrimary stops site A's cluster at once, as a fire would: no
// shutdown checkpoint, and WAL not yet sent stays behind.
func (p *Pair) LosePrimary(ctx context.Context) error {
	fmt.Fprintf(p.opt.Log, "site A: pg_ctl stop -m immediate\n")
	return p.pgctl(ctx, p.primaryDir(), "stop", "-m", "immediate")
}

// Promote makes site B's cluster the primary and returns once it accepts
// writes.
func (p *Pair) Promote(ctx context.Context) error {
	fmt.Fprintf(p.opt.Log, "site B: pg_ctl promote\n")
	if err := p.pgctl(ctx, p.standbyDir(), "promote"); err != nil {
		return err
	}
	return poll(ctx, 60*time.Second, "writable site B", func() bool {
		var inRecovery bool
		return p.query(ctx, true, "SELECT pg_is_in_recovery()", &inRecovery) == nil && !inRecovery
	})
}

// Close stops both clusters (immediately: nothing in them is kept) and
// removes their directory.
func (p *Pair) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, d := range []string{p.primaryDir(), p.standbyDir()} {
		if _, err := os.Stat(filepath.Join(d, "postmaster.pid")); err == nil {
			p.pgctl(ctx, d, "stop", "-m", "immediate")
		}
	}
	return os.RemoveAll(p.dir)
}
