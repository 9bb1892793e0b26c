-- Form governance: every version of every service template and schema,
-- never changed once stored (only its state moves), who approved it, and
-- every step of its life. Bodies are templates, never personal data.
CREATE TABLE form_versions (
    service           TEXT NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('template', 'schema')),
    version           INTEGER NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('submitted', 'canary', 'active', 'retired', 'rejected', 'rolled_back')),
    digest            TEXT NOT NULL,
    body              TEXT NOT NULL,
    author            TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    checks            TEXT NOT NULL DEFAULT '',
    canary_started_at BIGINT NOT NULL DEFAULT 0,
    canary_issued     INTEGER NOT NULL DEFAULT 0,
    canary_refused    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (service, kind, version)
);

-- At most one active version and one canary per service and kind.
CREATE UNIQUE INDEX form_versions_one_active ON form_versions (service, kind) WHERE state = 'active';
CREATE UNIQUE INDEX form_versions_one_canary ON form_versions (service, kind) WHERE state = 'canary';

CREATE TABLE form_approvals (
    service  TEXT NOT NULL,
    kind     TEXT NOT NULL,
    version  INTEGER NOT NULL,
    approver TEXT NOT NULL,
    role     TEXT NOT NULL,
    at       BIGINT NOT NULL,
    PRIMARY KEY (service, kind, version, approver)
);

CREATE TABLE form_events (
    seq     INTEGER NOT NULL,
    service TEXT NOT NULL,
    kind    TEXT NOT NULL,
    version INTEGER NOT NULL,
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    note    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (service, seq)
);

-- The documents of one template version, for a canary's rollback.
CREATE INDEX issuances_template ON issuances (service, template_version);
