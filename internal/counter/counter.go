// Package counter serves the officials' channel on its own mutual-TLS
// listener (/counter/v1): an official at a community centre issues a
// certificate for a citizen standing in front of them, identified by
// resident registration number (or a corporation by business number) after
// an identity document was checked in person.
//
// The official's identity, office and role come from the verified client
// certificate; whether that certificate may still act comes from revocation
// data refreshed in the background (pki.Checker). No request waits on a
// central validation service, so its outage cannot stop the counter.
// Every counter issuance is audited with the official and office. Package
// counter never logs or echoes a resident registration number.
package counter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/minwon/minwon/internal/audit"
	"github.com/minwon/minwon/internal/auth"
	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/guard"
	"github.com/minwon/minwon/internal/httpjson"
	"github.com/minwon/minwon/internal/ident"
	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/pki"
)

// Credentials says whether a verified certificate may act now
// (pki.Checker). It must answer from memory: it is on every request path.
type Credentials = pki.CredentialChecker

// issuer is the issuance pipeline as the counter uses it.
type issuer interface {
	Issue(ctx context.Context, r issuance.Request) (*issuance.Issued, error)
	Get(ctx context.Context, p auth.Principal, number string) (*issuance.Issued, error)
	Files(ctx context.Context, p auth.Principal, number string) (pdf, data []byte, err error)
}

// subjects finds whom a number belongs to.
type subjects interface {
	PersonByRRN(ctx context.Context, rrn string) (string, error)
	CorporationByBusinessNumber(ctx context.Context, brn string) (string, error)
}

type limiter interface {
	Check(ctx context.Context, principal, action, subject string) error
}

type auditor interface {
	Record(ctx context.Context, e audit.Event) error
}

// Server holds the counter's collaborators.
type Server struct {
	Catalog     *form.Catalog
	Credentials Credentials
	Issuer      issuer
	Subjects    subjects
	Audit       auditor
	// Guard, if set, blocks an official who looks up too many different
	// citizens (a *guard.Guard).
	Guard limiter
	// Cases, if set, serves the review queue of applications, counter
	// submissions and retroactive entries (a *casework.Service).
	Cases cases
	Log   *slog.Logger
}

// errBadInput names what is wrong with a counter request's body.
func errBadInput(msg string) error { return fmt.Errorf("%w: %s", issuance.ErrBadRequest, msg) }

// IdentityMethods are the identity documents an official may check.
var IdentityMethods = []string{"resident_card", "driver_license", "passport", "disability_card", "mobile_id"}

// Official is the caller of a counter request, from its certificate.
type Official struct{ pki.Caller }

// Principal is how the issuance pipeline knows an official.
func (o Official) Principal() auth.Principal {
	return auth.Principal{Login: "official:" + o.ID, Kind: auth.KindOfficial}
}

// Handler returns the counter routes. It must be served with a TLS config
// from pki.ServerTLS, which has already verified the client certificate.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /counter/v1/status", s.official(false, s.status))
	mux.HandleFunc("POST /counter/v1/issuances", s.official(true, s.issue))
	mux.HandleFunc("GET /counter/v1/issuances/{number}", s.official(true, s.get))
	mux.HandleFunc("GET /counter/v1/issuances/{number}/document.pdf", s.official(true, s.file("application/pdf", 0)))
	mux.HandleFunc("GET /counter/v1/issuances/{number}/data.json", s.official(true, s.file("application/json", 1)))
	s.caseRoutes(mux)
	mux.HandleFunc("/counter/v1/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, issuance.ErrNotFound)
	})
	return httpjson.NoStore(mux)
}

// official identifies the caller from the verified certificate and, when
// acting, refuses a locked credential. The decision uses only what is in
// memory: no call to a validation service.
func (s *Server) official(acting bool, h func(http.ResponseWriter, *http.Request, Official)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := pki.CallerOf(r.TLS, s.Credentials)
		if err == nil && acting {
			err = c.Acting()
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		h(w, r.WithContext(audit.WithOrigin(r.Context(), r.RemoteAddr)), Official{c})
	}
}

