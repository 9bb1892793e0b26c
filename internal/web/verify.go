package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/minwon/minwon/internal/auth"
	"github.com/minwon/minwon/internal/httperr"
	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/verification"
)

// maxForm bounds what the verification form sends besides the file: its
// CSRF token and the multipart framing.
const maxForm = 64 << 10

type verifyView struct {
	Number string
	Error  string
	Result *verification.Result
	ByPDF  bool
	Svc    any
	// WithCode offers the document-check code form (a number was checked
	// and check codes are served).
	WithCode bool
	// Code is the code as typed, and Checked the document it opened.
	Code    string
	Checked *issuance.Document
}

func (s *Server) verifyPage(w http.ResponseWriter, r *http.Request, status int, vv *verifyView, errKey string) {
	v := s.newView(w, r, s.optionalUser(r), "verify.title")
	if errKey != "" {
		vv.Error = v.T(errKey)
	}
	if vv.Result != nil {
		if svc := s.Catalog.Service(vv.Result.Service); svc != nil {
			vv.Svc = svc
		}
	}
	v.Data = vv
	s.render(w, r, status, "verify", v)
}

func (s *Server) verifyForm(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Has("number") {
		raw := r.URL.Query().Get("number")
		n, err := issuance.ParseNumber(raw)
		if err != nil {
			s.verifyPage(w, r, http.StatusBadRequest, &verifyView{Number: raw}, "verify.badnumber")
			return
		}
		http.Redirect(w, r, "/verify/"+string(n), http.StatusSeeOther)
		return
	}
	s.verifyPage(w, r, http.StatusOK, &verifyView{}, "")
}

func (s *Server) verifyNumber(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("number")
	n, err := issuance.ParseNumber(raw)
	if err != nil {
		s.verifyPage(w, r, http.StatusBadRequest, &verifyView{Number: raw}, "verify.badnumber")
		return
	}
	res, err := s.Verifier.ByNumber(r.Context(), string(n), "")
	if err != nil {
		s.fail(w, r, err, "/verify")
		return
	}
	s.verifyPage(w, r, http.StatusOK, &verifyView{Number: string(n), Result: res, WithCode: s.CheckCodes != nil && res.Status != verification.Unknown}, "")
}

// verifyCode shows the document for its number and the check code posted
// with it: its fields, or (format=pdf) the PDF as issued. A wrong code
// shows the number's verdict again with a refusal that does not say
// whether the number exists.
func (s *Server) verifyCode(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if !checkCSRF(r) {
		s.errorPage(w, r, http.StatusForbidden, "err.csrf", "/verify")
		return
	}
	n, err := issuance.ParseNumber(r.PathValue("number"))
	if err != nil {
		s.verifyPage(w, r, http.StatusBadRequest, &verifyView{Number: r.PathValue("number")}, "verify.badnumber")
		return
	}
	code, asPDF := r.PostFormValue("code"), r.PostFormValue("format") == "pdf"
	what := "fields"
	if asPDF {
		what = "pdf"
	}
	res, err := s.Verifier.ByNumber(r.Context(), string(n), "")
	if err != nil {
		s.fail(w, r, err, "/verify")
		return
	}
	vv := &verifyView{Number: string(n), Result: res, WithCode: true}
	shown, err := s.CheckCodes.View(r.Context(), string(n), code, auth.ClientKey(r.RemoteAddr), what)
	if err != nil {
		a := httperr.Of(err)
		if a.Internal {
			s.fail(w, r, err, "/verify/"+string(n))
			return
		}
		if ra := a.RetryAfterHeader(); ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		s.verifyPage(w, r, a.Status, vv, a.Key)
		return
	}
	if asPDF {
		w.Header().Set("Content-Type", "application/pdf")
		w.Header().Set("Content-Disposition", `attachment; filename="`+string(n)+`.pdf"`)
		w.Write(shown.PDF)
		return
	}
	doc, err := signedDocument(shown.Data)
	if err != nil {
		s.fail(w, r, err, "/verify/"+string(n))
		return
	}
	vv.Code, vv.Checked = code, doc
	s.verifyPage(w, r, http.StatusOK, vv, "")
}

// signedDocument reads the document out of a data.json envelope minwon
// signed and stored itself (its signature is the verifiers' to check).
func signedDocument(data []byte) (*issuance.Document, error) {
	var env struct {
		Document json.RawMessage `json:"document"`
	}
	var doc issuance.Document
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, fmt.Errorf("web: stored data.json: %w", err)
	}
	if err := json.Unmarshal(env.Document, &doc); err != nil {
		return nil, fmt.Errorf("web: stored data.json: %w", err)
	}
	return &doc, nil
}

// verifyPDF checks an uploaded PDF. The form is read as a stream: its CSRF
// token (the form's first field) is checked before a byte of the file is
// read, and the file goes straight into the verifier's hash, never to
// memory or disk as a whole (package verification bounds the uploads in
// flight and what each holds).
func (s *Server) verifyPDF(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > verification.MaxUpload+maxForm {
		s.verifyPage(w, r, http.StatusRequestEntityTooLarge, &verifyView{}, "err.toolarge")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, verification.MaxUpload+maxForm)
	mr, err := r.MultipartReader()
	if err != nil {
		s.errorPage(w, r, http.StatusForbidden, "err.csrf", "/verify")
		return
	}
	part, err := mr.NextPart()
	if err != nil || part.FormName() != csrfField {
		s.errorPage(w, r, http.StatusForbidden, "err.csrf", "/verify")
		return
	}
	token, err := io.ReadAll(io.LimitReader(part, 128))
	if err != nil || !validCSRF(r, string(token)) {
		s.errorPage(w, r, http.StatusForbidden, "err.csrf", "/verify")
		return
	}
	for {
		part, err = mr.NextPart()
		if err != nil {
			s.verifyPage(w, r, http.StatusBadRequest, &verifyView{}, "verify.nofile")
			return
		}
		if part.FormName() == "pdf" {
			break
		}
	}
	res, err := s.Uploads.ByPDF(r.Context(), part)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig) || errors.Is(err, verification.ErrTooLarge):
		s.verifyPage(w, r, http.StatusRequestEntityTooLarge, &verifyView{}, "err.toolarge")
		return
	case errors.Is(err, verification.ErrBadInput):
		s.verifyPage(w, r, http.StatusBadRequest, &verifyView{}, "verify.nofile")
		return
	case err != nil:
		s.fail(w, r, err, "/verify")
		return
	}
	s.verifyPage(w, r, http.StatusOK, &verifyView{Number: res.Number, Result: res, ByPDF: true}, "")
}
