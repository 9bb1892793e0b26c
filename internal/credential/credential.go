// Package credential issues each certificate also as an SD-JWT VC for
// wallets (format: package sdjwt): the document's fields as selectively
// disclosable claims, signed by the PKI's document-signing certificate,
// with a status list entry, so a holder can show a verifier only some
// fields and the verifier can tell a revoked credential. It serves the
// status list token too: one bit per transparency log index, set for every
// document the log says was revoked (revocations and recalls), so nothing
// else has to remember to revoke a credential.
//
// Package credential never stores a credential (each download is a fresh
// one with fresh salts, from the stored data.json) and never logs one.
package credential

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/minwon/minwon/internal/auth"
	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/sdjwt"
)

// documents is what credentials are made from: the pipeline, which checks
// that the caller may see the document, records a download by someone
// else and counts it against bulk access.
type documents interface {
	Get(ctx context.Context, p auth.Principal, number string) (*issuance.Issued, error)
	Files(ctx context.Context, p auth.Principal, number string) (pdf, data []byte, err error)
}

// Store reads the revocations from the transparency log.
type Store interface {
	// RevokedLogIndexes returns the log's size and the log index of the
	// issuance entry of every revoked document.
	RevokedLogIndexes(ctx context.Context) (size int64, revoked []int64, err error)
}

// StatusTTL is how long a status list token is valid and cached: a
// revocation reaches verifiers that fetch the list within this.
const StatusTTL = time.Minute

// statusFresh is how long this node reuses the list it built.
const statusFresh = 5 * time.Second

// Service issues credentials and the status list.
type Service struct {
	Documents documents
	Store     Store
	Issuer    *sdjwt.Issuer
	// BaseURL is minwon's public URL: the credentials' iss, and the base of
	// vct and the status list's URI.
	BaseURL string
	Now     func() time.Time

	mu     sync.Mutex
	list   string
	listAt time.Time
}

// StatusPath is where the status list token is served.
const StatusPath = "/api/v1/credentials/status"

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// kst is the time zone of a document's valid_until date.
var kst = time.FixedZone("KST", 9*60*60)

// Credential returns a fresh SD-JWT VC of a document the caller may see.
func (s *Service) Credential(ctx context.Context, p auth.Principal, number string) (string, error) {
	is, err := s.Documents.Get(ctx, p, number)
	if err != nil {
		return "", err
	}
	_, data, err := s.Documents.Files(ctx, p, number)
	if err != nil {
		return "", err
	}
	var env struct {
		Document json.RawMessage `json:"document"`
	}
	var doc issuance.Document
	if err := json.Unmarshal(data, &env); err != nil {
		return "", fmt.Errorf("credential: stored data.json: %w", err)
	}
	if err := json.Unmarshal(env.Document, &doc); err != nil {
		return "", fmt.Errorf("credential: stored data.json: %w", err)
	}
	return s.Issuer.Issue(Claims(&doc, is.LogIndex, s.BaseURL))
}

// Claims are a document's claims: what identifies the document in plain
// (iss, iat, exp, vct, status, number, service, titles, issuer), each
// field of it selectively disclosable, named by its key.
func Claims(doc *issuance.Document, logIndex int64, baseURL string) (map[string]any, []sdjwt.Claim) {
	plain := map[string]any{
		"iss":             baseURL,
		"iat":             doc.IssuedAt.Unix(),
		"vct":             baseURL + "/vct/" + doc.Service,
		"status":          map[string]any{"status_list": sdjwt.Status{Index: logIndex, URI: baseURL + StatusPath}},
		"document_number": doc.Number,
		"service":         doc.Service,
		"title":           doc.Title,
		"title_ko":        doc.TitleKo,
	}
	if doc.Issuer != "" {
		plain["issuing_authority"] = doc.Issuer
	}
	if doc.ValidUntil != "" {
		if d, err := time.ParseInLocation("2006-01-02", doc.ValidUntil, kst); err == nil {
			// Valid through the last day, in Korea.
			plain["exp"] = d.AddDate(0, 0, 1).Unix()
		}
	}
	claims := make([]sdjwt.Claim, 0, len(doc.Fields))
	for _, f := range doc.Fields {
		var v any = f.Text
		if f.Table != nil {
			v = map[string]any{"columns": f.Table.Columns, "rows": f.Table.Rows}
		}
		claims = append(claims, sdjwt.Claim{Name: f.Key, Value: v})
	}
	return plain, claims
}

// StatusList returns the status list token, rebuilt from the log at most
// every few seconds.
func (s *Service) StatusList(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.list != "" && now.Sub(s.listAt) < statusFresh {
		return s.list, nil
	}
	size, revoked, err := s.Store.RevokedLogIndexes(ctx)
	if err != nil {
		return "", err
	}
	tok, err := s.Issuer.StatusList(s.BaseURL+StatusPath, size, revoked, now, StatusTTL)
	if err != nil {
		return "", err
	}
	s.list, s.listAt = tok, now
	return tok, nil
}
