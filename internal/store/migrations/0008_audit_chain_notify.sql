-- Who used a citizen's data, completed and chained (package audit): the
-- role the actor acted under, where the request came from and why; seq,
-- prev_hash and hash chain every record to the one before (audit.ChainHash),
-- so that an edited, deleted or reordered row is found by audit.Verify.
-- Rows are kept at least two years; nothing in minwon deletes them.
ALTER TABLE audit_events ADD COLUMN role TEXT NOT NULL DEFAULT '';

ALTER TABLE audit_events ADD COLUMN remote TEXT NOT NULL DEFAULT '';

ALTER TABLE audit_events ADD COLUMN purpose TEXT NOT NULL DEFAULT '';

ALTER TABLE audit_events ADD COLUMN seq BIGINT;

ALTER TABLE audit_events ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';

ALTER TABLE audit_events ADD COLUMN hash TEXT NOT NULL DEFAULT '';

CREATE UNIQUE INDEX audit_events_seq ON audit_events (seq);

-- The chain's head: one row. Every append updates it first, which takes
-- its row lock (PostgreSQL) or the write lock (SQLite) until commit, so
-- concurrent writers append one after another and never fork the chain.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);

INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

-- Notices to citizens (package notify): the portal inbox and the durable
-- outbox of the outbound channel in one row. id is the message id senders
-- deduplicate by; state is 'pending' until a sender took it ('sent'), or
-- 'failed' after the last attempt.
CREATE TABLE notices (
    id              TEXT PRIMARY KEY,
    subject         TEXT NOT NULL,
    kind            TEXT NOT NULL,
    title           TEXT NOT NULL,
    body            TEXT NOT NULL,
    number          TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    read_at         BIGINT,
    state           TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    sent_at         BIGINT,
    last_error      TEXT NOT NULL DEFAULT ''
);

CREATE INDEX notices_subject ON notices (subject, created_at);

CREATE INDEX notices_due ON notices (state, next_attempt_at);
