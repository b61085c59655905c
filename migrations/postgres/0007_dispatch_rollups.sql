-- Roll-ups for the dispatch table, so that a county or province table reads
-- a few thousand pre-added rows instead of every payment and visit line.
-- Both are rewritten for a village, in the same transaction, whenever its
-- households, payments due or visits change (see refresh_rollups in the
-- store), so they are never behind the rows they add up.

-- Payments due per village, item and statistics year.
CREATE TABLE rollup_due (
    village_code TEXT NOT NULL,
    item_code    TEXT NOT NULL,
    stat_year    INTEGER NOT NULL,
    due          BIGINT NOT NULL,
    due_fen      BIGINT NOT NULL,
    PRIMARY KEY (village_code, stat_year, item_code)
);

-- How "verified paid" changed on each China day: a payment's line adds
-- itself and takes back what the previous verification of the same payment
-- counted, so summing the days up to D gives the table as of D.
CREATE TABLE rollup_paid (
    village_code TEXT NOT NULL,
    item_code    TEXT NOT NULL,
    stat_year    INTEGER NOT NULL,
    day          DATE NOT NULL,
    paid         BIGINT NOT NULL,
    paid_fen     BIGINT NOT NULL,
    PRIMARY KEY (village_code, stat_year, item_code, day)
);

INSERT INTO rollup_due (village_code, item_code, stat_year, due, due_fen)
SELECT h.village_code, e.item_code, e.stat_year, COUNT(*), CAST(SUM(e.expected_fen) AS BIGINT)
FROM households h JOIN entitlements e ON e.household_id = h.id
GROUP BY h.village_code, e.item_code, e.stat_year;

INSERT INTO rollup_paid (village_code, item_code, stat_year, day, paid, paid_fen)
SELECT village_code, item_code, stat_year, day, CAST(SUM(d_paid) AS BIGINT), CAST(SUM(d_fen) AS BIGINT)
FROM (
    SELECT h.village_code, e.item_code, e.stat_year, CAST(v.started_at AT TIME ZONE 'Asia/Shanghai' AS DATE) AS day,
           x.paid - COALESCE(LAG(x.paid) OVER w, 0) AS d_paid,
           x.fen - COALESCE(LAG(x.fen) OVER w, 0) AS d_fen
    FROM (
        SELECT l.entitlement_id, l.visit_id,
               CASE WHEN l.status IN ('received_in_full', 'received_in_part') THEN 1 ELSE 0 END AS paid,
               CASE WHEN l.status IN ('received_in_full', 'received_in_part')
                    THEN COALESCE(l.received_fen, 0) ELSE 0 END AS fen
        FROM verification_lines l
    ) x
    JOIN visits v ON v.id = x.visit_id
    JOIN entitlements e ON e.id = x.entitlement_id
    JOIN households h ON h.id = e.household_id
    WINDOW w AS (PARTITION BY x.entitlement_id ORDER BY v.started_at, v.id)
) d
GROUP BY village_code, item_code, stat_year, day
HAVING SUM(d_paid) <> 0 OR SUM(d_fen) <> 0;
