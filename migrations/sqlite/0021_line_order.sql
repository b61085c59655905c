-- A payment's verifications in the order the roll-ups count them (issue
-- 12/14: ingest must not slow down as a household's history grows).
-- Each line carries its visit's start, so that the verification before
-- and after a new one are two index seeks rather than a read of every
-- earlier line joined with its visit. Visits are never edited, so the
-- copy cannot drift.
ALTER TABLE verification_lines ADD COLUMN started_at TEXT;
UPDATE verification_lines
SET started_at = (SELECT v.started_at FROM visits v WHERE v.id = verification_lines.visit_id);
DROP INDEX verification_lines_entitlement;
CREATE INDEX verification_lines_payment ON verification_lines (entitlement_id, started_at, visit_id);
