package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/minwon/minwon/internal/httpserve"
	"github.com/minwon/minwon/internal/pki"
)

const pkiUsage = `usage:
  minwon pki init --dir DIR
  minwon pki issue --dir DIR --id ID --name NAME --office OFFICE --role counter_clerk|operator|privacy_officer|auditor
  minwon pki server --dir DIR --name NAME --host HOST[,HOST...]
  minwon pki document --dir DIR [--name minwon]
  minwon pki revoke --dir DIR ID --reason REASON
  minwon pki list --dir DIR
  minwon pki validation --dir DIR [--addr 127.0.0.1:7103]`

// runPKI runs `minwon pki`: the simulated GPKI's certificates for serve's
// officials and listeners, and its validation service.
func runPKI(args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return pkiUntilDone(ctx, args, os.Stdout)
}

// pkiUntilDone runs one pki subcommand, printing to out; only validation
// runs until ctx ends. It prints paths of keys, never a key.
func pkiUntilDone(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return usageError{errors.New("pki: " + pkiUsage)}
	}
	cmd := args[0]
	fs := flag.NewFlagSet("pki "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // usageError says what was wrong
	dir := fs.String("dir", "", "the PKI directory (a demo's is DIR/pki)")
	var (
		o                               pki.Official
		role, name, hosts, reason, addr string
		crlValidity                     time.Duration
		positional                      int
		run                             func(ca *pki.Authority, args []string) error
		open                            = pki.Open
	)
	switch cmd {
	case "init":
		open = pki.Init
		run = func(ca *pki.Authority, _ []string) error {
			fmt.Fprintf(out, "root (ca.pem, the trust anchor; serve's pki.ca): %s\n", filepath.Join(ca.Dir(), pki.RootCertFile))
			fmt.Fprintf(out, "ministry CA (signs the CRL; serve's pki.crl_issuer): %s\n", filepath.Join(ca.Dir(), pki.MinistryCertFile))
			return nil
		}
	case "issue":
		fs.StringVar(&o.ID, "id", "", "the official's id, e.g. op001")
		fs.StringVar(&o.Name, "name", "", "the official's name")
		fs.StringVar(&o.Office, "office", "", "the official's office")
		fs.StringVar(&role, "role", "", "counter_clerk, operator, privacy_officer or auditor")
		run = func(ca *pki.Authority, _ []string) error {
			cred, err := ca.IssueOfficial(o)
			if err != nil {
				return fmt.Errorf("pki issue: %s: %w", o.ID, err)
			}
			fmt.Fprintf(out, "cert: %s\nkey:  %s\n", cred.CertFile, cred.KeyFile)
			return nil
		}
	case "server":
		fs.StringVar(&name, "name", "", "the listener's name: counter, admin, ...")
		fs.StringVar(&hosts, "host", "127.0.0.1,localhost", "comma-separated host names and IP addresses the certificate is for")
		run = func(ca *pki.Authority, _ []string) error {
			var list []string
			for h := range strings.SplitSeq(hosts, ",") {
				if h = strings.TrimSpace(h); h != "" {
					list = append(list, h)
				}
			}
			cred, err := ca.IssueServer(name, list)
			if err != nil {
				return fmt.Errorf("pki server: %w", err)
			}
			fmt.Fprintf(out, "cert: %s\nkey:  %s\n", cred.CertFile, cred.KeyFile)
			return nil
		}
	case "document":
		fs.StringVar(&name, "name", "minwon", "the signing system's name")
		run = func(ca *pki.Authority, _ []string) error {
			cred, err := ca.IssueDocumentSigner(name)
			if err != nil {
				return fmt.Errorf("pki document: %w", err)
			}
			fmt.Fprintf(out, "document-signing certificate (serve's document_cert): %s\nits key (serve's document_key):               %s\n", cred.CertFile, cred.KeyFile)
			return nil
		}
	case "revoke":
		fs.StringVar(&reason, "reason", "", "why (kept in the register; e.g. keyCompromise, left office)")
		positional = 1
		run = func(ca *pki.Authority, args []string) error {
			e, err := ca.RevokeOfficial(args[0], reason)
			if err != nil {
				return fmt.Errorf("pki revoke: %s: %w", args[0], err)
			}
			fmt.Fprintf(out, "revoked %s (serial %s) at %s: %s\n", args[0], e.Serial, e.RevokedAt.Format(time.RFC3339), e.Reason)
			return nil
		}
	case "list":
		run = func(ca *pki.Authority, _ []string) error { return listPKI(out, ca.Entries(), time.Now()) }
	case "validation":
		fs.StringVar(&addr, "addr", "127.0.0.1:7103", "listen address (loopback: its fault switches have no authentication)")
		fs.DurationVar(&crlValidity, "crl-validity", time.Hour, "how long each signed CRL is valid")
		run = func(ca *pki.Authority, _ []string) error { return serveValidation(ctx, out, ca, addr, crlValidity) }
	default:
		return usageError{fmt.Errorf("pki: unknown subcommand %q\n%s", cmd, pkiUsage)}
	}
	rest, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return usageError{fmt.Errorf("pki %s: %w\n%s", cmd, err, pkiUsage)}
	}
	o.Role = pki.Role(role)
	switch {
	case *dir == "":
		err = errors.New("--dir is required")
	case len(rest) != positional:
		err = fmt.Errorf("%d arguments given, %d expected", len(rest), positional)
	case cmd == "issue" && (o.ID == "" || o.Name == "" || o.Office == "" || !o.Role.Valid()):
		err = errors.New("--id, --name, --office and --role (counter_clerk, operator, privacy_officer or auditor) are required")
	case cmd == "server" && (name == "" || strings.Trim(hosts, ", ") == ""):
		err = errors.New("--name and --host are required")
	case cmd == "revoke" && strings.TrimSpace(reason) == "":
		err = errors.New("--reason is required")
	case cmd == "validation" && !isLoopback(addr):
		err = errors.New("--addr must be a loopback address: the fault switches have no authentication")
	case cmd == "validation" && crlValidity < time.Minute:
		err = errors.New("--crl-validity must be at least 1m")
	}
	if err != nil {
		return usageError{fmt.Errorf("pki %s: %w\n%s", cmd, err, pkiUsage)}
	}
	ca, err := open(*dir)
	if err != nil {
		return fmt.Errorf("pki %s: %s: %w", cmd, *dir, err)
	}
	return run(ca, rest)
}

