package verify

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Entry is one record of the transparency log. It holds no personal data:
// a document's hash, its number, service, signing key and time, and for a
// revocation the reason.
type Entry struct {
	Kind    string // "issued" or "revoked"
	Number  string // 16 digits
	Service string
	KeyID   string
	SHA256  string // hex SHA-256 of the signed PDF
	Time    time.Time
	Reason  string // revocations only
}

const entryHeader = "minwon/log-entry/v1\n"

// Marshal returns the entry's canonical bytes: what the log hashes.
func (e Entry) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString(entryHeader)
	fmt.Fprintf(&b, "kind %s\nnumber %s\nservice %s\nkey %s\nsha256 %s\ntime %s\n", e.Kind, e.Number, e.Service, e.KeyID, e.SHA256, e.Time.UTC().Format(time.RFC3339Nano))
	if e.Kind == KindRevoked {
		fmt.Fprintf(&b, "reason %s\n", e.Reason)
	}
	return b.Bytes()
}

// Entry kinds.
const (
	KindIssued  = "issued"
	KindRevoked = "revoked"
)

// ErrBadEntry reports log entry bytes that are not a canonical entry.
var ErrBadEntry = errors.New("malformed log entry")

var (
	tokenRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
	hashRE  = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// ValidSHA256 says whether s is a SHA-256 in the log's form: 64 lowercase
// hex digits.
func ValidSHA256(s string) bool { return hashRE.MatchString(s) }

// ParseEntry decodes canonical entry bytes, refusing anything that would
// not marshal back to exactly the same bytes.
func ParseEntry(data []byte) (Entry, error) {
	s, ok := strings.CutPrefix(string(data), entryHeader)
	if !ok || !strings.HasSuffix(s, "\n") {
		return Entry{}, ErrBadEntry
	}
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	keys := []string{"kind", "number", "service", "key", "sha256", "time"}
	if len(lines) != len(keys) && len(lines) != len(keys)+1 {
		return Entry{}, ErrBadEntry
	}
	vals := make([]string, len(lines))
	for i, l := range lines {
		k, v, ok := strings.Cut(l, " ")
		want := "reason"
		if i < len(keys) {
			want = keys[i]
		}
		if !ok || k != want {
			return Entry{}, ErrBadEntry
		}
		vals[i] = v
	}
	e := Entry{Kind: vals[0], Number: vals[1], Service: vals[2], KeyID: vals[3], SHA256: vals[4]}
	t, err := time.Parse(time.RFC3339Nano, vals[5])
	if err != nil {
		return Entry{}, ErrBadEntry
	}
	e.Time = t
	switch {
	case e.Kind == KindIssued && len(vals) == 6:
	case e.Kind == KindRevoked && len(vals) == 7 && vals[6] != "":
		e.Reason = vals[6]
	default:
		return Entry{}, ErrBadEntry
	}
	if !ValidNumber(e.Number) || !tokenRE.MatchString(e.Service) || !tokenRE.MatchString(e.KeyID) || !hashRE.MatchString(e.SHA256) {
		return Entry{}, ErrBadEntry
	}
	if !bytes.Equal(e.Marshal(), data) {
		return Entry{}, ErrBadEntry
	}
	return e, nil
}
