package counter

import (
	"context"

	"github.com/minwon/minwon/internal/ident"
	"github.com/minwon/minwon/internal/issuance"
)

// indexStore looks a keyed hash up in the subject index.
type indexStore interface {
	LookupSubject(ctx context.Context, kind string, digest []byte) (subject string, found bool, err error)
}

// Index finds citizens and corporations by number through the keyed-hash
// index: the number itself is never stored or sent anywhere.
type Index struct {
	Indexer ident.Indexer
	Store   indexStore
}

// PersonByRRN returns the subject of a resident registration number
// (digits only).
func (x Index) PersonByRRN(ctx context.Context, rrn string) (string, error) {
	return x.lookup(ctx, "rrn", x.Indexer.RRN(rrn))
}

// CorporationByBusinessNumber returns the subject of a business
// registration number (digits only).
func (x Index) CorporationByBusinessNumber(ctx context.Context, brn string) (string, error) {
	return x.lookup(ctx, "business_number", x.Indexer.BusinessNumber(brn))
}

func (x Index) lookup(ctx context.Context, kind string, digest []byte) (string, error) {
	s, ok, err := x.Store.LookupSubject(ctx, kind, digest)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", issuance.ErrUnknownCitizen
	}
	return s, nil
}
