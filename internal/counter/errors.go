package counter

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/minwon/minwon/internal/access"
	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/linkage"
)

// fail answers err as {"error":{"code","message"}}.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var refused *issuance.RefusedError
	switch {
	case errors.Is(err, ErrNoCertificate):
		writeError(w, http.StatusUnauthorized, "official_certificate_required", "a client certificate of an official of this PKI is required")
	case errors.Is(err, ErrLocked):
		writeError(w, http.StatusForbidden, "credential_locked", "your credential is locked (revoked, or the validation service has been unreachable for longer than the grace period); contact your certificate administrator")
	case errors.Is(err, ErrRole):
		writeError(w, http.StatusForbidden, "role_not_allowed", "only counter clerks issue documents at the counter")
	case errors.Is(err, ErrNotAtCounter):
		writeError(w, http.StatusForbidden, "not_at_counter", "this service cannot be issued at the counter")
	case errors.Is(err, ErrIdentityCheck):
		writeError(w, http.StatusBadRequest, "identity_not_checked", "check the citizen's identity document in person and give its method (one of resident_card, driver_license, passport, disability_card, mobile_id) with verified true")
	case errors.Is(err, ErrUnknownCitizen):
		writeError(w, http.StatusNotFound, "unknown_citizen", "no citizen or corporation is registered under this number")
	case errors.Is(err, ErrPurposeHasRRN):
		writeError(w, http.StatusBadRequest, "purpose_has_rrn", "the purpose may not contain a resident registration number")
	case errors.Is(err, ErrBadCounterInput):
		writeError(w, http.StatusBadRequest, "bad_request", err.Error()[len("counter: "):])
	case errors.Is(err, issuance.ErrUnknownService):
		writeError(w, http.StatusNotFound, "unknown_service", "no such service")
	case errors.Is(err, issuance.ErrNotCertificate):
		writeError(w, http.StatusBadRequest, "not_a_certificate", "this service does not issue a document")
	case errors.Is(err, issuance.ErrBadRequest):
		writeError(w, http.StatusBadRequest, "bad_request", "an Idempotency-Key header (16–128 characters) is required")
	case errors.Is(err, issuance.ErrConflict):
		writeError(w, http.StatusConflict, "idempotency_conflict", "this Idempotency-Key was used for another request")
	case errors.Is(err, issuance.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "no such issuance")
	case errors.Is(err, access.ErrForbidden):
		writeError(w, http.StatusForbidden, "forbidden", "this service cannot be issued at the counter for this citizen")
	case errors.As(err, &refused):
		writeError(w, http.StatusUnprocessableEntity, "pre_issuance_refused", refused.Error())
	case errors.Is(err, linkage.ErrUnavailable):
		w.Header().Set("Retry-After", strconv.Itoa(5))
		writeError(w, http.StatusServiceUnavailable, "agency_unavailable", "an agency this service needs is not answering; try again shortly")
	default:
		if s.Log != nil {
			s.Log.Error("counter request failed", slog.String("path", r.URL.Path), slog.String("error", err.Error()))
		}
		writeError(w, http.StatusInternalServerError, "internal", "the request could not be completed")
	}
}
