package loadtest

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/minwon/minwon/internal/datadir"
	"github.com/minwon/minwon/internal/doclog"
	"github.com/minwon/minwon/internal/keyfile"
)

// FinalOptions choose the end-of-run checks.
type FinalOptions struct {
	Verify  string // "all", "sample" or "none"
	Sample  int    // documents to verify with "sample"
	Log     bool   // download and check the transparency log
	DataDir string // the demo's data directory, for the log's public key
	// LogVerifier checks checkpoint signatures; if nil, it is derived
	// from the log key in DataDir, or else fetched from GET /log/key.
	LogVerifier note.Verifier

	// LogWasEmpty says the log was empty when the run began (a fresh data
	// directory), for a recheck of a run that saved no start checkpoint:
	// every entry must then belong to a received document.
	LogWasEmpty bool

	verifierNote string
}

// resolveVerifier finds the log's checkpoint verifier: from the private key
// in the demo's data directory (independent of the server's answers), or
// else from the server's own GET /log/key (which proves less: a server
// that rewrote its log could also change its key).
func (h *Harness) resolveVerifier(ctx context.Context, dir string) (note.Verifier, string) {
	raw, err := h.c.get(ctx, "", "/log/checkpoint")
	if err != nil {
		return nil, ""
	}
	origin, _, _ := strings.Cut(string(raw), "\n")
	if v, err := logVerifier(dir, origin); err == nil {
		return v, ""
	}
	key, err := h.c.get(ctx, "", "/log/key")
	if err != nil {
		return nil, "no log key: checkpoint signatures not checked"
	}
	v, err := note.NewVerifier(strings.TrimSpace(string(key)))
	if err != nil {
		return nil, "GET /log/key is not a signed-note verifier key: checkpoint signatures not checked"
	}
	return v, "checkpoint signatures checked with the key the server publishes at /log/key"
}

// FinalResult is what the end-of-run checks found.
type FinalResult struct {
	Documents     int          `json:"documents"`         // numbers clients received, all phases
	DuplicateKeys []string     `json:"duplicate_keys"`    // idempotency keys that produced two numbers
	DuplicateNums []string     `json:"duplicate_numbers"` // numbers handed to two keys
	Log           LogResult    `json:"log"`
	Verify        VerifyResult `json:"verify"`
}

// LogResult is the transparency log check.
type LogResult struct {
	Checked             bool     `json:"checked"`
	Note                string   `json:"note,omitempty"`
	StartSize           int64    `json:"start_size"`
	Size                int64    `json:"size"`
	SignatureVerified   bool     `json:"signature_verified"`
	ConsistentWithStart bool     `json:"consistent_with_start"` // the start checkpoint's tree is a prefix of the end's
	Entries             int64    `json:"entries"`               // entries read and hashed against the tree
	Missing             int64    `json:"missing"`               // numbers a client received that are not at their log index
	Unclaimed           int64    `json:"unclaimed"`             // issued entries since the start that no client received
	Problems            []string `json:"problems"`
	Seconds             float64  `json:"seconds"`
}

// VerifyResult is the verification API check.
type VerifyResult struct {
	Mode      string   `json:"mode"`
	Available bool     `json:"available"`
	Note      string   `json:"note,omitempty"`
	Checked   int64    `json:"checked"`
	Valid     int64    `json:"valid"`
	Inclusion int64    `json:"inclusion_proofs_checked"`
	NotValid  []string `json:"not_valid"`
	PerSec    float64  `json:"per_sec"`
}

// startLog records the log's checkpoint before the first issuance.
func (h *Harness) startLog(ctx context.Context) {
	cp, err := h.c.get(ctx, "", "/log/checkpoint")
	if err == nil {
		h.startCheckpoint = cp
	}
}

