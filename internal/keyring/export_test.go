package keyring

import "time"

// SetClock replaces r's clock, for the external tests.
func SetClock(r *Ring, now func() time.Time) { r.now = now }

// RefreshInterval is how long r trusts what it loaded.
func RefreshInterval(r *Ring) time.Duration { return r.refresh }

const LegacyDocumentKey = legacyDocumentKey
