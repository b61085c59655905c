-- A supervisor's review of a visit. Rows are only ever added: the newest is
-- the visit's state, the older ones its history. A visit without a row is
-- "received" (awaiting review).
CREATE TABLE visit_reviews (
    id          UUID PRIMARY KEY,
    visit_id    UUID NOT NULL REFERENCES visits (id),
    state       TEXT NOT NULL CHECK (state IN ('received', 'has_issues', 'approved')),
    comment     TEXT NOT NULL,
    reviewer_id UUID NOT NULL REFERENCES users (id),
    at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX visit_reviews_visit ON visit_reviews (visit_id, at);
