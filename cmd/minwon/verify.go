package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/minwon/minwon/internal/verification"
)

// errInvalid marks a document that was checked and is not valid (exit 1),
// as opposed to a usage error (exit 2).
var errInvalid = errors.New("not valid")

// runVerify checks a PDF: online against a minwon's log (--log URL) or
// offline against a saved answer and trusted keys (--checkpoint, --key).
// Either way the inclusion proof and signatures are checked here, not
// taken on the server's word.
func runVerify(args []string) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	logURL := fs.String("log", "", "base URL of the minwon that issued the document, e.g. https://minwon.example")
	bundlePath := fs.String("checkpoint", "", "offline: the saved verification answer (JSON of POST /api/v1/verify, or --save-proof) with the signed checkpoint and inclusion proof")
	keyPath := fs.String("key", "", "trusted public keys: the JSON of GET /api/v1/keys saved earlier (required offline; online it pins the keys instead of fetching them)")
	savePath := fs.String("save-proof", "", "online: also save the verification answer here for later offline checks")
	// Accept the file before or after the flags.
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return usageError{err}
	}
	if len(files) != 1 {
		return usageError{errors.New("verify: give exactly one PDF file")}
	}
	if (*logURL == "") == (*bundlePath == "") {
		return usageError{errors.New("verify: give either --log URL, or --checkpoint FILE with --key FILE")}
	}
	if *bundlePath != "" && *keyPath == "" {
		return usageError{errors.New("verify: offline verification needs --key FILE (the trusted public keys)")}
	}
	pdf, err := os.ReadFile(files[0])
	if err != nil {
		return usageError{fmt.Errorf("verify: %w", err)}
	}

	var answer verification.ResultJSON
	var keySet verification.KeySetJSON
	if *keyPath != "" {
		if err := readJSONFile(*keyPath, &keySet); err != nil {
			return usageError{err}
		}
	}
	if *logURL != "" {
		base := strings.TrimSuffix(strings.TrimSuffix(*logURL, "/"), "/log")
		client := &http.Client{Timeout: 30 * time.Second}
		if err := fetchJSON(client, "POST", base+"/api/v1/verify", "application/pdf", pdf, &answer); err != nil {
			return err
		}
		if *keyPath == "" {
			if err := fetchJSON(client, "GET", base+"/api/v1/keys", "", nil, &keySet); err != nil {
				return err
			}
			fmt.Fprintln(os.Stderr, "note: the public keys came from the same server; pin them with --key for an independent check")
		}
		if *savePath != "" {
			raw, _ := json.MarshalIndent(answer, "", "  ")
			if err := os.WriteFile(*savePath, append(raw, '\n'), 0o644); err != nil {
				return fmt.Errorf("verify: save proof: %w", err)
			}
		}
	} else if err := readJSONFile(*bundlePath, &answer); err != nil {
		return usageError{err}
	}

	trusted, err := keySet.PublicKeys()
	if err != nil {
		return usageError{fmt.Errorf("verify: keys: %w", err)}
	}
	bundle, err := answer.Bundle()
	if err != nil {
		return usageError{fmt.Errorf("verify: the verification answer is malformed: %w", err)}
	}
	if err := verification.CheckOffline(pdf, bundle, trusted); err != nil {
		fmt.Printf("NOT VALID: %s: %v\n", files[0], err)
		return errInvalid
	}
	fmt.Printf("VALID: %s is document %s (%s), issued %s, entry %d of the transparency log (checkpoint of %d entries, signature checked).\n",
		files[0], bundle.Number, bundle.Service, bundle.IssuedAt.Format(time.RFC3339), bundle.LogIndex, answer.TreeSize)
	return nil
}

// usageError is a problem with the command line or its files (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }

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
		return usageError{fmt.Errorf("verify: %w", err)}
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
