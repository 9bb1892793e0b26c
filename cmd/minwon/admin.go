package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/minwon/minwon/internal/admin"
	"github.com/minwon/minwon/internal/verification"
)

const adminUsage = `minwon admin: the operators' client (mutual TLS with an official's certificate).

Usage:
  minwon admin [--data DIR --as ID | --url URL --cert F --key F --ca F] COMMAND ...

Commands:
  whoami                          who the certificate says you are, and its credential state
  keys list                       the signing keys and their states
  keys rotate                     start a new document-signing key (operators)
  keys revoke ID --reason R       revoke a signing key: everything it signed stops verifying (operators)
  revoke NUMBER --reason R        revoke one document; the reason is public (operators)
  alerts                          pre-issuance refusals, newest first
  validation                      the revocation list the credentials are decided with, and a check of
                                  the path to the validation service at realistic sizes
  audit [--subject S] [--actor A] [--limit N]
                                  who used whose data (auditor, privacy officer)
  audit verify                    walk the audit records' hash chain and name its first broken link
  limits                          the bulk-access limits and who is blocked now
  unblock LOGIN --reason R        lift a bulk-access block (operators)

Flags (anywhere on the line):
  --json                          print the answer as JSON

Exit status: 0 done, 1 refused (the reason is printed), 2 usage.
`

func runAdmin(args []string) error {
	return adminCommand(context.Background(), args, os.Stdout)
}

