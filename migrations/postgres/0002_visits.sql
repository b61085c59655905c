-- Visits made on the phone and delivered by sync, exactly once: the id is
-- the phone's UUIDv7, payload_hash tells a harmless replay (same content)
-- from a conflict (same id, other content), which goes to visit_conflicts
-- and never overwrites what was stored.

CREATE TABLE visits (
    id                UUID PRIMARY KEY,
    household_id      UUID NOT NULL REFERENCES households (id),
    worker_id         UUID NOT NULL REFERENCES users (id),
    stat_year         INTEGER NOT NULL,
    started_at        TIMESTAMPTZ NOT NULL,
    ended_at          TIMESTAMPTZ NOT NULL,
    met_with          TEXT NOT NULL,
    notes             TEXT NOT NULL,
    location_kind     TEXT NOT NULL CHECK (location_kind IN ('fix', 'refused', 'unavailable')),
    lat_e6            BIGINT,
    lon_e6            BIGINT,
    accuracy_m        INTEGER,
    signer_name       TEXT NOT NULL,
    signer_relation   TEXT NOT NULL,
    thumbprint        BOOLEAN NOT NULL,
    proxy_reason      TEXT,
    signature_strokes TEXT NOT NULL,
    signature_png     BYTEA NOT NULL,
    content_hash      TEXT NOT NULL,
    photo_jpeg        BYTEA,
    payload_hash      TEXT NOT NULL,
    received_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX visits_household ON visits (household_id, started_at);
CREATE INDEX visits_worker ON visits (worker_id, received_at);

CREATE TABLE verification_lines (
    visit_id       UUID NOT NULL REFERENCES visits (id) ON DELETE CASCADE,
    entitlement_id UUID NOT NULL REFERENCES entitlements (id),
    status         TEXT NOT NULL CHECK (status IN ('received_in_full', 'received_in_part',
                       'not_received', 'not_due_yet')),
    received_fen   BIGINT CHECK (received_fen >= 0),
    received_on    DATE,
    channel        TEXT,
    reason         TEXT,
    reason_text    TEXT NOT NULL,
    PRIMARY KEY (visit_id, entitlement_id)
);
CREATE INDEX verification_lines_entitlement ON verification_lines (entitlement_id);

CREATE TABLE visit_conflicts (
    id           UUID PRIMARY KEY,
    visit_id     UUID NOT NULL,
    worker_id    UUID NOT NULL REFERENCES users (id),
    payload      TEXT NOT NULL,
    payload_hash TEXT NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (visit_id, payload_hash)
);
