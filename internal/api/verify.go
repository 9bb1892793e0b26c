package api

import (
	"context"
	"github.com/minwon/minwon/internal/httpjson"
	"mime"
	"net/http"
	"strings"

	"github.com/minwon/minwon/internal/apiwire"
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

func (s *Server) keys(w http.ResponseWriter, r *http.Request) {
	ks, err := s.Keys.KeySet(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, ks)
}
