package web

import (
	"errors"
	"io"
	"net/http"

	"github.com/minwon/minwon/internal/issuance"
	"github.com/minwon/minwon/internal/verification"
)

// maxPDF bounds an uploaded PDF.
const maxPDF = 10 << 20

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

func (s *Server) verifyPDF(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxPDF+64<<10)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.verifyPage(w, r, http.StatusRequestEntityTooLarge, &verifyView{}, "err.toolarge")
			return
		}
		s.verifyPage(w, r, http.StatusBadRequest, &verifyView{}, "verify.nofile")
		return
	}
	defer r.MultipartForm.RemoveAll()
	if !checkCSRF(r) {
		s.errorPage(w, r, http.StatusForbidden, "err.csrf", "/verify")
		return
	}
	f, _, err := r.FormFile("pdf")
	if err != nil {
		s.verifyPage(w, r, http.StatusBadRequest, &verifyView{}, "verify.nofile")
		return
	}
	defer f.Close()
	pdf, err := io.ReadAll(io.LimitReader(f, maxPDF+1))
	if err != nil || len(pdf) == 0 {
		s.verifyPage(w, r, http.StatusBadRequest, &verifyView{}, "verify.nofile")
		return
	}
	if len(pdf) > maxPDF {
		s.verifyPage(w, r, http.StatusRequestEntityTooLarge, &verifyView{}, "err.toolarge")
		return
	}
	res, err := s.Verifier.ByPDF(r.Context(), pdf)
	if err != nil {
		s.fail(w, r, err, "/verify")
		return
	}
	s.verifyPage(w, r, http.StatusOK, &verifyView{Number: res.Number, Result: res, ByPDF: true}, "")
}
