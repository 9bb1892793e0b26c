-- The request an audit record was written in (package reqid): the same id
-- is in the response header, the log lines and the calls to the agencies.
-- audit.ChainHash covers it when set; records written before it existed
-- have '' and keep their hashes.
ALTER TABLE audit_events ADD COLUMN request_id TEXT NOT NULL DEFAULT '';
