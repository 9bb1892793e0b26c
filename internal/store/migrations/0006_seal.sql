-- The data keys that seal stored documents (package seal), each wrapped
-- under the key-encryption key kek_id. The KEK is a key file, never here:
-- without it these rows open nothing.
CREATE TABLE data_keys (
    id         TEXT PRIMARY KEY,
    kek_id     TEXT NOT NULL,
    wrapped    BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);

-- data_key_id names the data key that sealed pdf and data_json; '' marks a
-- document stored in clear by an earlier minwon, which DB.Protect seals at
-- start. purged_at is when retention deleted the document: the row keeps
-- its number, hash and key id, and the log keeps its entry.
ALTER TABLE issuances ADD COLUMN data_key_id TEXT NOT NULL DEFAULT '';

ALTER TABLE issuances ADD COLUMN purged_at BIGINT;
