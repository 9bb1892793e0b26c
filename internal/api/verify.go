package api

import (
	"context"
	"mime"
	"net/http"
	"strings"

	"github.com/minwon/minwon/internal/apiwire"
	"github.com/minwon/minwon/internal/auth"
	"github.com/minwon/minwon/internal/checkcode"
	"github.com/minwon/minwon/internal/httpjson"
	"github.com/minwon/minwon/internal/verification"
)

// publicKeys lists the signing keys verifiers trust.
type publicKeys interface {
	KeySet(ctx context.Context) (verification.KeySetJSON, error)
}

// verify checks a document by number and hash (JSON) or by its PDF bytes.
// It is public and answers no personal data.
func (s *Server) verify(w http.ResponseWriter, r *http.Request) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var res *verification.Result
	var err error
	switch mt {
	case "application/pdf":
		// Streamed into the hash, never read whole: a bounded number at
		// once, each holding a few KiB (package verification).
		if r.ContentLength > verification.MaxUpload {
			s.fail(w, r, verification.ErrTooLarge)
			return
		}
		res, err = s.Uploads.ByPDF(r.Context(), r.Body)
	default:
		var in apiwire.VerifyRequest
		if !httpjson.Decode(w, r, &in) {
			return
		}
		res, err = s.Verifier.ByNumber(r.Context(), in.Number, strings.ToLower(strings.TrimSpace(in.SHA256)))
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, res.JSON())
}

// checkedDocument shows the document for its number and check code: its
// signed data.json and its verdict now. Public, rate-limited, audited.
func (s *Server) checkedDocument(w http.ResponseWriter, r *http.Request) {
	shown, ok := s.viewWithCode(w, r, "fields")
	if !ok {
		return
	}
	res, err := s.Verifier.ByNumber(r.Context(), shown.Number, "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, apiwire.CheckedDocument{
		Number: shown.Number, Service: shown.Service, Status: string(res.Status), Message: res.Message,
		Document: "/api/v1/verify/" + shown.Number + "/document.pdf", Data: shown.Data,
	})
}

// checkedPDF is the signed PDF for its number and check code.
func (s *Server) checkedPDF(w http.ResponseWriter, r *http.Request) {
	shown, ok := s.viewWithCode(w, r, "pdf")
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(shown.PDF)
}

// viewWithCode decodes the code and asks the viewer; false when it has
// answered with an error.
func (s *Server) viewWithCode(w http.ResponseWriter, r *http.Request, what string) (*checkcode.Shown, bool) {
	var in apiwire.CheckCodeRequest
	if !httpjson.Decode(w, r, &in) {
		return nil, false
	}
	shown, err := s.CheckCodes.View(r.Context(), r.PathValue("number"), in.Code, auth.ClientKey(r.RemoteAddr), what)
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	return shown, true
}

func (s *Server) keys(w http.ResponseWriter, r *http.Request) {
	ks, err := s.Keys.KeySet(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, ks)
}
