-- Who was assigned which household, when and by whom. Rows are only ever
-- added, in the same transaction as the change to households.worker_id:
-- the trail of every reassignment (old → new worker) stays.
CREATE TABLE household_assignments (
    id            UUID PRIMARY KEY,
    household_id  UUID NOT NULL REFERENCES households (id) ON DELETE CASCADE,
    old_worker_id UUID REFERENCES users (id),
    new_worker_id UUID NOT NULL REFERENCES users (id),
    assigned_by   UUID NOT NULL REFERENCES users (id),
    at            TIMESTAMPTZ NOT NULL
);
CREATE INDEX household_assignments_household ON household_assignments (household_id, at);