// Final runs the end-of-run checks over every document clients received.
func (h *Harness) Final(ctx context.Context, opt FinalOptions) (*FinalResult, error) {
	recs := h.Records()
	fr := &FinalResult{Documents: len(recs), DuplicateKeys: []string{}, DuplicateNums: []string{}}
	byKey := map[string]string{}
	byNum := map[string]string{}
	for _, r := range recs {
		k := r.Login + " " + r.Key
		if n, ok := byKey[k]; ok && n != r.Number {
			fr.DuplicateKeys = append(fr.DuplicateKeys, r.Key)
		}
		byKey[k] = r.Number
		if other, ok := byNum[r.Number]; ok && other != k {
			fr.DuplicateNums = append(fr.DuplicateNums, r.Number)
		}
		byNum[r.Number] = k
	}
	if opt.LogVerifier == nil && (opt.Log || opt.Verify != "none") {
		opt.LogVerifier, opt.verifierNote = h.resolveVerifier(ctx, opt.DataDir)
	}
	var leaves map[int64]tlog.Hash
	if opt.Log {
		fmt.Fprintf(h.opt.Progress, "checking the transparency log...\n")
		fr.Log, leaves = h.checkLog(ctx, recs, opt)
	} else {
		fr.Log.Note = "not requested"
	}
	fr.Verify = h.verifyAll(ctx, recs, opt, leaves)
	return fr, nil
}

// tileReader fetches C2SP tlog-tiles resources for x/mod's tile hash reader.
type tileReader struct {
	h *Harness
	n atomic.Int64
}

func (t *tileReader) Height() int { return 8 }

// c2spPath turns x/mod's tile path (tile/8/L/N, tile/8/data/N) into the
// C2SP one (tile/L/N, tile/entries/N).
func c2spPath(t tlog.Tile) string {
	p := strings.TrimPrefix(t.Path(), "tile/8/")
	if rest, ok := strings.CutPrefix(p, "data/"); ok {
		p = "entries/" + rest
	}
	return "/log/tile/" + p
}

func (t *tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, tile := range tiles {
		b, err := t.h.c.get(context.Background(), "", c2spPath(tile))
		if err != nil {
			return nil, fmt.Errorf("tile %s: %w", c2spPath(tile), err)
		}
		t.n.Add(1)
		out[i] = b
	}
	return out, nil
}

func (t *tileReader) SaveTiles([]tlog.Tile, [][]byte) {}

// logVerifier returns the checkpoint verifier from the demo's log key, if
// the data directory holds it.
func logVerifier(dir, origin string) (note.Verifier, error) {
	if dir == "" {
		return nil, errors.New("no data directory")
	}
	path := datadir.Dir(dir).Keys().LogKey()
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	key, err := keyfile.LoadOrCreate(path)
	if err != nil {
		return nil, err
	}
	_, v, err := doclog.NoteSigner(origin, key)
	return v, err
}

// openCheckpoint parses a signed checkpoint, verifying its signature when a
// verifier is at hand.
func openCheckpoint(raw []byte, opt FinalOptions) (doclog.Checkpoint, bool, error) {
	text, _, ok := strings.Cut(string(raw), "\n\n")
	if !ok {
		return doclog.Checkpoint{}, false, errors.New("checkpoint is not a signed note")
	}
	origin, _, _ := strings.Cut(text, "\n")
	if v := opt.LogVerifier; v != nil {
		n, err := note.Open(raw, note.VerifierList(v))
		if err != nil {
			return doclog.Checkpoint{}, false, fmt.Errorf("checkpoint signature: %w", err)
		}
		cp, err := doclog.ParseCheckpoint(n.Text, origin)
		return cp, true, err
	}
	cp, err := doclog.ParseCheckpoint(text+"\n", origin)
	return cp, false, err
}

