-- Sessions are opaque random tokens; only their SHA-256 is stored, so a
-- copy of this table lets nobody log in.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    login      TEXT NOT NULL REFERENCES accounts (login),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ended_at   BIGINT
);

CREATE INDEX sessions_login ON sessions (login);

-- One row per issued document, written in one transaction with its number:
-- a number is never handed out without its stored document.
CREATE TABLE issuances (
    number            TEXT PRIMARY KEY,
    requester_login   TEXT NOT NULL,
    requester_subject TEXT NOT NULL,
    subject           TEXT NOT NULL,
    service           TEXT NOT NULL,
    template_version  INTEGER NOT NULL,
    template_digest   TEXT NOT NULL,
    issued_at         BIGINT NOT NULL,
    pdf_sha256        TEXT NOT NULL,
    key_id            TEXT NOT NULL,
    pdf               BYTEA NOT NULL,
    data_json         BYTEA NOT NULL,
    idempotency_key   TEXT NOT NULL,
    request_hash      TEXT NOT NULL,
    UNIQUE (requester_login, idempotency_key)
);

CREATE INDEX issuances_requester ON issuances (requester_login, issued_at);
CREATE INDEX issuances_subject ON issuances (subject, issued_at);

-- Refusals by pre-issuance verification and linkage mismatches. detail
-- names the rule, never the personal data involved.
CREATE TABLE alerts (
    id              TEXT PRIMARY KEY,
    at              BIGINT NOT NULL,
    kind            TEXT NOT NULL,
    service         TEXT NOT NULL,
    requester_login TEXT NOT NULL,
    detail          TEXT NOT NULL
);

CREATE INDEX alerts_at ON alerts (at);
