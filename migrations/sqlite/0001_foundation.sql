-- Foundation: areas, users, sessions, the subsidy catalogue, households,
-- members, entitlements and the audit trail. Ids are UUIDs (16-byte blobs
-- here, native uuid in PostgreSQL); money is integer fen; times are UTC.

CREATE TABLE areas (
    code        TEXT PRIMARY KEY CHECK (length(code) = 12),
    name        TEXT NOT NULL,
    level       INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),
    parent_code TEXT REFERENCES areas (code)
);
CREATE INDEX areas_parent ON areas (parent_code);

CREATE TABLE users (
    id            BLOB PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('field_worker', 'township_supervisor',
                      'county_admin', 'city_admin', 'province_admin')),
    area_code     TEXT NOT NULL REFERENCES areas (code),
    password_hash TEXT NOT NULL,
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    TEXT NOT NULL
);

-- Only the SHA-256 of the cookie token is kept.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE subsidy_items (
    code             TEXT PRIMARY KEY,
    name             TEXT NOT NULL UNIQUE,
    bucket           TEXT NOT NULL CHECK (bucket IN ('wage', 'business', 'property',
                         'transfer', 'business_cost', 'none')),
    counts_as_income BOOLEAN NOT NULL,
    default_channel  TEXT NOT NULL
);

CREATE TABLE households (
    id              BLOB PRIMARY KEY,
    number          TEXT NOT NULL UNIQUE,
    head_name       TEXT NOT NULL,
    category        TEXT NOT NULL CHECK (category IN ('alleviated', 'monitored')),
    monitoring_kind TEXT CHECK (monitoring_kind IN ('unstable_alleviated', 'marginal', 'sudden_hardship')),
    relocated       BOOLEAN NOT NULL DEFAULT FALSE,
    village_code    TEXT NOT NULL REFERENCES areas (code),
    worker_id       BLOB REFERENCES users (id),
    phone           TEXT,
    created_at      TEXT NOT NULL,
    CHECK ((category = 'monitored') = (monitoring_kind IS NOT NULL))
);
CREATE INDEX households_village ON households (village_code, number);
CREATE INDEX households_worker ON households (worker_id, village_code);

CREATE TABLE members (
    id           BLOB PRIMARY KEY,
    household_id BLOB NOT NULL REFERENCES households (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    name         TEXT NOT NULL,
    relation     TEXT NOT NULL,
    id_number    TEXT NOT NULL UNIQUE,
    labour       TEXT NOT NULL,
    health       TEXT NOT NULL,
    UNIQUE (household_id, position)
);

CREATE TABLE entitlements (
    id            BLOB PRIMARY KEY,
    household_id  BLOB NOT NULL REFERENCES households (id) ON DELETE CASCADE,
    item_code     TEXT NOT NULL REFERENCES subsidy_items (code),
    stat_year     INTEGER NOT NULL,
    expected_fen  BIGINT NOT NULL CHECK (expected_fen >= 0),
    expected_date TEXT NOT NULL,
    department    TEXT NOT NULL,
    channel       TEXT NOT NULL,
    UNIQUE (household_id, item_code, stat_year)
);

CREATE TABLE audit_events (
    id      BLOB PRIMARY KEY,
    at      TEXT NOT NULL,
    user_id BLOB,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    outcome TEXT NOT NULL,
    address TEXT
);
CREATE INDEX audit_events_action ON audit_events (action, at);
