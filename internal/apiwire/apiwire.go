// Package apiwire declares the JSON API's request and answer bodies once, for
// the server (package api) and its clients (apptest, loadtest, scripts in
// Go). Field names and JSON tags are the public contract of
// /work/shared/API.md: extend them, never rename them.
//
// It imports only the standard library, so a client needs nothing else, and
// has no behaviour. The answers of POST /api/v1/verify and GET /api/v1/keys
// are verification.ResultJSON and verification.KeySetJSON: offline
// verifiers read those files too, so they belong to verification.
package apiwire

import "encoding/json"

// ErrorBody is every error answer: {"error":{"code","message"}}.
type ErrorBody struct {
	Error Error `json:"error"`
}

// Error is the error itself. Code is snake_case and stable; Message is for
// people. Rule names the failed check of a pre_issuance_refused answer.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Rule    string `json:"rule,omitempty"`
}

// LoginRequest is the body of POST /api/v1/login.
type LoginRequest struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

// LoginResponse is its answer; the token goes in Authorization: Bearer.
type LoginResponse struct {
	Token     string `json:"token"`
	ExpiresAt string `json:"expires_at"` // RFC 3339
	// OtherSessions counts the account's other live sessions (absent if
	// they could not be counted); POST /api/v1/sessions/end-others ends
	// them.
	OtherSessions *int `json:"other_sessions,omitempty"`
}

// EndOthersResponse is the answer of POST /api/v1/sessions/end-others.
type EndOthersResponse struct {
	Ended int `json:"ended"` // how many sessions were ended
}

// LogoutResponse is the answer of POST /api/v1/logout.
type LogoutResponse struct {
	Status string `json:"status"` // "logged_out"
}

// Profile is the answer of GET /api/v1/me: the caller and whom they may act
// for.
type Profile struct {
	Subject   string     `json:"subject"`
	Name      string     `json:"name"`
	Relations []Relation `json:"relations"`
}

// Relation is one subject the caller may act for besides themself.
type Relation struct {
	Subject  string `json:"subject"`
	Name     string `json:"name"`
	Relation string `json:"relation"` // household_member, child or corporation
	Minor    bool   `json:"minor,omitempty"`
	Role     string `json:"role,omitempty"` // for a corporation: representative or employee
}

// Service is one entry of GET /api/v1/services.
type Service struct {
	ID         string   `json:"id"`
	Kind       string   `json:"kind"` // certificate, application, report or lookup
	Title      string   `json:"title"`
	TitleKo    string   `json:"title_ko"`
	Agency     string   `json:"agency"`
	Requesters []string `json:"requesters"`
	Version    int      `json:"version"`
}

// IssuanceRequest is the body of POST /api/v1/issuances (with an
// Idempotency-Key header). Subject "" is the caller.
type IssuanceRequest struct {
	Service string          `json:"service"`
	Subject string          `json:"subject,omitempty"`
	Options IssuanceOptions `json:"options,omitzero"`
}

// IssuanceOptions are the requester's choices for one document.
type IssuanceOptions struct {
	ShowRRNBack bool `json:"show_rrn_back"`
	// On resident registration documents, since 2020 only basic items are
	// shown unless asked for.
	ShowRelations      bool `json:"show_relations,omitempty"`
	ShowMemberRRNBack  bool `json:"show_member_rrn_back,omitempty"`
	ShowAddressHistory bool `json:"show_address_history,omitempty"`
	// The choices (form.Choices): an education certificate's school level
	// (elementary, middle, high, university; omitted = the latest that
	// qualifies) and a tax certificate's purpose (payment_receipt,
	// emigration, submission, other).
	SchoolLevel string `json:"school_level,omitempty"`
	Purpose     string `json:"purpose,omitempty"`
}

// Issued is an issued document: the answer of POST /api/v1/issuances and
// GET /api/v1/issuances/{number}, and each entry of GET /api/v1/issuances.
// Document, Data and Verify are paths on the same server.
type Issued struct {
	Number   string `json:"number"`
	Service  string `json:"service"`
	Subject  string `json:"subject"`
	IssuedAt string `json:"issued_at"` // RFC 3339 with fractions
	LogIndex int64  `json:"log_index"`
	SHA256   string `json:"sha256"`
	Document string `json:"document"`
	Data     string `json:"data"`
	Verify   string `json:"verify"`
	// Credential is the path of the document as an SD-JWT VC for wallets.
	Credential string `json:"credential,omitempty"`
}