// checkLog reads every entry of the log through its tiles, checks each
// against the signed tree, checks the start checkpoint is a prefix of the
// end one, and matches the entries against what clients received. It
// returns the leaf hash of each entry a client holds, for inclusion proofs.
func (h *Harness) checkLog(ctx context.Context, recs []record, opt FinalOptions) (lr LogResult, leaves map[int64]tlog.Hash) {
	start := time.Now()
	lr.Problems = []string{}
	defer func() { lr.Seconds = time.Since(start).Seconds() }()
	raw, err := h.c.get(ctx, "", "/log/checkpoint")
	if err != nil {
		lr.Note = "log API unavailable: GET /log/checkpoint: " + err.Error()
		return lr, nil
	}
	cp, signed, err := openCheckpoint(raw, opt)
	if err != nil {
		lr.Checked = true
		lr.Problems = append(lr.Problems, "checkpoint: "+err.Error())
		return lr, nil
	}
	lr.Checked, lr.Size, lr.SignatureVerified = true, cp.Size, signed
	lr.Note = opt.verifierNote
	tr := &tileReader{h: h}
	thr := tlog.TileHashReader(tlog.Tree{N: cp.Size, Hash: cp.Root}, tr)
	if h.startCheckpoint == nil && opt.LogWasEmpty {
		lr.ConsistentWithStart = true // the empty tree is a prefix of every tree
	}
	if h.startCheckpoint != nil {
		scp, _, err := openCheckpoint(h.startCheckpoint, opt)
		if err != nil {
			lr.Problems = append(lr.Problems, "start checkpoint: "+err.Error())
		} else {
			lr.StartSize = scp.Size
			if scp.Size > cp.Size {
				lr.Problems = append(lr.Problems, fmt.Sprintf("the log shrank from %d to %d entries", scp.Size, cp.Size))
			} else if root, err := tlog.TreeHash(scp.Size, thr); err != nil {
				lr.Problems = append(lr.Problems, "tree hash at the start size: "+err.Error())
			} else if root != scp.Root {
				lr.Problems = append(lr.Problems, "the start checkpoint's tree is not a prefix of the end's: the log was rewritten")
			} else {
				lr.ConsistentWithStart = true
			}
		}
	}
	// Every client's number must be the issued entry at its index.
	want := make(map[int64]record, len(recs))
	for _, r := range recs {
		want[r.LogIndex] = r
	}
	leaves = make(map[int64]tlog.Hash, len(recs))
	issuedAt := map[string]int64{}
	found := map[int64]bool{}
	for base := int64(0); base < cp.Size; base += 256 {
		w := min(cp.Size-base, 256)
		tile := tlog.Tile{H: 8, L: -1, N: base / 256, W: int(w)}
		data, err := h.c.get(ctx, "", c2spPath(tile))
		if err != nil {
			lr.Problems = append(lr.Problems, fmt.Sprintf("entries %d-%d: %v", base, base+w-1, err))
			return lr, leaves
		}
		entries, err := splitBundle(data)
		if err != nil || int64(len(entries)) != w {
			lr.Problems = append(lr.Problems, fmt.Sprintf("entries %d-%d: bundle holds %d entries, want %d (%v): a gap", base, base+w-1, len(entries), w, err))
			return lr, leaves
		}
		ids := make([]int64, w)
		for i := range ids {
			ids[i] = tlog.StoredHashIndex(0, base+int64(i))
		}
		hashes, err := thr.ReadHashes(ids)
		if err != nil {
			lr.Problems = append(lr.Problems, fmt.Sprintf("hashes %d-%d: %v", base, base+w-1, err))
			return lr, leaves
		}
		for i, e := range entries {
			idx := base + int64(i)
			lh := tlog.RecordHash(e)
			if lh != hashes[i] {
				lr.Problems = append(lr.Problems, fmt.Sprintf("entry %d does not hash to the tree's leaf", idx))
				continue
			}
			lr.Entries++
			ent, err := doclog.ParseEntry(e)
			if err != nil {
				lr.Problems = append(lr.Problems, fmt.Sprintf("entry %d: %v", idx, err))
				continue
			}
			if ent.Kind != doclog.KindIssued {
				continue
			}
			if prev, dup := issuedAt[ent.Number]; dup {
				lr.Problems = append(lr.Problems, fmt.Sprintf("number %s issued twice (entries %d and %d)", ent.Number, prev, idx))
			}
			issuedAt[ent.Number] = idx
			r, ok := want[idx]
			switch {
			case ok && (r.Number != ent.Number || r.SHA256 != "" && r.SHA256 != ent.SHA256):
				lr.Problems = append(lr.Problems, fmt.Sprintf("entry %d is %s, but a client was told it is %s", idx, ent.Number, r.Number))
			case ok:
				found[idx] = true
				leaves[idx] = lh
			case idx >= lr.StartSize && (h.startCheckpoint != nil || opt.LogWasEmpty):
				lr.Unclaimed++
			}
		}
	}
	for idx, r := range want {
		if !found[idx] {
			lr.Missing++
			if len(lr.Problems) < 50 {
				lr.Problems = append(lr.Problems, fmt.Sprintf("number %s (log index %d) is not in the log", r.Number, idx))
			}
		}
	}
	if lr.Unclaimed > 0 {
		lr.Problems = append(lr.Problems, fmt.Sprintf("%d documents were logged during the run that no client received (a duplicate for a retried key, or another client issuing)", lr.Unclaimed))
	}
	return lr, leaves
}

