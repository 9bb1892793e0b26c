package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/minwon/minwon/internal/apptest"
	"github.com/minwon/minwon/internal/auth"
	"github.com/minwon/minwon/internal/guard"
	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/verification"
)

// benchEnv serves minwon for a benchmark in which one citizen issues
// every document: the bulk-access limits are off, as in the load harness.
func benchEnv(b *testing.B, seed int64) *apptest.Env {
	off := guard.Off()
	return apptest.StartOpts(b, 400, seed, apptest.Options{Limits: &off})
}

// issueMany issues n documents through the API for one citizen and
// returns their numbers and hashes.
func issueMany(b *testing.B, env *apptest.Env, n int) (numbers, hashes []string) {
	b.Helper()
	c := env.Login(b, env.AccountOf(b, env.World.People[env.World.Households[0].Head].Subject))
	for k := 0; k < n; k++ {
		var got struct{ Number, SHA256 string }
		key := map[string]string{"Idempotency-Key": fmt.Sprintf("bench-%d", k)}
		if code := c.Do("POST", "/api/v1/issuances", map[string]any{"service": "resident-registration-abstract"}, key, &got); code != http.StatusCreated {
			b.Fatalf("issue: %d", code)
		}
		numbers, hashes = append(numbers, got.Number), append(hashes, got.SHA256)
	}
	return numbers, hashes
}

// BenchmarkVerifyByNumber measures verification by number and hash in
// process: log lookup, key check, inclusion proof.
func BenchmarkVerifyByNumber(b *testing.B) {
	env := benchEnv(b, 41)
	numbers, hashes := issueMany(b, env, 200)
	ctx := context.Background()
	var i atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := int(i.Add(1)) % len(numbers)
			res, err := env.App.Verifier.ByNumber(ctx, numbers[k], hashes[k])
			if err != nil || res.Status != verification.Valid {
				b.Fatalf("verify: %v %v", res, err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
}

// BenchmarkVerifyHTTP measures POST /api/v1/verify over loopback HTTP.
func BenchmarkVerifyHTTP(b *testing.B) {
	env := benchEnv(b, 42)
	numbers, hashes := issueMany(b, env, 200)
	bodies := make([][]byte, len(numbers))
	for k := range numbers {
		bodies[k], _ = json.Marshal(map[string]string{"number": numbers[k], "sha256": hashes[k]})
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 256}
	client := &http.Client{Transport: tr}
	var i atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := int(i.Add(1)) % len(numbers)
			resp, err := client.Post(env.Server.URL+"/api/v1/verify", "application/json", bytes.NewReader(bodies[k]))
			if err != nil {
				b.Fatal(err)
			}
			var out verification.ResultJSON
			err = json.NewDecoder(resp.Body).Decode(&out)
			resp.Body.Close()
			if err != nil || out.Status != verification.Valid {
				b.Fatalf("verify: %v %v", out.Status, err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
}

// BenchmarkPipeline measures the whole issuance pipeline in process:
// authorisation, agency calls over loopback, assembly, pre-issuance checks,
// render, sign, and the durable log append (group commit, fsync).
func BenchmarkPipeline(b *testing.B) {
	env := benchEnv(b, 43)
	head := env.World.People[env.World.Households[0].Head]
	acct := env.AccountOf(b, head.Subject)
	p := auth.Principal{Login: acct.Login, Subject: acct.Subject, Kind: acct.Kind}
	ctx := context.Background()
	var i atomic.Int64
	b.SetParallelism(32) // many clients per core, as a server sees them
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := i.Add(1)
			_, err := env.App.Pipeline.Issue(ctx, issuance.Request{Principal: p, Service: "resident-registration-abstract", IdempotencyKey: fmt.Sprintf("pipe-%d", k)})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
}
