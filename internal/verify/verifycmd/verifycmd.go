// Package verifycmd is the verify command that `minwon verify` and
// cmd/minwon-verify both run: it reads the files, fetches from a minwon
// online (standard library net/http only) and leaves every decision to
// package verify. It must stay as light as package verify: no database, no
// password hashing, no PDF rendering.
package verifycmd

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/minwon/minwon/internal/sdjwt"
	"github.com/minwon/minwon/internal/verify"
)

// Exit codes, the command's contract.
const (
	ExitValid   = 0 // the document is valid
	ExitInvalid = 1 // checked and not valid, or the check could not be made
	ExitUsage   = 2 // a problem with the command line or its files
)

// DefaultMaxAge is the oldest saved proof an offline check accepts unless
// told otherwise: a day, so a revocation reaches offline verifiers within
// a day of them refreshing their proofs.
const DefaultMaxAge = 24 * time.Hour

// ErrInvalid marks a document that was checked and is not valid (exit 1).
var ErrInvalid = errors.New("not valid")

// UsageError is a problem with the command line or its files (exit 2).
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }

func (e UsageError) Unwrap() error { return e.Err }

// Main runs the command with args (those after the command name) and
// returns the exit code; prog prefixes error messages.
func Main(prog string, args []string, stdout, stderr io.Writer) int {
	err := Run(args, stdout, stderr)
	var usage UsageError
	switch {
	case err == nil:
		return ExitValid
	case errors.Is(err, ErrInvalid):
		return ExitInvalid // Run has said why
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return ExitUsage
	default:
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return ExitInvalid
	}
}

