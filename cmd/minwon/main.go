// Command minwon issues official civil documents. It only wires minwon's
// packages together; the behaviour lives under internal/.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/minwon/minwon/internal/verify/verifycmd"
)

const usage = `minwon issues official civil documents.

Usage:
  minwon demo [--addr 127.0.0.1:8080] [--data DIR] [--people N] [--seed S]
              [--witness-url URL --witness-key VKEY] [--accept-log-rollback]
        run everything in one process on embedded SQLite with a synthetic population
        (a witness cosigns each checkpoint; a log behind DIR/checkpoint.last or
        the witness is refused unless an operator accepts: docs/OPERATIONS.md)
  minwon seed [--data DIR] [--people N] [--seed S]
        seed a data directory and print how long each phase took, then exit
  minwon serve --config FILE [--listen ADDR] [--counter-listen ADDR] [--admin-listen ADDR] [--node NAME]
               [--accept-log-rollback]
        production start: PostgreSQL (or SQLite), configured agencies, and the
        counter and admin API on mutual TLS; several nodes may share one
        PostgreSQL database (docs/POSTGRES.md)
  minwon keygen [--dir DIR] [--log-origin ORIGIN]
        create the document-signing, log checkpoint and subject index keys and
        the data KEK serve needs, if absent
  minwon agencies [--data DIR] [--people N] [--seed S] [--addr-base HOST:PORT] [--postgres DSN]
                  [--listen ADDR] [--counter-listen ADDR] [--admin-listen ADDR]
        run the simulated agencies and the simulated PKI's validation service
        standalone for serve, seed their accounts into minwon's database, issue
        the officials' certificates and write DIR/serve.json
  minwon pki init --dir DIR
  minwon pki issue --dir DIR --id ID --name NAME --office OFFICE --role ROLE
  minwon pki server --dir DIR --name counter|admin|... --host HOST[,HOST...]
  minwon pki revoke --dir DIR ID --reason R
  minwon pki list --dir DIR
  minwon pki validation --dir DIR [--addr 127.0.0.1:7103]
        the simulated government PKI of serve's officials: create it, issue an
        official's certificate (ROLE counter_clerk, operator, privacy_officer or
        auditor) or a listener's, revoke an official's, list them, or run the
        validation service (CRL, OCSP, fault switches) until Ctrl-C
  minwon verify FILE.pdf|FILE.data.json --log URL [--key KEYS.json] [--save-proof PROOF.json] [--witness-key VKEY]
  minwon verify FILE.pdf|FILE.data.json --checkpoint PROOF.json --key KEYS.json [--witness-key VKEY]
        check a document: its signature, its inclusion in the transparency log
        (checked here against the signed checkpoint) and that neither it nor
        its signing key is revoked; exit 0 only for a valid document
  minwon counter [--data DIR --as ID | --url URL --cert F --key F --ca F] status|issue|document ...
        the officials' counter client (mutual TLS); minwon counter help for its commands
  minwon admin [--data DIR --as ID | --url URL --cert F --key F --ca F] whoami|keys|revoke|alerts|audit|validation ...
        the operators' client (mutual TLS); minwon admin help for its commands
  minwon rotate-data-kek --config FILE | --data DIR
        replace the key (key_dir/data-kek.key) that wraps the data keys sealing
        the stored documents; the documents are not re-encrypted
  minwon backup --data DIR | --config FILE --out FILE
        copy the SQLite database while minwon runs: one consistent snapshot,
        checked (integrity, the log's head against its checkpoint), fsynced,
        then renamed; the keys and the PKI are files to back up apart
  minwon restore --data DIR | --config FILE --from FILE [--force]
        put a backup in place of a stopped server's database; refuses a
        backup older than the checkpoint kept in DIR/checkpoint.last unless
        --force (the server then starts only with --accept-log-rollback)
  minwon help
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "demo":
		err = runDemo(os.Args[2:])
	case "seed":
		err = runSeed(os.Args[2:])
	case "verify":
		os.Exit(verifycmd.Main("minwon", os.Args[2:], os.Stdout, os.Stderr))
	case "serve":
		err = runServe(os.Args[2:])
	case "keygen":
		err = runKeygen(os.Args[2:])
	case "agencies":
		err = runAgencies(os.Args[2:])
	case "counter":
		if len(os.Args) > 2 && os.Args[2] == "help" {
			fmt.Print(counterUsage)
			return
		}
		err = runCounter(os.Args[2:])
	case "admin":
		if len(os.Args) > 2 && os.Args[2] == "help" {
			fmt.Print(adminUsage)
			return
		}
		err = runAdmin(os.Args[2:])
	case "pki":
		err = runPKI(os.Args[2:])
	case "rotate-data-kek":
		err = runRotateDataKEK(os.Args[2:])
	case "backup":
		err = runBackup(os.Args[2:])
	case "restore":
		err = runRestore(os.Args[2:])
	case "help", "-h", "--help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "minwon: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode reports err on stderr and returns the exit status: 0 success,
// 1 refused or failed, 2 usage.
func exitCode(err error, stderr io.Writer) int {
	var usage usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "minwon: %v\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "minwon: %v\n", err)
		return 1
	}
}

// usageError is a problem with the command line (exit 2), as opposed to a
// refusal or failure (exit 1).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
