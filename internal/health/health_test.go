package health

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestReadyz(t *testing.T) {
	now := time.Now()
	fail := false
	c := &Checker{Checks: []Check{
		{Name: "database", Reason: "database ping failed", Func: func(context.Context) error {
			if fail {
				return errors.New("dial tcp 10.0.0.1:5432: secret detail")
			}
			return nil
		}},
		{Name: "checkpoint", Reason: "checkpoint too old", Func: MaxAge(func() time.Time { return now.Add(-time.Minute) }, 5*time.Minute, time.Now)},
	}}
	mux := http.NewServeMux()
	c.Register(mux)
	get := func(path string) (int, Answer) {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		var a Answer
		if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return rec.Code, a
	}
	if code, a := get("/readyz"); code != 200 || a.Status != "ok" {
		t.Errorf("ready: %d %+v", code, a)
	}
	fail = true
	code, a := get("/readyz")
	if code != 503 || a.Status != "not_ready" || len(a.Failed) != 1 || a.Failed[0] != (Failure{"database", "database ping failed"}) {
		t.Errorf("database down: %d %+v", code, a)
	}
	if code, _ := get("/livez"); code != 200 {
		t.Errorf("livez with the database down: %d", code)
	}
}

func TestMaxAge(t *testing.T) {
	now := time.Now()
	at := now
	check := MaxAge(func() time.Time { return at }, time.Minute, func() time.Time { return now })
	for _, tc := range []struct {
		at time.Time
		ok bool
	}{{now, true}, {now.Add(-59 * time.Second), true}, {now.Add(-61 * time.Second), false}, {time.Time{}, false}} {
		at = tc.at
		if err := check(context.Background()); (err == nil) != tc.ok {
			t.Errorf("at %v: %v", tc.at, err)
		}
	}
}
