package issuance

import (
	"errors"
	"time"
)

// Issuance is one issued document as stored: package store keeps it, with
// its log entry, in the log's transaction (see logTx).
type Issuance struct {
	Number           string
	RequesterLogin   string
	RequesterSubject string
	Subject          string
	Service          string
	TemplateVersion  int
	TemplateDigest   string
	IssuedAt         time.Time
	PDFSHA256        string
	KeyID            string
	PDF              []byte
	DataJSON         []byte
	IdempotencyKey   string
	RequestHash      string
	// CheckCodeHash is checkcode.Hasher.Sum of the document-check code
	// printed on it ("" for a document issued without one).
	CheckCodeHash string
}

// Logged is a stored issuance with the index of its log entry, as a list
// page reads them in one query.
type Logged struct {
	Issuance
	LogIndex int64 // -1 if not logged, which the log's one transaction rules out
}

// Alert is a recorded refusal or anomaly. Detail names the rule, never the
// personal data.
type Alert struct {
	At             time.Time
	Kind           string
	Service        string
	RequesterLogin string
	Detail         string
}

// ErrPurged is returned for the files of a document past its retention
// period: they were deleted, while its log entry (and so its verification
// by number) stays.
var ErrPurged = errors.New("this document's files were deleted at the end of their retention period; its issuance number still verifies")

// ErrDuplicate is what the store returns for an issuance that collides
// with a stored one: the same idempotency key for the same requester, or
// (vanishingly rarely) an issuance number already taken.
var ErrDuplicate = errors.New("issuance already stored")
