-- Objections to a village notice that reached the township by other ways
-- than the receipt check (in person, by phone), entered by the township
-- and listed with the notice beside those made at /r.
CREATE TABLE notice_objections (
    id           BLOB PRIMARY KEY,
    village_code TEXT NOT NULL REFERENCES areas (code),
    stat_year    INTEGER NOT NULL,
    household_id BLOB NOT NULL REFERENCES households (id),
    reason       TEXT NOT NULL CHECK (reason IN ('not_signed', 'amount_wrong', 'other')),
    details      TEXT NOT NULL,
    -- For a call back, if the household left one.
    phone        TEXT,
    received_on  TEXT NOT NULL,
    entered_by   BLOB NOT NULL REFERENCES users (id),
    entered_at   TEXT NOT NULL
);
CREATE INDEX notice_objections_village ON notice_objections (village_code, received_on);
