package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/minwon/minwon/internal/counter"
)

const counterUsage = `minwon counter: the counter client for officials (mutual TLS with a counter clerk's certificate).

Usage:
  minwon counter [--data DIR --as ID | --url URL --cert F --key F --ca F] COMMAND ...

Commands:
  status                          who you are and your credential: fresh, grace (until when) or locked
  issue SERVICE (--rrn RRN | --business-number BRN) --id-check METHOD --purpose TEXT
        [--show-rrn-back] [--out FILE.pdf] [--idempotency-key K]
                                  issue a certificate for the citizen in front of you, after checking
                                  their identity document in person (METHOD: resident_card,
                                  driver_license, passport, disability_card, mobile_id);
                                  --rrn - reads the number from standard input, out of the shell history
  document NUMBER --out FILE.pdf  download a document you issued

Flags (anywhere on the line):
  --json                          print the answer as JSON

Exit status: 0 done, 1 refused (the reason is printed), 2 usage.
`

func runCounter(args []string) error {
	return counterCommand(context.Background(), args, os.Stdin, os.Stdout)
}

func counterCommand(ctx context.Context, args []string, in io.Reader, out io.Writer) error {
	fs, conn := newOfficialCommand("counter", counterUsage)
	rrn := fs.String("rrn", "", "")
	brn := fs.String("business-number", "", "")
	idCheck := fs.String("id-check", "", "")
	purpose := fs.String("purpose", "", "")
	showBack := fs.Bool("show-rrn-back", false, "")
	outFile := fs.String("out", "", "")
	idemKey := fs.String("idempotency-key", "", "")
	asJSON := fs.Bool("json", false, "")
	pos, err := conn.parse(fs, args)
	if err != nil {
		return err
	}
	usage := conn.usageErr
	switch {
	case pos[0] == "status" && len(pos) == 1:
	case pos[0] == "issue" && len(pos) == 2:
		if (*rrn == "") == (*brn == "") || *idCheck == "" || *purpose == "" {
			return usage("issue SERVICE needs --rrn or --business-number, --id-check and --purpose")
		}
	case pos[0] == "document" && len(pos) == 2:
		if *outFile == "" {
			return usage("document NUMBER needs --out FILE.pdf")
		}
	default:
		return usage(fmt.Sprintf("unknown command %q", strings.Join(pos, " ")))
	}
	if *rrn == "-" {
		line, err := bufio.NewReader(in).ReadString('\n')
		if err != nil && line == "" {
			return usage("--rrn - reads the number from standard input, and there was none")
		}
		*rrn = strings.TrimSpace(line)
	}
	base, c, err := conn.client()
	if err != nil {
		return err
	}
	var answer any
	switch pos[0] {
	case "status":
		var st counter.StatusJSON
		if err = call(ctx, c, "GET", base+"/counter/v1/status", nil, nil, &st); err == nil {
			answer = st
			if !*asJSON {
				fmt.Fprintf(out, "%s %s (%s), %s; credential %s%s%s\n", st.Official, st.Name, st.Role, st.Office, st.Credential, suffix(" until ", st.GraceUntil), suffix(": ", st.Reason))
			}
		}
	case "issue":
		key := *idemKey
		if key == "" {
			var b [16]byte
			rand.Read(b[:])
			key = hex.EncodeToString(b[:])
		}
		req := counter.IssueRequest{Service: pos[1], SubjectRRN: *rrn, BusinessNumber: *brn, Purpose: *purpose}
		req.IdentityCheck.Method, req.IdentityCheck.Verified = *idCheck, true
		req.Options.ShowRRNBack = *showBack
		var is counter.IssuedJSON
		err = call(ctx, c, "POST", base+"/counter/v1/issuances", map[string]string{"Idempotency-Key": key}, req, &is)
		if err != nil {
			if _, refused := err.(*refusal); !refused {
				// The answer may have been lost after the document was
				// issued: the same key returns it rather than a second one.
				err = fmt.Errorf("%w (retry with --idempotency-key %s to get the same document, not a second one)", err, key)
			}
			break
		}
		answer = is
		if *outFile != "" {
			var pdf []byte
			if err = call(ctx, c, "GET", base+is.Document, nil, nil, &pdf); err != nil {
				break
			}
			if err = os.WriteFile(*outFile, pdf, 0o600); err != nil {
				break
			}
		}
		if !*asJSON {
			fmt.Fprintf(out, "issued %s: %s for %s at %s (log index %d)\n", is.Number, is.Service, is.Subject, is.IssuedAt, is.LogIndex)
			if *outFile != "" {
				fmt.Fprintf(out, "saved %s\n", *outFile)
			}
			fmt.Fprintf(out, "verify: %s\n", is.Verify)
		}
	case "document":
		var pdf []byte
		if err = call(ctx, c, "GET", base+"/counter/v1/issuances/"+url.PathEscape(pos[1])+"/document.pdf", nil, nil, &pdf); err == nil {
			err = os.WriteFile(*outFile, pdf, 0o600)
		}
		if err == nil && !*asJSON {
			fmt.Fprintf(out, "saved %s (%d bytes)\n", *outFile, len(pdf))
		}
		answer = map[string]any{"number": pos[1], "file": *outFile}
	}
	if err != nil {
		return fmt.Errorf("counter %s: %w", pos[0], err)
	}
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(answer)
	}
	return nil
}
