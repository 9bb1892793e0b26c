package checkcode_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/minwon/minwon/internal/checkcode"
)

func TestNewCodes(t *testing.T) {
	seen := map[checkcode.Code]bool{}
	counts := map[rune]int{}
	for range 2000 {
		c, err := checkcode.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(c) != checkcode.Length || seen[c] {
			t.Fatalf("code %q: wrong length or repeated", string(c))
		}
		seen[c] = true
		for _, r := range string(c) {
			counts[r]++
		}
		back, err := checkcode.Parse(c.Format())
		if err != nil || back != c {
			t.Fatalf("Parse(Format(%q)) = %q, %v", string(c), string(back), err)
		}
	}
	// Every symbol of the alphabet appears and nothing else: 32000
	// symbols, 1000 expected of each.
	if len(counts) != len(checkcode.Alphabet) {
		t.Fatalf("%d distinct symbols, want %d", len(counts), len(checkcode.Alphabet))
	}
	for r, n := range counts {
		if !strings.ContainsRune(checkcode.Alphabet, r) || n < 800 || n > 1200 {
			t.Errorf("symbol %q drawn %d times of 32000", r, n)
		}
	}
}

func TestParse(t *testing.T) {
	const want = checkcode.Code("ABCD2345EFGH6789")
	for _, in := range []string{"ABCD-2345-EFGH-6789", "abcd2345efgh6789", " abcd 2345 efgh 6789 ", "ABCD–2345–EFGH–6789"} {
		if got, err := checkcode.Parse(in); err != nil || got != want {
			t.Errorf("Parse(%q) = %q, %v", in, string(got), err)
		}
	}
	for _, in := range []string{"", "ABCD-2345-EFGH-678", "ABCD-2345-EFGH-67890", "0BCD-2345-EFGH-6789", "IBCD-2345-EFGH-6789", "OBCD-2345-EFGH-6789", "1BCD-2345-EFGH-6789", "ＡBCD-2345-EFGH-6789"} {
		if _, err := checkcode.Parse(in); err != checkcode.ErrMalformed {
			t.Errorf("Parse(%q): %v, want ErrMalformed", in, err)
		}
	}
	if got := want.Format(); got != "ABCD-2345-EFGH-6789" {
		t.Errorf("Format = %q", got)
	}
}

func TestHasher(t *testing.T) {
	key := bytes.Repeat([]byte{1}, checkcode.KeySize)
	h, err := checkcode.NewHasher(key)
	if err != nil {
		t.Fatal(err)
	}
	code := checkcode.Code("ABCD2345EFGH6789")
	sum := h.Sum("1000000000000001", code)
	if !h.Match("1000000000000001", code, sum) {
		t.Error("the right code does not match")
	}
	if h.Match("1000000000000002", code, sum) {
		t.Error("a code matches another document's number")
	}
	if h.Match("1000000000000001", "ABCD2345EFGH6788", sum) || h.Match("1000000000000001", code, "") {
		t.Error("a wrong code or an empty hash matches")
	}
	other, _ := checkcode.NewHasher(bytes.Repeat([]byte{2}, checkcode.KeySize))
	if other.Match("1000000000000001", code, sum) {
		t.Error("a hash under another key matches")
	}
	if _, err := checkcode.NewHasher(key[:16]); err == nil {
		t.Error("a short key was accepted")
	}
}

// A code handed to a logger by mistake prints masked.
func TestCodeIsMaskedInLogs(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	code := checkcode.Code("ABCD2345EFGH6789")
	log.Info("issued", "code", code)
	log.Info("issued", slog.Any("code", code))
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("issued", "code", code)
	if strings.Contains(buf.String(), "ABCD") {
		t.Errorf("the code reached the log: %s", buf.String())
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"ABCD-2345-EFGH-6789", "abcd2345efgh6789", "", "----", "ＡBCD"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := checkcode.Parse(s)
		if err != nil {
			return
		}
		if len(c) != checkcode.Length {
			t.Fatalf("Parse(%q) = %q", s, string(c))
		}
		for _, r := range string(c) {
			if !strings.ContainsRune(checkcode.Alphabet, r) {
				t.Fatalf("Parse(%q) = %q", s, string(c))
			}
		}
		if again, err := checkcode.Parse(c.Format()); err != nil || again != c {
			t.Fatalf("Parse(Format(%q)) = %q, %v", string(c), string(again), err)
		}
	})
}
