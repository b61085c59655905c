-- Evidence per payment line: the photo of the record that backs one line
-- of a signed visit (a passbook page, a bank SMS, a pay slip), one per
-- line. `line_kind` says which list the line is in, `line_key` names it:
-- the entitlement id of an expected payment, or the kind of a declared
-- income figure. Part of the signed visit: never edited, chained with it.
CREATE TABLE line_evidence (
    visit_id   BLOB NOT NULL REFERENCES visits (id) ON DELETE CASCADE,
    line_kind  TEXT NOT NULL CHECK (line_kind IN ('payment', 'income')),
    line_key   TEXT NOT NULL,
    photo_jpeg BLOB NOT NULL,
    PRIMARY KEY (visit_id, line_kind, line_key)
);

-- A visit now has a photo mark for its photo and each evidence photo: the
-- same passbook page photographed for two households is a signal too.
CREATE TABLE visit_marks_by_mark (
    visit_id     BLOB NOT NULL REFERENCES visits (id),
    kind         TEXT NOT NULL CHECK (kind IN ('signature', 'photo')),
    mark         TEXT NOT NULL,
    household_id BLOB NOT NULL,
    PRIMARY KEY (visit_id, kind, mark)
);
INSERT INTO visit_marks_by_mark (visit_id, kind, mark, household_id)
    SELECT visit_id, kind, mark, household_id FROM visit_marks;
DROP TABLE visit_marks;
ALTER TABLE visit_marks_by_mark RENAME TO visit_marks;
CREATE INDEX visit_marks_mark ON visit_marks (kind, mark);

-- A visit's declared income and measure moves are read by the visit's id
-- (reading a visit back, hashing it for the chain as it is written): without
-- these, each such read scans the whole table.
CREATE INDEX income_entries_visit ON income_entries (visit_id);
CREATE INDEX measure_events_visit ON measure_events (visit_id);
