package incident_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/doclog"
	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/incident"
	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/render"
	"github.com/minwon/minwon/internal/store"
	"github.com/minwon/minwon/internal/storetest"
)

// env is a store, a transparency log and the pipeline's revocation on it:
// what a recall runs against in minwon.
type env struct {
	db       *store.DB
	log      *doclog.Log
	pipeline *issuance.Pipeline
	catalog  *form.Catalog
	svc      *incident.Service
	now      time.Time
}

func newEnv(t testing.TB, b storetest.Backend) *env {
	t.Helper()
	ctx := context.Background()
	db := storetest.Protect(t, b.Open(t))
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	l, err := doclog.Open(ctx, db, "minwon.test/log", key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	catalog, err := form.Builtin(linkage.DefaultSchema())
	if err != nil {
		t.Fatal(err)
	}
	e := &env{db: db, log: l, catalog: catalog, now: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	e.pipeline = &issuance.Pipeline{Store: db, Log: l, Names: db, Now: func() time.Time { return e.now }}
	e.svc = e.service(e.pipeline)
	return e
}

// service is a fresh incident service, as a new process would build it.
func (e *env) service(rev incident.Revoker) *incident.Service {
	return &incident.Service{Store: e.db, Catalog: e.catalog, Revoker: rev, Names: e.db, Now: func() time.Time { return e.now }}
}

// doc describes a seeded issuance.
type doc struct {
	service, key, subject, requester, name string
	at                                     time.Time
}

// seed issues docs through the log (issued entry and row in one
// transaction, as the pipeline does), concurrently so the log batches them,
// and returns their numbers in order.
func (e *env) seed(t testing.TB, docs []doc) []string {
	t.Helper()
	numbers := make([]string, len(docs))
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	next := make(chan int)
	for range 256 {
		wg.Go(func() {
			for i := range next {
				d := docs[i]
				n := string(issuance.NewNumber())
				numbers[i] = n
				data := fmt.Sprintf(`{"document":{"number":%q,"fields":[{"key":"name","class":"name","text":%q}]},"key_id":%q,"signature":"x"}`, n, d.name, d.key)
				is := issuance.Issuance{Number: n, RequesterLogin: d.requester, RequesterSubject: d.requester, Subject: d.subject, Service: d.service,
					TemplateVersion: 1, TemplateDigest: "td", IssuedAt: d.at, PDFSHA256: fmt.Sprintf("%064x", i), KeyID: d.key,
					PDF: []byte("%PDF-1.7 test"), DataJSON: []byte(data), IdempotencyKey: "seed-" + n, RequestHash: "rh"}
				entry := doclog.Entry{Kind: doclog.KindIssued, Number: n, Service: d.service, KeyID: d.key, SHA256: is.PDFSHA256, Time: d.at}
				_, err := e.log.Append(context.Background(), entry, func(tx doclog.Tx) error {
					return tx.(interface {
						InsertIssuance(context.Context, issuance.Issuance) error
					}).InsertIssuance(context.Background(), is)
				})
				if err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		})
	}
	for i := range docs {
		next <- i
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	return numbers
}

// revocations counts each number's revoked log entries.
func (e *env) revocations(t testing.TB, numbers []string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for start := 0; start < len(numbers); start += 500 {
		recs, err := e.db.LogEntriesForNumbers(context.Background(), numbers[start:min(start+500, len(numbers))])
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.Kind == doclog.KindRevoked {
				out[r.Number]++
			}
		}
	}
	return out
}

func newRenderer(t testing.TB) *render.Renderer {
	t.Helper()
	r, err := render.New()
	if err != nil {
		t.Fatal(err)
	}
	return r
}
