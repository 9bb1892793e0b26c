// Package httperr owns the one table that turns minwon's domain errors into
// HTTP answers: a status, a snake_case code, the pages' message key, the
// API's message and, where waiting helps, a Retry-After. The JSON API, the
// pages and the admin API all answer from this table, so an error means the
// same thing wherever it surfaces.
//
// Domain errors are matched with errors.Is (sentinels, and typed errors that
// answer Is for their sentinel), so wrapping with context never changes the
// answer. An error no row matches is a 500 whose message says nothing about
// it: only the operators' log sees the error. Package httpjson writes an
// Answer for the API, the counter and the admin API; the pages render it in
// their own shape.
package httperr

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/minwon/minwon/internal/access"
	"github.com/minwon/minwon/internal/audit"
	"github.com/minwon/minwon/internal/auth"
	"github.com/minwon/minwon/internal/casework"
	"github.com/minwon/minwon/internal/checkcode"
	"github.com/minwon/minwon/internal/doclog"
	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/governance"
	"github.com/minwon/minwon/internal/guard"
	"github.com/minwon/minwon/internal/incident"
	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/keyring"
	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/notify"
	"github.com/minwon/minwon/internal/pki"
	"github.com/minwon/minwon/internal/verification"
)

// Answer is what one error becomes on the wire.
type Answer struct {
	Status  int
	Code    string // the API's error code
	Heading string // the pages' heading key; "err.title" unless the row says otherwise
	Key     string // the pages' message key (internal/web/i18n.go)
	Message string // the API's message, in English
	// RetryAfter is the Retry-After header in seconds; 0 sends none.
	RetryAfter int
	Agency     string // the agency at fault, for agency errors
	Rule       string // the pre-issuance rule that refused, for refusals
	Reason     string // why a certificate cannot be issued (form.Reason...), for not_issuable
	// AgencyFault marks an agency that failed or answered unusably: the
	// message key takes the agency's name, and the pages say when to retry.
	AgencyFault bool
	// Internal marks an error that is minwon's own fault: log it for the
	// operators and tell the caller nothing about it.
	Internal bool
}

// RetryAfterHeader is a.RetryAfter as the header's value, or "".
func (a Answer) RetryAfterHeader() string {
	if a.RetryAfter <= 0 {
		return ""
	}
	return strconv.Itoa(a.RetryAfter)
}

// Row is one line of the table.
type Row struct {
	// Err is the sentinel the row matches with errors.Is; nil for a typed
	// error without one (matched with errors.As).
	Err   error
	match func(error) bool
	// Example is an error the row answers, as the domain returns it; the
	// tests drive every row through the handlers with it.
	Example error
	Answer
	// fill completes the answer from the error itself: the agency, the
	// rule, the time to retry, or a message that names the bad input.
	fill func(err error, a *Answer)
}

// agencyRetry is the Retry-After for an agency answer that was refused
// (swapped or unsigned): the next request is a fresh one with a new
// correlation id, so retrying soon is right; it is the circuit breaker's
// default cooldown.
const agencyRetry = 5

// internalMessage is all a caller learns of an error that is our fault.
const internalMessage = "something went wrong on our side; nothing was issued"

