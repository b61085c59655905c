-- Signals of fabricated visits (可疑走访). Each delivered visit is queued
-- for its signals in the transaction that stores it (signal_work); a
-- worker on any instance computes them against the visit's village and
-- worker and the thresholds, keeps the visit's signature and photo marks
-- for later comparisons, and removes the work. A supervisor clears each
-- signal or sends it for review (which opens a discrepancy); every review
-- is kept.

CREATE TABLE signal_work (
    visit_id  BLOB PRIMARY KEY REFERENCES visits (id),
    queued_at TEXT NOT NULL
);
INSERT INTO signal_work (visit_id, queued_at) SELECT id, received_at FROM visits;

CREATE TABLE visit_signals (
    visit_id     BLOB NOT NULL REFERENCES visits (id),
    kind         TEXT NOT NULL,
    -- The reason in words, with the figures that tripped it.
    detail       TEXT NOT NULL,
    village_code TEXT NOT NULL,
    household_id BLOB NOT NULL,
    worker_id    BLOB NOT NULL,
    visit_at     TEXT NOT NULL,
    found_at     TEXT NOT NULL,
    state        TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'cleared', 'needs_review')),
    PRIMARY KEY (visit_id, kind)
);
CREATE INDEX visit_signals_area ON visit_signals (village_code, state, visit_at);

CREATE TABLE visit_signal_reviews (
    id             BLOB PRIMARY KEY,
    visit_id       BLOB NOT NULL,
    kind           TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('cleared', 'needs_review')),
    comment        TEXT NOT NULL,
    reviewer_id    BLOB NOT NULL REFERENCES users (id),
    discrepancy_id BLOB REFERENCES discrepancies (id),
    at             TEXT NOT NULL,
    FOREIGN KEY (visit_id, kind) REFERENCES visit_signals (visit_id, kind)
);
CREATE INDEX visit_signal_reviews_signal ON visit_signal_reviews (visit_id, kind, at);

-- A visit's signature shape and photo content, to find the same one on
-- another household.
CREATE TABLE visit_marks (
    visit_id     BLOB NOT NULL REFERENCES visits (id),
    kind         TEXT NOT NULL CHECK (kind IN ('signature', 'photo')),
    mark         TEXT NOT NULL,
    household_id BLOB NOT NULL,
    PRIMARY KEY (visit_id, kind)
);
CREATE INDEX visit_marks_mark ON visit_marks (kind, mark);

-- The thresholds, edited by the province admin.
CREATE TABLE signal_thresholds (
    name       TEXT PRIMARY KEY,
    value      BIGINT NOT NULL,
    updated_by BLOB REFERENCES users (id),
    updated_at TEXT NOT NULL
);

-- A worker's visits around a time (visits in an hour).
CREATE INDEX visits_worker_started ON visits (worker_id, started_at);
