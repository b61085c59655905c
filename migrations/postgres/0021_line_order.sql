-- A payment's verifications in the order the roll-ups count them (issue
-- 12/14: ingest must not slow down as a household's history grows).
-- Each line carries its visit's start, so that the verification before
-- and after a new one are two index seeks rather than a read of every
-- earlier line joined with its visit. Visits are never edited, so the
-- copy cannot drift.
ALTER TABLE verification_lines ADD COLUMN started_at TIMESTAMPTZ;
UPDATE verification_lines l SET started_at = v.started_at FROM visits v WHERE v.id = l.visit_id;
ALTER TABLE verification_lines ALTER COLUMN started_at SET NOT NULL;
DROP INDEX verification_lines_entitlement;
CREATE INDEX verification_lines_payment ON verification_lines (entitlement_id, started_at, visit_id);
