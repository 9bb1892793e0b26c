// Package access decides who may act for whom: a citizen for themself, for
// a member of their household, for their minor child; a corporate
// representative or authorised employee for their corporation. The
// relations come from the agencies' own records, fetched through linkage,
// never from what the caller claims.
//
// Package access never returns another person's data to a caller who is not
// related to them; a refusal does not reveal whether the subject exists.
package access

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/minwon/minwon/internal/auth"
	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/linkage"
)

// ErrForbidden: the caller may not request this service for this subject.
var ErrForbidden = errors.New("not allowed to request this for that subject")

// fetcher is the part of linkage access needs.
type fetcher interface {
	Fetch(ctx context.Context, purpose, agency, dataset, subject string, fields []string) (*linkage.Record, error)
}

// Resolver looks up relations and authorises requests.
type Resolver struct {
	links fetcher
	now   func() time.Time
}

// NewResolver returns a resolver that asks the agencies through links.
func NewResolver(links fetcher) *Resolver { return &Resolver{links: links, now: time.Now} }

// Relation is one subject the caller may act for besides themself.
type Relation struct {
	Subject  string `json:"subject"`
	Name     string `json:"name"`
	Relation string `json:"relation"` // household_member, child or corporation
	Minor    bool   `json:"minor,omitempty"`
	Role     string `json:"role,omitempty"` // for a corporation: representative or employee
}

// Profile is the caller as the agencies know them.
type Profile struct {
	Subject   string     `json:"subject"`
	Name      string     `json:"name"`
	Relations []Relation `json:"relations"`
}

// AdultAge is the age of majority under the Civil Act (민법 제4조).
const AdultAge = 19

// Profile returns the caller's name and everyone they may act for.
func (r *Resolver) Profile(ctx context.Context, p auth.Principal) (*Profile, error) {
	if p.Kind == "corporate" {
		rec, err := r.links.Fetch(ctx, form.PurposeCorporations, linkage.Tax, "corporation", p.Subject, []string{"company_name"})
		if err != nil {
			return nil, fmt.Errorf("look up corporation: %w", err)
		}
		corp, err := rec.Corporation()
		if err != nil {
			return nil, err
		}
		return &Profile{Subject: p.Subject, Name: corp.CompanyName, Relations: []Relation{}}, nil
	}
	rec, err := r.links.Fetch(ctx, form.PurposeRelations, linkage.Registry, "person", p.Subject, []string{"name", "relation", "members"})
	if err != nil {
		return nil, fmt.Errorf("look up household: %w", err)
	}
	me, err := rec.Person()
	if err != nil {
		return nil, err
	}
	prof := &Profile{Subject: p.Subject, Name: me.Name, Relations: []Relation{}}
	for _, m := range me.Members {
		if m.Subject == p.Subject {
			continue
		}
		rel := Relation{Subject: m.Subject, Name: m.Name, Relation: "household_member"}
		if isParentChild(me.Relation, m.Relation) {
			rel.Relation = "child"
			rel.Minor = r.isMinor(m.BirthDate)
		}
		prof.Relations = append(prof.Relations, rel)
	}
	corps, err := r.corporations(ctx, p.Subject)
	if err != nil {
		return nil, err
	}
	for _, c := range corps {
		prof.Relations = append(prof.Relations, Relation{Subject: c.Subject, Name: c.Name, Relation: "corporation", Role: c.Role})
	}
	return prof, nil
}

func (r *Resolver) corporations(ctx context.Context, subject string) ([]linkage.CorporateRole, error) {
	rec, err := r.links.Fetch(ctx, form.PurposeCorporations, linkage.Tax, "taxpayer", subject, []string{"corporations"})
	if errors.Is(err, linkage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up corporations: %w", err)
	}
	tp, err := rec.Taxpayer()
	if err != nil {
		return nil, err
	}
	return tp.Corporations, nil
}

// isParentChild: the household head and spouse are the parents of the
// head's children as the registry records them.
func isParentChild(requester, subject string) bool {
	return (requester == "head" || requester == "spouse") && subject == "child"
}

func (r *Resolver) isMinor(birthDate string) bool {
	b, err := time.Parse("2006-01-02", birthDate)
	if err != nil {
		return false // unknown age: never grant a minor's parent rights on it
	}
	return b.AddDate(AdultAge, 0, 0).After(r.now())
}

