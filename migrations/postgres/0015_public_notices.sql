-- The village public notice (公示) of a statistics year's verification
-- results: each posting a township records (when it went up and came down,
-- whom to call), kept; the newest is the notice's.
CREATE TABLE public_notices (
    id            UUID PRIMARY KEY,
    village_code  TEXT NOT NULL REFERENCES areas (code),
    stat_year     INTEGER NOT NULL,
    posted_from   DATE NOT NULL,
    posted_until  DATE NOT NULL,
    contact_phone TEXT NOT NULL,
    created_by    UUID NOT NULL REFERENCES users (id),
    created_at    TIMESTAMPTZ NOT NULL,
    CHECK (posted_until >= posted_from)
);
CREATE INDEX public_notices_village ON public_notices (village_code, stat_year, created_at);
