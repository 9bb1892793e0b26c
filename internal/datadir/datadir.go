// Package datadir names the files of a minwon data directory (`--data DIR`)
// and of a key directory, so that demo, seed, agencies, keygen, serve, the
// key ring and the load harness agree on one layout. It only builds paths:
// it never creates, reads or writes a file.
package datadir

import "path/filepath"

// Dir is a data directory: the SQLite database, the keys, the demo's
// accounts and the files that say where a running demo answers.
type Dir string

// Path returns the directory itself.
func (d Dir) Path() string { return string(d) }

// Database is the embedded SQLite database.
func (d Dir) Database() string { return filepath.Join(string(d), "minwon.db") }

// SeenCheckpoint is checkpoint.last: the log's newest checkpoint, kept
// outside the database after each new one, so that a database restored
// from an older backup is found behind it (package rollback).
func (d Dir) SeenCheckpoint() string { return filepath.Join(string(d), "checkpoint.last") }

// Keys is the key directory (mode 0700, files 0600).
func (d Dir) Keys() KeyDir { return KeyDir(filepath.Join(string(d), "keys")) }

// Accounts is the CSV of seeded logins and passwords (mode 0600).
func (d Dir) Accounts() string { return filepath.Join(string(d), "demo-accounts.csv") }

// Residents is demo-residents.csv: the synthetic population's resident and
// business registration numbers, for trying the counter (mode 0600).
func (d Dir) Residents() string { return filepath.Join(string(d), "demo-residents.csv") }

// Info is demo.json: the running demo's pid, URLs and population seed.
func (d Dir) Info() string { return filepath.Join(string(d), "demo.json") }

// URLs is urls.json: the base URL of every listener, rewritten at each start.
func (d Dir) URLs() string { return filepath.Join(string(d), "urls.json") }

// ServeConfig is the serve.json that `minwon agencies` writes.
func (d Dir) ServeConfig() string { return filepath.Join(string(d), "serve.json") }

// KeyDir is a key directory: serve's key_dir, or DIR/keys of a demo.
type KeyDir string

// Path returns the directory itself.
func (k KeyDir) Path() string { return string(k) }

// DocumentKey is the first document-signing key, adopted by the key ring
// when its inventory is empty.
func (k KeyDir) DocumentKey() string { return filepath.Join(string(k), "document-signing.key") }

// LogKey is the transparency log's checkpoint signing key.
func (k KeyDir) LogKey() string { return filepath.Join(string(k), "log-checkpoint.key") }

// AgencyKey is a simulated agency's response-signing key.
func (k KeyDir) AgencyKey(agency string) string {
	return filepath.Join(string(k), "agency-"+agency+".key")
}

// SubjectIndexKey is the HMAC key under which citizens are found by
// resident registration number without storing the number.
func (k KeyDir) SubjectIndexKey() string { return filepath.Join(string(k), "subject-index.key") }

// DataKEK is the key-encryption key that wraps the data keys sealing the
// stored documents (package seal).
func (k KeyDir) DataKEK() string { return filepath.Join(string(k), "data-kek.key") }

// CheckCodeKey keys the hashes of documents' check codes (package
// checkcode). Losing it makes every printed code fail; all nodes share it.
func (k KeyDir) CheckCodeKey() string { return filepath.Join(string(k), "check-code.key") }

// PKI is the simulated government PKI (see package pki): ca.pem is the
// root every client and server trusts.
func (d Dir) PKI() string { return filepath.Join(string(d), "pki") }

// CRLCache is where the officials' listeners keep the last good CRL.
func (d Dir) CRLCache() string { return filepath.Join(d.PKI(), "crl-cache.json") }

// Notify is where the demo's outbound channel delivers citizens' notices
// (notify.FileSender: outbox.jsonl, one JSON line per message).
func (d Dir) Notify() string { return filepath.Join(string(d), "notify") }

// Officials is the CSV of seeded officials and their certificate files.
func (d Dir) Officials() string { return filepath.Join(string(d), "demo-officials.csv") }

// Agencies is where the simulated agencies keep what changed in their
// records since the seed (the registry's journal of move-in reports).
func (d Dir) Agencies() string { return filepath.Join(string(d), "agencies") }