var table = []Row{
	// Refusals and agency faults first: they are typed and the most
	// specific, and an issuance error may wrap one.
	{
		match:   isRefused,
		Example: &issuance.RefusedError{Rule: issuance.RuleSubject, Message: "the registry answered about another subject than requested"},
		Answer:  Answer{Status: http.StatusUnprocessableEntity, Code: "pre_issuance_refused", Heading: "refused.title", Key: "refused.lead"},
		fill: func(err error, a *Answer) {
			var refused *issuance.RefusedError
			if errors.As(err, &refused) {
				a.Rule = string(refused.Rule)
				a.Message = "The document was not issued because a safety check failed: " + refused.Message + ". Nothing was issued and the failure was reported."
			}
		},
	},
	{
		Err: linkage.ErrUnavailable, Example: &linkage.UnavailableError{Agency: linkage.Education, RetryAfter: 5 * time.Second},
		Answer: Answer{Status: http.StatusServiceUnavailable, Code: "agency_unavailable", AgencyFault: true, Heading: "down.title", Key: "down.lead", RetryAfter: agencyRetry},
		fill: func(err error, a *Answer) {
			var un *linkage.UnavailableError
			if errors.As(err, &un) {
				a.Agency = un.Agency
				a.RetryAfter, _ = strconv.Atoi(linkage.RetryAfterSeconds(un.RetryAfter))
			}
			a.Message = agencyName(a.Agency) + " is not answering; try again in " + a.RetryAfterHeader() + " seconds"
		},
	},
	// A swapped answer outside issuance (e.g. reading the caller's own
	// household for /me or a request form): nothing was being issued, so it
	// is not a pre-issuance refusal (422); the agency could not give a
	// usable answer just now, which is what 503 with Retry-After says.
	{
		Err: linkage.ErrMismatch, Example: &linkage.MismatchError{Agency: linkage.Registry, What: "correlation id"},
		Answer: Answer{Status: http.StatusServiceUnavailable, Code: "agency_answer_mismatch", AgencyFault: true, Heading: "badanswer.title", Key: "badanswer.lead", RetryAfter: agencyRetry},
		fill: func(err error, a *Answer) {
			var mm *linkage.MismatchError
			if errors.As(err, &mm) {
				a.Agency = mm.Agency
			}
			a.Message = agencyName(a.Agency) + " answered with data for another request; it was discarded and not used; try again in " + a.RetryAfterHeader() + " seconds"
		},
	},
	{
		Err: linkage.ErrIntegrity, Example: &linkage.IntegrityError{Agency: linkage.Tax, Reason: "bad signature"},
		Answer: Answer{Status: http.StatusServiceUnavailable, Code: "agency_answer_invalid", AgencyFault: true, Heading: "badanswer.title", Key: "badanswer.lead", RetryAfter: agencyRetry},
		fill: func(err error, a *Answer) {
			var ie *linkage.IntegrityError
			if errors.As(err, &ie) {
				a.Agency = ie.Agency
			}
			a.Message = agencyName(a.Agency) + "'s answer failed its integrity checks and was not used; try again in " + a.RetryAfterHeader() + " seconds"
		},
	},
	{
		Err:    linkage.ErrNotFound,
		Answer: Answer{Status: http.StatusNotFound, Code: "no_record", Key: "err.norecord", Message: "the agency has no record for this subject"},
	},
	{
		// Our own request named an unknown agency, dataset or field: the
		// catalog and the agency schema disagree. Nothing a caller can fix.
		Err:    linkage.ErrBadRequest,
		Answer: Answer{Status: http.StatusInternalServerError, Code: "internal", Key: "err.internal", Message: internalMessage, Internal: true},
	},

	// Sessions.
	{
		Err:    auth.ErrBadCredentials,
		Answer: Answer{Status: http.StatusUnauthorized, Code: "invalid_credentials", Key: "login.bad", Message: "wrong login or password"},
	},
	{
		Err:    auth.ErrMismatch,
		Answer: Answer{Status: http.StatusUnauthorized, Code: "invalid_credentials", Key: "login.bad", Message: "wrong login or password"},
	},
	{
		// Failed logins are throttled per login and address, per address
		// and per login (package auth); the error says how long to wait.
		Err: auth.ErrRateLimited, Example: &auth.RateLimitedError{RetryAfter: 8 * time.Second},
		Answer: Answer{Status: http.StatusTooManyRequests, Code: "rate_limited", Key: "login.limited", RetryAfter: 900},
		fill: func(err error, a *Answer) {
			var rl *auth.RateLimitedError
			if errors.As(err, &rl) {
				a.RetryAfter = rl.Seconds()
			}
			a.Message = "too many failed logins; try again in " + a.RetryAfterHeader() + " seconds"
		},
	},
	{
		Err:    auth.ErrNoSession,
		Answer: Answer{Status: http.StatusUnauthorized, Code: "unauthenticated", Key: "login.expired", Message: "your session has expired or ended; log in again"},
	},

	// Requests.
	{
		Err:    access.ErrForbidden,
		Answer: Answer{Status: http.StatusForbidden, Code: "forbidden", Key: "err.forbidden", Message: "you may not request this service for that subject"},
	},
	{
		Err:    issuance.ErrUnknownService,
		Answer: Answer{Status: http.StatusNotFound, Code: "unknown_service", Key: "err.notfound", Message: "no such service; see GET /api/v1/services"},
	},
	{
		Err:    issuance.ErrNotCertificate,
		Answer: Answer{Status: http.StatusBadRequest, Code: "not_a_certificate", Key: "err.notcert", Message: "this service does not issue a document: submit applications and reports with POST /api/v1/applications, read lookups with GET /api/v1/lookups/{service}"},
	},
	{
		Err:    issuance.ErrConflict,
		Answer: Answer{Status: http.StatusConflict, Code: "idempotency_conflict", Key: "err.conflict", Message: "this Idempotency-Key was already used for a different request"},
	},
	{
		Err: issuance.ErrBadRequest, Example: fmt.Errorf("%w: show_rrn_back is only for your own documents", issuance.ErrBadRequest),
		Answer: Answer{Status: http.StatusBadRequest, Code: "bad_request", Key: "err.badrequest"},
		fill:   inputMessage(issuance.ErrBadRequest),
	},
	{
		Err: issuance.ErrNotIssuable, Example: &issuance.NotIssuableError{Service: "tax-payment-certificate", Reason: form.ReasonTaxArrears, Message: "a tax payment certificate is not issued while taxes are in arrears"},
		Answer: Answer{Status: http.StatusUnprocessableEntity, Code: "not_issuable", Heading: "notissuable.title", Key: "notissuable.lead"},
		fill: func(err error, a *Answer) {
			var ni *issuance.NotIssuableError
			if errors.As(err, &ni) {
				a.Reason, a.Message = ni.Reason, ni.Message
			}
		},
	},
	{
		Err:    issuance.ErrNotFound,
		Answer: Answer{Status: http.StatusNotFound, Code: "not_found", Key: "err.notfound", Message: "no such issuance"},
	},
	// Document-check codes (package checkcode): a wrong code and an
	// unknown number get the same answer.
	{
		Err:    checkcode.ErrMismatch,
		Answer: Answer{Status: http.StatusForbidden, Code: "check_code_mismatch", Key: "err.checkcode", Message: checkcode.ErrMismatch.Error()},
	},
	{
		Err:    checkcode.ErrMalformed,
		Answer: Answer{Status: http.StatusBadRequest, Code: "bad_request", Key: "err.checkcodeformat", Message: checkcode.ErrMalformed.Error()},
	},
	{
		Err: checkcode.ErrLocked, Example: &checkcode.WaitError{Err: checkcode.ErrLocked, RetryAfter: 30 * time.Minute},
		Answer: Answer{Status: http.StatusTooManyRequests, Code: "check_code_locked", Key: "err.checkcodelocked", RetryAfter: 3600},
		fill:   fillWait("too many wrong document-check codes were tried for this number; try again in "),
	},
	{
		Err: checkcode.ErrThrottled, Example: &checkcode.WaitError{Err: checkcode.ErrThrottled, RetryAfter: 10 * time.Minute},
		Answer: Answer{Status: http.StatusTooManyRequests, Code: "rate_limited", Key: "err.checkcodelocked", RetryAfter: 3600},
		fill:   fillWait("too many wrong document-check codes from your address; try again in "),
	},
	{
		Err:    checkcode.ErrGone,
		Answer: Answer{Status: http.StatusNotFound, Code: "document_purged", Key: "err.notfound", Message: checkcode.ErrGone.Error()},
	},
	{
		Err:    issuance.ErrPurged,
		Answer: Answer{Status: http.StatusNotFound, Code: "document_purged", Key: "err.notfound", Message: issuance.ErrPurged.Error()},
	},
	{
		// Revocation reasons are public; the pipeline wraps this in
		// ErrBadRequest (and so answers bad_request); bare, it has its own code.
		Err:    issuance.ErrReasonHasPII,
		Answer: Answer{Status: http.StatusBadRequest, Code: "reason_has_rrn", Key: "err.badrequest", Message: issuance.ErrReasonHasPII.Error()},
	},
	{
		Err:    issuance.ErrReasonHasName,
		Answer: Answer{Status: http.StatusBadRequest, Code: "reason_has_name", Key: "err.badrequest", Message: issuance.ErrReasonHasName.Error()},
	},
	{
		Err:    issuance.ErrAlreadyRevoked,
		Answer: Answer{Status: http.StatusConflict, Code: "already_revoked", Key: "err.alreadyrevoked", Message: "that document is already revoked"},
	},

	// Applications, reports and lookups (package casework).
	{
		Err:    casework.ErrUnknownService,
		Answer: Answer{Status: http.StatusNotFound, Code: "unknown_service", Key: "err.notfound", Message: "no such service; see GET /api/v1/services"},
	},
	{
		Err:    casework.ErrWrongKind,
		Answer: Answer{Status: http.StatusBadRequest, Code: "not_an_application", Key: "err.badrequest", Message: "this service is not an application or a report: certificates are issued with POST /api/v1/issuances, lookups read with GET /api/v1/lookups/{service}"},
	},
	{
		Err:    casework.ErrNotLookup,
		Answer: Answer{Status: http.StatusBadRequest, Code: "not_a_lookup", Key: "err.badrequest", Message: "this service is not a lookup; see GET /api/v1/services"},
	},
	{
		Err: casework.ErrBadPayload, Example: fmt.Errorf("%w: new_address: the road name must end in 로 or 길", casework.ErrBadPayload),
		Answer: Answer{Status: http.StatusBadRequest, Code: "bad_payload", Key: "err.badrequest"},
		fill:   inputMessage(casework.ErrBadPayload),
	},
	{
		Err:    casework.ErrConflict,
		Answer: Answer{Status: http.StatusConflict, Code: "idempotency_conflict", Key: "err.conflict", Message: casework.ErrConflict.Error()},
	},
	{
		Err:    casework.ErrNotFound,
		Answer: Answer{Status: http.StatusNotFound, Code: "not_found", Key: "err.notfound", Message: "no such application"},
	},
	{
		Err: casework.ErrWrongState, Example: fmt.Errorf("%w: ap-1 is no longer in_review", casework.ErrWrongState),
		Answer: Answer{Status: http.StatusConflict, Code: "wrong_state", Key: "err.conflict"},
		fill:   inputMessage(casework.ErrWrongState),
	},
	{
		Err:    casework.ErrPersonalData,
		Answer: Answer{Status: http.StatusBadRequest, Code: "text_has_rrn", Key: "err.badrequest", Message: casework.ErrPersonalData.Error()},
	},

	// Incidents and recalls.
	{
		Err: incident.ErrBadRequest, Example: fmt.Errorf("%w: a recall needs at least one filter", incident.ErrBadRequest),
		Answer: Answer{Status: http.StatusBadRequest, Code: "bad_request", Key: "err.badrequest"},
		fill:   inputMessage(incident.ErrBadRequest),
	},
	{
		Err:    incident.ErrNotFound,
		Answer: Answer{Status: http.StatusNotFound, Code: "not_found", Key: "err.notfound", Message: "no such incident or recall"},
	},
	{
		Err:    incident.ErrSameOperator,
		Answer: Answer{Status: http.StatusForbidden, Code: "second_operator_required", Key: "err.forbidden", Message: incident.ErrSameOperator.Error()},
	},
	{
		Err:    incident.ErrNotPending,
		Answer: Answer{Status: http.StatusConflict, Code: "recall_not_pending", Key: "err.conflict", Message: incident.ErrNotPending.Error()},
	},

	{
		// An audit record may not hold an RRN; the text came from the caller.
		Err:    audit.ErrPersonalData,
		Answer: Answer{Status: http.StatusBadRequest, Code: "text_has_rrn", Key: "err.badrequest", Message: "the text may not contain a resident registration number"},
	},

	// Bulk access (package guard).
	{
		Err:    guard.ErrLimited,
		Answer: Answer{Status: http.StatusTooManyRequests, Code: "rate_limited", Key: "err.ratelimited", Message: guard.ErrLimited.Error(), RetryAfter: 3600},
	},
	{
		Err:    guard.ErrBlocked,
		Answer: Answer{Status: http.StatusTooManyRequests, Code: "access_blocked", Key: "err.ratelimited", Message: guard.ErrBlocked.Error(), RetryAfter: 3600},
	},

	// Notices (package notify).
	{
		Err:    notify.ErrNotFound,
		Answer: Answer{Status: http.StatusNotFound, Code: "not_found", Key: "err.notfound", Message: "no such notice"},
	},
	{
		Err:    notify.ErrPersonalData,
		Answer: Answer{Status: http.StatusBadRequest, Code: "text_has_rrn", Key: "err.badrequest", Message: "the text may not contain a resident registration number"},
	},
	{
		Err:    notify.ErrBadNotice,
		Answer: Answer{Status: http.StatusBadRequest, Code: "bad_request", Key: "err.badrequest", Message: notify.ErrBadNotice.Error()},
	},

	// The counter: officials on mutual TLS.
	{
		Err:    pki.ErrNotOfficial,
		Answer: Answer{Status: http.StatusUnauthorized, Code: "official_certificate_required", Key: "err.forbidden", Message: "a client certificate of an official of this PKI is required"},
	},
	{
		Err:    pki.ErrLocked,
		Answer: Answer{Status: http.StatusForbidden, Code: "credential_locked", Key: "err.forbidden", Message: "your credential is locked: revoked, or the validation service has been unreachable for longer than the grace period; contact your certificate administrator"},
	},
	{
		Err:    pki.ErrRole,
		Answer: Answer{Status: http.StatusForbidden, Code: "role_not_allowed", Key: "err.forbidden", Message: "your role does not allow this"},
	},
	{
		Err:    issuance.ErrNotAtCounter,
		Answer: Answer{Status: http.StatusForbidden, Code: "not_at_counter", Key: "err.forbidden", Message: "this service cannot be issued at the counter"},
	},
	{
		Err:    issuance.ErrIdentityNotChecked,
		Answer: Answer{Status: http.StatusBadRequest, Code: "identity_not_checked", Key: "err.badrequest", Message: "check the citizen's identity document in person and give its method (resident_card, driver_license, passport, disability_card or mobile_id) with verified true"},
	},
	{
		Err:    issuance.ErrUnknownCitizen,
		Answer: Answer{Status: http.StatusNotFound, Code: "unknown_citizen", Key: "err.notfound", Message: issuance.ErrUnknownCitizen.Error()},
	},
	{
		Err:    issuance.ErrPurposeHasRRN,
		Answer: Answer{Status: http.StatusBadRequest, Code: "purpose_has_rrn", Key: "err.badrequest", Message: issuance.ErrPurposeHasRRN.Error()},
	},

	// Verification.
	{
		Err: verification.ErrBadInput, Example: fmt.Errorf("%w: sha256 must be 64 lowercase hex digits", verification.ErrBadInput),
		Answer: Answer{Status: http.StatusBadRequest, Code: "bad_request", Key: "verify.badnumber"},
		fill:   inputMessage(verification.ErrBadInput),
	},
	{
		Err:    verification.ErrTooLarge,
		Answer: Answer{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Key: "err.toolarge", Message: verification.ErrTooLarge.Error()},
	},
	{
		// Uploads are verified a bounded number at once; a slot frees
		// within a second or so.
		Err:    verification.ErrBusy,
		Answer: Answer{Status: http.StatusServiceUnavailable, Code: "busy", Key: "err.busy", Message: "too many documents are being verified at once; try again in 2 seconds", RetryAfter: 2},
	},
	{
		// After the rows that wrap it (verification says bad_request).
		Err:    issuance.ErrBadNumber,
		Answer: Answer{Status: http.StatusBadRequest, Code: "bad_number", Key: "verify.badnumber", Message: issuance.ErrBadNumber.Error()},
	},

	// Signing keys (the admin API).
	{
		Err:    keyring.ErrUnknownKey,
		Answer: Answer{Status: http.StatusNotFound, Code: "unknown_key", Key: "err.notfound", Message: "no signing key with that id"},
	},
	{
		Err:    keyring.ErrAlreadyRevoked,
		Answer: Answer{Status: http.StatusConflict, Code: "already_revoked", Key: "err.alreadyrevoked", Message: "that key is already revoked"},
	},
	{
		Err:    keyring.ErrBadReason,
		Answer: Answer{Status: http.StatusBadRequest, Code: "bad_reason", Key: "err.badrequest", Message: keyring.ErrBadReason.Error()},
	},
	{
		Err:    keyring.ErrBadPurpose,
		Answer: Answer{Status: http.StatusBadRequest, Code: "bad_purpose", Key: "err.badrequest", Message: keyring.ErrBadPurpose.Error()},
	},

	// Service templates.
	{
		Err: form.ErrInvalid, Example: fmt.Errorf("%w: tax-payment-certificate: no fields", form.ErrInvalid),
		Answer: Answer{Status: http.StatusBadRequest, Code: "invalid_template", Key: "err.badrequest"},
		fill:   inputMessage(form.ErrInvalid),
	},

	// Form governance (the admin API).
	{
		Err: governance.ErrRefused, Example: fmt.Errorf("%w: corporate-tax-payment-certificate template: slot company_name (법인명(상호)) must carry class company_name", governance.ErrRefused),
		Answer: Answer{Status: http.StatusUnprocessableEntity, Code: "form_refused", Key: "err.badrequest"},
		fill:   inputMessage(governance.ErrRefused),
	},
	{
		Err:    governance.ErrNotFound,
		Answer: Answer{Status: http.StatusNotFound, Code: "unknown_form_version", Key: "err.notfound", Message: "no such service or form version; see minwon admin forms list"},
	},
	{
		Err:    governance.ErrOwnVersion,
		Answer: Answer{Status: http.StatusForbidden, Code: "own_version", Key: "err.forbidden", Message: governance.ErrOwnVersion.Error()},
	},
	{
		Err:    governance.ErrApprovedTwice,
		Answer: Answer{Status: http.StatusConflict, Code: "already_approved", Key: "err.conflict", Message: "you have already approved this version; a second approval must come from another official"},
	},
	{
		Err: governance.ErrWrongState, Example: fmt.Errorf("%w: version 2 of tax-payment-certificate is rejected", governance.ErrWrongState),
		Answer: Answer{Status: http.StatusConflict, Code: "wrong_state", Key: "err.conflict"},
		fill:   inputMessage(governance.ErrWrongState),
	},
	{
		Err: governance.ErrNotAllowed, Example: fmt.Errorf("%w: the second approval must come from a privacy officer", governance.ErrNotAllowed),
		Answer: Answer{Status: http.StatusForbidden, Code: "role_not_allowed", Key: "err.forbidden"},
		fill:   inputMessage(governance.ErrNotAllowed),
	},
	{
		Err:    governance.ErrBusy,
		Answer: Answer{Status: http.StatusConflict, Code: "canary_running", Key: "err.conflict", Message: governance.ErrBusy.Error()},
	},
	{
		Err:    governance.ErrNoChange,
		Answer: Answer{Status: http.StatusConflict, Code: "no_change", Key: "err.conflict", Message: governance.ErrNoChange.Error()},
	},

	// The transparency log.
	{
		// Closed while shutting down: another node, or this one after its
		// restart, answers shortly.
		Err:    doclog.ErrClosed,
		Answer: Answer{Status: http.StatusServiceUnavailable, Code: "shutting_down", Key: "err.shuttingdown", Message: "minwon is restarting; nothing was issued; try again in a few seconds", RetryAfter: agencyRetry},
	},
	{
		Err:    doclog.ErrNoTile,
		Answer: Answer{Status: http.StatusNotFound, Code: "not_found", Key: "err.notfound", Message: "no such tile"},
	},
	{
		// A log entry that does not parse is corruption on our side.
		Err:    doclog.ErrBadEntry,
		Answer: Answer{Status: http.StatusInternalServerError, Code: "internal", Key: "err.internal", Message: internalMessage, Internal: true},
	},
}

