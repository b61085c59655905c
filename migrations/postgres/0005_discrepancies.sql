-- The discrepancy queue: one item for every verification line where what
-- arrived differs from what was due (not received, received in part,
-- received after the expected date; in that order when several apply), and
-- one for every conflicting copy of a visit. Items are opened in the
-- transaction that stores the visit or the conflict; the unique keys make
-- that happen exactly once. The item row holds the current state; the
-- events are its history and are only ever added, in the same transaction
-- that updates the row.

CREATE TABLE discrepancies (
    id             UUID PRIMARY KEY,
    kind           TEXT NOT NULL CHECK (kind IN ('not_received', 'received_in_part',
                       'received_late', 'visit_conflict')),
    household_id   UUID NOT NULL REFERENCES households (id),
    -- The household's village, copied so that an area's queue is one range
    -- scan of the index below.
    village_code   TEXT NOT NULL REFERENCES areas (code),
    visit_id       UUID NOT NULL REFERENCES visits (id),
    entitlement_id UUID,
    conflict_id    UUID REFERENCES visit_conflicts (id),
    -- What was due and what arrived when the household was asked, in fen
    -- (a conflict has neither).
    expected_fen   BIGINT,
    received_fen   BIGINT,
    -- When the household reported it (the visit), or the conflict arrived:
    -- the item's age counts from here.
    reported_at    TIMESTAMPTZ NOT NULL,
    state          TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
    assignee_id    UUID REFERENCES users (id),
    resolution     TEXT CHECK (resolution IN ('paid_later', 'list_error', 'not_entitled', 'escalated')),
    closed_at      TIMESTAMPTZ,
    UNIQUE (visit_id, entitlement_id),
    UNIQUE (conflict_id),
    FOREIGN KEY (visit_id, entitlement_id) REFERENCES verification_lines (visit_id, entitlement_id),
    CHECK ((kind = 'visit_conflict') = (conflict_id IS NOT NULL)),
    CHECK ((kind = 'visit_conflict') = (entitlement_id IS NULL)),
    CHECK ((state = 'closed') = (resolution IS NOT NULL)),
    CHECK ((state = 'closed') = (closed_at IS NOT NULL))
);
CREATE INDEX discrepancies_area ON discrepancies (village_code, state, reported_at);
CREATE INDEX discrepancies_assignee ON discrepancies (assignee_id, state);

CREATE TABLE discrepancy_events (
    id             UUID PRIMARY KEY,
    discrepancy_id UUID NOT NULL REFERENCES discrepancies (id),
    action         TEXT NOT NULL CHECK (action IN ('assign', 'note', 'close', 'reopen')),
    actor_id       UUID NOT NULL REFERENCES users (id),
    assignee_id    UUID REFERENCES users (id),
    resolution     TEXT CHECK (resolution IN ('paid_later', 'list_error', 'not_entitled', 'escalated')),
    note           TEXT NOT NULL,
    at             TIMESTAMPTZ NOT NULL,
    CHECK ((action = 'assign') = (assignee_id IS NOT NULL)),
    CHECK ((action = 'close') = (resolution IS NOT NULL))
);
CREATE INDEX discrepancy_events_item ON discrepancy_events (discrepancy_id, at);

-- Items for what was stored before this migration, by the same rule.
INSERT INTO discrepancies (id, kind, household_id, village_code, visit_id, entitlement_id,
                           expected_fen, received_fen, reported_at)
SELECT gen_random_uuid(),
       CASE l.status WHEN 'not_received' THEN 'not_received'
                     WHEN 'received_in_part' THEN 'received_in_part'
                     ELSE 'received_late' END,
       v.household_id, h.village_code, v.id, l.entitlement_id,
       e.expected_fen, COALESCE(l.received_fen, 0), v.started_at
FROM verification_lines l
JOIN visits v ON v.id = l.visit_id
JOIN households h ON h.id = v.household_id
JOIN entitlements e ON e.id = l.entitlement_id
WHERE l.status IN ('not_received', 'received_in_part')
   OR (l.status = 'received_in_full' AND l.received_on > e.expected_date);

INSERT INTO discrepancies (id, kind, household_id, village_code, visit_id, conflict_id, reported_at)
SELECT gen_random_uuid(), 'visit_conflict', v.household_id, h.village_code, v.id, c.id, c.received_at
FROM visit_conflicts c
JOIN visits v ON v.id = c.visit_id
JOIN households h ON h.id = v.household_id;
