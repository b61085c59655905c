-- 足额 vs 部分 (issue 15): the dispatch table separates payments verified
-- received in full from those received only in part. `rollup_paid` keeps
-- counting both as `paid` / `paid_fen` and now also those in full, by
-- the same rule (each verification line counts itself minus what the
-- previous verification of the same payment counted, on its own day).
ALTER TABLE rollup_paid ADD COLUMN full_paid BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollup_paid ADD COLUMN full_fen BIGINT NOT NULL DEFAULT 0;

-- A derived table: rewritten from the lines, amounts held within
-- 0 ..= Fen::MAX as the store counts them.
DELETE FROM rollup_paid;
INSERT INTO rollup_paid (village_code, item_code, stat_year, day, paid, paid_fen, full_paid, full_fen)
SELECT village_code, item_code, stat_year, day,
       CAST(SUM(d_paid) AS BIGINT), CAST(SUM(d_fen) AS BIGINT),
       CAST(SUM(d_full) AS BIGINT), CAST(SUM(d_full_fen) AS BIGINT)
FROM (
    SELECT h.village_code, e.item_code, e.stat_year, CAST(v.started_at AT TIME ZONE 'Asia/Shanghai' AS DATE) AS day,
           x.paid - COALESCE(LAG(x.paid) OVER w, 0) AS d_paid,
           x.fen - COALESCE(LAG(x.fen) OVER w, 0) AS d_fen,
           x.full_paid - COALESCE(LAG(x.full_paid) OVER w, 0) AS d_full,
           x.full_fen - COALESCE(LAG(x.full_fen) OVER w, 0) AS d_full_fen
    FROM (
        SELECT l.entitlement_id, l.visit_id,
               CASE WHEN l.status IN ('received_in_full', 'received_in_part') THEN 1 ELSE 0 END AS paid,
               CASE WHEN l.status IN ('received_in_full', 'received_in_part') THEN l.fen ELSE 0 END AS fen,
               CASE WHEN l.status = 'received_in_full' THEN 1 ELSE 0 END AS full_paid,
               CASE WHEN l.status = 'received_in_full' THEN l.fen ELSE 0 END AS full_fen
        FROM (
            SELECT entitlement_id, visit_id, status,
                   CASE WHEN COALESCE(received_fen, 0) > 10000000000 THEN 10000000000
                        WHEN COALESCE(received_fen, 0) < 0 THEN 0
                        ELSE COALESCE(received_fen, 0) END AS fen
            FROM verification_lines
        ) l
    ) x
    JOIN visits v ON v.id = x.visit_id
    JOIN entitlements e ON e.id = x.entitlement_id
    JOIN households h ON h.id = e.household_id
    WINDOW w AS (PARTITION BY x.entitlement_id ORDER BY v.started_at, v.id)
) d
GROUP BY village_code, item_code, stat_year, day
HAVING SUM(d_paid) <> 0 OR SUM(d_fen) <> 0 OR SUM(d_full) <> 0 OR SUM(d_full_fen) <> 0;
