package access_test

import (
	"testing"

	"github.com/minwon/minwon/internal/access"
	"github.com/minwon/minwon/internal/agencytest"
	"github.com/minwon/minwon/internal/auth"
	"github.com/minwon/minwon/internal/linkage"
)

// The access checks read relations from the real agencies, which hold
// them to the fields their declared purposes (access:relations,
// access:corporations) allow: a field added here without being declared
// fails at the agency.
func TestProfileWithinDeclaredPurposes(t *testing.T) {
	env := agencytest.Start(t, 60, 14)
	r := access.NewResolver(env.Client(t, linkage.Options{}))
	ctx := agencytest.Ctx(t)
	relations := 0
	for _, p := range env.World.People[:20] {
		prof, err := r.Profile(ctx, auth.Principal{Login: "x", Subject: p.Subject, Kind: "person"})
		if err != nil {
			t.Fatalf("profile of a person: %v", err)
		}
		relations += len(prof.Relations)
	}
	if relations == 0 {
		t.Fatal("no relations at all: the test proves nothing")
	}
	if len(env.World.Corporations) == 0 {
		t.Fatal("no corporations in the world")
	}
	if _, err := r.Profile(ctx, auth.Principal{Login: "c", Subject: env.World.Corporations[0].Subject, Kind: "corporate"}); err != nil {
		t.Fatalf("profile of a corporation: %v", err)
	}
}
