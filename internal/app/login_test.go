package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"testing"

	"github.com/minwon/minwon/internal/apiwire"
	"github.com/minwon/minwon/internal/apptest"
)

// from returns a client whose connections come from the loopback address
// ip, so a test can be two people at two addresses.
func from(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}}}
}

func login(t *testing.T, c *http.Client, base, login, password string, header map[string]string) (*http.Response, apiwire.LoginResponse) {
	t.Helper()
	body, _ := json.Marshal(apiwire.LoginRequest{Login: login, Password: password})
	req, _ := http.NewRequest("POST", base+"/api/v1/login", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out apiwire.LoginResponse
	json.NewDecoder(resp.Body).Decode(&out)
	return resp, out
}

// TestLoginThrottlesTheAddressNotTheAccount: wrong passwords lock the
// guessing address out of the login (429 with Retry-After), whatever
// X-Forwarded-For it claims; the owner at another address logs in.
func TestLoginThrottlesTheAddressNotTheAccount(t *testing.T) {
	env := apptest.Start(t, 50, 21)
	acct := env.Accounts[0]
	attacker, owner := from("127.0.0.1"), from("127.0.0.2")
	var last *http.Response
	for i := range 8 {
		last, _ = login(t, attacker, env.Server.URL, acct.Login, "wrong", map[string]string{"X-Forwarded-For": fmt.Sprintf("198.51.100.%d", i)})
		if i < 5 && last.StatusCode != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d, want 401", i+1, last.StatusCode)
		}
	}
	if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" {
		t.Fatalf("after 8 guesses: %d, Retry-After %q; want 429 with Retry-After", last.StatusCode, last.Header.Get("Retry-After"))
	}
	if resp, _ := login(t, attacker, env.Server.URL, acct.Login, acct.Password, nil); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("right password from the guessing address: %d, want 429", resp.StatusCode)
	}
	if resp, _ := login(t, owner, env.Server.URL, acct.Login, acct.Password, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("owner from another address: %d, want 200", resp.StatusCode)
	}
}

// TestLoginOffersToEndOtherSessions: the login answer counts the
// account's other sessions, and end-others ends them and only them.
func TestLoginOffersToEndOtherSessions(t *testing.T) {
	env := apptest.Start(t, 50, 22)
	acct := env.Accounts[1]
	c := from("127.0.0.3")
	_, first := login(t, c, env.Server.URL, acct.Login, acct.Password, nil)
	_, second := login(t, c, env.Server.URL, acct.Login, acct.Password, nil)
	if first.OtherSessions == nil || *first.OtherSessions != 0 || second.OtherSessions == nil || *second.OtherSessions != 1 {
		t.Fatalf("other_sessions = %v then %v, want 0 then 1", first.OtherSessions, second.OtherSessions)
	}
	old := env.Anonymous(t)
	old.Token = first.Token
	cur := env.Anonymous(t)
	cur.Token = second.Token
	var ended apiwire.EndOthersResponse
	if code := cur.Do("POST", "/api/v1/sessions/end-others", struct{}{}, nil, &ended); code != http.StatusOK || ended.Ended != 1 {
		t.Fatalf("end-others = %d %+v, want 200 with 1 ended", code, ended)
	}
	if code := old.Do("GET", "/api/v1/me", nil, nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("the other session after end-others: %d, want 401", code)
	}
	if code := cur.Do("GET", "/api/v1/me", nil, nil, nil); code != http.StatusOK {
		t.Fatalf("the current session after end-others: %d, want 200", code)
	}
	if code := env.Anonymous(t).Do("POST", "/api/v1/sessions/end-others", struct{}{}, nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("end-others without a session: %d, want 401", code)
	}
}