// StatusJSON is the answer of GET /counter/v1/status.
type StatusJSON struct {
	Official   string `json:"official"`
	Name       string `json:"name"`
	Office     string `json:"office"`
	Role       string `json:"role"`
	Credential string `json:"credential"`
	GraceUntil string `json:"grace_until,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

func (s *Server) status(w http.ResponseWriter, r *http.Request, o Official) {
	out := StatusJSON{Official: o.ID, Name: o.Name, Office: o.Office, Role: string(o.Role), Credential: string(o.Status.State), Reason: o.Status.Reason}
	if !o.Status.GraceUntil.IsZero() {
		out.GraceUntil = o.Status.GraceUntil.UTC().Format(time.RFC3339)
	}
	httpjson.Write(w, http.StatusOK, out)
}

// IssueRequest is the body of POST /counter/v1/issuances.
type IssueRequest struct {
	Service        string `json:"service"`
	SubjectRRN     string `json:"subject_rrn,omitempty"`
	BusinessNumber string `json:"business_number,omitempty"`
	IdentityCheck  struct {
		Method   string `json:"method"`
		Verified bool   `json:"verified"`
	} `json:"identity_check"`
	Purpose string `json:"purpose"`
	Options struct {
		ShowRRNBack        bool `json:"show_rrn_back"`
		ShowRelations      bool `json:"show_relations"`
		ShowMemberRRNBack  bool `json:"show_member_rrn_back"`
		ShowAddressHistory bool `json:"show_address_history"`
		// The choices, as on the portal (apiwire.IssuanceOptions).
		SchoolLevel string `json:"school_level"`
		Purpose     string `json:"purpose"`
	} `json:"options"`
}

// IssuedJSON is a counter issuance as answered: the fields of a portal
// issuance, with paths on the counter listener.
type IssuedJSON struct {
	Number   string `json:"number"`
	Service  string `json:"service"`
	Subject  string `json:"subject"`
	IssuedAt string `json:"issued_at"`
	LogIndex int64  `json:"log_index"`
	SHA256   string `json:"sha256"`
	Document string `json:"document"`
	Data     string `json:"data"`
	Verify   string `json:"verify"`
}

func toJSON(is *issuance.Issued) IssuedJSON {
	base := "/counter/v1/issuances/" + string(is.Number)
	return IssuedJSON{
		Number: string(is.Number), Service: is.Service, Subject: is.Subject,
		IssuedAt: is.IssuedAt.UTC().Format(time.RFC3339Nano), LogIndex: is.LogIndex, SHA256: is.SHA256,
		Document: base + "/document.pdf", Data: base + "/data.json", Verify: "/verify/" + string(is.Number),
	}
}

func (s *Server) issue(w http.ResponseWriter, r *http.Request, o Official) {
	if err := o.May(pki.CounterClerk); err != nil {
		s.fail(w, r, err)
		return
	}
	var in IssueRequest
	if !httpjson.Decode(w, r, &in) {
		return
	}
	svc := s.Catalog.Service(in.Service)
	switch {
	case svc == nil:
		s.fail(w, r, issuance.ErrUnknownService)
		return
	case svc.Kind != form.Certificate:
		s.fail(w, r, issuance.ErrNotCertificate)
		return
	case !svc.Allows(form.CounterOfficial):
		s.fail(w, r, issuance.ErrNotAtCounter)
		return
	}
	if !in.IdentityCheck.Verified || !slices.Contains(IdentityMethods, in.IdentityCheck.Method) {
		s.fail(w, r, issuance.ErrIdentityNotChecked)
		return
	}
	purpose := strings.TrimSpace(in.Purpose)
	if purpose == "" || utf8.RuneCountInString(purpose) > 200 || strings.ContainsAny(purpose, "\n\r=") {
		s.fail(w, r, errBadInput("purpose (1–200 characters, one line) is required"))
		return
	}
	if ident.ContainsRRN(purpose) {
		s.fail(w, r, issuance.ErrPurposeHasRRN)
		return
	}
	var subject string
	var err error
	switch {
	case svc.SubjectKind == form.CorporationSubject && in.BusinessNumber != "" && in.SubjectRRN == "":
		var brn string
		if brn, err = ident.ParseBusinessNumber(in.BusinessNumber); err != nil {
			s.fail(w, r, errBadInput("business_number is not a valid business registration number"))
			return
		}
		subject, err = s.Subjects.CorporationByBusinessNumber(r.Context(), brn)
	case svc.SubjectKind != form.CorporationSubject && in.SubjectRRN != "" && in.BusinessNumber == "":
		var rrn string
		if rrn, err = ident.ParseRRN(in.SubjectRRN); err != nil {
			s.fail(w, r, errBadInput("subject_rrn is not a valid resident registration number"))
			return
		}
		subject, err = s.Subjects.PersonByRRN(r.Context(), rrn)
	case svc.SubjectKind == form.CorporationSubject:
		s.fail(w, r, errBadInput(svc.ID+" is about a corporation: give business_number only"))
		return
	default:
		s.fail(w, r, errBadInput(svc.ID+" is about a person: give subject_rrn only"))
		return
	}
	if err = s.counted(r.Context(), o, subject, err); err != nil {
		s.fail(w, r, err)
		return
	}
	// The issuance's audit record is written in the transaction that
	// stores the document: no document leaves without it, and a retry
	// with the same Idempotency-Key returns the same document and record.
	use := audit.Event{
		ActorKind: audit.Official, Actor: o.ID, Role: string(o.Role), Office: o.Office, Action: audit.ActCounterIssuance,
		Purpose: purpose, Detail: "identity_check=" + in.IdentityCheck.Method + " credential=" + string(o.Status.State),
	}
	is, err := s.Issuer.Issue(r.Context(), issuance.Request{
		Principal: o.Principal(), Service: svc.ID, Subject: subject,
		ShowRRNBack: in.Options.ShowRRNBack, ShowRelations: in.Options.ShowRelations,
		ShowMemberRRNBack: in.Options.ShowMemberRRNBack, ShowAddressHistory: in.Options.ShowAddressHistory,
		SchoolLevel: in.Options.SchoolLevel, Purpose: in.Options.Purpose,
		IdempotencyKey: r.Header.Get("Idempotency-Key"), Office: o.Office, Use: use,
	})
	if err != nil {
		// The official found the citizen but no document (and so no
		// record of it) came of it: the look-up itself is recorded.
		lookup := use
		lookup.Action, lookup.Service, lookup.Subject = audit.ActCounterLookup, svc.ID, subject
		if aerr := s.Audit.Record(r.Context(), lookup); aerr != nil {
			err = errors.Join(err, aerr)
		}
		s.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusCreated, toJSON(is))
}

// counted counts a look-up of a citizen by number against the official's
// bulk limits, whether or not the number was found (lookupErr): probing
// for numbers is bulk access too. A limit reached wins over lookupErr.
func (s *Server) counted(ctx context.Context, o Official, subject string, lookupErr error) error {
	if s.Guard != nil {
		if err := s.Guard.Check(ctx, o.Principal().Login, guard.Lookup, subject); err != nil {
			return err
		}
	}
	return lookupErr
}

func (s *Server) get(w http.ResponseWriter, r *http.Request, o Official) {
	is, err := s.Issuer.Get(r.Context(), o.Principal(), r.PathValue("number"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, toJSON(is))
}

// file serves the PDF (which 0) or data.json (which 1) of a document this
// official issued.
func (s *Server) file(contentType string, which int) func(http.ResponseWriter, *http.Request, Official) {
	return func(w http.ResponseWriter, r *http.Request, o Official) {
		pdf, data, err := s.Issuer.Files(r.Context(), o.Principal(), r.PathValue("number"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		body := pdf
		if which == 1 {
			body = data
		}
		w.Header().Set("Content-Type", contentType)
		w.Write(body)
	}
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	httpjson.Fail(w, r, s.Log, err)
}
