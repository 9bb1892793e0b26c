-- minwon's own tables. Agency source records never live here.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Login accounts. subject is the opaque id shared with the agencies; the
-- account holds no name, birth date or RRN: those stay with the registry.
CREATE TABLE accounts (
    login         TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    subject       TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('person', 'corporate')),
    created_at    BIGINT NOT NULL
);

CREATE INDEX accounts_subject ON accounts (subject);
