package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/minwon/minwon/internal/config"
	"github.com/minwon/minwon/internal/datadir"
	"github.com/minwon/minwon/internal/demo"
	"github.com/minwon/minwon/internal/httpserve"
	"github.com/minwon/minwon/internal/pki"
)

// simulatedPKI is the simulated GPKI of a data directory as `minwon demo`
// and `minwon agencies` run it: the CA with the seeded officials, its
// validation service listening, the server certificates of the counter
// and the admin API, and minwon's system certificate for the agencies.
type simulatedPKI struct {
	CA            *pki.Authority
	Officials     []demo.OfficialRow
	Validation    httpserve.Listener
	ValidationURL string
	Counter       pki.Credential
	Admin         pki.Credential
	System        pki.Credential // DIR/pki/systems/minwon.pem: what linkage presents to the agencies
	Documents     pki.Credential // DIR/pki/documents/minwon.pem: signs every issued PDF
	hosts         []string
}

// startSimulatedPKI prepares DIR/pki (demo.PreparePKI) and listens for its
// validation service on validationAddr. hosts are the names the server
// certificates are issued for, if they are not there yet.
func startSimulatedPKI(data, validationAddr string, hosts []string) (*simulatedPKI, error) {
	ca, officials, err := demo.PreparePKI(data, os.Stdout)
	if err != nil {
		return nil, err
	}
	s := &simulatedPKI{CA: ca, Officials: officials, hosts: hosts}
	if s.System, err = ca.SystemCredential("minwon"); err != nil {
		return nil, err
	}
	if s.Documents, err = ca.DocumentSignerCredential("minwon"); err != nil {
		return nil, err
	}
	if s.Counter, err = ca.ServerCredential("counter", hosts); err != nil {
		return nil, err
	}
	if s.Admin, err = ca.ServerCredential("admin", hosts); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", validationAddr)
	if err != nil {
		return nil, fmt.Errorf("validation service: %w", err)
	}
	validation := pki.NewValidation(ca, time.Hour)
	s.Validation = httpserve.Listener{Name: "validation service", Listener: validation.Listener(l), Handler: validation}
	s.ValidationURL = "http://" + l.Addr().String()
	return s, nil
}

// AgencyTLS returns the mutual-TLS config the named agency serves with: its
// server certificate (servers/agency-NAME.pem), client certificates of the
// PKI required.
func (s *simulatedPKI) AgencyTLS(name string) (*tls.Config, error) {
	cred, err := s.CA.ServerCredential("agency-"+name, s.hosts)
	if err != nil {
		return nil, err
	}
	return pki.ServerTLS(cred, s.CA.Pool())
}

// LinkageTLS returns minwon's side of the agencies' mutual TLS: the system
// certificate, trusting the PKI's root.
func (s *simulatedPKI) LinkageTLS() (*tls.Config, error) {
	return pki.ClientTLS(s.System, s.CA.Pool())
}

// Settings returns the pki settings of a serve config that trusts s.
func (s *simulatedPKI) Settings(data string, refresh time.Duration) *config.PKI {
	return &config.PKI{
		CA:            filepath.Join(s.CA.Dir(), pki.RootCertFile),
		CRLIssuer:     filepath.Join(s.CA.Dir(), pki.MinistryCertFile),
		ValidationURL: s.ValidationURL,
		Grace:         config.DefaultGrace,
		CRLRefresh:    config.Duration(refresh),
		CRLCache:      datadir.Dir(data).CRLCache(),
	}
}

// officialListener is one of the officials' mutual-TLS listeners.
type officialListener struct {
	name, addr string
	cred       pki.Credential
	handler    func(pki.CredentialChecker) http.Handler
}

// listenOfficials opens each listener with a configured address, mutual
// TLS with client certificates under roots, its handler deciding with
// checker. On an error it closes what it opened.
func listenOfficials(list []officialListener, roots *x509.CertPool, checker pki.CredentialChecker) ([]httpserve.Listener, error) {
	var out []httpserve.Listener
	for _, o := range list {
		if o.addr == "" {
			continue
		}
		tlsCfg, err := pki.ServerTLS(o.cred, roots)
		if err == nil {
			var l net.Listener
			if l, err = net.Listen("tcp", o.addr); err == nil {
				out = append(out, httpserve.Listener{Name: o.name, Listener: tls.NewListener(l, tlsCfg), Handler: o.handler(checker)})
				continue
			}
		}
		for _, s := range out {
			s.Listener.Close()
		}
		return nil, fmt.Errorf("%s on %s: %w", o.name, o.addr, err)
	}
	return out, nil
}