// splitBundle splits a C2SP entry bundle: each entry is a big-endian
// uint16 length and the entry bytes.
func splitBundle(b []byte) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 2 {
			return out, errors.New("truncated bundle")
		}
		n := int(binary.BigEndian.Uint16(b))
		if len(b) < 2+n {
			return out, errors.New("truncated entry")
		}
		out = append(out, b[2:2+n])
		b = b[2+n:]
	}
	return out, nil
}

// verifyAll checks documents through POST /api/v1/verify: each must be
// valid, at the index its client was told, and when the answer carries an
// inclusion proof and checkpoint, the proof must hold.
func (h *Harness) verifyAll(ctx context.Context, recs []record, opt FinalOptions, leaves map[int64]tlog.Hash) VerifyResult {
	vr := VerifyResult{Mode: opt.Verify, NotValid: []string{}}
	if opt.Verify == "none" || len(recs) == 0 {
		vr.Note = "not requested"
		return vr
	}
	todo := recs
	if opt.Verify == "sample" && opt.Sample < len(recs) {
		todo = make([]record, 0, opt.Sample)
		for _, i := range rand.Perm(len(recs))[:opt.Sample] {
			todo = append(todo, recs[i])
		}
	}
	// Is there a verification API at all?
	_, err := h.c.verify(ctx, todo[0].Number, todo[0].SHA256)
	var ae *apiError
	switch {
	case errors.Is(err, errNoVerifyAPI):
		vr.Note = "verify API unavailable: POST /api/v1/verify is not served; nothing was verified"
		return vr
	case errors.As(err, &ae) && ae.Status == 0:
		vr.Note = "verify API unreachable (" + err.Error() + "); nothing was verified"
		return vr
	}
	vr.Available = true
	fmt.Fprintf(h.opt.Progress, "verifying %d documents through POST /api/v1/verify...\n", len(todo))
	var (
		mu   sync.Mutex
		next atomic.Int64
		wg   sync.WaitGroup
	)
	start := time.Now()
	fail := func(r record, why string) {
		mu.Lock()
		if len(vr.NotValid) < 100 {
			vr.NotValid = append(vr.NotValid, r.Number+": "+why)
		}
		mu.Unlock()
	}
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(len(todo)) {
					return
				}
				r := todo[i]
				res, err := h.c.verify(ctx, r.Number, r.SHA256)
				mu.Lock()
				vr.Checked++
				mu.Unlock()
				switch {
				case err != nil:
					fail(r, err.Error())
				case res.Status != "valid":
					fail(r, "status "+res.Status)
				case res.LogIndex != nil && *res.LogIndex != r.LogIndex:
					fail(r, fmt.Sprintf("log index %d, the client was told %d", *res.LogIndex, r.LogIndex))
				default:
					ok, checked, why := checkProof(res, r.LogIndex, leaves, opt)
					if !ok {
						fail(r, why)
						continue
					}
					mu.Lock()
					vr.Valid++
					if checked {
						vr.Inclusion++
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	vr.PerSec = float64(vr.Checked) / time.Since(start).Seconds()
	if vr.Inclusion == 0 && vr.Valid > 0 {
		vr.Note = "the answers' inclusion proofs were not checked (no proof in a known form, or the log was not read)"
	}
	return vr
}

// checkProof checks an inclusion proof against the checkpoint in the same
// answer, given the entry's leaf hash from the log. Proof hashes may come
// as base64 or hex strings; the checkpoint as the signed note text.
func checkProof(res verifyResult, index int64, leaves map[int64]tlog.Hash, opt FinalOptions) (ok, checked bool, why string) {
	leaf, haveLeaf := leaves[index]
	if !haveLeaf || len(res.InclusionProof) == 0 || len(res.Checkpoint) == 0 {
		return true, false, ""
	}
	var strs []string
	if err := json.Unmarshal(res.InclusionProof, &strs); err != nil {
		var obj struct {
			Hashes []string `json:"hashes"`
		}
		if json.Unmarshal(res.InclusionProof, &obj) != nil {
			return true, false, ""
		}
		strs = obj.Hashes
	}
	proof := make(tlog.RecordProof, len(strs))
	for i, s := range strs {
		b, err := base64.StdEncoding.Strict().DecodeString(s)
		if err != nil || len(b) != tlog.HashSize {
			b, err = decodeHex(s)
			if err != nil || len(b) != tlog.HashSize {
				return true, false, ""
			}
		}
		copy(proof[i][:], b)
	}
	var cpText string
	if json.Unmarshal(res.Checkpoint, &cpText) != nil {
		var obj map[string]any
		if json.Unmarshal(res.Checkpoint, &obj) != nil {
			return true, false, ""
		}
		for _, k := range []string{"note", "signed", "text", "checkpoint"} {
			if s, ok := obj[k].(string); ok {
				cpText = s
				break
			}
		}
	}
	cp, signed, err := openCheckpoint([]byte(cpText), opt)
	if err != nil {
		return false, true, "the answer's checkpoint: " + err.Error()
	}
	if opt.LogVerifier != nil && !signed {
		return false, true, "the answer's checkpoint is not signed by the log key"
	}
	if err := tlog.CheckRecord(proof, cp.Size, cp.Root, index, leaf); err != nil {
		return false, true, "inclusion proof does not verify: " + err.Error()
	}
	return true, true, ""
}

func decodeHex(s string) ([]byte, error) {
	b := make([]byte, len(s)/2)
	for i := range b {
		v, err := strconv.ParseUint(s[2*i:2*i+2], 16, 8)
		if err != nil {
			return nil, err
		}
		b[i] = byte(v)
	}
	return b, nil
}

// SaveRecords writes every document clients received as CSV, so the
// end-of-run checks can be repeated later (--recheck) against the same data.
func (h *Harness) SaveRecords(path string) error {
	recs := h.Records()
	var b strings.Builder
	b.WriteString("key,login,number,sha256,log_index,service,subject\n")
	for _, r := range recs {
		fmt.Fprintf(&b, "%s,%s,%s,%s,%d,%s,%s\n", r.Key, r.Login, r.Number, r.SHA256, r.LogIndex, r.Service, r.Subject)
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}

// LoadRecords reads a file SaveRecords wrote into a harness that will only
// run the end-of-run checks; start is the log checkpoint saved with them.
func LoadRecords(path string) ([]record, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	var out []record
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if len(f) != 7 {
			return nil, fmt.Errorf("records: bad line %q", l)
		}
		idx, err := strconv.ParseInt(f[4], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("records: bad index in %q", l)
		}
		out = append(out, record{Key: f[0], Login: f[1], Number: f[2], SHA256: f[3], LogIndex: idx, Service: f[5], Subject: f[6]})
	}
	return out, nil
}

// Recheck returns a harness holding saved records and the saved start
// checkpoint, for running Final again (after a restart or an upgrade).
func Recheck(server Server, recs []record, startCheckpoint []byte, progress io.Writer) *Harness {
	return &Harness{
		opt: Options{Server: server, Progress: progress}, c: newClient(server.URL(), 64), loginSem: make(chan struct{}, loginSlots),
		records: recs, startCheckpoint: startCheckpoint,
		agencyBase: map[string]AgencyStats{}, agencyLast: map[string]AgencyStats{},
	}
}

// StartCheckpoint returns the log checkpoint taken before the first issuance.
func (h *Harness) StartCheckpoint() []byte { return h.startCheckpoint }
