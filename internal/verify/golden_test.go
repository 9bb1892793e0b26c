package verify_test

import (
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/minwon/minwon/internal/verify"
)

// The signed and hashed formats, byte for byte. A round trip cannot catch a
// change here (reordered fields would still parse back), yet any change
// breaks every leaf hash, checkpoint and signature already published: if
// one of these tests fails, the change is to a public format, not a
// refactoring.

func goldenEntry() verify.Entry {
	return verify.Entry{Kind: verify.KindIssued, Number: "1234567890123452", Service: "resident-registration-copy",
		KeyID: "doc-0123456789ab", SHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		Time: time.Date(2026, 11, 25, 10, 0, 0, 123_000_000, time.UTC)}
}

func TestEntryGolden(t *testing.T) {
	issued := goldenEntry()
	revoked := issued
	revoked.Kind, revoked.Reason, revoked.Time = verify.KindRevoked, "issued in error", issued.Time.Add(time.Hour)
	for _, tc := range []struct {
		e              verify.Entry
		bytes, leafHex string
	}{
		{issued, "minwon/log-entry/v1\nkind issued\nnumber 1234567890123452\nservice resident-registration-copy\nkey doc-0123456789ab\nsha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\ntime 2026-11-25T10:00:00.123Z\n",
			"651c8ccf5e8776cb91888f707dbac6b5fab3ccb3dd363ef67272b2441015140c"},
		{revoked, "minwon/log-entry/v1\nkind revoked\nnumber 1234567890123452\nservice resident-registration-copy\nkey doc-0123456789ab\nsha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\ntime 2026-11-25T11:00:00.123Z\nreason issued in error\n",
			"bcf46c94d25d5e2236ce707af04595f2b7f7629f35bd996b1e6829e8cb4aac69"},
	} {
		got := tc.e.Marshal()
		if string(got) != tc.bytes {
			t.Errorf("%s entry bytes:\n got %q\nwant %q", tc.e.Kind, got, tc.bytes)
		}
		if h := verify.RecordHash(got); hex.EncodeToString(h[:]) != tc.leafHex {
			t.Errorf("%s leaf hash = %s, want %s", tc.e.Kind, hex.EncodeToString(h[:]), tc.leafHex)
		}
		if back, err := verify.ParseEntry([]byte(tc.bytes)); err != nil || back != tc.e {
			t.Errorf("ParseEntry(golden %s) = %+v, %v", tc.e.Kind, back, err)
		}
	}
}

func TestCheckpointGolden(t *testing.T) {
	var root verify.Hash
	for i := range root {
		root[i] = byte(i)
	}
	const body = "minwon.example/log\n42\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
	if got := verify.FormatCheckpoint("minwon.example/log", 42, root); got != body {
		t.Fatalf("checkpoint body:\n got %q\nwant %q", got, body)
	}
	// The signed note over it, by a fixed key: Ed25519 is deterministic.
	signer, vkey := noteSigner(t, "minwon.example/log", seedKey(3))
	signed, err := note.Sign(&note.Note{Text: body}, signer)
	if err != nil {
		t.Fatal(err)
	}
	const wantSigned = "minwon.example/log\n42\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n— minwon.example/log PTBVBiVPAzwgvlNP2na92+tMQpPh8xigDozmLtxWmhLGKKxXMMy+hxVcxJl8GLXCBvRpr95QTzsx+N6b+ta5R8LoCg0=\n"
	if string(signed) != wantSigned {
		t.Errorf("signed checkpoint:\n got %q\nwant %q", signed, wantSigned)
	}
	cp, err := verify.OpenCheckpoint([]byte(wantSigned), vkey)
	if err != nil || cp.Size != 42 || cp.Root != root || cp.Origin != "minwon.example/log" {
		t.Errorf("OpenCheckpoint(golden) = %+v, %v", cp, err)
	}
}

func TestPDFTrailerGolden(t *testing.T) {
	key := seedKey(1)
	got := signPDF(key, "1234567890123452", []byte("%PDF-1.7\n%%EOF\n"))
	const want = "%PDF-1.7\n%%EOF\n%minwon-signature v1 key=doc-34750f98bd59 number=1234567890123452 sig=JNmeCQ44gzf810E78g1NCj9hj48nI3Y2BVxKJWua5FbkRTftAxJZI/7w660CbJf03Ah+/dMnc56uqUGIGmX+CQ==\n%%EOF\n"
	if string(got) != want {
		t.Errorf("signed PDF:\n got %q\nwant %q", got, want)
	}
}

// TestProofJSONGolden pins the field names of the saved proof, which
// --save-proof writes and outside verifiers read. (It is not itself signed:
// the checkpoint inside it is.)
func TestProofJSONGolden(t *testing.T) {
	idx, ridx := int64(7), int64(9)
	got, err := json.Marshal(verify.ResultJSON{Status: verify.Revoked, Message: "m", Number: "1234567890123452", Service: "s",
		IssuedAt: "2026-11-25T10:00:00Z", KeyID: "doc-0123456789ab", SHA256: "ab", LogIndex: &idx,
		Revocation:     &verify.RevocationJSON{Reason: "r", RevokedAt: "2026-11-26T10:00:00Z", LogIndex: &ridx},
		InclusionProof: []string{"AA=="}, TreeSize: 10, Checkpoint: "c"})
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"status":"revoked","message":"m","number":"1234567890123452","service":"s","issued_at":"2026-11-25T10:00:00Z","key_id":"doc-0123456789ab","sha256":"ab","log_index":7,"revocation":{"reason":"r","revoked_at":"2026-11-26T10:00:00Z","log_index":9},"inclusion_proof":["AA=="],"tree_size":10,"checkpoint":"c"}`
	if string(got) != want {
		t.Errorf("proof JSON:\n got %s\nwant %s", got, want)
	}
}