// parseInterspersed parses flags before and after positional arguments,
// and returns the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional, args = append(positional, args[0]), args[1:]
	}
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// listPKI prints the officials' and servers' certificates of the register
// with their state, oldest first.
func listPKI(out io.Writer, entries []pki.Entry, now time.Time) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tID\tNAME\tROLE\tOFFICE\tSERIAL\tNOT AFTER\tSTATE")
	for _, e := range entries {
		var id, name, role, office string
		switch {
		case e.Kind == "official" && e.Official != nil:
			id, name, role, office = e.Official.ID, e.Official.Name, string(e.Official.Role), e.Official.Office
		case e.Kind == "server" || e.Kind == "system" || e.Kind == "document":
			id, name, role, office = e.Server, "-", "-", "-"
		default:
			continue // the OCSP responder and the seeded history
		}
		state := e.State(now)
		if state == pki.EntryRevoked {
			state += " " + e.RevokedAt.Format(time.RFC3339) + " (" + e.Reason + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Kind, id, name, role, office, e.Serial, e.NotAfter.Format(time.DateOnly), state)
	}
	return tw.Flush()
}

// serveValidation runs the validation service of ca on addr until ctx
// ends. It reads the register at each CRL, so a revocation by `minwon pki
// revoke` is published at once.
func serveValidation(ctx context.Context, out io.Writer, ca *pki.Authority, addr string, crlValidity time.Duration) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("pki validation: %w", err)
	}
	v := pki.NewValidation(ca, crlValidity)
	base := "http://" + l.Addr().String()
	fmt.Fprintf(out, "validation service: %s/crl  %s/ocsp  (serve's pki.validation_url: %s)\n", base, base, base)
	fmt.Fprintf(out, "fault switches:     %s/_faults  ({\"down\":1}, {\"delay_ms\":N}, {\"drop_over_bytes\":N}; {} heals)\n", base)
	fmt.Fprintln(out, "Press Ctrl-C to stop.")
	return httpserve.UntilDone(ctx, httpserve.Listener{Name: "validation service", Listener: v.Listener(l), Handler: v})
}
