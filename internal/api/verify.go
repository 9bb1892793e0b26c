package api

import (
	"context"
	"github.com/minwon/minwon/internal/httpjson"
	"io"
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

// maxPDF bounds an uploaded document; issued certificates are far smaller.
const maxPDF = 10 << 20

// verify checks a document by number and hash (JSON) or by its PDF bytes.
// It is public and answers no personal data.
func (s *Server) verify(w http.ResponseWriter, r *http.Request) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var res *verification.Result
	var err error
	switch mt {
	case "application/pdf":
		pdf, rerr := io.ReadAll(io.LimitReader(r.Body, maxPDF+1))
		if rerr != nil {
			httpjson.Error(w, http.StatusBadRequest, "bad_request", "could not read the uploaded file")
			return
		}
		if len(pdf) > maxPDF {
			httpjson.Error(w, http.StatusRequestEntityTooLarge, "too_large", "the file is larger than 10 MiB; no minwon document is")
			return
		}
		res, err = s.Verifier.ByPDF(r.Context(), pdf)
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
