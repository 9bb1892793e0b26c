// Package agencytest starts the simulated agencies on loopback for tests and
// builds a linkage client that trusts them. The agencies serve mutual TLS
// with certificates of the test binary's PKI (pkitest), as in production;
// the client presents minwon's system certificate.
package agencytest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/minwon/minwon/internal/agency"
	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/pki"
	"github.com/minwon/minwon/internal/pkitest"
	"github.com/minwon/minwon/internal/population"
)

// Env is a running set of simulated agencies.
type Env struct {
	World     *population.World
	Agencies  map[string]*agency.Server
	Endpoints []linkage.Endpoint
	// TLS is minwon's client side: its system certificate, trusting the
	// test PKI. Pass it as linkage.Options.TLS.
	TLS *tls.Config
	// HTTPClient reaches the agencies as minwon does, for tests that speak
	// the protocol by hand.
	HTTPClient *http.Client
}

// URL returns the base URL of the named agency.
func (e *Env) URL(agency string) string {
	for _, ep := range e.Endpoints {
		if ep.Agency == agency {
			return ep.BaseURL
		}
	}
	return ""
}

// Start generates a world of n people from seed and serves every agency of
// the default schema on its own httptest server, closed when t ends.
func Start(t testing.TB, n int, seed int64) *Env {
	t.Helper()
	w, err := population.Generate(population.Config{People: n, Seed: seed})
	if err != nil {
		t.Fatalf("generate population: %v", err)
	}
	return StartWorld(t, w)
}

// StartWorld serves w from every agency.
func StartWorld(t testing.TB, w *population.World) *Env {
	t.Helper()
	ca := pkitest.CA(t)
	clientTLS, err := pki.ClientTLS(pkitest.System(t), ca.Pool())
	if err != nil {
		t.Fatal(err)
	}
	env := &Env{World: w, Agencies: map[string]*agency.Server{}, TLS: clientTLS, HTTPClient: pkitest.Client(t, pkitest.System(t))}
	for _, name := range linkage.DefaultSchema().Agencies() {
		_, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		signer := linkage.Signer{KeyID: linkage.KeyID(name, key.Public().(ed25519.PublicKey)), Key: key}
		srv, err := agency.New(name, w, signer)
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewUnstartedServer(srv)
		hs.TLS = pkitest.ServerTLS(t, "agency-"+name)
		hs.StartTLS()
		t.Cleanup(hs.Close)
		id, pub := srv.PublicKey()
		env.Agencies[name] = srv
		env.Endpoints = append(env.Endpoints, linkage.Endpoint{Agency: name, BaseURL: hs.URL, Keys: map[string]ed25519.PublicKey{id: pub}})
	}
	return env
}

// Client returns a linkage client for the agencies with opt, presenting
// minwon's system certificate unless opt says otherwise.
func (e *Env) Client(t testing.TB, opt linkage.Options) *linkage.Client {
	t.Helper()
	if opt.TLS == nil && opt.HTTPClient == nil {
		opt.TLS = e.TLS
	}
	c, err := linkage.NewClient(linkage.DefaultSchema(), e.Endpoints, opt)
	if err != nil {
		t.Fatalf("linkage client: %v", err)
	}
	return c
}

// Ctx returns a context cancelled when t ends.
func Ctx(t testing.TB) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx
}
