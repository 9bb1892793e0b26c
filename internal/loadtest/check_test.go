package loadtest

import (
	"strings"
	"testing"
	"time"
)

func TestHistogramQuantiles(t *testing.T) {
	var h Histogram
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Millisecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.95, 950 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {1, 1000 * time.Millisecond}} {
		got := h.Quantile(c.q)
		if d := float64(got-c.want) / float64(c.want); d < -0.001 || d > 0.0101 {
			t.Errorf("q%.2f = %s, want %s within 1%%", c.q, got, c.want)
		}
	}
	if h.Count() != 1000 || h.Max() != time.Second {
		t.Errorf("count %d max %s", h.Count(), h.Max())
	}
	var empty Histogram
	if empty.Quantile(0.99) != 0 {
		t.Error("empty histogram has a p99")
	}
	s1 := h.Snapshot()
	for i := 0; i < 100; i++ {
		h.Record(5 * time.Second)
	}
	if got := h.Snapshot().QuantileSince(s1, 0.5); got < 4900*time.Millisecond || got > 5100*time.Millisecond {
		t.Errorf("p50 since snapshot = %s, want about 5s", got)
	}
}

var kim = Subject{ID: "PAAAAAAAAAA", Kind: "person", Name: "김민준", BirthDate: "1990-01-01"}

func TestCheckTextFlagsWrongSubject(t *testing.T) {
	number := "1234567890123452"
	good := renderSample(t, "김민준", "1990-01-01", 2)
	for _, c := range []struct {
		name    string
		pdf     []byte
		subject Subject
		want    string // substring of a problem; "" = no problem
	}{
		{"right person", good.PDF, kim, ""},
		{"another name", renderSample(t, "이서연", "1990-01-01", 2).PDF, kim, "name is"},
		{"another birth date", renderSample(t, "김민준", "1985-03-04", 2).PDF, kim, "birth date is"},
		{"unmasked RRN", renderSample(t, "김민준", "1990-01-01\n900101-1234568", 2).PDF, kim, "unmasked resident registration number"},
		{"corporation shown a person's certificate", good.PDF, Subject{ID: "C1", Kind: "corporate", Name: "주식회사 한빛"}, "no company name field"},
	} {
		t.Run(c.name, func(t *testing.T) {
			strs, err := PDFStrings(c.pdf)
			if err != nil {
				t.Fatal(err)
			}
			problems := CheckText(strings.Join(strs, "\n"), Expect{Subject: c.subject, Number: number})
			if c.want == "" {
				if len(problems) > 0 {
					t.Fatalf("problems in a good document: %v", problems)
				}
				return
			}
			found := false
			for _, p := range problems {
				found = found || strings.Contains(p, c.want)
			}
			if !found {
				t.Fatalf("problems %v, want one about %q", problems, c.want)
			}
			// The leaked number itself must not appear in the report.
			if strings.Contains(strings.Join(problems, " "), "1234568") {
				t.Errorf("the report repeats the unmasked RRN: %v", problems)
			}
		})
	}
}

func TestCheckTextCorporation(t *testing.T) {
	text := "사업자등록증명\n발급번호 (Issuance No.)  1234-5678-9012-3452\n상호(법인명) Company name\n주식회사 이음디자인\n사업자등록번호 Business registration\nnumber\n488-88-72487\n법인등록번호 Corporate registration\nnumber\n118711-6562858\n"
	corp := Subject{ID: "C1", Kind: "corporate", Name: "주식회사 이음디자인", BusinessNumber: "488-88-72487", CorporateNumber: "118711-6562858"}
	if p := CheckText(text, Expect{Subject: corp, Number: "1234567890123452"}); len(p) > 0 {
		t.Fatalf("good corporate certificate: %v", p)
	}
	other := corp
	other.BusinessNumber, other.CorporateNumber = "123-45-67891", "110111-1234567"
	p := CheckText(text, Expect{Subject: other, Number: "1234567890123452"})
	if len(p) != 2 {
		t.Fatalf("another corporation's numbers: problems %v, want the missing business number and the foreign 13-digit number", p)
	}
}

