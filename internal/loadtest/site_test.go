package loadtest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The switch sends requests to the current site; a switch cuts the kept-
// alive connections to the old one, so no request reaches a lost site.
func TestSwitchProxy(t *testing.T) {
	site := func(name string) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, name) }))
	}
	a, b := site("A"), site("B")
	defer a.Close()
	defer b.Close()
	sw, err := newSwitch()
	if err != nil {
		t.Fatal(err)
	}
	defer sw.Close()
	c := &http.Client{}
	get := func() (string, error) {
		resp, err := c.Get(sw.URL())
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	if _, err := get(); err == nil {
		t.Error("an answer before any site was chosen")
	}
	sw.Switch(strings.TrimPrefix(a.URL, "http://"))
	for range 3 {
		if got, err := get(); got != "A" {
			t.Fatalf("before the switch: %q, %v", got, err)
		}
	}
	sw.Switch(strings.TrimPrefix(b.URL, "http://"))
	// The first request may meet the connection the switch cut; a client
	// retries it, as the harness does.
	got, err := get()
	if err != nil {
		got, err = get()
	}
	if got != "B" {
		t.Fatalf("after the switch: %q, %v", got, err)
	}
}

// freeAddrs never hands out one address twice.
func TestFreeAddrsDistinct(t *testing.T) {
	addrs, err := freeAddrs(4)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, a := range addrs {
		if seen[a] {
			t.Fatalf("%s twice in %v", a, addrs)
		}
		seen[a] = true
	}
}
