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
	"github.com/minwon/minwon/internal/incident"
	"github.com/minwon/minwon/internal/issuance"
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
  forms list                      every service: active template and schema, canary, versions waiting
  forms show SERVICE              versions, approvals, golden-render checks and the printed-text diff
                                  of a waiting version, and the history
  forms submit FILE.json          submit a template (or, with "slots", a schema); prints
                                  "SERVICE VERSION" last (operators, privacy officers)
  forms approve SERVICE VERSION [--schema]
                                  approve another official's version; the second approval (one of
                                  the two by a privacy officer) starts its canary
  forms reject SERVICE VERSION --reason R [--schema]
  forms rollback SERVICE [--reason R] [--revoke]
                                  withdraw the canary, or the active version for the one before it;
                                  --revoke revokes the documents issued with it
  reasons                         the standard revocation reasons (give the code as --reason)
  recall [--service ID [--template-version V]] [--agency A] [--key K] [--from T] [--to T] --reason R [--grade N] [--dry-run]
                                  revoke every document the filter selects (times RFC 3339 or
                                  YYYY-MM-DD, a Korean day; --to defaults to now): --dry-run shows
                                  the count and a sample; otherwise an incident is opened and the
                                  recall waits for a second operator (operators). With --url, --key
                                  is the TLS key: give the signing key as --signing-key K.
                                  --template-version V (with --service) selects the documents
                                  rendered with that template version (minwon admin forms show).
  recall approve ID               approve another operator's recall; it runs in the background
  recall show ID                  a recall's progress
  incidents list                  incidents, newest first, with what is overdue
  incidents show ID [--out F.json|F.pdf]
                                  an incident: timeline, affected documents and subjects, who
                                  received their data, the 72-hour deadline; --out saves the full
                                  report (JSON, or a PDF to file)
  incidents open --grade N --title T
                                  open an incident by hand (grade 1 most severe to 4; operators)
  incidents note ID --text T      add to an incident's timeline (operators)
  incidents reported ID           record that the report to the regulator was filed
                                  (operators, privacy officer)
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
	schemaKind := fs.Bool("schema", false, "")
	revoke := fs.Bool("revoke", false, "")
	var rf admin.RecallRequest
	fs.StringVar(&rf.Service, "service", "", "")
	fs.StringVar(&rf.TemplateVersion, "template-version", "", "")
	fs.StringVar(&rf.Agency, "agency", "", "")
	fs.StringVar(&rf.Key, "signing-key", "", "")
	fs.StringVar(&rf.From, "from", "", "")
	fs.StringVar(&rf.To, "to", "", "")
	fs.BoolVar(&rf.DryRun, "dry-run", false, "")
	grade := fs.Int("grade", 0, "")
	title := fs.String("title", "", "")
	text := fs.String("text", "", "")
	outFile := fs.String("out", "", "")
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
	case pos[0] == "forms":
		if err := formsArgs(pos, *reason); err != nil {
			return usage(err.Error())
		}
		cmd = "forms " + pos[1]
	case pos[0] == "revoke":
		if len(pos) != 2 || *reason == "" {
			return usage("revoke NUMBER --reason R")
		}
		cmd = "revoke"
	case pos[0] == "reasons":
		if len(pos) != 1 {
			return usage("reasons takes no argument")
		}
		cmd = "reasons"
	case cmd == "recall approve" || cmd == "recall show":
		if len(pos) != 3 {
			return usage(cmd + " ID")
		}
	case pos[0] == "recall":
		if len(pos) != 1 || *reason == "" {
			return usage("recall [--service ID] [--agency A] [--key K] [--from T] [--to T] --reason R [--dry-run]")
		}
		cmd = "recall"
		// The contract's --key K is the signing key; with --data the
		// connection needs no key file, so it can only mean that.
		if conn.data != "" && conn.key != "" {
			if rf.Key != "" {
				return usage("give the signing key once")
			}
			rf.Key, conn.key = conn.key, ""
		}
		rf.Reason, rf.Grade = *reason, *grade
	case cmd == "incidents list":
		if len(pos) != 2 {
			return usage("incidents list takes no argument")
		}
	case cmd == "incidents show" || cmd == "incidents reported":
		if len(pos) != 3 {
			return usage(cmd + " ID")
		}
	case cmd == "incidents open":
		if len(pos) != 2 || *grade == 0 || *title == "" {
			return usage("incidents open --grade N --title T")
		}
	case cmd == "incidents note":
		if len(pos) != 3 || *text == "" {
			return usage("incidents note ID --text T")
		}
	default:
		return usage(fmt.Sprintf("unknown command %q", strings.Join(pos, " ")))
	}
	base, c, err := conn.client()
	if err != nil {
		return err
	}
	var answer any
	if pos[0] == "forms" {
		answer, err = formsCommand(ctx, c, base, pos, *reason, *schemaKind, *revoke, *asJSON, out)
	}
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
	case "reasons":
		var list []issuance.StandardReason
		if err = call(ctx, c, "GET", base+"/admin/v1/reasons", nil, nil, &list); err == nil {
			answer = list
			if !*asJSON {
				tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "CODE\tKOREAN\tENGLISH")
				for _, r := range list {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Code, r.Ko, r.En)
				}
				tw.Flush()
			}
		}
	case "recall":
		if rf.DryRun {
			var p admin.RecallPreview
			if err = call(ctx, c, "POST", base+"/admin/v1/recalls", nil, rf, &p); err == nil {
				answer = p
				if !*asJSON {
					fmt.Fprintf(out, "dry run: %d documents would be revoked with the public reason %q; nothing was changed\n", p.Count, p.Reason)
					printDocuments(out, p.Sample)
				}
			}
			break
		}
		var r incident.ReportRecall
		if err = call(ctx, c, "POST", base+"/admin/v1/recalls", nil, rf, &r); err == nil {
			answer = r
			if !*asJSON {
				fmt.Fprintf(out, "incident %s opened; recall of %d documents is pending: another operator runs\n  minwon admin recall approve %s\n%s\n", r.IncidentID, r.Total, r.ID, r.ID)
			}
		}
	case "recall approve", "recall show":
		var r incident.ReportRecall
		method, path := "GET", base+"/admin/v1/recalls/"+url.PathEscape(pos[2])
		if cmd == "recall approve" {
			method, path = "POST", path+"/approve"
		}
		if err = call(ctx, c, method, path, nil, nil, &r); err == nil {
			answer = r
			if !*asJSON {
				printRecall(out, r)
			}
		}
	case "incidents list":
		var list []incident.Report
		if err = call(ctx, c, "GET", base+"/admin/v1/incidents", nil, nil, &list); err == nil {
			answer = list
			if !*asJSON {
				tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tGRADE\tKIND\tOPENED\tREGULATOR DUE\tREPORTED\tOVERDUE\tTITLE")
				for _, i := range list {
					fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%d\t%s\n", i.ID, i.Grade, i.Kind, i.OpenedAt, i.RegulatorDue, i.RegulatorReportedAt, len(i.Overdue), i.Title)
				}
				tw.Flush()
			}
		}
	case "incidents show":
		path := base + "/admin/v1/incidents/" + url.PathEscape(pos[2])
		if *outFile != "" {
			var raw []byte
			kind := "report.json"
			if strings.HasSuffix(strings.ToLower(*outFile), ".pdf") {
				kind = "report.pdf"
			}
			if err = call(ctx, c, "GET", path+"/"+kind, nil, nil, &raw); err == nil {
				err = os.WriteFile(*outFile, raw, 0o600)
			}
			if err == nil && !*asJSON {
				fmt.Fprintf(out, "report of incident %s saved to %s (%d bytes)\n", pos[2], *outFile, len(raw))
			}
			answer = map[string]string{"saved": *outFile}
			break
		}
		var rep incident.Report
		if err = call(ctx, c, "GET", path, nil, nil, &rep); err == nil {
			answer = rep
			if !*asJSON {
				printIncident(out, rep)
			}
		}
	case "incidents open":
		var id admin.IncidentID
		if err = call(ctx, c, "POST", base+"/admin/v1/incidents", nil, admin.OpenIncidentRequest{Grade: *grade, Title: *title}, &id); err == nil {
			answer = id
			if !*asJSON {
				fmt.Fprintln(out, id.ID)
			}
		}
	case "incidents note", "incidents reported":
		var id admin.IncidentID
		path, body := base+"/admin/v1/incidents/"+url.PathEscape(pos[2])+"/notes", any(admin.NoteRequest{Text: *text})
		if cmd == "incidents reported" {
			path, body = base+"/admin/v1/incidents/"+url.PathEscape(pos[2])+"/reported", nil
		}
		if err = call(ctx, c, "POST", path, nil, body, &id); err == nil {
			answer = id
			if !*asJSON {
				fmt.Fprintf(out, "incident %s: recorded\n", id.ID)
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

func printDocuments(out io.Writer, docs []incident.ReportDocument) {
	if len(docs) == 0 {
		return
	}
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NUMBER\tSERVICE\tSUBJECT\tRECEIVED BY\tISSUED\tSTATE")
	for _, d := range docs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.Number, d.Service, d.Subject, d.Requester, d.IssuedAt, d.State)
	}
	tw.Flush()
}

