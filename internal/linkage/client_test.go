package linkage_test

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/agency"
	"github.com/minwon/minwon/internal/agencytest"
	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/reqid"
)

func TestFetchReturnsOnlyRequestedFields(t *testing.T) {
	env := agencytest.Start(t, 200, 1)
	c := env.Client(t, linkage.Options{})
	p := env.World.People[17]
	rec, err := c.Fetch(agencytest.Ctx(t), "resident-registration-copy", linkage.Registry, "person", p.Subject, []string{"name", "birth_date"})
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if len(rec.Fields) != 2 {
		t.Fatalf("got fields %v, want exactly name and birth_date", keys(rec.Fields))
	}
	name, _ := rec.String("name")
	birth, _ := rec.String("birth_date")
	if name != p.Name || birth != p.BirthDate.Format("2006-01-02") {
		t.Fatalf("got %s/%s, want %s/%s", name, birth, p.Name, p.BirthDate.Format("2006-01-02"))
	}
	if _, err := rec.String("rrn"); err == nil {
		t.Fatal("a field that was not requested decoded")
	}
}

func TestFetchErrors(t *testing.T) {
	env := agencytest.Start(t, 50, 2)
	c := env.Client(t, linkage.Options{})
	ctx := agencytest.Ctx(t)
	subj := env.World.People[0].Subject
	tests := []struct {
		name                     string
		agency, dataset, subject string
		fields                   []string
		want                     error
	}{
		{"unknown agency", "police", "person", subj, []string{"name"}, linkage.ErrBadRequest},
		{"unknown dataset", linkage.Registry, "vehicles", subj, []string{"name"}, linkage.ErrBadRequest},
		{"unknown field", linkage.Registry, "person", subj, []string{"name", "password"}, linkage.ErrBadRequest},
		{"field twice", linkage.Registry, "person", subj, []string{"name", "name"}, linkage.ErrBadRequest},
		{"no fields", linkage.Registry, "person", subj, nil, linkage.ErrBadRequest},
		{"empty subject", linkage.Registry, "person", "", []string{"name"}, linkage.ErrBadRequest},
		{"unknown subject", linkage.Registry, "person", "PNOBODY0000", []string{"name"}, linkage.ErrNotFound},
		{"person id at corporation dataset", linkage.Tax, "corporation", subj, []string{"company_name"}, linkage.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := env.Agencies[linkage.Registry].Stats().Requests
			_, err := c.Fetch(ctx, purposeFor(tt.agency, tt.dataset), tt.agency, tt.dataset, tt.subject, tt.fields)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.want == linkage.ErrBadRequest && env.Agencies[linkage.Registry].Stats().Requests != before {
				t.Fatal("a bad request was sent to the agency")
			}
		})
	}
}

func TestRetriesThenBreakerOpens(t *testing.T) {
	env := agencytest.Start(t, 20, 3)
	reg := env.Agencies[linkage.Registry]
	reg.SetFaults(agency.Faults{Error: 1})
	c := env.Client(t, linkage.Options{Retries: 2, Backoff: time.Millisecond, BreakerThreshold: 3, BreakerCooldown: time.Hour})
	ctx := agencytest.Ctx(t)
	subj := env.World.People[0].Subject

	_, err := c.Fetch(ctx, "resident-registration-copy", linkage.Registry, "person", subj, []string{"name"})
	var ue *linkage.UnavailableError
	if !errors.As(err, &ue) || ue.Agency != linkage.Registry {
		t.Fatalf("err = %v, want UnavailableError for registry", err)
	}
	if got := reg.Stats().Errored; got != 3 {
		t.Fatalf("agency saw %d attempts, want 3 (1 + 2 retries)", got)
	}
	// The breaker is open now: the next call fails fast without a request.
	_, err = c.Fetch(ctx, "resident-registration-copy", linkage.Registry, "person", subj, []string{"name"})
	if !errors.As(err, &ue) || ue.RetryAfter <= 0 {
		t.Fatalf("err = %v, want UnavailableError with RetryAfter", err)
	}
	if got := reg.Stats().Requests; got != 3 {
		t.Fatalf("open breaker still sent requests: %d", got)
	}
	// Other agencies are unaffected.
	if _, err := c.Fetch(ctx, "graduation-certificate", linkage.Education, "student", subj, []string{"name"}); err != nil {
		t.Fatalf("education fetch with registry down: %v", err)
	}
	st := c.Status()
	if len(st) != 3 || st[1].Agency != linkage.Registry || st[1].State != linkage.Open || st[0].State != linkage.Closed {
		t.Fatalf("status = %+v", st)
	}
}

