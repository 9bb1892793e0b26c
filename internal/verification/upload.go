package verification

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/minwon/minwon/internal/verify"
)

// MaxUpload bounds an uploaded document; no minwon document comes near it.
const MaxUpload = 10 << 20

// maxHeld is how much of an upload is held in memory to check its
// signature, which needs the whole file: minwon's documents are tens of
// KiB. Beyond it only the hash and the tail (where the trailer names the
// number) are kept, so a 10 MiB upload costs a few KiB.
const maxHeld = 1 << 20

// tailSize holds the signature trailer (about 220 bytes) and the newline
// before it.
const tailSize = 512

// ErrTooLarge is returned for an upload larger than MaxUpload.
var ErrTooLarge = errors.New("the file is larger than 10 MiB; no minwon document is")

// ErrBusy is returned when every upload slot stayed taken for the wait.
var ErrBusy = errors.New("too many documents are being verified at once")

// Uploads verifies uploaded PDFs, a bounded number at once: each holds at
// most maxHeld bytes, so the bound caps the memory (and the hashing) a
// flood of uploads can take. The JSON API and the pages share one.
type Uploads struct {
	Verifier *Verifier
	slots    chan struct{}
	wait     time.Duration
}

// NewUploads verifies at most n uploads at once (0: two per core); an
// upload that finds no slot free within wait is refused with ErrBusy.
func NewUploads(v *Verifier, n int, wait time.Duration) *Uploads {
	if n <= 0 {
		n = 2 * runtime.GOMAXPROCS(0)
	}
	return &Uploads{Verifier: v, slots: make(chan struct{}, n), wait: wait}
}

// ByPDF verifies the PDF read from r, hashing it as it streams. The caller
// reads nothing of r before a slot is free, so waiting uploads hold no
// more than their connection.
func (u *Uploads) ByPDF(ctx context.Context, r io.Reader) (*Result, error) {
	t := time.NewTimer(u.wait)
	defer t.Stop()
	select {
	case u.slots <- struct{}{}:
	case <-t.C:
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting to verify: %w", ctx.Err())
	}
	defer func() { <-u.slots }()
	return u.Verifier.byStream(ctx, r)
}

// byStream verifies the PDF read from r without holding more than maxHeld
// bytes of it.
func (v *Verifier) byStream(ctx context.Context, r io.Reader) (*Result, error) {
	h := sha256.New()
	up := &upload{}
	n, err := io.Copy(io.MultiWriter(h, up), io.LimitReader(r, MaxUpload+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: could not read the uploaded file: %w", ErrBadInput, err)
	case n == 0:
		return nil, fmt.Errorf("%w: the uploaded file is empty", ErrBadInput)
	case n > MaxUpload:
		return nil, ErrTooLarge
	}
	whole := up.head
	if up.dropped {
		whole = nil
	}
	return v.judgePDF(ctx, hex.EncodeToString(h.Sum(nil)), up.tail, whole)
}

// ByPDF verifies a signed PDF: its signature trailer names the number; its
// bytes must hash to what the log holds for that number.
func (v *Verifier) ByPDF(ctx context.Context, pdf []byte) (*Result, error) {
	sum := sha256.Sum256(pdf)
	return v.judgePDF(ctx, hex.EncodeToString(sum[:]), pdf, pdf)
}

// judgePDF verifies a PDF of hash sum whose end is tail; whole is the
// entire file, or nil if it was too large to hold.
func (v *Verifier) judgePDF(ctx context.Context, sum string, tail, whole []byte) (*Result, error) {
	// A standard signature lies before the file's end: look in the whole
	// file when it was held (an older document's trailer is in the tail).
	found := tail
	if whole != nil {
		found = whole
	}
	number, ok := verify.TrailerNumber(found)
	if !ok {
		return &Result{Status: Unknown, LogIndex: -1, Message: "This file carries no minwon signature: it is not a document minwon issued."}, nil
	}
	res, err := v.ByNumber(ctx, number, sum)
	if err != nil || res.Status != Valid {
		return res, err
	}
	// The hash matched the log; the signature must hold too (a revoked or
	// unknown key was already caught by ByNumber). A file too large to hold
	// is none minwon issued: fail closed.
	if whole == nil {
		res.Status, res.Message = Mismatch, "The file is larger than any document minwon issues; its signature was not checked."
		return res, nil
	}
	if _, err := verify.VerifyPDF(whole, v.Keys); err != nil {
		res.Status, res.Message = Mismatch, "The file's signature does not verify."
	}
	return res, nil
}

// upload keeps the head of a stream up to maxHeld bytes, and its last
// tailSize bytes.
type upload struct {
	head    []byte
	dropped bool // the stream outgrew head, which is then released
	tail    []byte
}

func (u *upload) Write(p []byte) (int, error) {
	if !u.dropped {
		if len(u.head)+len(p) <= maxHeld {
			u.head = append(u.head, p...)
		} else {
			u.dropped, u.head = true, nil
		}
	}
	u.tail = append(u.tail, p...)
	if len(u.tail) > tailSize {
		u.tail = append(u.tail[:0], u.tail[len(u.tail)-tailSize:]...)
	}
	return len(p), nil
}
