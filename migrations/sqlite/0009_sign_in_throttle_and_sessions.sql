-- Failed sign-ins, counted in the database so that every server instance
-- behind a balancer sees the same counts. One row per key: an (account,
-- address) pair, an address, or an account (see src/auth/throttle.rs).
-- The account part is the name as typed (lower-cased), so made-up names
-- are counted like real ones.
CREATE TABLE sign_in_failures (
    key             TEXT PRIMARY KEY,
    failures        INTEGER NOT NULL,
    last_failure_at TEXT NOT NULL
);
CREATE INDEX sign_in_failures_last ON sign_in_failures (last_failure_at);

-- Where an account has signed in successfully before: a client address
-- (`addr:…`) or a device cookie (`device:` + its SHA-256). A right password
-- from a known source is never refused by the throttle.
CREATE TABLE known_sign_ins (
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    source  TEXT NOT NULL,
    last_at TEXT NOT NULL,
    PRIMARY KEY (user_id, source)
);
CREATE INDEX known_sign_ins_last ON known_sign_ins (last_at);

-- Sessions also end after a stretch of idleness; `last_seen_at` is
-- refreshed at most once an hour, `address` with it (for the list of one's
-- own sessions). Existing sessions count as seen when they were made.
ALTER TABLE sessions ADD COLUMN last_seen_at TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN address TEXT;
UPDATE sessions SET last_seen_at = created_at;
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);
CREATE INDEX sessions_expires ON sessions (expires_at);
