package issuance

import (
	"fmt"
	"time"

	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/render"
)

// PreviewNumber is the issuance number every preview carries: a valid
// number that is never issued, so previews of two versions differ only
// where the versions do.
const PreviewNumber = "1234567890123452"

// Preview lays out, renders and pre-checks svc's document about subject
// from records exactly as Issue would, as the subject's own request, at
// time at. It signs, stores and logs nothing. It returns the strings drawn
// in the PDF, the *RefusedError pre-issuance verification would answer, or
// a *NotIssuableError when the case has no school the certificate could
// be from.
// Form governance runs it on synthetic subjects before a template version
// reaches anyone.
func Preview(r *render.Renderer, svc *form.Service, sch *form.Schema, records []*linkage.Record, subject string, relation form.Requester, opts Options, at time.Time) ([]string, error) {
	if err := form.Bind(svc, sch); err != nil {
		return nil, refuse(RuleSchema, "%v", err)
	}
	byDataset := make(map[string]*linkage.Record, len(records))
	for _, rec := range records {
		byDataset[rec.Agency+"."+rec.Dataset] = rec
	}
	// The schema's conditions (no 납세증명서 in arrears) are not applied:
	// a preview checks what the template would print for every edge case,
	// even one the law keeps from being issued today.
	school, err := chooseSchool(svc, byDataset, opts.SchoolLevel)
	if err != nil {
		return nil, err
	}
	fields, err := assemble(svc, byDataset, subject, opts, school)
	if err != nil {
		return nil, refuse(RuleUndeclared, "the agency data did not fit the template: %v", err)
	}
	prep := &prepared{svc: svc, schema: sch, subject: subject, fields: fields, school: school, issuedAt: at.UTC().Truncate(time.Millisecond),
		req: Request{Purpose: opts.Purpose}}
	doc := prep.document(PreviewNumber, "https://minwon.example/verify")
	out, err := r.Render(toRender(doc))
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", svc.ID, err)
	}
	if err := verify(&check{
		service: svc, schema: sch, approvedDigest: svc.Digest, subject: subject, requester: subject,
		relation: relation, opts: opts, records: records, doc: doc, rendered: out.Text,
	}); err != nil {
		return nil, err
	}
	return out.Text, nil
}
