-- Citizens found by resident registration number (and corporations by
-- business registration number) at the counter: only a keyed hash
-- (HMAC-SHA256 under a key kept outside the database) is stored, never the
-- number itself.
CREATE TABLE subject_index (
    digest  BYTEA PRIMARY KEY,
    kind    TEXT NOT NULL CHECK (kind IN ('rrn', 'business_number')),
    subject TEXT NOT NULL
);

-- One row per use of a citizen's personal data and per official's or
-- operator's action: who (kind, id, office), when, what, about whom. detail
-- holds the identity check and purpose of a counter issuance, never an RRN.
CREATE TABLE audit_events (
    id         TEXT PRIMARY KEY,
    at         BIGINT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor      TEXT NOT NULL,
    office     TEXT NOT NULL DEFAULT '',
    action     TEXT NOT NULL,
    service    TEXT NOT NULL DEFAULT '',
    subject    TEXT NOT NULL DEFAULT '',
    number     TEXT NOT NULL DEFAULT '',
    detail     TEXT NOT NULL DEFAULT ''
);

CREATE INDEX audit_events_subject ON audit_events (subject, at);
CREATE INDEX audit_events_actor ON audit_events (actor, at);
