-- The inventory of minwon's signing keys: document signing and log
-- checkpoints. Private keys stay in key files; this table holds what
-- verifiers need (public key, status) and why a key was revoked.
CREATE TABLE signing_keys (
    id            TEXT PRIMARY KEY,
    purpose       TEXT NOT NULL CHECK (purpose IN ('document', 'log')),
    public_key    BYTEA NOT NULL,
    created_at    BIGINT NOT NULL,
    retired_at    BIGINT,
    revoked_at    BIGINT,
    revoke_reason TEXT NOT NULL DEFAULT ''
);

CREATE INDEX signing_keys_purpose ON signing_keys (purpose, created_at);
