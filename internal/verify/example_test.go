package verify_test

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/minwon/minwon/internal/verify"
)

// A bank checks a certificate a customer handed in, offline: the PDF, the
// proof saved with `minwon verify --save-proof` (or fetched from POST
// /api/v1/verify), and the key set it trusts (GET /api/v1/keys, saved once).
// Here all three come from a test vector.
func ExampleCheckOffline() {
	raw, err := os.ReadFile("testdata/vectors/valid.json")
	if err != nil {
		panic(err)
	}
	var in struct {
		PDF   []byte
		Proof verify.ResultJSON
		Keys  verify.KeySetJSON
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		panic(err)
	}
	trusted, err := in.Keys.PublicKeys()
	if err != nil {
		panic(err)
	}
	proof, err := in.Proof.Bundle()
	if err != nil {
		panic(err)
	}
	if err := verify.CheckOffline(in.PDF, proof, trusted); err != nil {
		fmt.Println("NOT VALID:", err)
		return
	}
	fmt.Printf("VALID: document %s (%s), entry %d of the transparency log\n", verify.Number(proof.Number).Format(), proof.Service, proof.LogIndex)

	in.PDF[20] ^= 1 // one changed byte
	fmt.Println("altered:", verify.CheckOffline(in.PDF, proof, trusted) != nil)
	// Output:
	// VALID: document 0000-0000-0000-0034 (resident-registration-copy), entry 2 of the transparency log
	// altered: true
}
