package portal

import (
	"testing"

	"github.com/minwon/minwon/internal/form"
	"github.com/minwon/minwon/internal/linkage"
)

type health []linkage.AgencyStatus

func (h health) Status() []linkage.AgencyStatus { return h }

func TestStatusDegradesOnlyWhatNeedsTheAgency(t *testing.T) {
	cat, err := form.Builtin(linkage.DefaultSchema())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		h      health
		ok     bool
		wanted map[string]bool
	}{
		{"all closed", health{{Agency: "registry", State: linkage.Closed}, {Agency: "education", State: linkage.Closed}}, true, nil},
		{"education open", health{{Agency: "registry", State: linkage.Closed}, {Agency: "education", State: linkage.Open}}, false,
			map[string]bool{"graduation-certificate": true, "grade-certificate": true}},
		{"education half open", health{{Agency: "education", State: linkage.HalfOpen}}, false,
			map[string]bool{"graduation-certificate": true, "grade-certificate": true}},
	} {
		st := Status(cat, c.h)
		if st.OK != c.ok || len(st.Degraded) != len(c.wanted) || len(st.Agencies) != len(c.h) {
			t.Errorf("%s: %+v", c.name, st)
		}
		for _, svc := range st.Degraded {
			if !c.wanted[svc.ID] {
				t.Errorf("%s: %s degraded", c.name, svc.ID)
			}
		}
	}
}