func TestRetryRecoversFromDrops(t *testing.T) {
	env := agencytest.Start(t, 20, 4)
	reg := env.Agencies[linkage.Registry]
	reg.SetFaults(agency.Faults{Drop: 0.5})
	c := env.Client(t, linkage.Options{Retries: 8, Backoff: time.Millisecond, BreakerThreshold: 1000})
	ctx := agencytest.Ctx(t)
	for i := 0; i < 20; i++ {
		p := env.World.People[i]
		rec, err := c.Fetch(ctx, "resident-registration-copy", linkage.Registry, "person", p.Subject, []string{"name"})
		if err != nil {
			t.Fatalf("fetch %d: %v", i, err)
		}
		if n, _ := rec.String("name"); n != p.Name {
			t.Fatalf("fetch %d: name %q, want %q", i, n, p.Name)
		}
	}
	if reg.Stats().Dropped == 0 {
		t.Fatal("no drop was injected; the test proves nothing")
	}
}

func TestAttemptTimeout(t *testing.T) {
	env := agencytest.Start(t, 5, 5)
	env.Agencies[linkage.Tax].SetFaults(agency.Faults{Delay: time.Second})
	c := env.Client(t, linkage.Options{AttemptTimeout: 30 * time.Millisecond, Retries: -1})
	start := time.Now()
	_, err := c.Fetch(agencytest.Ctx(t), "tax-arrears-lookup", linkage.Tax, "taxpayer", env.World.People[0].Subject, []string{"name"})
	if !errors.Is(err, linkage.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Fatalf("timed-out fetch took %s", d)
	}
}

func TestRejectsUnsignedImpostor(t *testing.T) {
	// An impostor at the agency's address answers with a well-formed echo
	// but cannot sign it.
	env := agencytest.Start(t, 5, 6)
	impostor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req linkage.Request
		json.NewDecoder(r.Body).Decode(&req)
		fields := map[string]json.RawMessage{}
		for _, f := range req.Fields {
			fields[f] = json.RawMessage(`"forged"`)
		}
		json.NewEncoder(w).Encode(linkage.Response{Agency: linkage.Registry, CorrelationID: req.CorrelationID, Subject: req.Subject, Dataset: req.Dataset, Fields: fields})
	}))
	t.Cleanup(impostor.Close)
	eps := append([]linkage.Endpoint(nil), env.Endpoints...)
	for i := range eps {
		if eps[i].Agency == linkage.Registry {
			eps[i].BaseURL = impostor.URL
		}
	}
	c, err := linkage.NewClient(linkage.DefaultSchema(), eps, linkage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Fetch(agencytest.Ctx(t), "resident-registration-copy", linkage.Registry, "person", env.World.People[0].Subject, []string{"name"})
	if !errors.Is(err, linkage.ErrIntegrity) {
		t.Fatalf("err = %v, want ErrIntegrity", err)
	}
}

// TestConcurrentIsolation is the property behind incident 1: under thousands
// of concurrent requests with delayed, reordered and swapped answers, linkage
// never hands one request another's data, and refuses every swap the agency
// injected.
func TestConcurrentIsolation(t *testing.T) {
	cases := []struct {
		name   string
		faults agency.Faults
		exact  bool // every injected swap is seen by exactly one Fetch
	}{
		{"swap and reorder", agency.Faults{Jitter: 5 * time.Millisecond, Swap: 0.2}, true},
		{"all faults", agency.Faults{Jitter: 5 * time.Millisecond, Swap: 0.1, Drop: 0.05, Error: 0.05}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := agencytest.Start(t, 3000, 7)
			for _, a := range env.Agencies {
				a.SetFaults(tc.faults)
			}
			c := env.Client(t, linkage.Options{AttemptTimeout: 30 * time.Second, Retries: 3, Backoff: time.Millisecond, BreakerThreshold: 1 << 30})
			ctx := agencytest.Ctx(t)

			const workers, perWorker = 500, 8 // 4,000 requests, 500 in flight
			var ok, refused, unavailable, wrong atomic.Int64
			var wg sync.WaitGroup
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					r := rand.New(rand.NewPCG(uint64(w), 99))
					for i := 0; i < perWorker; i++ {
						idx := r.IntN(len(env.World.People))
						p := &env.World.People[idx]
						// Education declares no purpose that may read the
						// RRN, so its answers are checked without it.
						purpose, agencyName, dataset, fields := "resident-registration-copy", linkage.Registry, "person", []string{"name", "birth_date", "rrn"}
						if i%2 == 1 {
							purpose, agencyName, dataset, fields = "graduation-certificate", linkage.Education, "student", []string{"name", "birth_date"}
						}
						rec, err := c.Fetch(ctx, purpose, agencyName, dataset, p.Subject, fields)
						switch {
						case errors.Is(err, linkage.ErrMismatch):
							refused.Add(1)
							continue
						case errors.Is(err, linkage.ErrUnavailable) && !tc.exact:
							unavailable.Add(1)
							continue
						case err != nil:
							t.Errorf("fetch: %v", err)
							continue
						}
						name, _ := rec.String("name")
						birth, _ := rec.String("birth_date")
						rrn := p.RRN
						if agencyName == linkage.Registry {
							rrn, _ = rec.String("rrn")
						}
						if rec.Subject != p.Subject || name != p.Name || birth != p.BirthDate.Format("2006-01-02") || rrn != p.RRN {
							wrong.Add(1)
							continue
						}
						ok.Add(1)
					}
				}(w)
			}
			wg.Wait()

			var swapped int64
			for _, a := range env.Agencies {
				swapped += a.Stats().Swapped
			}
			t.Logf("ok=%d refused=%d unavailable=%d wrong=%d injected swaps=%d", ok.Load(), refused.Load(), unavailable.Load(), wrong.Load(), swapped)
			if wrong.Load() != 0 {
				t.Fatalf("%d answers carried another person's data", wrong.Load())
			}
			if swapped == 0 {
				t.Fatal("no swap was injected; the test proves nothing")
			}
			if tc.exact && refused.Load() != swapped {
				t.Fatalf("refused %d answers, agencies injected %d swaps", refused.Load(), swapped)
			}
			if !tc.exact && refused.Load() == 0 {
				t.Fatal("no swap was refused")
			}
			if ok.Load() == 0 {
				t.Fatal("no request succeeded")
			}
		})
	}
}

