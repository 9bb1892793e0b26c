package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/minwon/minwon/internal/admin"
	"github.com/minwon/minwon/internal/governance"
)

// formsArgs checks a forms command's shape before anything is sent.
func formsArgs(pos []string, reason string) error {
	if len(pos) < 2 {
		return fmt.Errorf("forms list|show|submit|approve|reject|rollback")
	}
	switch n := len(pos); pos[1] {
	case "list":
		if n != 2 {
			return fmt.Errorf("forms list takes no argument")
		}
	case "show", "rollback":
		if n != 3 {
			return fmt.Errorf("forms %s SERVICE", pos[1])
		}
	case "submit":
		if n != 3 {
			return fmt.Errorf("forms submit FILE.json")
		}
	case "approve":
		if n != 4 {
			return fmt.Errorf("forms approve SERVICE VERSION [--schema]")
		}
	case "reject":
		if n != 4 || reason == "" {
			return fmt.Errorf("forms reject SERVICE VERSION --reason R [--schema]")
		}
	default:
		return fmt.Errorf("unknown forms command %q", pos[1])
	}
	if pos[1] == "approve" || pos[1] == "reject" {
		if v, err := strconv.Atoi(pos[3]); err != nil || v < 1 {
			return fmt.Errorf("VERSION must be a number, not %q", pos[3])
		}
	}
	return nil
}

// formsCommand runs a checked forms command and returns what to print as
// JSON with --json.
func formsCommand(ctx context.Context, c *http.Client, base string, pos []string, reason string, schema, revoke, asJSON bool, out io.Writer) (any, error) {
	kind := governance.TemplateKind
	if schema {
		kind = governance.SchemaKind
	}
	switch pos[1] {
	case "list":
		var list []governance.ServiceSummary
		if err := call(ctx, c, "GET", base+"/admin/v1/forms", nil, nil, &list); err != nil {
			return nil, err
		}
		if !asJSON {
			tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SERVICE\tACTIVE\tSCHEMA\tCANARY\tWAITING FOR APPROVAL")
			for _, s := range list {
				canary := "-"
				if s.Canary != nil {
					canary = fmt.Sprintf("v%d: %d/%d documents, %d refused, %.0f%% of requests", s.Canary.Version, s.Canary.Issued, s.Canary.Target, s.Canary.Refused, 100*s.Canary.Share)
				}
				var waiting []string
				for _, v := range s.Pending {
					waiting = append(waiting, fmt.Sprintf("template v%d", v))
				}
				for _, v := range s.PendingSchema {
					waiting = append(waiting, fmt.Sprintf("schema v%d", v))
				}
				fmt.Fprintf(tw, "%s\tv%d\tv%d\t%s\t%s\n", s.Service, s.Active, s.Schema, canary, strings.Join(waiting, ", "))
			}
			tw.Flush()
		}
		return list, nil
	case "show":
		var v governance.ServiceView
		if err := call(ctx, c, "GET", base+"/admin/v1/forms/"+url.PathEscape(pos[2]), nil, nil, &v); err != nil {
			return nil, err
		}
		if !asJSON {
			printFormView(out, v)
		}
		return v, nil
	case "submit":
		body, err := os.ReadFile(pos[2])
		if err != nil {
			return nil, err
		}
		if !json.Valid(body) {
			return nil, fmt.Errorf("%s is not valid JSON", pos[2])
		}
		var v admin.FormVersion
		if err := call(ctx, c, "POST", base+"/admin/v1/forms", nil, json.RawMessage(body), &v); err != nil {
			return nil, err
		}
		if !asJSON {
			if v.Checks != nil {
				fmt.Fprintf(out, "checks passed: schema binding, %d golden renders scanned for personal data\n", len(v.Checks.Goldens))
				if v.Checks.Diff == "" {
					fmt.Fprintln(out, "no printed text changes against the active version")
				} else {
					fmt.Fprintf(out, "printed text changes against the active version: see minwon admin forms show %s\n", v.Service)
				}
			}
			fmt.Fprintf(out, "%s v%d is %s: it needs two approvals by officials other than you, one of them a privacy officer\n", v.Kind, v.Version, v.State)
			fmt.Fprintf(out, "%s %d\n", v.Service, v.Version)
		}
		return v, nil
	case "approve":
		var v admin.FormVersion
		if err := call(ctx, c, "POST", base+"/admin/v1/forms/"+url.PathEscape(pos[2])+"/"+string(kind)+"/"+pos[3]+"/approve", nil, nil, &v); err != nil {
			return nil, err
		}
		if !asJSON {
			switch v.State {
			case governance.Submitted:
				fmt.Fprintf(out, "approved; %s %s v%d waits for a second approval (one of the two by a privacy officer)\n", v.Service, v.Kind, v.Version)
			case governance.Canary:
				fmt.Fprintf(out, "approved; %s v%d now serves a share of requests as a canary and becomes active if it serves well\n", v.Service, v.Version)
			default:
				fmt.Fprintf(out, "approved; %s %s v%d is %s\n", v.Service, v.Kind, v.Version, v.State)
			}
		}
		return v, nil
	case "reject":
		var v admin.FormVersion
		if err := call(ctx, c, "POST", base+"/admin/v1/forms/"+url.PathEscape(pos[2])+"/"+string(kind)+"/"+pos[3]+"/reject", nil, admin.ReasonRequest{Reason: reason}, &v); err != nil {
			return nil, err
		}
		if !asJSON {
			fmt.Fprintf(out, "%s %s v%d rejected\n", v.Service, v.Kind, v.Version)
		}
		return v, nil
	case "rollback":
		if reason == "" {
			reason = "rolled back by an operator"
		}
		var rep governance.RollbackReport
		if err := call(ctx, c, "POST", base+"/admin/v1/forms/"+url.PathEscape(pos[2])+"/rollback", nil, admin.RollbackRequest{Reason: reason, Revoke: revoke}, &rep); err != nil {
			return nil, err
		}
		if !asJSON {
			fmt.Fprintf(out, "%s v%d rolled back; v%d serves now\n", rep.Service, rep.Version, rep.Serving)
			fmt.Fprintf(out, "%d documents were issued with v%d; %d revoked\n", len(rep.Documents), rep.Version, rep.Revoked)
			for _, n := range rep.Documents {
				fmt.Fprintf(out, "  %s\n", n)
			}
			if rep.Incident != "" {
				fmt.Fprintf(out, "incident %s opened\n", rep.Incident)
			}
		}
		return rep, nil
	}
	return nil, fmt.Errorf("unknown forms command %q", pos[1])
}

