package casework

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/linkage"
)

func catalog(t testing.TB) *form.Catalog {
	t.Helper()
	c, err := form.Builtin(linkage.DefaultSchema())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var now = time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)

func TestCheckPayload(t *testing.T) {
	s := &Service{Catalog: catalog(t)}
	move, care := s.Catalog.Service(MoveInReport), s.Catalog.Service(ChildcareAllowance)
	for _, tc := range []struct {
		svc  *form.Service
		in   string
		want string // normalised payload, or the error's text
	}{
		{move, `{"new_address":" 서울특별시  관악구 행운로 12 ","moved_in":"2026-11-30"}`, `{"moved_in":"2026-11-30","new_address":"서울특별시 관악구 행운로 12"}`},
		{move, `{"new_address":"서울특별시 관악구 행운로 12","moved_in":"2026-11-30","members":["P1","P2"]}`, `"members":["P1","P2"]`},
		{move, `{"new_address":"서울특별시 관악구 행운로 12","moved_in":"2026-12-02"}`, "in the future"},
		{move, `{"new_address":"서울특별시 관악구 행운로 12","moved_in":"2020-01-01"}`, "five years"},
		{move, `{"new_address":"서울특별시 관악구 행운로 12","moved_in":"2026-11-30","members":["P1","P1"]}`, "distinct"},
		{move, `{"new_address":"Gwanak-ro 12","moved_in":"2026-11-30"}`, "province"},
		{move, `[]`, "JSON object"},
		{move, ``, "required"},
		{care, `{"bank":"국민은행","account_number":"123-45"}`, `{"account_number":"12345","bank":"국민은행"}`},
		{care, `{"bank":"국민은행","account_number":"12a"}`, "digits"},
		{care, `{"bank":"900101-1234568","account_number":"1"}`, "resident registration number"},
		{care, `{"bank":1,"account_number":"1"}`, "must be a string"},
		{care, `{"bank":"국민은행"}`, "account_number"},
		{care, `{"bank":"국민은행","account_number":"1","members":[]}`, "unknown payload field"},
	} {
		out, err := s.checkPayload(tc.svc, json.RawMessage(tc.in), now)
		got := string(out)
		if err != nil {
			got = err.Error()
			if !errors.Is(err, ErrBadPayload) && !errors.Is(err, ErrPersonalData) {
				t.Errorf("%s: %v is not a domain error", tc.in, err)
			}
		}
		if !strings.Contains(got, tc.want) {
			t.Errorf("checkPayload(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestAgeMonths(t *testing.T) {
	b := time.Date(2019, 10, 15, 0, 0, 0, 0, time.UTC)
	for day, want := range map[string]int{"2019-10-15": 0, "2019-11-14": 0, "2019-11-15": 1, "2026-12-14": 85, "2026-12-15": 86} {
		d, _ := time.Parse("2006-01-02", day)
		if got := ageMonths(b, d); got != want {
			t.Errorf("age on %s = %d, want %d", day, got, want)
		}
	}
}

func FuzzCheckPayload(f *testing.F) {
	s := &Service{Catalog: catalog(f)}
	f.Add(MoveInReport, `{"new_address":"서울특별시 관악구 행운로 12","moved_in":"2026-11-30","members":["P1"]}`)
	f.Add(ChildcareAllowance, `{"bank":"국민은행","account_number":"123-45"}`)
	f.Fuzz(func(t *testing.T, service, in string) {
		svc := s.Catalog.Service(service)
		if svc == nil || len(svc.Payload) == 0 {
			return
		}
		out, err := s.checkPayload(svc, json.RawMessage(in), now)
		if err != nil {
			if !errors.Is(err, ErrBadPayload) && !errors.Is(err, ErrPersonalData) {
				t.Fatalf("%q: %v", in, err)
			}
			return
		}
		// What is stored checks again to itself.
		again, err := s.checkPayload(svc, out, now)
		if err != nil || string(again) != string(out) {
			t.Fatalf("not stable: %s → %s → %s (%v)", in, out, again, err)
		}
	})
}

// Application ids go into audit records and notices, whose text is
// scanned for RRNs: they must never hold a digit.
func TestIDsHoldNoDigits(t *testing.T) {
	seen := map[string]bool{}
	for range 2000 {
		id := newID()
		if len(id) != 23 || strings.ContainsAny(id[3:], "0123456789") || seen[id] {
			t.Fatalf("id %q", id)
		}
		seen[id] = true
	}
}
