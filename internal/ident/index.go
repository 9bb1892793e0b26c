package ident

import (
	"crypto/hmac"
	"crypto/sha256"
)

// Indexer derives the keys under which citizens and corporations are found
// by number: HMAC-SHA256 under a secret kept outside the database, so the
// index holds no number and cannot be reversed by hashing every possible
// RRN (there are fewer than 10^13). The numbers it takes are digits only,
// as ParseRRN and ParseBusinessNumber return them.
type Indexer struct{ key []byte }

// NewIndexer returns an indexer keyed with key (32 random bytes).
func NewIndexer(key []byte) Indexer { return Indexer{key: append([]byte(nil), key...)} }

// RRN returns the lookup key of a resident registration number.
func (x Indexer) RRN(digits string) []byte { return x.sum("rrn:", digits) }

// BusinessNumber returns the lookup key of a business registration number.
func (x Indexer) BusinessNumber(digits string) []byte { return x.sum("brn:", digits) }

func (x Indexer) sum(kind, digits string) []byte {
	m := hmac.New(sha256.New, x.key)
	m.Write([]byte(kind))
	m.Write([]byte(digits))
	return m.Sum(nil)
}