func printFormView(out io.Writer, v governance.ServiceView) {
	fmt.Fprintf(out, "%s\n\n", v.Service)
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tVERSION\tSTATE\tAUTHOR\tAPPROVALS\tDIGEST")
	for _, x := range v.Versions {
		fmt.Fprintf(tw, "%s\tv%d\t%s\t%s\t%s\t%.16s\n", x.Kind, x.Version, x.State, x.Author, strings.Join(x.Approvals, ", "), x.Digest)
	}
	tw.Flush()
	for _, x := range v.Versions {
		if x.State != governance.Submitted && x.State != governance.Canary {
			continue
		}
		if x.State == governance.Canary {
			fmt.Fprintf(out, "\ncanary v%d since %s: %d documents, %d refused\n", x.Version, x.Canary.StartedAt.Format("2006-01-02 15:04"), x.Canary.Issued, x.Canary.Refused)
		}
		if x.Checks == nil {
			continue
		}
		var cases []string
		for _, g := range x.Checks.Goldens {
			cases = append(cases, g.Case)
		}
		fmt.Fprintf(out, "\n%s v%d: golden renders checked (%s)\n", x.Kind, x.Version, strings.Join(cases, "; "))
		if x.Checks.Diff == "" {
			fmt.Fprintln(out, "no printed text changes against the active version")
		} else {
			fmt.Fprintf(out, "printed text, active version (-) against v%d (+):\n%s", x.Version, x.Checks.Diff)
		}
	}
	fmt.Fprintln(out, "\nhistory:")
	for _, e := range v.History {
		fmt.Fprintf(out, "  %s  %s v%d  %-20s %s  %s\n", e.At.Format("2006-01-02 15:04:05"), e.Kind, e.Version, e.Action, e.Actor, e.Note)
	}
}
