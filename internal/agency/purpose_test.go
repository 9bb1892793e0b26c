package agency_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/minwon/minwon/internal/agencytest"
	"github.com/minwon/minwon/internal/linkage"
)

// An agency answers only the fields the named purpose declares for its
// dataset, whoever asks: minimisation holds at the source too.
func TestQueryHeldToPurpose(t *testing.T) {
	env := agencytest.Start(t, 20, 11)
	subj := env.World.People[0].Subject
	cases := []struct {
		name, agency, purpose, dataset string
		fields                         []string
		status                         int
		code                           string
	}{
		{"declared fields", linkage.Registry, "resident-registration-copy", "person", []string{"name", "rrn"}, http.StatusOK, ""},
		{"access check", linkage.Registry, "access:relations", "person", []string{"relation", "members"}, http.StatusOK, ""},
		{"field outside the purpose", linkage.Registry, "move-in-report", "person", []string{"name", "rrn"}, http.StatusForbidden, "field_not_allowed"},
		{"access check asks for the RRN", linkage.Registry, "access:relations", "person", []string{"rrn"}, http.StatusForbidden, "field_not_allowed"},
		{"purpose of another agency", linkage.Registry, "graduation-certificate", "person", []string{"name"}, http.StatusForbidden, "field_not_allowed"},
		{"unknown purpose", linkage.Registry, "curiosity", "person", []string{"name"}, http.StatusForbidden, "unknown_purpose"},
		{"no purpose", linkage.Registry, "", "person", []string{"name"}, http.StatusForbidden, "unknown_purpose"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body, _ := json.Marshal(linkage.Request{CorrelationID: linkage.NewCorrelationID(), Purpose: tc.purpose, Subject: subj, Dataset: tc.dataset, Fields: tc.fields})
			resp, err := env.HTTPClient.Post(env.URL(tc.agency)+linkage.QueryPath, "application/json", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e struct {
				Error struct{ Code string } `json:"error"`
			}
			json.NewDecoder(resp.Body).Decode(&e)
			if resp.StatusCode != tc.status || e.Error.Code != tc.code {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, e.Error.Code, tc.status, tc.code)
			}
		})
	}
}
