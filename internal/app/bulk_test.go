package app_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/minwon/minwon/internal/admin"
	"github.com/minwon/minwon/internal/apptest"
	"github.com/minwon/minwon/internal/guard"
	"github.com/minwon/minwon/internal/ident"
	"github.com/minwon/minwon/internal/pki"
)

// As tried by a new user: one login asks for 150 household documents at
// once. The default limits let a household's worth through, block the
// rest, alert the operators and show the block on the admin API; other
// citizens are not affected.
func TestBulkIssuanceIsBlocked(t *testing.T) {
	env := apptest.Start(t, 400, 15)
	w := env.World
	f := findFamily(t, w)
	head, spouse := &w.People[f.head], &w.People[f.spouse]
	hc := env.Login(t, env.AccountOf(t, head.Subject))

	codes := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range 150 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			subject := []string{head.Subject, spouse.Subject}[i%2]
			resp, _, err := hc.Try("POST", "/api/v1/issuances", map[string]any{"service": "resident-registration-copy", "subject": subject}, map[string]string{"Idempotency-Key": newKey()["Idempotency-Key"]})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			codes[resp.StatusCode]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	limit := guard.DefaultLimits().Rules[guard.Issuance].Block
	if codes[http.StatusCreated] != limit || codes[http.StatusTooManyRequests] != 150-limit {
		t.Fatalf("answers %v, want %d issued and the rest refused", codes, limit)
	}
	// Blocked now, for other requests too.
	var e struct{ Error struct{ Code string } }
	if code := hc.Do("POST", "/api/v1/issuances", map[string]any{"service": "resident-registration-copy"}, newKey(), &e); code != 429 || e.Error.Code != "access_blocked" {
		t.Errorf("after the block: %d %+v", code, e)
	}
	// Someone else still gets their document.
	other := env.Login(t, env.AccountOf(t, w.People[w.Households[1].Head].Subject))
	if code := other.Do("POST", "/api/v1/issuances", map[string]any{"service": "resident-registration-copy"}, newKey(), nil); code != http.StatusCreated {
		t.Errorf("another citizen: %d", code)
	}

	ac := env.Admin(t)
	var lim admin.LimitsJSON
	if code := ac.Do("GET", "/admin/v1/limits", nil, nil, &lim); code != 200 || len(lim.Blocked) != 1 || lim.Blocked[0].Principal != env.AccountOf(t, head.Subject).Login || lim.Rules[guard.Issuance].Block != limit {
		t.Fatalf("limits: %d %+v", code, lim)
	}
	alerts, err := env.DB.Alerts(t.Context(), 50)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, a := range alerts {
		kinds = append(kinds, a.Kind)
	}
	if k := strings.Join(kinds, ","); !strings.Contains(k, "bulk_access_blocked:issuance") || !strings.Contains(k, "bulk_access:issuance") {
		t.Errorf("alerts %s", k)
	}
	// An operator lifts it, with a reason.
	if code := ac.Do("POST", "/admin/v1/limits/unblock", admin.UnblockRequest{Principal: lim.Blocked[0].Principal, Reason: "checked with the citizen"}, nil, nil); code != 200 {
		t.Errorf("unblock: %d", code)
	}
	if code := hc.Do("POST", "/api/v1/issuances", map[string]any{"service": "resident-registration-copy"}, newKey(), nil); code != http.StatusCreated {
		t.Errorf("after unblocking: %d", code)
	}
}

// An official who looks up many different citizens at the counter is
// blocked; numbers that belong to nobody count too. (The requests carry no
// Idempotency-Key, so that no document is issued: the look-up alone is
// counted, and the issuance limit stays out of the way.)
func TestCounterOfficialLookingUpManyIsBlocked(t *testing.T) {
	env := apptest.Start(t, 120, 16)
	c := env.StartCounter(t, pki.DefaultGrace)
	_, _, cl := c.Official(t, pki.CounterClerk)
	rule := guard.DefaultLimits().Rules[guard.Lookup]
	blocked := -1
	for i := 0; i <= rule.Block && i < len(env.World.People); i++ {
		p := env.World.People[i]
		code := cl.Do("POST", "/counter/v1/issuances", counterRequest("resident-registration-abstract", p.RRN, ""), nil, nil)
		if code == http.StatusTooManyRequests {
			blocked = i
			break
		}
		if code != http.StatusBadRequest {
			t.Fatalf("citizen %d: %d", i, code)
		}
	}
	if blocked != rule.Block {
		t.Fatalf("blocked at citizen %d, want after %d", blocked+1, rule.Block)
	}
	// Even the first citizen again, or a number of nobody, is refused now.
	nobody := "900101100000"
	nobody += string(ident.RRNCheckDigit(nobody))
	for _, rrn := range []string{env.World.People[0].RRN, nobody} {
		if code := cl.Do("POST", "/counter/v1/issuances", counterRequest("resident-registration-abstract", rrn, ""), newKey(), nil); code != http.StatusTooManyRequests {
			t.Errorf("after the block: %d", code)
		}
	}
}
