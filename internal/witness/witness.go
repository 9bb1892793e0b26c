// Package witness has minwon's transparency log cosigned by independent
// witnesses per C2SP tlog-witness: after each new checkpoint it sends the
// witness an add-checkpoint request with a consistency proof from the size
// the witness last cosigned, checks the cosignature/v1 it returns, and
// attaches it to the published checkpoint. A witness refuses to cosign a
// tree that does not extend what it saw, so a split view or a rolled-back
// log becomes visible to anyone who requires its cosignature.
//
// Cosigning is asynchronous: a witness that is down or slow never stops
// issuance; it raises an alert, and the published checkpoint goes without
// its cosignature until the witness answers again. A witness that says the
// log went backwards or forked is different: that is a rollback (package
// rollback refuses to start on it), reported as a *doclog.RollbackError or
// *doclog.ForkError.
package witness

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/minwon/minwon/internal/doclog"
	"github.com/minwon/minwon/internal/verify"
)

// Client speaks the tlog-witness protocol to one witness.
type Client struct {
	URL  string // the witness's base URL; requests go to URL/add-checkpoint
	HTTP *http.Client
	// Verifier checks the witness's cosignatures (verify.NewCosignatureVerifier).
	Verifier note.Verifier
}

// ConflictError is the witness's 409: it holds another size for the log
// than the request's old size.
type ConflictError struct{ Known int64 }

func (e *ConflictError) Error() string {
	return fmt.Sprintf("witness: the witness has cosigned size %d of this log", e.Known)
}

// ErrProof is the witness's 422: the consistency proof does not prove the
// new tree extends the one it saw.
var ErrProof = errors.New("witness: the witness refused the consistency proof")

// ErrRefused is the witness's 403: it does not know this log or its key.
var ErrRefused = errors.New("witness: the witness does not know this log or its key")

// maxAnswer bounds a witness's answer.
const maxAnswer = 64 << 10

