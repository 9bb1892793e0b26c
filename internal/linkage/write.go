package linkage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// The write protocol: minwon asks an agency to change its records (a
// move-in report changes the resident registry). minwon POSTs a
// WriteRequest to WritePath; the agency answers a WriteResponse signed like
// a query's answer, under its own prefix so that neither can pass for the
// other. The request id is the idempotency key: the agency applies a
// request id once and answers every repeat of it with the same answer, so a
// job retried after a timeout or a crash never applies twice. The agency
// refuses (Status "refused", with a code and message) what its records do
// not allow; a refusal is an answer too, and is repeated just the same.

// WritePath is where an agency takes writes (POST, JSON).
const WritePath = "/v1/write"

// writeSignedPrefix separates write answers from query answers.
const writeSignedPrefix = "minwon agency write v1\n"

// Write operations.
const (
	OpMoveIn = "move_in" // registry: a move-in report (전입신고)
)

// WriteRequest asks an agency to change subject's records.
type WriteRequest struct {
	RequestID string          `json:"request_id"` // 32 hex; the same on every retry
	Purpose   string          `json:"purpose"`    // the service the write is for
	Subject   string          `json:"subject"`    // whose records change
	Operation string          `json:"operation"`
	Payload   json.RawMessage `json:"payload"`
}

// WriteResponse is an agency's answer to a write.
type WriteResponse struct {
	Agency     string          `json:"agency"`
	RequestID  string          `json:"request_id"`
	Subject    string          `json:"subject"`
	Operation  string          `json:"operation"`
	Status     string          `json:"status"` // applied or refused
	Code       string          `json:"code,omitempty"`
	Message    string          `json:"message,omitempty"` // why refused, for the citizen
	Result     json.RawMessage `json:"result,omitempty"`
	AnsweredAt time.Time       `json:"answered_at"`
}

// Write statuses.
const (
	WriteApplied = "applied"
	WriteRefused = "refused"
)

// MoveIn is the payload of OpMoveIn: the reporter (the request's subject)
// and the members of their household named here move to NewAddress on
// MovedIn, and form a new household headed by the reporter there.
type MoveIn struct {
	NewAddress string   `json:"new_address"`
	MovedIn    string   `json:"moved_in"`          // YYYY-MM-DD, 전입일
	Members    []string `json:"members,omitempty"` // subjects of the reporter's household who move too
}

// MoveInResult is what the registry did.
type MoveInResult struct {
	HouseholdID    string   `json:"household_id"` // the new household
	Moved          []string `json:"moved"`        // subjects moved, the reporter first
	OldHouseholdID string   `json:"old_household_id"`
	// OldHead is the head of the household left behind, when someone
	// stays there; "" when the whole household moved.
	OldHead string `json:"old_head,omitempty"`
}

// SignWrite returns the SignatureHeader value for a write answer's body.
func (s Signer) SignWrite(body []byte) string { return s.sign(writeSignedPrefix, body) }

// ErrWriteRefused: the agency refused the write (its records do not allow
// it); a *WriteRefusedError says why.
var ErrWriteRefused = errors.New("agency refused the change")

// WriteRefusedError is an agency's signed refusal.
type WriteRefusedError struct {
	Agency  string
	Code    string
	Message string
}

func (e *WriteRefusedError) Error() string {
	return fmt.Sprintf("agency %s refused the change (%s): %s", e.Agency, e.Code, e.Message)
}

func (e *WriteRefusedError) Is(target error) bool { return target == ErrWriteRefused }

// DecodeWrite checks an agency's signed answer to a write, in the order
// Decode checks a query's: trusted key, signature, shape, and that agency,
// request id, subject and operation are the ones asked for.
func (v *Verifier) DecodeWrite(agency string, req *WriteRequest, sigHeader string, body []byte) (*WriteResponse, error) {
	if err := v.checkSignature(agency, writeSignedPrefix, sigHeader, body); err != nil {
		return nil, err
	}
	var resp WriteResponse
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&resp); err != nil || dec.More() {
		return nil, &IntegrityError{Agency: agency, Reason: "malformed write answer"}
	}
	switch {
	case resp.Agency != agency:
		return nil, &MismatchError{Agency: agency, What: "agency"}
	case resp.RequestID != req.RequestID:
		return nil, &MismatchError{Agency: agency, What: "request id"}
	case resp.Subject != req.Subject:
		return nil, &MismatchError{Agency: agency, What: "subject"}
	case resp.Operation != req.Operation:
		return nil, &MismatchError{Agency: agency, What: "operation"}
	}
	switch resp.Status {
	case WriteApplied:
		return &resp, nil
	case WriteRefused:
		return nil, &WriteRefusedError{Agency: agency, Code: resp.Code, Message: resp.Message}
	}
	return nil, &IntegrityError{Agency: agency, Reason: "unknown write status"}
}

// Write asks agency to apply req and returns its verified answer. Errors
// match ErrUnavailable (retry later with the same request id),
// ErrWriteRefused (final), ErrMismatch, ErrIntegrity or ErrBadRequest.
// Transient failures are retried here a few times with the same request
// id, which the agency answers once.
func (c *Client) Write(ctx context.Context, agency string, req WriteRequest) (*WriteResponse, error) {
	conn, ok := c.agencies[agency]
	if !ok {
		return nil, fmt.Errorf("%w: unknown agency %q", ErrBadRequest, agency)
	}
	if len(req.RequestID) != 32 || req.Subject == "" || req.Purpose == "" || req.Operation == "" {
		return nil, fmt.Errorf("%w: a write needs a 32-hex request id, subject, purpose and operation", ErrBadRequest)
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("linkage: encode write: %w", err)
	}
	return withRetries(ctx, c, conn, func(ctx context.Context) (*WriteResponse, error) {
		return c.writeAttempt(ctx, conn, &req, body)
	})
}

func (c *Client) writeAttempt(ctx context.Context, conn *agencyConn, req *WriteRequest, body []byte) (*WriteResponse, error) {
	resp, data, err := c.post(ctx, conn, WritePath, req.RequestID, body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusOK {
		return c.verifier.DecodeWrite(conn.endpoint.Agency, req, resp.Header.Get(SignatureHeader), data)
	}
	return nil, statusError(conn, resp)
}