func adminCommand(ctx context.Context, args []string, out io.Writer) error {
	fs, conn := newOfficialCommand("admin", adminUsage)
	reason := fs.String("reason", "", "")
	subject := fs.String("subject", "", "")
	actor := fs.String("actor", "", "")
	limit := fs.Int("limit", 100, "")
	asJSON := fs.Bool("json", false, "")
	pos, err := conn.parse(fs, args)
	if err != nil {
		return err
	}
	usage := conn.usageErr
	// Check the command's shape before touching certificates or network.
	cmd := strings.Join(pos[:min(2, len(pos))], " ")
	switch {
	case cmd == "audit verify":
		if len(pos) != 2 {
			return usage("audit verify takes no argument")
		}
	case pos[0] == "unblock":
		if len(pos) != 2 || *reason == "" {
			return usage("unblock LOGIN --reason R")
		}
		cmd = "unblock"
	case pos[0] == "whoami" || pos[0] == "alerts" || pos[0] == "audit" || pos[0] == "validation" || pos[0] == "limits":
		if len(pos) != 1 {
			return usage(pos[0] + " takes no argument")
		}
		cmd = pos[0]
	case cmd == "keys list" || cmd == "keys rotate":
		if len(pos) != 2 {
			return usage(cmd + " takes no argument")
		}
	case cmd == "keys revoke":
		if len(pos) != 3 || *reason == "" {
			return usage("keys revoke ID --reason R")
		}
	case pos[0] == "revoke":
		if len(pos) != 2 || *reason == "" {
			return usage("revoke NUMBER --reason R")
		}
		cmd = "revoke"
	default:
		return usage(fmt.Sprintf("unknown command %q", strings.Join(pos, " ")))
	}
	base, c, err := conn.client()
	if err != nil {
		return err
	}
	var answer any
	switch cmd {
	case "whoami":
		var w admin.WhoAmI
		if err = call(ctx, c, "GET", base+"/admin/v1/whoami", nil, nil, &w); err == nil {
			answer = w
			if !*asJSON {
				fmt.Fprintf(out, "%s %s (%s), %s; credential %s%s\n", w.ID, w.Name, w.Role, w.Office, w.Credential, suffix(" until ", w.GraceUntil))
			}
		}
	case "keys list":
		var ks verification.KeySetJSON
		if err = call(ctx, c, "GET", base+"/admin/v1/keys", nil, nil, &ks); err == nil {
			answer = ks
			if !*asJSON {
				tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tPURPOSE\tSTATE\tCREATED\tREVOKED\tREASON")
				for _, k := range ks.DocumentKeys {
					fmt.Fprintf(tw, "%s\tdocument\t%s\t%s\t%s\t%s\n", k.ID, k.State, k.CreatedAt, k.RevokedAt, k.RevokeReason)
				}
				fmt.Fprintf(tw, "%s\tlog (%s)\tactive\t\t\t\n", ks.Log.KeyID, ks.Log.Origin)
				tw.Flush()
			}
		}
	case "keys rotate":
		var st admin.KeyState
		if err = call(ctx, c, "POST", base+"/admin/v1/keys/rotate", nil, nil, &st); err == nil {
			answer = st
			if !*asJSON {
				fmt.Fprintf(out, "new document key %s is %s\n", st.ID, st.State)
			}
		}
	case "keys revoke":
		var st admin.KeyState
		if err = call(ctx, c, "POST", base+"/admin/v1/keys/"+url.PathEscape(pos[2])+"/revoke", nil, admin.ReasonRequest{Reason: *reason}, &st); err == nil {
			answer = st
			if !*asJSON {
				fmt.Fprintf(out, "key %s is %s: nothing it signed verifies any more\n", st.ID, st.State)
			}
		}
	case "revoke":
		var rev admin.Revocation
		if err = call(ctx, c, "POST", base+"/admin/v1/revocations", nil, admin.ReasonRequest{Number: pos[1], Reason: *reason}, &rev); err == nil {
			answer = rev
			if !*asJSON {
				fmt.Fprintf(out, "document %s revoked at %s (log index %d): %s\n", rev.Number, rev.RevokedAt, rev.LogIndex, rev.Reason)
			}
		}
	case "validation":
		var v admin.ValidationJSON
		if err = call(ctx, c, "GET", base+"/admin/v1/validation", nil, nil, &v); err == nil {
			answer = v
			if !*asJSON {
				fmt.Fprintf(out, "revocation list %s fetched %s (%d revoked; grace %s)%s\n", v.CRLNumber, v.LastGood.Format(time.RFC3339), v.Revoked, v.GraceWindow, suffix("; last error: ", v.LastError))
				for _, p := range v.Probes {
					state := "ok"
					if !p.OK {
						state = "FAILING: " + p.Error
					}
					fmt.Fprintf(out, "  %-5s %6d bytes in %s: %s\n", p.Check, p.Bytes, p.Latency, state)
				}
			}
		}
	case "alerts":
		var list []admin.Alert
		if err = call(ctx, c, "GET", base+"/admin/v1/alerts", nil, nil, &list); err == nil {
			answer = list
			if !*asJSON {
				tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "AT\tKIND\tSERVICE\tREQUESTER\tDETAIL")
				for _, a := range list {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.At, a.Kind, a.Service, a.Requester, a.Detail)
				}
				tw.Flush()
			}
		}
	case "audit verify":
		var v admin.AuditVerifyJSON
		if err = call(ctx, c, "GET", base+"/admin/v1/audit/verify", nil, nil, &v); err == nil {
			answer = v
			if !*asJSON {
				if v.OK {
					fmt.Fprintf(out, "audit chain intact: %d records\n", v.Records)
				} else {
					fmt.Fprintf(out, "audit chain BROKEN at record %d: %s (%d records check before it)\n", v.Broken.Seq, v.Broken.Reason, v.Records)
				}
			}
			if !v.OK {
				err = fmt.Errorf("the audit chain is broken at record %d: %s", v.Broken.Seq, v.Broken.Reason)
			}
		}
	case "limits":
		var l admin.LimitsJSON
		if err = call(ctx, c, "GET", base+"/admin/v1/limits", nil, nil, &l); err == nil {
			answer = l
			if !*asJSON {
				tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ACTION\tWINDOW\tALERT ABOVE\tBLOCK ABOVE\tCOUNTS")
				for _, a := range []string{"issuance", "download", "counter_lookup"} {
					if r, ok := l.Rules[a]; ok {
						counts := "requests"
						if r.Distinct {
							counts = "different citizens"
						}
						fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", a, time.Duration(r.WindowSeconds)*time.Second, r.Alert, r.Block, counts)
					}
				}
				tw.Flush()
				fmt.Fprintf(out, "a block lasts %s; blocked now: %d\n", time.Duration(l.BlockFor)*time.Second, len(l.Blocked))
				for _, b := range l.Blocked {
					fmt.Fprintf(out, "  %s (%s, %d) until %s%s\n", b.Principal, b.Action, b.Count, b.Until.Format(time.RFC3339), suffix(", incident ", b.Incident))
				}
			}
		}
	case "unblock":
		var done map[string]string
		if err = call(ctx, c, "POST", base+"/admin/v1/limits/unblock", nil, admin.UnblockRequest{Principal: pos[1], Reason: *reason}, &done); err == nil {
			answer = done
			if !*asJSON {
				fmt.Fprintf(out, "%s unblocked\n", pos[1])
			}
		}
	case "audit":
		q := url.Values{}
		if *subject != "" {
			q.Set("subject", *subject)
		}
		if *actor != "" {
			q.Set("actor", *actor)
		}
		q.Set("limit", strconv.Itoa(*limit))
		var list []admin.AuditEvent
		if err = call(ctx, c, "GET", base+"/admin/v1/audit?"+q.Encode(), nil, nil, &list); err == nil {
			answer = list
			if !*asJSON {
				tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "AT\tACTOR\tOFFICE\tACTION\tSERVICE\tSUBJECT\tNUMBER\tDETAIL")
				for _, e := range list {
					fmt.Fprintf(tw, "%s\t%s:%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.At, e.ActorKind, e.Actor, e.Office, e.Action, e.Service, e.Subject, e.Number, e.Detail)
				}
				tw.Flush()
			}
		}
	}
	if err != nil {
		return fmt.Errorf("admin %s: %w", cmd, err)
	}
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(answer)
	}
	return nil
}

func suffix(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}
