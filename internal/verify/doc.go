// Package verify is what anyone needs to check a minwon document without
// trusting minwon: the issuance number format, the transparency log's entry
// and checkpoint formats, inclusion proofs, the PDF signature trailer, the
// offline proof bundle and key set (their JSON as the API gives them), and
// CheckOffline, which decides from those alone.
//
// It does no I/O and depends on nothing of minwon's but itself: a bank or
// school can import it, or build cmd/minwon-verify, without a database
// driver, password hashing or PDF rendering. testdata/vectors holds test
// vectors for verifiers written in other languages. The server side of
// verification (looking documents up in the log) is package verification;
// the log itself is package doclog; both build on this one.
package verify
