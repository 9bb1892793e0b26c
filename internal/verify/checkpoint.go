package verify

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Hash is a Merkle tree hash (RFC 6962, SHA-256).
type Hash = tlog.Hash

// RecordHash is the leaf hash of entry data (RFC 6962).
func RecordHash(data []byte) Hash { return tlog.RecordHash(data) }

// CheckInclusion verifies that data is entry index of the tree (size, root).
func CheckInclusion(proof []Hash, size int64, root Hash, index int64, data []byte) error {
	return tlog.CheckRecord(proof, size, root, index, tlog.RecordHash(data))
}

// CheckConsistency verifies that tree (oldSize, oldRoot) is a prefix of
// (size, root).
func CheckConsistency(proof []Hash, size int64, root Hash, oldSize int64, oldRoot Hash) error {
	return tlog.CheckTree(proof, size, root, oldSize, oldRoot)
}

// Checkpoint is a parsed checkpoint body (C2SP tlog-checkpoint).
type Checkpoint struct {
	Origin string
	Size   int64
	Root   Hash
	// Time is when the log signed the checkpoint (its "time" extension
	// line); zero for checkpoints made before the log wrote one.
	Time time.Time
}

// FormatCheckpoint returns the C2SP tlog-checkpoint body: what the log
// signs.
func FormatCheckpoint(origin string, size int64, root Hash) string {
	return fmt.Sprintf("%s\n%d\n%s\n", origin, size, base64.StdEncoding.EncodeToString(root[:]))
}

// checkpointTimeTag starts the extension line that says when the log
// signed a checkpoint, in RFC 3339 UTC to the second: how fresh a proof
// made with it is, so that an offline check can refuse a proof saved
// before a revocation it cannot see.
const checkpointTimeTag = "time "

// FormatCheckpointAt returns the checkpoint body with its signing time as
// an extension line.
func FormatCheckpointAt(origin string, size int64, root Hash, at time.Time) string {
	return FormatCheckpoint(origin, size, root) + checkpointTimeTag + at.UTC().Format(time.RFC3339) + "\n"
}

// ParseCheckpoint parses a C2SP checkpoint body for the expected origin.
func ParseCheckpoint(text, origin string) (Checkpoint, error) {
	lines := strings.SplitN(text, "\n", 4)
	if len(lines) < 4 || lines[0] != origin {
		return Checkpoint{}, fmt.Errorf("verify: checkpoint is not for log %q", origin)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return Checkpoint{}, errors.New("verify: malformed checkpoint size")
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(raw) != tlog.HashSize {
		return Checkpoint{}, errors.New("verify: malformed checkpoint root")
	}
	cp := Checkpoint{Origin: origin, Size: size}
	copy(cp.Root[:], raw)
	// Extension lines: the time, once; others are ignored.
	for ext := range strings.SplitSeq(strings.TrimSuffix(lines[3], "\n"), "\n") {
		v, ok := strings.CutPrefix(ext, checkpointTimeTag)
		if !ok {
			continue
		}
		at, err := time.Parse(time.RFC3339, v)
		if err != nil || !cp.Time.IsZero() || at.Format(time.RFC3339) != v {
			return Checkpoint{}, errors.New("verify: malformed checkpoint time")
		}
		cp.Time = at.UTC()
	}
	return cp, nil
}

// OpenCheckpoint verifies a signed checkpoint with any of the trusted note
// verifier keys ("origin+hash+key"; all for one origin, e.g. the current
// log key and retired ones) and parses it.
func OpenCheckpoint(signed []byte, verifierKeys ...string) (Checkpoint, error) {
	if len(verifierKeys) == 0 {
		return Checkpoint{}, errors.New("verify: no trusted log key")
	}
	var vs []note.Verifier
	for _, k := range verifierKeys {
		v, err := note.NewVerifier(k)
		if err != nil {
			return Checkpoint{}, fmt.Errorf("verify: log key: %w", err)
		}
		if len(vs) > 0 && v.Name() != vs[0].Name() {
			return Checkpoint{}, fmt.Errorf("verify: the trusted log keys name different logs (%q, %q)", vs[0].Name(), v.Name())
		}
		vs = append(vs, v)
	}
	n, err := note.Open(signed, note.VerifierList(vs...))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("verify: checkpoint is not signed by a trusted log key: %w", err)
	}
	return ParseCheckpoint(n.Text, vs[0].Name())
}
