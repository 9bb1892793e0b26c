-- Applications and reports (package casework): one row each, its status
-- history, and the durable job queue that completes them. A submission
-- writes its row, its first history events and its job in one
-- transaction. The payload (addresses, account numbers) is sealed like a
-- document: data_key_id names the data key, the row's identity is
-- "application <id>".
CREATE TABLE applications (
    id                TEXT PRIMARY KEY,
    service           TEXT NOT NULL,
    kind              TEXT NOT NULL,
    requester         TEXT NOT NULL,
    requester_subject TEXT NOT NULL,
    subject           TEXT NOT NULL,
    payload           BYTEA NOT NULL,
    data_key_id       TEXT NOT NULL,
    status            TEXT NOT NULL,
    retroactive       INTEGER NOT NULL DEFAULT 0,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    idempotency_key   TEXT NOT NULL,
    request_hash      TEXT NOT NULL,
    UNIQUE (requester, idempotency_key)
);

CREATE INDEX applications_requester ON applications (requester, created_at);

CREATE INDEX applications_status ON applications (status, created_at);

CREATE TABLE application_history (
    application_id TEXT NOT NULL REFERENCES applications (id),
    seq            INTEGER NOT NULL,
    at             BIGINT NOT NULL,
    status         TEXT NOT NULL,
    note           TEXT NOT NULL,
    actor          TEXT NOT NULL,
    retroactive    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (application_id, seq)
);

-- The queue. A job is 'pending' until the transaction that records its
-- outcome marks it 'done'. Claiming a job moves run_at to the end of its
-- lease, so a job whose worker died is due again when the lease ends;
-- a failed attempt moves run_at by the backoff.
CREATE TABLE casework_jobs (
    id             TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications (id),
    kind           TEXT NOT NULL,
    state          TEXT NOT NULL DEFAULT 'pending',
    attempts       INTEGER NOT NULL DEFAULT 0,
    run_at         BIGINT NOT NULL,
    last_error     TEXT NOT NULL DEFAULT '',
    done_at        BIGINT
);

CREATE INDEX casework_jobs_due ON casework_jobs (state, run_at);

CREATE INDEX casework_jobs_application ON casework_jobs (application_id);
