package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/minwon/minwon/internal/apiwire"
	"github.com/minwon/minwon/internal/datadir"
	"github.com/minwon/minwon/internal/demo"
	"github.com/minwon/minwon/internal/pki"
)

// officialFlags say how an official's client reaches its listener: a demo's
// data directory and the official's id (urls.json, demo-officials.csv,
// pki/ca.pem), or a URL with certificate, key and CA files.
type officialFlags struct {
	data, as             string
	url, cert, key, ca   string
	timeout              time.Duration
	listener, cmd, usage string
}

// newOfficialCommand returns the flag set of an officials' client command
// (listener "admin" or "counter") with the connection flags registered.
func newOfficialCommand(listener, usage string) (*flag.FlagSet, *officialFlags) {
	fs := flag.NewFlagSet(listener, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o := &officialFlags{listener: listener, cmd: listener, usage: usage}
	o.register(fs)
	return fs, o
}

// usageErr is a usage error of the command, followed by its usage text.
func (o *officialFlags) usageErr(msg string) error {
	return usageError{fmt.Errorf("%s: %s\n\n%s", o.cmd, msg, o.usage)}
}

// parse parses the command line and returns the positional arguments; a
// command is required.
func (o *officialFlags) parse(fs *flag.FlagSet, args []string) ([]string, error) {
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return nil, o.usageErr(err.Error())
	}
	if len(pos) == 0 {
		return nil, o.usageErr("give a command")
	}
	return pos, nil
}

func (o *officialFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&o.data, "data", "", "a running demo's data directory (with --as)")
	fs.StringVar(&o.as, "as", "", "with --data: the official's id from demo-officials.csv")
	fs.StringVar(&o.url, "url", "", "base URL of the listener (instead of --data)")
	fs.StringVar(&o.cert, "cert", "", "with --url: the official's certificate (PEM, with its chain)")
	fs.StringVar(&o.key, "key", "", "with --url: the official's private key (PEM)")
	fs.StringVar(&o.ca, "ca", "", "with --url: the CA bundle to trust (ca.pem)")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "how long to wait for an answer")
}

// client returns the base URL and an HTTP client presenting the
// official's certificate.
func (o *officialFlags) client() (string, *http.Client, error) {
	var cred pki.Credential
	var caFile, base string
	switch {
	case o.data != "" && o.url == "":
		if o.as == "" {
			return "", nil, usageError{fmt.Errorf("%s: --data needs --as ID (an official of %s)", o.cmd, datadir.Dir(o.data).Officials())}
		}
		row, err := demo.FindOfficial(o.data, o.as)
		if err != nil {
			return "", nil, err
		}
		var urls demo.URLs
		raw, err := os.ReadFile(datadir.Dir(o.data).URLs())
		if err == nil {
			err = json.Unmarshal(raw, &urls)
		}
		if err != nil {
			return "", nil, fmt.Errorf("%s: %s: %w (is the demo running?)", o.cmd, datadir.Dir(o.data).URLs(), err)
		}
		base = urls.Admin
		if o.listener == "counter" {
			base = urls.Counter
		}
		if base == "" {
			return "", nil, fmt.Errorf("%s: urls.json has no %s URL", o.cmd, o.listener)
		}
		cred = pki.Credential{CertFile: row.Cert, KeyFile: row.Key}
		caFile = filepath.Join(datadir.Dir(o.data).PKI(), pki.RootCertFile)
	case o.url != "" && o.data == "" && o.as == "":
		if o.cert == "" || o.key == "" || o.ca == "" {
			return "", nil, usageError{fmt.Errorf("%s: --url needs --cert, --key and --ca", o.cmd)}
		}
		base, cred, caFile = o.url, pki.Credential{CertFile: o.cert, KeyFile: o.key}, o.ca
	default:
		return "", nil, usageError{fmt.Errorf("%s: give --data DIR --as ID, or --url URL --cert F --key F --ca F\n\n%s", o.cmd, o.usage)}
	}
	roots, err := pki.RootPool(caFile)
	if err != nil {
		return "", nil, err
	}
	cfg, err := pki.ClientTLS(cred, roots)
	if err != nil {
		return "", nil, err
	}
	return base, &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: o.timeout}, nil
}

// refusal is an error answer of the counter or the admin API.
type refusal struct {
	status int
	body   apiwire.Error
}

func (r *refusal) Error() string {
	return fmt.Sprintf("refused (%d %s): %s", r.status, r.body.Code, r.body.Message)
}

// call sends a JSON request and decodes the answer into out (if not nil),
// or returns the refusal.
func call(ctx context.Context, c *http.Client, method, url string, header map[string]string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var eb apiwire.ErrorBody
		if json.Unmarshal(raw, &eb) != nil || eb.Error.Code == "" {
			return &refusal{status: resp.StatusCode, body: apiwire.Error{Code: "http_error", Message: http.StatusText(resp.StatusCode)}}
		}
		return &refusal{status: resp.StatusCode, body: eb.Error}
	}
	switch o := out.(type) {
	case nil:
		return nil
	case *[]byte:
		*o = raw
		return nil
	default:
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("unexpected answer: %w", err)
		}
		return nil
	}
}
