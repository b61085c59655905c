-- Roster imports, in the database so that every server instance behind a
-- balancer answers for every import, and so that imports whose areas
-- overlap run one at a time across instances (src/roster/jobs.rs).
--
-- A job is queued (`started_at` NULL), running (`started_at` set: it holds
-- its area until it finishes) or finished (`finished_at` set, `phase` one
-- of done / refused / failed). The instance running or holding it renews
-- `heartbeat_at` every few seconds; a job whose heartbeat stopped is ended
-- by whoever finds it (its instance died): failed, since the import is one
-- transaction and wrote nothing, or done if that transaction had already
-- committed (it records `report_*` with the rows). Finished jobs are
-- deleted after a few hours.
CREATE TABLE import_jobs (
    id            BLOB PRIMARY KEY,
    owner_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('households', 'entitlements')),
    file_name     TEXT NOT NULL,
    area_name     TEXT NOT NULL,
    -- The significant digits of the importer's area ('621102' for a
    -- county): two jobs whose scopes are prefixes of one another overlap.
    scope         TEXT NOT NULL,
    -- Which instance runs it (host and process), for the operator.
    runner        TEXT NOT NULL,
    phase         TEXT NOT NULL CHECK (phase IN ('queued', 'reading', 'checking', 'writing',
                      'done', 'refused', 'failed')),
    done_rows     INTEGER NOT NULL DEFAULT 0,
    total_rows    INTEGER NOT NULL DEFAULT 0,
    -- done: what was written.
    report_rows      INTEGER,
    report_added     INTEGER,
    report_changed   INTEGER,
    report_unchanged INTEGER,
    -- refused: the problems a page shows (JSON), and how many were found.
    problems      TEXT,
    problem_total INTEGER,
    -- failed: the sentence for the page.
    failure       TEXT,
    created_at    TEXT NOT NULL,
    started_at    TEXT,
    heartbeat_at  TEXT NOT NULL,
    finished_at   TEXT,
    CHECK ((finished_at IS NULL) = (phase IN ('queued', 'reading', 'checking', 'writing')))
);
CREATE INDEX import_jobs_unfinished ON import_jobs (scope, created_at) WHERE finished_at IS NULL;
CREATE INDEX import_jobs_finished ON import_jobs (finished_at);
