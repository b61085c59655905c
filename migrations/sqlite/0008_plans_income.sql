-- 一户一策 and the income account of each statistics year.
--
-- plans: one per household; the UNIQUE on household_id is the rule.
-- measures: what the plan will do; a visit (or the plan's page) moves their
-- status, and measure_events keeps every move with who and which visit.
-- income_entries: income the household declares during a signed visit that
-- is not a subsidy payment (wages, business income and costs, property
-- income); for each kind the latest visit's figure is the year's figure.
-- household_income: the computed account and risk flags per household and
-- year; rollup_income adds it up per village for the area tables.

ALTER TABLE households ADD COLUMN identified_on TEXT;
-- A monitored household's identification date: until a roster says, the
-- day it entered Daohu.
UPDATE households SET identified_on = substr(created_at, 1, 10) WHERE category = 'monitored';

-- The household size the worker confirmed for the year, when a visit did.
ALTER TABLE visits ADD COLUMN household_size INTEGER CHECK (household_size BETWEEN 1 AND 99);

CREATE TABLE plans (
    id                BLOB PRIMARY KEY,
    household_id      BLOB NOT NULL REFERENCES households (id) ON DELETE CASCADE,
    responsible_name  TEXT NOT NULL,
    responsible_phone TEXT NOT NULL,
    labour_situation  TEXT NOT NULL,
    health_situation  TEXT NOT NULL,
    created_by        BLOB NOT NULL REFERENCES users (id),
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    CONSTRAINT plans_one_per_household UNIQUE (household_id)
);

CREATE TABLE measures (
    id                  BLOB PRIMARY KEY,
    plan_id             BLOB NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    household_id        BLOB NOT NULL REFERENCES households (id) ON DELETE CASCADE,
    category            TEXT NOT NULL CHECK (category IN ('industry', 'employment', 'protection',
                            'asset_income', 'other')),
    action              TEXT NOT NULL,
    funding_source      TEXT NOT NULL,
    funding_fen         BIGINT NOT NULL CHECK (funding_fen >= 0),
    due_on              TEXT NOT NULL,
    expected_income_fen BIGINT NOT NULL CHECK (expected_income_fen >= 0),
    status              TEXT NOT NULL CHECK (status IN ('planned', 'in_progress', 'done', 'dropped')),
    done_on             TEXT,
    drop_reason         TEXT,
    note                TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    CHECK ((status = 'done') = (done_on IS NOT NULL)),
    CHECK ((status = 'dropped') = (drop_reason IS NOT NULL))
);
CREATE INDEX measures_household ON measures (household_id, due_on);

CREATE TABLE measure_events (
    id         BLOB PRIMARY KEY,
    measure_id BLOB NOT NULL REFERENCES measures (id) ON DELETE CASCADE,
    visit_id   BLOB REFERENCES visits (id) ON DELETE CASCADE,
    user_id    BLOB NOT NULL REFERENCES users (id),
    status      TEXT NOT NULL,
    done_on     TEXT,
    drop_reason TEXT,
    note        TEXT NOT NULL,
    at         TEXT NOT NULL
);
CREATE INDEX measure_events_measure ON measure_events (measure_id, at);

CREATE TABLE income_entries (
    id           BLOB PRIMARY KEY,
    visit_id     BLOB NOT NULL REFERENCES visits (id) ON DELETE CASCADE,
    household_id BLOB NOT NULL REFERENCES households (id) ON DELETE CASCADE,
    stat_year    INTEGER NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('wage_local', 'wage_migrant', 'wage_public_job',
                     'business_income', 'business_cost', 'property')),
    amount_fen   BIGINT NOT NULL CHECK (amount_fen >= 0),
    evidence     BOOLEAN NOT NULL,
    note         TEXT NOT NULL,
    UNIQUE (visit_id, kind)
);
CREATE INDEX income_entries_household ON income_entries (household_id, stat_year);

CREATE TABLE income_thresholds (
    stat_year     INTEGER PRIMARY KEY,
    threshold_fen BIGINT NOT NULL CHECK (threshold_fen > 0),
    updated_by    BLOB REFERENCES users (id),
    updated_at    TEXT NOT NULL
);
-- Gansu's published monitoring thresholds; the province admin edits them.
INSERT INTO income_thresholds (stat_year, threshold_fen, updated_at) VALUES
    (2023, 720000, strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    (2024, 780000, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));

CREATE TABLE household_income (
    household_id     BLOB NOT NULL REFERENCES households (id) ON DELETE CASCADE,
    stat_year        INTEGER NOT NULL,
    village_code     TEXT NOT NULL,
    wage_fen         BIGINT NOT NULL,
    business_fen     BIGINT NOT NULL,
    property_fen     BIGINT NOT NULL,
    transfer_fen     BIGINT NOT NULL,
    cost_fen         BIGINT NOT NULL,
    net_fen          BIGINT NOT NULL,
    backed_fen       BIGINT NOT NULL,
    size             INTEGER NOT NULL,
    per_capita_fen   BIGINT,
    flags            INTEGER NOT NULL,
    measures_due     INTEGER NOT NULL,
    measures_on_time INTEGER NOT NULL,
    as_of            TEXT NOT NULL,
    computed_at      TEXT NOT NULL,
    PRIMARY KEY (household_id, stat_year)
);
CREATE INDEX household_income_village ON household_income (village_code, stat_year, flags);

CREATE TABLE rollup_income (
    village_code     TEXT NOT NULL,
    stat_year        INTEGER NOT NULL,
    households       BIGINT NOT NULL,
    flagged          BIGINT NOT NULL,
    below_threshold  BIGINT NOT NULL,
    fell             BIGINT NOT NULL,
    unbacked_jump    BIGINT NOT NULL,
    overdue_measure  BIGINT NOT NULL,
    no_measure       BIGINT NOT NULL,
    measures_due     BIGINT NOT NULL,
    measures_on_time BIGINT NOT NULL,
    -- The oldest day any of the village's accounts was computed on.
    as_of            TEXT NOT NULL,
    PRIMARY KEY (village_code, stat_year)
);
