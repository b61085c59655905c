-- The village public notice (公示) of a statistics year's verification
-- results: each posting a township records (when it went up and came down,
-- whom to call), kept; the newest is the notice's.
CREATE TABLE public_notices (
    id            BLOB PRIMARY KEY,
    village_code  TEXT NOT NULL REFERENCES areas (code),
    stat_year     INTEGER NOT NULL,
    posted_from   TEXT NOT NULL,
    posted_until  TEXT NOT NULL,
    contact_phone TEXT NOT NULL,
    created_by    BLOB NOT NULL REFERENCES users (id),
    created_at    TEXT NOT NULL,
    CHECK (posted_until >= posted_from)
);
CREATE INDEX public_notices_village ON public_notices (village_code, stat_year, created_at);