// unknown is the answer to an error no row matches.
var unknown = Answer{Status: http.StatusInternalServerError, Code: "internal", Heading: "err.title", Key: "err.internal", Message: internalMessage, Internal: true}

// Of returns the answer to err: its first matching row's, or a 500 that
// says nothing about it.
func Of(err error) Answer {
	for _, r := range table {
		if r.matches(err) {
			a := r.Answer
			if a.Heading == "" {
				a.Heading = "err.title"
			}
			if r.fill != nil {
				r.fill(err, &a)
			}
			return a
		}
	}
	return unknown
}

// isRefused matches pre-issuance refusals, which have no sentinel.
func isRefused(err error) bool {
	var r *issuance.RefusedError
	return errors.As(err, &r)
}

func (r *Row) matches(err error) bool {
	if r.match != nil {
		return r.match(err)
	}
	return errors.Is(err, r.Err)
}

// Rows returns the table, each row with an Example error, for tests and
// documentation.
func Rows() []Row {
	out := make([]Row, len(table))
	copy(out, table)
	for i := range out {
		if out[i].Example == nil {
			out[i].Example = out[i].Err
		}
		if out[i].Heading == "" {
			out[i].Heading = "err.title"
		}
	}
	return out
}

// Unknown returns the answer to an unmapped error.
func Unknown() Answer { return unknown }

// inputMessage uses the error's own text, less the sentinel's prefix, as the
// message: it names what was wrong with the input (never personal data).
func inputMessage(sentinel error) func(error, *Answer) {
	return func(err error, a *Answer) {
		a.Message = strings.TrimPrefix(err.Error(), sentinel.Error()+": ")
	}
}

// agencyName is the agency as the API's English messages name it.
func agencyName(agency string) string {
	if agency == "" {
		return "an agency"
	}
	return "the " + agency + " agency"
}

// fillWait sets Retry-After from a checkcode.WaitError and says it after
// prefix.
func fillWait(prefix string) func(error, *Answer) {
	return func(err error, a *Answer) {
		var we *checkcode.WaitError
		if errors.As(err, &we) {
			a.RetryAfter = we.Seconds()
		}
		a.Message = prefix + a.RetryAfterHeader() + " seconds"
	}
}