// Run checks a PDF or its data.json (told apart by content): online
// against a minwon's log (--log URL) or offline
// against a saved answer and trusted keys (--checkpoint, --key). Either way
// the inclusion proof and signatures are checked here, not taken on the
// server's word. It returns nil only for a valid document, ErrInvalid for
// one that is not, and a UsageError for a bad command line.
func Run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	logURL := fs.String("log", "", "base URL of the minwon that issued the document, e.g. https://minwon.example")
	bundlePath := fs.String("checkpoint", "", "offline: the saved verification answer (JSON of POST /api/v1/verify, or --save-proof) with the signed checkpoint and inclusion proof")
	keyPath := fs.String("key", "", "trusted public keys: the JSON of GET /api/v1/keys saved earlier (required offline; online it pins the keys instead of fetching them)")
	savePath := fs.String("save-proof", "", "online: also save the verification answer here for later offline checks")
	caPath := fs.String("ca", "", "SD-JWT credential: the PKI root certificate (PEM) its issuer must chain to (required)")
	statusPath := fs.String("status", "", "SD-JWT credential: a saved status list token; without it the list is fetched from the credential's status URI")
	maxAge := fs.Duration("max-age", DefaultMaxAge, "offline: refuse a proof whose checkpoint is older than this (a revocation since would not show; fetch a fresh one online with --log URL --save-proof FILE); 0 accepts any age")
	witnessKeys := fs.String("witness-key", "", "require the log's checkpoint to be cosigned by this witness: its cosignature/v1 verifier key (name+hash+base64; several separated by commas)")
	// Accept the file before or after the flags.
	var files []string
	rest := args
	for len(rest) > 0 {
		if err := fs.Parse(rest); err != nil {
			return UsageError{err}
		}
		rest = fs.Args()
		if len(rest) > 0 {
			files, rest = append(files, rest[0]), rest[1:]
		}
	}
	if len(files) != 1 {
		return UsageError{errors.New("verify: give exactly one file: a PDF, its data.json or its credential.sd-jwt")}
	}
	if strings.HasSuffix(files[0], ".sd-jwt") {
		return runCredential(files[0], *caPath, *statusPath, stdout)
	}
	if (*logURL == "") == (*bundlePath == "") {
		return UsageError{errors.New("verify: give either --log URL, or --checkpoint FILE with --key FILE")}
	}
	if *bundlePath != "" && *keyPath == "" {
		return UsageError{errors.New("verify: offline verification needs --key FILE (the trusted public keys)")}
	}
	file, err := os.ReadFile(files[0])
	if err != nil {
		return UsageError{fmt.Errorf("verify: %w", err)}
	}
	// A data.json is told from a PDF by its content, not its name.
	isData := verify.IsData(file)
	var data verify.DataDocument
	if isData {
		// Its number and PDF hash are what the log is asked about; they
		// are checked against its signature below.
		if err := json.Unmarshal(file, &struct {
			Document *verify.DataDocument `json:"document"`
		}{&data}); err != nil {
			return UsageError{fmt.Errorf("verify: %s is neither a PDF nor a minwon data.json: %w", files[0], err)}
		}
	}

	var answer verify.ResultJSON
	var keySet verify.KeySetJSON
	if *keyPath != "" {
		if err := readJSONFile(*keyPath, &keySet); err != nil {
			return UsageError{err}
		}
	}
	if *logURL != "" {
		base := strings.TrimSuffix(strings.TrimSuffix(*logURL, "/"), "/log")
		client := &http.Client{Timeout: 30 * time.Second}
		if isData {
			query, _ := json.Marshal(map[string]string{"number": data.Number, "sha256": data.PDFSHA256})
			if err := fetchJSON(client, "POST", base+"/api/v1/verify", "application/json", query, &answer); err != nil {
				return err
			}
		} else if err := fetchJSON(client, "POST", base+"/api/v1/verify", "application/pdf", file, &answer); err != nil {
			return err
		}
		if *keyPath == "" {
			if err := fetchJSON(client, "GET", base+"/api/v1/keys", "", nil, &keySet); err != nil {
				return err
			}
			fmt.Fprintln(stderr, "note: the public keys came from the same server; pin them with --key for an independent check")
		}
		if *savePath != "" {
			raw, _ := json.MarshalIndent(answer, "", "  ")
			if err := os.WriteFile(*savePath, append(raw, '\n'), 0o644); err != nil {
				return fmt.Errorf("verify: save proof: %w", err)
			}
		}
	} else if err := readJSONFile(*bundlePath, &answer); err != nil {
		return UsageError{err}
	}

	trusted, err := keySet.PublicKeys()
	if err != nil {
		return UsageError{fmt.Errorf("verify: keys: %w", err)}
	}
	if *witnessKeys != "" {
		for k := range strings.SplitSeq(*witnessKeys, ",") {
			if _, err := verify.NewCosignatureVerifier(k); err != nil {
				return UsageError{fmt.Errorf("verify: --witness-key: %w", err)}
			}
			trusted.WitnessVerifierKeys = append(trusted.WitnessVerifierKeys, k)
		}
	}
	bundle, err := answer.Bundle()
	if err != nil {
		return UsageError{fmt.Errorf("verify: the verification answer is malformed: %w", err)}
	}
	what, signature := "document", "signature checked"
	if isData {
		what = "the data.json of document"
		_, err = verify.CheckDataOffline(file, bundle, trusted)
	} else {
		var sig verify.PDFSignature
		if sig, err = verify.VerifyPDF(file, trusted); err == nil {
			if sig.PAdES != nil {
				signature = "standard PDF signature by " + sig.PAdES.CommonName + " and minwon's signature checked"
			} else {
				signature = "signature trailer of an older document checked"
			}
			err = verify.CheckOffline(file, bundle, trusted)
		}
	}
	if err != nil {
		fmt.Fprintf(stdout, "NOT VALID: %s: %v\n", files[0], err)
		return ErrInvalid
	}
	// How fresh the answer is: an online one is as of now; a saved one
	// is as of its checkpoint, and a revocation since does not show.
	age := *maxAge
	if *logURL != "" {
		age = 0
	}
	checked := time.Now()
	cp, err := verify.CheckFresh(bundle, trusted, checked, age)
	if err != nil {
		fmt.Fprintf(stdout, "NOT VALID: %s: %v; fetch a fresh proof online (--log URL --save-proof FILE), or accept its age with --max-age\n", files[0], err)
		return ErrInvalid
	}
	fmt.Fprintf(stdout, "VALID: %s is %s %s (%s), issued %s, entry %d of the transparency log (checkpoint of %d entries, %s).\n",
		files[0], what, bundle.Number, bundle.Service, bundle.IssuedAt.Format(time.RFC3339), bundle.LogIndex, answer.TreeSize, signature)
	if len(trusted.WitnessVerifierKeys) > 0 {
		fmt.Fprintf(stdout, "The checkpoint is cosigned by the required witnesses (%d).\n", len(trusted.WitnessVerifierKeys))
	}
	if cp.Time.IsZero() {
		fmt.Fprintln(stdout, "Not revoked as of: unknown (the checkpoint does not say when it was signed).")
	} else {
		fmt.Fprintf(stdout, "Not revoked as of %s (the checkpoint's time, %s ago).\n", cp.Time.Format(time.RFC3339), checked.Sub(cp.Time).Truncate(time.Second))
	}
	return nil
}

