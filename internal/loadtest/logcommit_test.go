package loadtest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/doclog"
	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/store"
	"github.com/minwon/minwon/internal/storetest"
	"github.com/minwon/minwon/internal/verify"
)

// BenchmarkLogAppend measures the transparency log's group commit as the
// issuance pipeline uses it (the issuance row inserted in the log's
// transaction), with and without a document's blobs, at several numbers of
// concurrent appenders: how much of the serial commit the blobs cost.
//
//	go test -run '^$' -bench LogAppend -benchtime 2000x ./internal/loadtest
func BenchmarkLogAppend(b *testing.B) {
	for _, blob := range []int{0, 48 << 10} {
		for _, clients := range []int{1, 64, 512} {
			b.Run(fmt.Sprintf("blobs=%dKB/clients=%d", blob>>10, clients), func(b *testing.B) {
				ctx := context.Background()
				db, err := store.OpenSQLite(ctx, filepath.Join(b.TempDir(), "minwon.db"))
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				storetest.Protect(b, db)
				_, key, _ := ed25519.GenerateKey(rand.Reader)
				l, err := doclog.Open(ctx, db, "bench/log", key)
				if err != nil {
					b.Fatal(err)
				}
				defer l.Close()
				pdf := make([]byte, blob*11/12)
				data := make([]byte, blob/12)
				rand.Read(pdf)
				var seq atomic.Int64
				b.SetParallelism((clients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						n := seq.Add(1)
						num := fmt.Sprintf("%015d", n)
						num += string(verify.NumberCheckDigit(num))
						is := issuance.Issuance{Number: num, RequesterLogin: "u", RequesterSubject: "P", Subject: "P", Service: "s",
							TemplateVersion: 1, TemplateDigest: "d", IssuedAt: time.Now(), PDFSHA256: fmt.Sprintf("%064x", n),
							KeyID: "k", IdempotencyKey: num, RequestHash: "h", PDF: pdf, DataJSON: data}
						e := doclog.Entry{Kind: doclog.KindIssued, Number: num, Service: "s", KeyID: "k", SHA256: is.PDFSHA256, Time: is.IssuedAt}
						if _, err := l.Append(ctx, e, func(tx doclog.Tx) error { return tx.(*store.Tx).InsertIssuance(ctx, is) }); err != nil {
							b.Error(err)
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
			})
		}
	}
}