func keys(m map[string]json.RawMessage) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// purposeFor names a service that declares fields of the dataset, for the
// tests that are about something else than purposes.
func purposeFor(agency, dataset string) string {
	switch agency + "." + dataset {
	case "tax.corporation":
		return "business-registration-certificate"
	case "tax.taxpayer":
		return "tax-arrears-lookup"
	case "education.student":
		return "graduation-certificate"
	}
	return "resident-registration-copy"
}

// BenchmarkFetch measures one verified agency round trip over loopback
// (request, signature, echo and field checks), with parallel callers.
func BenchmarkFetch(b *testing.B) {
	env := agencytest.Start(b, 10000, 1)
	c := env.Client(b, linkage.Options{})
	ctx := context.Background()
	fields := []string{"name", "birth_date", "rrn", "address"}
	b.ReportAllocs()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		r := rand.New(rand.NewPCG(rand.Uint64(), 1))
		for pb.Next() {
			p := &env.World.People[r.IntN(len(env.World.People))]
			if _, err := c.Fetch(ctx, "resident-registration-copy", linkage.Registry, "person", p.Subject, fields); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// A query without a purpose is refused before it leaves minwon: the agency
// could not hold it to anything.
func TestFetchNeedsPurpose(t *testing.T) {
	env := agencytest.Start(t, 5, 8)
	c := env.Client(t, linkage.Options{})
	_, err := c.Fetch(agencytest.Ctx(t), "", linkage.Registry, "person", env.World.People[0].Subject, []string{"name"})
	if !errors.Is(err, linkage.ErrBadRequest) {
		t.Fatalf("err = %v, want ErrBadRequest", err)
	}
	if n := env.Agencies[linkage.Registry].Stats().Requests; n != 0 {
		t.Fatalf("%d requests reached the agency", n)
	}
}

// headerRecorder passes calls on and keeps each call's request id.
type headerRecorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	ids  []string
}

func (h *headerRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	h.ids = append(h.ids, r.Header.Get(reqid.Header))
	h.mu.Unlock()
	return h.next.RoundTrip(r)
}

type callLog struct {
	mu    sync.Mutex
	calls []string
}

func (c *callLog) AgencyCall(agency, outcome string, took time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, agency+" "+outcome)
}

// TestRequestIDAndObserver: the request id of the caller's context goes to
// the agency as a header, and every Fetch is reported with its outcome.
func TestRequestIDAndObserver(t *testing.T) {
	env := agencytest.Start(t, 20, 4)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = env.TLS.Clone()
	rec := &headerRecorder{next: tr}
	obs := &callLog{}
	c := env.Client(t, linkage.Options{HTTPClient: &http.Client{Transport: rec}, Observer: obs})
	ctx := reqid.With(agencytest.Ctx(t), "req-abc")
	p := env.World.People[3]
	if _, err := c.Fetch(ctx, "resident-registration-copy", linkage.Registry, "person", p.Subject, []string{"name"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Fetch(ctx, "resident-registration-copy", linkage.Registry, "person", "PNOBODY0000", []string{"name"}); !errors.Is(err, linkage.ErrNotFound) {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.ids) != 2 || rec.ids[0] != "req-abc" || rec.ids[1] != "req-abc" {
		t.Errorf("request ids sent: %q", rec.ids)
	}
	want := []string{linkage.Registry + " ok", linkage.Registry + " not_found"}
	if !slices.Equal(obs.calls, want) {
		t.Errorf("observed %q, want %q", obs.calls, want)
	}
}
