// Package portal declares, once, what the portal's two front ends — the JSON
// API (package api) and the pages (package web) — need from the domain. Both
// call exactly the same collaborators, so the interfaces are declared here
// where both use them rather than twice; and both report service status the
// same way, so Status is here too.
//
// Package portal holds no state and serves nothing; app wires the domain
// objects (sessions, the access resolver, the issuance pipeline, the
// verifier, the linkage client) into api and web through these interfaces.
package portal

import (
	"context"
	"io"
	"time"

	"github.com/minwon/minwon/internal/access"
	"github.com/minwon/minwon/internal/audit"
	"github.com/minwon/minwon/internal/auth"
	"github.com/minwon/minwon/internal/casework"
	"github.com/minwon/minwon/internal/checkcode"
	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/notify"
	"github.com/minwon/minwon/internal/verification"
)

// AgencyHealth reports the linkage layer's view of each agency.
type AgencyHealth interface {
	Status() []linkage.AgencyStatus
}

// Sessions logs people in and out and says who holds a token.
type Sessions interface {
	// Login's client is the caller's address (r.RemoteAddr), which failed
	// logins are throttled by.
	Login(ctx context.Context, login, password, client string) (string, time.Time, auth.Principal, error)
	Authenticate(ctx context.Context, token string) (auth.Principal, error)
	Logout(ctx context.Context, token string) error
	// OtherSessions counts the live sessions of token's account besides
	// token's own; EndOtherSessions ends them.
	OtherSessions(ctx context.Context, token string) (int, error)
	EndOtherSessions(ctx context.Context, token string) (int, error)
}

// Profiles says who the caller is and whom they may act for.
type Profiles interface {
	Profile(ctx context.Context, p auth.Principal) (*access.Profile, error)
}

// Issuer issues documents and hands them to their requester.
type Issuer interface {
	Issue(ctx context.Context, r issuance.Request) (*issuance.Issued, error)
	Get(ctx context.Context, p auth.Principal, number string) (*issuance.Issued, error)
	Files(ctx context.Context, p auth.Principal, number string) (pdf, data []byte, err error)
	List(ctx context.Context, p auth.Principal) ([]*issuance.Issued, error)
}

// AccessLog says who used a citizen's personal data (an audit.View).
type AccessLog interface {
	AccessLog(ctx context.Context, subject string) ([]audit.Event, error)
}

// Inbox holds a citizen's notices (a *notify.Outbox).
type Inbox interface {
	Inbox(ctx context.Context, subject string) ([]notify.Notice, error)
	MarkRead(ctx context.Context, subject, id string) error
}

// Casework takes applications and reports and answers lookups (a
// *casework.Service).
type Casework interface {
	Submit(ctx context.Context, p auth.Principal, in casework.Submission) (*casework.Application, error)
	Get(ctx context.Context, p auth.Principal, id string) (*casework.Application, error)
	List(ctx context.Context, p auth.Principal) ([]*casework.Application, error)
	Lookup(ctx context.Context, p auth.Principal, service, subject string) (*casework.LookupResult, error)
	// Waiting counts the submissions waiting for each agency.
	Waiting(ctx context.Context) (map[string]int, error)
}

// Verifier checks documents by issuance number.
type Verifier interface {
	ByNumber(ctx context.Context, number, sha256hex string) (*verification.Result, error)
	// Statuses gives the verdict on a page of documents at once, without
	// proofs.
	Statuses(ctx context.Context, docs []verification.Doc) (map[string]verification.Status, error)
}

// CheckCodes shows a document to whoever gives its number and its
// document-check code (a *checkcode.Viewer), recording the view as a use
// of the subject's personal data. client is auth.ClientKey of the caller's
// address; what is "fields" or "pdf".
type CheckCodes interface {
	View(ctx context.Context, number, code, client, what string) (*checkcode.Shown, error)
}

// Credentials issues a document as an SD-JWT VC for wallets and serves
// the status list that revokes them (a *credential.Service).
type Credentials interface {
	Credential(ctx context.Context, p auth.Principal, number string) (string, error)
	StatusList(ctx context.Context) (string, error)
}

// Uploads verifies uploaded PDFs, streaming them, a bounded number at once
// (a *verification.Uploads): verification.ErrBusy when full,
// verification.ErrTooLarge past verification.MaxUpload.
type Uploads interface {
	ByPDF(ctx context.Context, pdf io.Reader) (*verification.Result, error)
}

// ServiceStatus is each agency's health and the services it degrades.
type ServiceStatus struct {
	OK       bool // every agency's circuit breaker is closed
	Agencies []linkage.AgencyStatus
	Degraded []*form.Service // services that need an agency that is not
}

// Status reports the agencies' health and the services of the catalog an
// agency that is not healthy (breaker open or half open) degrades.
func Status(cat *form.Catalog, h AgencyHealth) ServiceStatus {
	st := ServiceStatus{OK: true, Agencies: h.Status()}
	down := map[string]bool{}
	for _, a := range st.Agencies {
		if a.State != linkage.Closed {
			down[a.Agency] = true
			st.OK = false
		}
	}
	st.Degraded = cat.Degraded(func(agency string) bool { return down[agency] })
	return st
}
