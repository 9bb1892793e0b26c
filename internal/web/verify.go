package web

import (
	"errors"
	"io"
	"net/http"

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
	s.verifyPage(w, r, http.StatusOK, &verifyView{Number: string(n), Result: res}, "")
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
