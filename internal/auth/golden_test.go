package auth

import "testing"

// TestGoldenHashToken pins the stored form of a session token,
// hex(SHA-256(token)): sessions in the database are found by it, so a change
// would log every citizen out at the upgrade.
func TestGoldenHashToken(t *testing.T) {
	// printf 'mws_golden-token' | sha256sum
	const want = "8aba2cc34e5a5222aca9d2cdea7a4fe8580b37a503fb965a28299cb803c4a46f"
	if got := HashToken("mws_golden-token"); got != want {
		t.Errorf("HashToken = %s, want %s", got, want)
	}
}
