-- Work that a write causes (a household's income account and signals, and
-- with them its village's income roll-up), recorded in the write's own
-- transaction so that a crash right after the commit leaves the work
-- pending, never lost. Workers on any instance claim rows, do the work and
-- delete the rows they did, in the transaction that stores the result.
--
-- One row per piece of work: a second write before the work is done bumps
-- `version` instead of adding a row (work for one household coalesces),
-- and a worker deletes only the version it read, so a write that lands
-- while the work is being done leaves its row for another round.
CREATE TABLE derived_work (
    kind          TEXT NOT NULL CHECK (kind IN ('income')),
    household_id  BLOB NOT NULL,
    stat_year     INTEGER NOT NULL,
    version       BIGINT NOT NULL,
    -- When the oldest write still waiting for this work was made: the lag.
    queued_at     TEXT NOT NULL,
    -- A worker's claim; a claim that has run out (its instance died) is
    -- taken by the next worker.
    claimed_until TEXT,
    attempts      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, household_id, stat_year)
);
CREATE INDEX derived_work_queued ON derived_work (queued_at);

-- Periodic work (the daily refresh of date-dependent signals) runs once per
-- interval across all instances: the instance that moves `next_run_at`
-- forward from a due value runs it.
CREATE TABLE schedules (
    name        TEXT PRIMARY KEY,
    next_run_at TEXT NOT NULL,
    runs        BIGINT NOT NULL DEFAULT 0,
    last_run_at TEXT,
    last_runner TEXT
);