// requesterFor is the one rule of who may request svc for whom: the relation
// under which a caller of kind callerKind may request it for themself (self)
// or for a subject related to them as rel says, or "" if they may not.
// Authorize and Choices both decide through it; rel comes from the
// agencies' records, never from the caller.
func requesterFor(svc *form.Service, callerKind string, self bool, rel Relation) form.Requester {
	if callerKind == "corporate" {
		// A corporate account is its representative acting for the
		// corporation, and for nothing else.
		if self && svc.SubjectKind == form.CorporationSubject && svc.Allows(form.CorporateRepresentative) {
			return form.CorporateRepresentative
		}
		return ""
	}
	if svc.SubjectKind == form.CorporationSubject {
		switch {
		case self || rel.Relation != "corporation":
			return ""
		case rel.Role == "representative" && svc.Allows(form.CorporateRepresentative):
			return form.CorporateRepresentative
		case rel.Role == "employee" && svc.Allows(form.CorporateEmployee):
			return form.CorporateEmployee
		}
		return ""
	}
	if self {
		if svc.Allows(form.Self) {
			return form.Self
		}
		return ""
	}
	if rel.Relation != "household_member" && rel.Relation != "child" {
		return ""
	}
	if svc.Allows(form.HouseholdMember) {
		return form.HouseholdMember
	}
	if svc.Allows(form.ParentOfMinor) && rel.Relation == "child" && rel.Minor {
		return form.ParentOfMinor
	}
	return ""
}

// Choice is one subject a caller may request a service for.
type Choice struct {
	Subject  string
	Name     string
	Self     bool
	Relation string         // as in Relation; "" for self
	As       form.Requester // the relation the request would be made under
}

// Choices lists whom the caller with profile prof may request svc for,
// themself first: exactly the subjects a request form should offer.
// Authorize still decides each request against fresh agency records.
func Choices(p auth.Principal, prof *Profile, svc *form.Service) []Choice {
	var out []Choice
	if as := requesterFor(svc, p.Kind, true, Relation{}); as != "" {
		out = append(out, Choice{Subject: p.Subject, Name: prof.Name, Self: true, As: as})
	}
	for _, rel := range prof.Relations {
		if rel.Subject == p.Subject {
			continue
		}
		if as := requesterFor(svc, p.Kind, false, rel); as != "" {
			out = append(out, Choice{Subject: rel.Subject, Name: rel.Name, Relation: rel.Relation, As: as})
		}
	}
	return out
}

// Authorize returns the relation under which p may request svc for subject,
// or ErrForbidden. Subject "" means the caller themself.
func (r *Resolver) Authorize(ctx context.Context, p auth.Principal, svc *form.Service, subject string) (form.Requester, error) {
	if p.Kind == auth.KindOfficial {
		// An official at the counter acts for the citizen in front of
		// them, whose identity they checked in person; the service decides
		// whether the counter may issue it.
		if subject != "" && svc.Allows(form.CounterOfficial) {
			return form.CounterOfficial, nil
		}
		return "", ErrForbidden
	}
	if subject == "" {
		subject = p.Subject
	}
	self := subject == p.Subject
	if p.Kind == "corporate" || self {
		if as := requesterFor(svc, p.Kind, self, Relation{}); as != "" {
			return as, nil
		}
		return "", ErrForbidden
	}
	if svc.SubjectKind == form.CorporationSubject {
		corps, err := r.corporations(ctx, p.Subject)
		if err != nil {
			return "", err
		}
		for _, c := range corps {
			if c.Subject != subject {
				continue
			}
			if as := requesterFor(svc, p.Kind, false, Relation{Relation: "corporation", Role: c.Role}); as != "" {
				return as, nil
			}
		}
		return "", ErrForbidden
	}
	if !svc.Allows(form.HouseholdMember) && !svc.Allows(form.ParentOfMinor) {
		return "", ErrForbidden
	}
	rec, err := r.links.Fetch(ctx, form.PurposeRelations, linkage.Registry, "person", p.Subject, []string{"relation", "members"})
	if err != nil {
		return "", fmt.Errorf("look up household: %w", err)
	}
	me, err := rec.Person()
	if err != nil {
		return "", err
	}
	for _, m := range me.Members {
		if m.Subject != subject {
			continue
		}
		rel := Relation{Relation: "household_member"}
		if isParentChild(me.Relation, m.Relation) {
			rel = Relation{Relation: "child", Minor: r.isMinor(m.BirthDate)}
		}
		if as := requesterFor(svc, p.Kind, false, rel); as != "" {
			return as, nil
		}
	}
	return "", ErrForbidden
}
