// Package portaltest is a test helper: fakes of the collaborators the API
// and the pages share (package portal), for tests that drive a handler
// without a database.
package portaltest

import (
	"context"
	"errors"
	"time"

	"github.com/minwon/minwon/internal/access"
	"github.com/minwon/minwon/internal/auth"
)

// OneSession accepts any token as one person.
type OneSession struct{}

// Login is not used by the tests that take OneSession.
func (OneSession) Login(context.Context, string, string, string) (string, time.Time, auth.Principal, error) {
	return "", time.Time{}, auth.Principal{}, errors.New("not used")
}

// Authenticate answers every token as the same person.
func (OneSession) Authenticate(context.Context, string) (auth.Principal, error) {
	return auth.Principal{Login: "tester", Subject: "S1", Kind: "person"}, nil
}

// Logout does nothing.
func (OneSession) Logout(context.Context, string) error { return nil }

// OtherSessions reports none.
func (OneSession) OtherSessions(context.Context, string) (int, error) { return 0, nil }

// EndOtherSessions ends none.
func (OneSession) EndOtherSessions(context.Context, string) (int, error) { return 0, nil }

// FailingProfiles answers every profile with Err.
type FailingProfiles struct{ Err error }

// Profile returns Err.
func (f FailingProfiles) Profile(context.Context, auth.Principal) (*access.Profile, error) {
	return nil, f.Err
}
