package web

import (
	"bytes"
	"context"
	"github.com/minwon/minwon/internal/portal/portaltest"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/linkage"
	"github.com/minwon/minwon/internal/portal"
	"github.com/minwon/minwon/internal/verification"
)

// countingUploads records how much of each upload it read.
type countingUploads struct{ read int64 }

func (c *countingUploads) ByPDF(_ context.Context, r io.Reader) (*verification.Result, error) {
	n, err := io.Copy(io.Discard, r)
	c.read += n
	return &verification.Result{Status: verification.Unknown, LogIndex: -1}, err
}

// countingReader counts the bytes the server took from the request body.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// The verification form's token is checked before the file is read: a
// forged post costs the server the token's few bytes, not a parsed
// multipart form of 10 MiB.
func TestVerifyUploadChecksCSRFBeforeTheFile(t *testing.T) {
	cat, err := form.Builtin(linkage.DefaultSchema())
	if err != nil {
		t.Fatal(err)
	}
	type issuerStub struct{ portal.Issuer }
	type verifierStub struct{ portal.Verifier }
	uploads := &countingUploads{}
	s, err := New(Server{Catalog: cat, Agencies: noAgencies{}, Sessions: portaltest.OneSession{}, Profiles: portaltest.FailingProfiles{},
		Issuer: issuerStub{}, Verifier: verifierStub{}, Uploads: uploads})
	if err != nil {
		t.Fatal(err)
	}
	const secret = "0123456789abcdef0123456789abcdef-pre-session"
	file := bytes.Repeat([]byte("%PDF-1.7\n"), (8<<20)/9)
	for _, tc := range []struct {
		name     string
		token    string
		status   int
		wantRead bool
	}{
		{"forged token", "forged", http.StatusForbidden, false},
		{"no token", "", http.StatusForbidden, false},
		{"right token", tokenFor(secret), http.StatusOK, true},
	} {
		uploads.read = 0
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		if tc.token != "" {
			mw.WriteField(csrfField, tc.token)
		}
		fw, _ := mw.CreateFormFile("pdf", "document.pdf")
		fw.Write(file)
		mw.Close()
		body := &countingReader{r: &buf}
		req := httptest.NewRequest(http.MethodPost, "/verify", body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.AddCookie(&http.Cookie{Name: csrfCookie, Value: secret})
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if rec.Code != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, rec.Code, tc.status)
		}
		if read := uploads.read > 0; read != tc.wantRead {
			t.Errorf("%s: the verifier read %d bytes", tc.name, uploads.read)
		}
		if !tc.wantRead && body.n > 1<<20 {
			t.Errorf("%s: the server read %d bytes of the body before refusing it", tc.name, body.n)
		}
		if tc.wantRead && uploads.read != int64(len(file)) {
			t.Errorf("%s: the verifier got %d bytes, want %d", tc.name, uploads.read, len(file))
		}
	}
}

// A file past verification.MaxUpload is answered on the verification page
// with 413, whether the body's bound or the verifier's stops it.
func TestVerifyUploadTooLarge(t *testing.T) {
	cat, err := form.Builtin(linkage.DefaultSchema())
	if err != nil {
		t.Fatal(err)
	}
	type issuerStub struct{ portal.Issuer }
	type verifierStub struct{ portal.Verifier }
	up := verification.NewUploads(&verification.Verifier{}, 1, time.Second)
	s, err := New(Server{Catalog: cat, Agencies: noAgencies{}, Sessions: portaltest.OneSession{}, Profiles: portaltest.FailingProfiles{},
		Issuer: issuerStub{}, Verifier: verifierStub{}, Uploads: up})
	if err != nil {
		t.Fatal(err)
	}
	const secret = "0123456789abcdef0123456789abcdef-pre-session"
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField(csrfField, tokenFor(secret))
	fw, _ := mw.CreateFormFile("pdf", "document.pdf")
	fw.Write(make([]byte, verification.MaxUpload+1))
	mw.Close()
	req := httptest.NewRequest(http.MethodPost, "/verify", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.AddCookie(&http.Cookie{Name: csrfCookie, Value: secret})
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), `action="/verify"`) {
		t.Errorf("%d, want 413 on the verification page", rec.Code)
	}
}
