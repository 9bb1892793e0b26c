-- The transparency log. Entries hold no personal data: document hash,
-- number, service, signing key id, time, and for revocations the reason.
CREATE TABLE log_entries (
    idx    BIGINT PRIMARY KEY,
    number TEXT NOT NULL,
    kind   TEXT NOT NULL CHECK (kind IN ('issued', 'revoked')),
    data   BYTEA NOT NULL
);

CREATE INDEX log_entries_number ON log_entries (number);

-- Merkle tree hashes in golang.org/x/mod/sumdb/tlog's stored-hash order.
CREATE TABLE log_hashes (
    id   BIGINT PRIMARY KEY,
    hash BYTEA NOT NULL
);

-- Every signed checkpoint, newest by size.
CREATE TABLE log_checkpoints (
    size       BIGINT PRIMARY KEY,
    root       BYTEA NOT NULL,
    note       BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