// AddCheckpoint asks the witness to cosign checkpoint (a signed note),
// proving with proof that it extends the tree of oldSize, which the
// witness must hold. It returns the witness's signature lines, checked.
func (c *Client) AddCheckpoint(ctx context.Context, oldSize int64, proof []doclog.Hash, checkpoint []byte) ([]byte, error) {
	var body bytes.Buffer
	fmt.Fprintf(&body, "old %d\n", oldSize)
	for _, h := range proof {
		body.WriteString(base64.StdEncoding.EncodeToString(h[:]) + "\n")
	}
	body.WriteString("\n")
	body.Write(checkpoint)
	req, err := http.NewRequestWithContext(ctx, "POST", strings.TrimSuffix(c.URL, "/")+"/add-checkpoint", &body)
	if err != nil {
		return nil, err
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("witness: %w", err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, fmt.Errorf("witness: %w", err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return c.checkCosignature(checkpoint, answer)
	case http.StatusConflict:
		known, err := ParseSize(answer)
		if err != nil {
			return nil, err
		}
		return nil, &ConflictError{Known: known}
	case http.StatusUnprocessableEntity:
		return nil, ErrProof
	case http.StatusForbidden:
		return nil, ErrRefused
	}
	return nil, fmt.Errorf("witness: answered %s", resp.Status)
}

// ParseSize parses a 409 answer's body (text/x.tlog.size): a decimal size
// and a newline.
func ParseSize(b []byte) (int64, error) {
	s, ok := strings.CutSuffix(string(b), "\n")
	n, err := strconv.ParseInt(s, 10, 64)
	if !ok || err != nil || n < 0 || strconv.FormatInt(n, 10) != s {
		return 0, errors.New("witness: malformed size in a conflict answer")
	}
	return n, nil
}

// checkCosignature checks that sigs hold a valid cosignature of checkpoint
// by the witness's key, and returns that line alone.
func (c *Client) checkCosignature(checkpoint, sigs []byte) ([]byte, error) {
	if len(sigs) == 0 || sigs[len(sigs)-1] != '\n' {
		return nil, errors.New("witness: malformed cosignature answer")
	}
	for line := range bytes.Lines(sigs) {
		n, err := note.Open(append(bytes.Clone(checkpoint), line...), note.VerifierList(c.Verifier))
		if err == nil && len(n.Sigs) == 1 {
			return line, nil
		}
	}
	return nil, fmt.Errorf("witness: the answer holds no valid cosignature by %s", c.Verifier.Name())
}

// Cosigner keeps a log cosigned by one witness.
type Cosigner struct {
	Client *Client
	Log    *doclog.Log
	// Alert hears what goes wrong, once per change of state: the witness
	// unreachable, or saying the log went backwards or forked.
	Alert func(kind, detail string)
	// RetryEvery is how often a failed cosigning is tried again; default 5s.
	RetryEvery time.Duration

	mu       sync.Mutex
	known    int64  // the size the witness holds, as last heard
	cosigned []byte // the newest checkpoint it cosigned, with its line
	signed   []byte // that checkpoint without it
	failing  string // the alert last raised, "" when healthy

	wake chan struct{}
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// Alert kinds.
const (
	AlertUnreachable = "witness_unreachable"
	AlertRollback    = "witness_rollback"
)

// Cosign asks the witness to cosign the log's newest checkpoint now. It
// returns a *doclog.RollbackError if the witness holds a larger tree, and
// a *doclog.ForkError if it refuses the proof (or, at the same size, the
// root).
func (c *Cosigner) Cosign(ctx context.Context) error {
	size, _, signed := c.Log.Checkpoint()
	c.mu.Lock()
	old, done := c.known, bytes.Equal(c.signed, signed)
	c.mu.Unlock()
	if done {
		return nil
	}
	for attempt := 0; ; attempt++ {
		if old > size {
			return &doclog.RollbackError{Have: size, Seen: old}
		}
		var proof []doclog.Hash
		if old > 0 && old < size {
			p, err := c.Log.ConsistencyProof(ctx, old, size)
			if err != nil {
				return err
			}
			proof = p
		}
		line, err := c.Client.AddCheckpoint(ctx, old, proof, signed)
		var conflict *ConflictError
		switch {
		case errors.As(err, &conflict) && attempt == 0:
			old = conflict.Known
			c.setKnown(old)
			continue
		case errors.Is(err, ErrProof):
			return &doclog.ForkError{Have: size, Seen: old, Reason: "the witness refused the consistency proof from the size it cosigned"}
		case err != nil:
			return err
		}
		c.mu.Lock()
		if size >= c.known {
			c.known, c.signed, c.cosigned = size, signed, verify.WithCosignatures(signed, line)
		}
		c.mu.Unlock()
		return nil
	}
}

func (c *Cosigner) setKnown(n int64) {
	c.mu.Lock()
	c.known = n
	c.mu.Unlock()
}

// Known returns the size the witness last said it holds.
func (c *Cosigner) Known() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.known
}

// Attach returns signed with the witness's cosignature if the witness
// cosigned exactly that checkpoint, and signed alone otherwise.
func (c *Cosigner) Attach(signed []byte) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cosigned != nil && bytes.Equal(c.signed, signed) {
		return bytes.Clone(c.cosigned)
	}
	return signed
}

// Start follows the log until Close, cosigning each new checkpoint in the
// background.
func (c *Cosigner) Start() {
	c.wake, c.stop, c.done = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	every := c.RetryEvery
	if every <= 0 {
		every = 5 * time.Second
	}
	c.Log.OnCheckpoint(func() {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	})
	c.wake <- struct{}{}
	go func() {
		defer close(c.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-c.wake:
			case <-t.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			c.report(c.Cosign(ctx))
			cancel()
		}
	}()
}

// report raises an alert when the state changes to a failure.
func (c *Cosigner) report(err error) {
	kind, detail := "", ""
	if err != nil {
		kind, detail = AlertUnreachable, err.Error()
		if doclog.IsRollback(err) {
			kind = AlertRollback
		}
	}
	c.mu.Lock()
	changed := c.failing != kind+detail
	c.failing = kind + detail
	c.mu.Unlock()
	if changed && kind != "" && c.Alert != nil {
		c.Alert(kind, detail)
	}
}

// Close stops following the log.
func (c *Cosigner) Close() {
	if c.stop == nil {
		return
	}
	c.once.Do(func() { close(c.stop) })
	<-c.done
}

// Published is the log as it is published: its checkpoints carry the
// witness's cosignature when the witness has cosigned them.
type Published struct {
	*doclog.Log
	Cosigner *Cosigner
}

// Checkpoint is the log's newest checkpoint, cosigned if it has been.
func (p Published) Checkpoint() (int64, doclog.Hash, []byte) {
	size, root, signed := p.Log.Checkpoint()
	return size, root, p.Cosigner.Attach(signed)
}

// Latest is the log's Latest, cosigned if it has been.
func (p Published) Latest(ctx context.Context) (int64, doclog.Hash, []byte, error) {
	size, root, signed, err := p.Log.Latest(ctx)
	return size, root, p.Cosigner.Attach(signed), err
}