func readJSONFile(path string, v any) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("verify: %s is not the expected JSON: %w", path, err)
	}
	return nil
}

func fetchJSON(c *http.Client, method, url, contentType string, body []byte, v any) error {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return UsageError{fmt.Errorf("verify: %w", err)}
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("verify: read %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("verify: %s answered %s: %s", url, resp.Status, strings.TrimSpace(string(raw)))
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("verify: %s did not answer the expected JSON: %w", url, err)
	}
	return nil
}

// runCredential checks an SD-JWT VC (or a holder's presentation of one):
// the issuer's signature and certificate chain to the root in caPath, every
// disclosure against the signed digests, expiry, and its bit in the status
// list (saved in statusPath, or fetched from the credential's URI).
func runCredential(path, caPath, statusPath string, stdout io.Writer) error {
	if caPath == "" {
		return UsageError{errors.New("verify: a credential needs --ca FILE (the PKI root certificate its issuer chains to)")}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return UsageError{fmt.Errorf("verify: %w", err)}
	}
	pemRoots, err := os.ReadFile(caPath)
	if err != nil {
		return UsageError{fmt.Errorf("verify: %w", err)}
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pemRoots) {
		return UsageError{fmt.Errorf("verify: %s holds no PEM certificate", caPath)}
	}
	trust, now := sdjwt.Trust{Roots: roots}, time.Now()
	cred, err := sdjwt.Verify(strings.TrimSpace(string(raw)), trust, now)
	if err != nil {
		fmt.Fprintf(stdout, "NOT VALID: %s: %v\n", path, err)
		return ErrInvalid
	}
	if cred.Status != nil {
		var token []byte
		if statusPath != "" {
			token, err = os.ReadFile(statusPath)
		} else {
			token, err = fetchText(cred.Status.URI)
		}
		if err != nil {
			return fmt.Errorf("verify: status list: %w", err)
		}
		if err := cred.CheckStatus(strings.TrimSpace(string(token)), trust, now); err != nil {
			fmt.Fprintf(stdout, "NOT VALID: %s: %v\n", path, err)
			return ErrInvalid
		}
	}
	names := make([]string, 0, len(cred.Disclosed))
	for n := range cred.Disclosed {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(stdout, "VALID: %s is credential %v (%v) by %v, not revoked as of now; disclosed: %s\n",
		path, cred.Claims["document_number"], cred.Claims["vct"], cred.Claims["iss"], strings.Join(names, ", "))
	for _, n := range names {
		v, _ := json.Marshal(cred.Disclosed[n])
		fmt.Fprintf(stdout, "  %s: %s\n", n, v)
	}
	return nil
}

// fetchText GETs a small text answer (a status list token).
func fetchText(url string) ([]byte, error) {
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 16<<20))
}
