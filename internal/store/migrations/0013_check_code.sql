-- The document-check code printed on each document (package checkcode) is
-- kept only as HMAC-SHA256 under a key file: check_code_hash ('' for a
-- document issued before codes, which no code opens). check_failures
-- counts wrong codes since the last right one; from checkcode.LockAt on,
-- each wrong code locks the number until check_locked_until (ms).
ALTER TABLE issuances ADD COLUMN check_code_hash TEXT NOT NULL DEFAULT '';

ALTER TABLE issuances ADD COLUMN check_failures INTEGER NOT NULL DEFAULT 0;

ALTER TABLE issuances ADD COLUMN check_locked_until BIGINT NOT NULL DEFAULT 0;