// VerifyRequest is the JSON body of POST /api/v1/verify; SHA256 (lowercase
// hex of the PDF) may be left out to check the number alone.
type VerifyRequest struct {
	Number string `json:"number"`
	SHA256 string `json:"sha256,omitempty"`
}

// CheckCodeRequest is the body of POST /api/v1/verify/{number}/document
// and /document.pdf: the document-check code printed on the paper, with or
// without its dashes.
type CheckCodeRequest struct {
	Code string `json:"code"`
}

// CheckedDocument answers POST /api/v1/verify/{number}/document: the
// document as issued, for the holder of its number and check code. Data is
// its signed data.json (which `minwon verify` checks); Status is its
// verdict now (valid or revoked), as POST /api/v1/verify gives it.
type CheckedDocument struct {
	Number   string          `json:"number"`
	Service  string          `json:"service"`
	Status   string          `json:"status"`
	Message  string          `json:"message,omitempty"`
	Document string          `json:"document"` // POST the code there for the PDF
	Data     json.RawMessage `json:"data"`
}

// AccessEntry is one use of the caller's personal data
// (GET /api/v1/access-log).
type AccessEntry struct {
	At        string `json:"at"`
	ActorKind string `json:"actor_kind"` // citizen, official, operator or public (a document-check code holder)
	Actor     string `json:"actor"`
	Role      string `json:"role,omitempty"`   // self, household_member, counter_clerk, auditor, ...
	Office    string `json:"office,omitempty"` // an official's office
	Action    string `json:"action"`
	Service   string `json:"service,omitempty"`
	Number    string `json:"number,omitempty"`
	Purpose   string `json:"purpose,omitempty"`
}

// Notice is one notice in the caller's inbox (GET /api/v1/notifications).
type Notice struct {
	ID     string `json:"id"`
	At     string `json:"at"`
	Kind   string `json:"kind"`
	Title  string `json:"title"`
	Body   string `json:"body"`
	Number string `json:"number,omitempty"` // the issuance number the notice is about
	Read   bool   `json:"read"`
}

// ApplicationRequest is the body of POST /api/v1/applications.
type ApplicationRequest struct {
	Service string          `json:"service"`
	Subject string          `json:"subject,omitempty"`
	Payload json.RawMessage `json:"payload"`
}

// ApplicationAccepted answers POST /api/v1/applications (202).
type ApplicationAccepted struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// Application is one application or report with its history.
type Application struct {
	ID          string `json:"id"`
	Service     string `json:"service"`
	Kind        string `json:"kind"`
	Subject     string `json:"subject"`
	Status      string `json:"status"`
	CreatedAt   string `json:"created_at"`
	Retroactive bool   `json:"retroactive,omitempty"`
	// WaitingFor names the agency a queued submission waits for, after a
	// failed attempt, and when it is tried next.
	WaitingFor    string              `json:"waiting_for,omitempty"`
	NextAttemptAt string              `json:"next_attempt_at,omitempty"`
	History       []ApplicationStatus `json:"history"`
	// Payload is shown to the reviewing official (the counter) only.
	Payload json.RawMessage `json:"payload,omitempty"`
}

// ApplicationStatus is one step of an application's history.
type ApplicationStatus struct {
	At          string `json:"at"`
	Status      string `json:"status"`
	Note        string `json:"note"`
	Retroactive bool   `json:"retroactive,omitempty"`
}

// Lookup is the data a lookup service shows: no document is issued.
type Lookup struct {
	Service string                     `json:"service"`
	Subject string                     `json:"subject"`
	At      string                     `json:"at"`
	Data    map[string]json.RawMessage `json:"data"` // key → value, as in fields
	Fields  []LookupField              `json:"fields"`
}

// LookupField is one labelled value of a lookup.
type LookupField struct {
	Key     string          `json:"key"`
	Label   string          `json:"label"`
	LabelKo string          `json:"label_ko"`
	Value   json.RawMessage `json:"value"`
}
