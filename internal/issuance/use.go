package issuance

import (
	"context"
	"fmt"

	"github.com/minwon/minwon/internal/audit"
	"github.com/minwon/minwon/internal/auth"
	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/notify"
)

// useOf is the audit record of issuing prep as number: Request.Use with
// what the pipeline knows filled in.
func (p *Pipeline) useOf(ctx context.Context, prep *prepared, number string) (audit.Event, error) {
	e := prep.req.Use
	if e.ActorKind == "" {
		e.ActorKind, e.Actor = audit.Citizen, prep.req.Principal.Login
	}
	if e.Action == "" {
		e.Action = audit.ActIssuance
		if prep.relation == form.CounterOfficial {
			e.Action = audit.ActCounterIssuance
		}
	}
	if e.Role == "" {
		e.Role = string(prep.relation)
	}
	audit.Stamp(ctx, &e)
	e.Service, e.Subject, e.Number, e.At = prep.svc.ID, prep.subject, number, prep.issuedAt
	if err := audit.Prepare(&e, p.now); err != nil {
		return audit.Event{}, err
	}
	return e, nil
}

// issuedNotice is the 교부 사실 통보 for an issuance to someone other than
// its subject; tell is false for a citizen's own document.
func (p *Pipeline) issuedNotice(prep *prepared, is Issuance) (n notify.Notice, tell bool) {
	if prep.subject == prep.req.Principal.Subject && prep.relation != form.CounterOfficial {
		return notify.Notice{}, false
	}
	who := map[form.Requester]string{
		form.HouseholdMember:         "a member of your household (세대원)",
		form.ParentOfMinor:           "your parent or guardian (법정대리인)",
		form.CorporateRepresentative: "your corporation's representative (법인 대표자)",
		form.CorporateEmployee:       "an employee of your corporation (법인 직원)",
		form.CounterOfficial:         "an official at " + prep.req.Use.Office + " (민원 창구)",
	}[prep.relation]
	if who == "" {
		who = "another person"
	}
	actor := prep.req.Principal.Login
	if prep.req.Principal.Kind == auth.KindOfficial {
		actor = prep.req.Use.Actor
	}
	n = notify.Notice{
		ID:      "issued-" + is.Number, // one notice per document, whatever retries
		Subject: prep.subject,
		Kind:    notify.KindIssuedToOther,
		Number:  is.Number,
		Title:   fmt.Sprintf("%s 교부 사실 통보 · A document about you was issued", prep.svc.TitleKo),
		Body: fmt.Sprintf("%s (%s) was issued to %s [%s] on %s. If you did not expect this, see who used your data under 개인정보 이용 내역 (access log).",
			prep.svc.TitleKo, prep.svc.Title, who, actor, is.IssuedAt.Format("2006-01-02 15:04 MST")),
	}
	if err := notify.Prepare(&n, p.now()); err != nil {
		// Our own text tripped the fail-closed RRN finder (an official's
		// office or a login with many digits): say less rather than
		// tell nothing.
		n.Body = fmt.Sprintf("%s (%s) was issued to %s. See 개인정보 이용 내역 (access log).", prep.svc.TitleKo, prep.svc.Title, who)
		if err := notify.Prepare(&n, p.now()); err != nil {
			return notify.Notice{}, false
		}
	}
	return n, true
}
