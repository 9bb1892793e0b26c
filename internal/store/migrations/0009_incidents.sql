-- Incidents (package incident): a record per incident, its timeline, the
-- documents it affects and the recalls that revoke them. Nothing here holds
-- personal data: subjects are opaque ids, requesters logins or official ids.
CREATE TABLE incidents (
    id                    TEXT PRIMARY KEY,
    grade                 INTEGER NOT NULL CHECK (grade BETWEEN 1 AND 4),
    kind                  TEXT NOT NULL,
    title                 TEXT NOT NULL,
    opened_at             BIGINT NOT NULL,
    opened_by             TEXT NOT NULL,
    regulator_due         BIGINT NOT NULL,
    regulator_reported_at BIGINT
);

CREATE INDEX incidents_opened ON incidents (opened_at);

CREATE TABLE incident_timeline (
    id          TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    entry       TEXT NOT NULL
);

CREATE INDEX incident_timeline_incident ON incident_timeline (incident_id, at);

-- A recall's documents are its incident's, with the recall's progress:
-- state is '' for a document not being recalled, else pending, revoked,
-- already_revoked (by another path first) or missing (never logged). A
-- document turns revoked in the transaction that logs its revocation.
CREATE TABLE incident_documents (
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    number      TEXT NOT NULL,
    recall_id   TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (incident_id, number)
);

CREATE INDEX incident_documents_recall ON incident_documents (recall_id, number);
CREATE INDEX incident_documents_pending ON incident_documents (recall_id, state, number);

-- A recall is created pending by one operator and runs once another
-- approves it; filter is the selection as asked (JSON), reason the public
-- text every revocation carries.
CREATE TABLE recalls (
    id          TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    filter      TEXT NOT NULL,
    reason      TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'done')),
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    approved_by TEXT NOT NULL DEFAULT '',
    approved_at BIGINT,
    finished_at BIGINT,
    total       BIGINT NOT NULL
);

-- Subjects whose notice was queued, so a resumed recall queues none twice.
CREATE TABLE incident_notices (
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    subject     TEXT NOT NULL,
    queued_at   BIGINT NOT NULL,
    PRIMARY KEY (incident_id, subject)
);

-- Affected subjects are listed with their keyed-hash index entry.
CREATE INDEX subject_index_subject ON subject_index (subject);