func printRecall(out io.Writer, r incident.ReportRecall) {
	fmt.Fprintf(out, "recall %s (incident %s): %s\n  filter %s\n  reason %s\n  created by %s at %s%s%s\n  %d documents: %d revoked, %d already revoked, %d pending, %d never logged\n",
		r.ID, r.IncidentID, r.State, r.Filter.String(), r.Reason, r.CreatedBy, r.CreatedAt, suffix("; approved by ", r.ApprovedBy), suffix("; finished ", r.FinishedAt),
		r.Total, r.Items[incident.ItemRevoked], r.Items[incident.ItemAlreadyRevoked], r.Items[incident.ItemPending], r.Items[incident.ItemMissing])
}

func printIncident(out io.Writer, i incident.Report) {
	reported := i.RegulatorReportedAt
	if reported == "" {
		reported = "not filed"
	}
	fmt.Fprintf(out, "incident %s, grade %d (%s): %s\n  opened %s by %s\n  report to the regulator due %s: %s\n", i.ID, i.Grade, i.Kind, i.Title, i.OpenedAt, i.OpenedBy, i.RegulatorDue, reported)
	for _, o := range i.Overdue {
		fmt.Fprintf(out, "  OVERDUE: %s\n", o)
	}
	fmt.Fprintf(out, "  %d affected documents, %d affected subjects (%d notified)\n", i.DocumentCount, i.SubjectCount, i.NotifiedCount)
	for _, r := range i.Recalls {
		printRecall(out, r)
	}
	fmt.Fprintln(out, "timeline:")
	for _, e := range i.Timeline {
		fmt.Fprintf(out, "  %s  %s  %s\n", e.At, e.Actor, e.Text)
	}
	if len(i.Subjects) > 0 {
		fmt.Fprintln(out, "affected subjects and who received their data:")
		tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
		for _, s := range i.Subjects {
			fmt.Fprintf(tw, "  %s\t%d documents\t%s\tnotified=%t\n", s.Subject, s.Documents, strings.Join(s.Recipients, ", "), s.Notified)
		}
		tw.Flush()
		if len(i.Subjects) < i.SubjectCount {
			fmt.Fprintf(out, "  ... %d more: incidents show %s --out report.json\n", i.SubjectCount-len(i.Subjects), i.ID)
		}
	}
	if len(i.Documents) > 0 {
		fmt.Fprintln(out, "affected documents (first by number):")
		printDocuments(out, i.Documents)
	}
}

func suffix(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}
