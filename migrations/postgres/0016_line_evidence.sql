-- Evidence per payment line: the photo of the record that backs one line
-- of a signed visit (a passbook page, a bank SMS, a pay slip), one per
-- line. `line_kind` says which list the line is in, `line_key` names it:
-- the entitlement id of an expected payment, or the kind of a declared
-- income figure. Part of the signed visit: never edited, chained with it.
CREATE TABLE line_evidence (
    visit_id   UUID NOT NULL REFERENCES visits (id) ON DELETE CASCADE,
    line_kind  TEXT NOT NULL CHECK (line_kind IN ('payment', 'income')),
    line_key   TEXT NOT NULL,
    photo_jpeg BYTEA NOT NULL,
    PRIMARY KEY (visit_id, line_kind, line_key)
);

-- A visit now has a photo mark for its photo and each evidence photo: the
-- same passbook page photographed for two households is a signal too.
ALTER TABLE visit_marks DROP CONSTRAINT visit_marks_pkey;
ALTER TABLE visit_marks ADD PRIMARY KEY (visit_id, kind, mark);

-- A visit's declared income and measure moves are read by the visit's id
-- (reading a visit back, hashing it for the chain as it is written): without
-- these, each such read scans the whole table.
CREATE INDEX income_entries_visit ON income_entries (visit_id);
CREATE INDEX measure_events_visit ON measure_events (visit_id);