func TestCheckData(t *testing.T) {
	data := []byte(`{"document":{"number":"1234567890123452","service":"resident-registration-copy","subject":"PAAAAAAAAAA",
		"fields":[{"key":"name","text":"김민준"},{"key":"birth_date","text":"1990-01-01"}],"pdf_sha256":"ab"},"signature":"x"}`)
	e := Expect{Subject: kim, Service: "resident-registration-copy", Number: "1234567890123452"}
	if p := CheckData(data, e, "ab"); len(p) > 0 {
		t.Fatalf("good data.json: %v", p)
	}
	other := e
	other.Subject.ID, other.Subject.Name = "PBBBBBBBBBB", "이서연"
	if p := CheckData(data, other, "ab"); len(p) != 2 {
		t.Fatalf("data.json of another subject: %v", p)
	}
	if p := CheckData(data, e, "cd"); len(p) != 1 {
		t.Fatalf("data.json of another PDF: %v", p)
	}
}

func TestParseFaults(t *testing.T) {
	f, err := ParseFaults("delay,swap=0.05,error")
	if err != nil {
		t.Fatal(err)
	}
	if f.DelayMS != DefaultFaults.DelayMS || f.JitterMS != DefaultFaults.JitterMS || f.Swap != 0.05 || f.Error != DefaultFaults.Error || f.Drop != 0 {
		t.Fatalf("faults = %+v", f)
	}
	for _, bad := range []string{"swap=2", "explode", "delay=fast"} {
		if _, err := ParseFaults(bad); err == nil {
			t.Errorf("ParseFaults(%q) succeeded", bad)
		}
	}
}

func TestAccountsFile(t *testing.T) {
	in := "login,password,subject,name,birth_date,kind\nuser0000001,pw,PAAAAAAAAAA,김민준,1990-01-01,person\ncorp000001,pw,C1,주식회사 한빛,,corporate\n"
	a, err := parseAccounts(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 2 || a[1].Kind != "corporate" || a[0].BirthDate != "1990-01-01" {
		t.Fatalf("accounts = %+v", a)
	}
	if _, err := parseAccounts(strings.NewReader("user,pw\n")); err == nil {
		t.Error("a file with another header was accepted")
	}
}

// Crash-mode bookkeeping: a key that produced two numbers, or a number
// given to two keys, fails the run; so do replay mismatches and requests
// left without an answer.
func TestDuplicateBookkeeping(t *testing.T) {
	h := &Harness{records: []record{
		{Key: "k1", Login: "u1", Number: "1111111111111111"},
		{Key: "k2", Login: "u1", Number: "2222222222222222"},
		{Key: "k1", Login: "u1", Number: "3333333333333333"}, // retry after a crash got a new document
		{Key: "k3", Login: "u2", Number: "2222222222222222"}, // one document for two keys
	}, opt: Options{Progress: &strings.Builder{}}}
	f, err := h.Final(t.Context(), FinalOptions{Verify: "none"})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.DuplicateKeys) != 1 || f.DuplicateKeys[0] != "k1" || len(f.DuplicateNums) != 1 {
		t.Fatalf("duplicates: keys %v numbers %v", f.DuplicateKeys, f.DuplicateNums)
	}
	if (&Summary{Final: f}).OK() {
		t.Error("a run with duplicates passed")
	}
	for _, c := range []*CrashResult{{ReplayMismatches: []string{"k9: first 1, now 2"}}, {Unresolved: 1}} {
		s := &Summary{Phases: []*Result{{Crash: c, Unanswered: Unanswered{Keys: c.Unresolved, Unresolved: c.Unresolved}}}, Final: &FinalResult{}}
		if s.OK() {
			t.Errorf("crash result %+v passed", c)
		}
	}
	if !(&Summary{Phases: []*Result{{Crash: &CrashResult{Kills: 1, InFlight: 3, Resolved: 3}}}, Final: &FinalResult{}}).OK() {
		t.Error("a clean crash run failed")
	}
}
