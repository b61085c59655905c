// The store's SQL for payout files and the three-way match (migration
// 0020); included by `sqlite.rs` and `postgres.rs` inside a module of their
// own (see `portable.rs` for the rules of portable SQL).

use crate::reconciliation::Outcome;
use crate::server::db::{
    OutcomeFigure, PayoutRecord, PayoutScopeRow, PayoutWrite, ReconciledQuery, ReconciledRow,
    ReconciliationStore,
};

type Conn = <Db as sqlx::Database>::Connection;

/// Which keys a rewrite of the match covers.
pub(crate) enum Keys<'a> {
    /// Every key of these items and year inside an area's village range.
    Scope {
        lo: &'a str,
        hi: &'a str,
        stat_year: i32,
        items: &'a [String],
    },
    /// Every key of these households (a visit, a roster import).
    Households(&'a [Uuid]),
}

/// One key's three sides as read for the match.
struct Sides {
    household_id: Uuid,
    item_code: String,
    stat_year: i32,
    village_code: String,
    entitlement_id: Option<Uuid>,
    due_fen: Option<i64>,
    expected_date: Option<NaiveDate>,
    payout_id: Option<Uuid>,
    paid_fen: Option<i64>,
    received_fen: Option<i64>,
    /// Paid by the day of the visit that gave `received_fen`.
    paid_by_then: Option<i64>,
    visit_id: Option<Uuid>,
}

impl Sides {
    fn outcome(&self) -> Outcome {
        let asked = self
            .received_fen
            .map(|received| crate::reconciliation::Asked {
                received,
                paid_by_then: self.paid_by_then.unwrap_or(0),
            });
        Outcome::of(self.due_fen, self.paid_fen, asked)
    }
}

/// Whether any payout file was imported at all (the common case for a
/// visit before any is: one indexed look).
async fn any_scope(conn: &mut Conn) -> DbResult<bool> {
    Ok(db(sqlx::query("SELECT 1 AS one FROM payout_scopes LIMIT 1")
        .fetch_optional(&mut *conn)
        .await)?
    .is_some())
}

/// Whether any payout file covers a village of these households.
async fn in_any_scope(conn: &mut Conn, households: &[Uuid]) -> DbResult<bool> {
    for chunk in households.chunks(CHUNK) {
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "SELECT 1 AS one FROM households h JOIN payout_scopes s \
             ON h.village_code BETWEEN s.lo AND s.hi WHERE h.id IN (",
        );
        push_in_list(&mut q, chunk.iter().copied());
        q.push(" LIMIT 1");
        if db(q.build().fetch_optional(&mut *conn).await)?.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Rewrites the match of these households' keys inside the caller's
/// transaction, opening the items of new mismatches. Cheap for households
/// no payout file covers; a household that moved out of every scope
/// leaves its old rows behind with none.
pub(crate) async fn reconcile_households_in(
    conn: &mut Conn,
    households: &[Uuid],
    now: DateTime<Utc>,
) -> DbResult<()> {
    if households.is_empty() || !any_scope(conn).await? {
        return Ok(());
    }
    let covered = in_any_scope(conn, households).await?;
    for chunk in households.chunks(CHUNK) {
        if covered {
            reconcile_in(conn, &Keys::Households(chunk), now).await?;
        } else {
            let mut q =
                sqlx::QueryBuilder::<Db>::new("DELETE FROM reconciliation WHERE household_id IN (");
            push_in_list(&mut q, chunk.iter().copied());
            db(q.build().execute(&mut *conn).await)?;
        }
    }
    Ok(())
}

fn push_keys_filter(q: &mut sqlx::QueryBuilder<'_, Db>, keys: &Keys<'_>, alias: &str) {
    match keys {
        Keys::Scope {
            lo,
            hi,
            stat_year,
            items,
        } => {
            q.push(" h.village_code BETWEEN ");
            q.push_bind(lo.to_string());
            q.push(" AND ");
            q.push_bind(hi.to_string());
            q.push(format!(" AND {alias}.stat_year = "));
            q.push_bind(*stat_year);
            q.push(format!(" AND {alias}.item_code IN ("));
            push_in_list(q, items.iter().cloned());
        }
        Keys::Households(ids) => {
            q.push(format!(" {alias}.household_id IN ("));
            push_in_list(q, ids.iter().copied());
        }
    }
}

/// Reads the three sides of every key of `keys` inside a payout scope.
async fn sides(conn: &mut Conn, keys: &Keys<'_>) -> DbResult<Vec<Sides>> {
    // Payments due, with the payout in force and the latest verification.
    let mut q = sqlx::QueryBuilder::<Db>::new(format!(
        "SELECT e.household_id, e.item_code, e.stat_year, h.village_code, \
                e.id AS entitlement_id, e.expected_fen, e.expected_date, \
                p.id AS payout_id, p.paid_fen, l.status, l.received_fen, l.visit_id, \
                (SELECT CAST(SUM(pp.fen) AS BIGINT) FROM payout_payments pp \
                 WHERE pp.payout_id = p.id AND pp.paid_on <= {CHINA_DAY_OF_VISIT}) AS paid_by_then \
         FROM entitlements e JOIN households h ON h.id = e.household_id \
         LEFT JOIN payout_current pc ON pc.household_id = e.household_id \
              AND pc.item_code = e.item_code AND pc.stat_year = e.stat_year \
         LEFT JOIN payouts p ON p.id = pc.payout_id \
         LEFT JOIN verification_lines l ON l.entitlement_id = e.id AND l.visit_id = ( \
              SELECT l2.visit_id FROM verification_lines l2 JOIN visits v2 ON v2.id = l2.visit_id \
              WHERE l2.entitlement_id = e.id ORDER BY v2.started_at DESC, v2.id DESC LIMIT 1) \
         LEFT JOIN visits v ON v.id = l.visit_id \
         WHERE"
    ));
    push_keys_filter(&mut q, keys, "e");
    q.push(
        " AND EXISTS (SELECT 1 FROM payout_scopes s WHERE s.item_code = e.item_code \
          AND s.stat_year = e.stat_year AND h.village_code BETWEEN s.lo AND s.hi)",
    );
    let mut out = Vec::new();
    for r in db(q.build().fetch_all(&mut *conn).await)? {
        let status: Option<String> = r.try_get("status")?;
        let received: Option<i64> = r.try_get("received_fen")?;
        out.push(Sides {
            household_id: r.try_get("household_id")?,
            item_code: r.try_get("item_code")?,
            stat_year: r.try_get("stat_year")?,
            village_code: r.try_get("village_code")?,
            entitlement_id: r.try_get("entitlement_id")?,
            due_fen: r.try_get("expected_fen")?,
            expected_date: r.try_get("expected_date")?,
            payout_id: r.try_get("payout_id")?,
            paid_fen: r.try_get("paid_fen")?,
            // Not received, or "not due yet" although asked: nothing arrived.
            received_fen: status.map(|s| match s.as_str() {
                "received_in_full" | "received_in_part" => received.unwrap_or(0),
                _ => 0,
            }),
            paid_by_then: r.try_get("paid_by_then")?,
            visit_id: r.try_get("visit_id")?,
        });
    }
    // Payouts nobody was due.
    let mut q = sqlx::QueryBuilder::<Db>::new(
        "SELECT pc.household_id, pc.item_code, pc.stat_year, h.village_code, \
                p.id AS payout_id, p.paid_fen \
         FROM payout_current pc JOIN payouts p ON p.id = pc.payout_id \
         JOIN households h ON h.id = pc.household_id WHERE",
    );
    push_keys_filter(&mut q, keys, "pc");
    q.push(
        " AND NOT EXISTS (SELECT 1 FROM entitlements e WHERE e.household_id = pc.household_id \
          AND e.item_code = pc.item_code AND e.stat_year = pc.stat_year)",
    );
    for r in db(q.build().fetch_all(&mut *conn).await)? {
        out.push(Sides {
            household_id: r.try_get("household_id")?,
            item_code: r.try_get("item_code")?,
            stat_year: r.try_get("stat_year")?,
            village_code: r.try_get("village_code")?,
            entitlement_id: None,
            due_fen: None,
            expected_date: None,
            payout_id: r.try_get("payout_id")?,
            paid_fen: r.try_get("paid_fen")?,
            received_fen: None,
            paid_by_then: None,
            visit_id: None,
        });
    }
    Ok(out)
}

/// Rewrites the match of `keys` and opens an item for each mismatch that
/// has none of its kind yet (the same file again reopens nothing).
pub(crate) async fn reconcile_in(
    conn: &mut Conn,
    keys: &Keys<'_>,
    now: DateTime<Utc>,
) -> DbResult<()> {
    let found = sides(conn, keys).await?;
    let mut q = sqlx::QueryBuilder::<Db>::new("DELETE FROM reconciliation WHERE");
    match keys {
        Keys::Scope {
            lo,
            hi,
            stat_year,
            items,
        } => {
            q.push(" village_code BETWEEN ")
                .push_bind(lo.to_string())
                .push(" AND ")
                .push_bind(hi.to_string())
                .push(" AND stat_year = ")
                .push_bind(*stat_year)
                .push(" AND item_code IN (");
            push_in_list(&mut q, items.iter().cloned());
        }
        Keys::Households(ids) => {
            q.push(" household_id IN (");
            push_in_list(&mut q, ids.iter().copied());
        }
    }
    db(q.build().execute(&mut *conn).await)?;
    let today = crate::subsidies::china_date(now);
    let mut mismatches = Vec::new();
    for chunk in found.chunks(CHUNK) {
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "INSERT INTO reconciliation (household_id, item_code, stat_year, village_code, \
             entitlement_id, payout_id, due_fen, expected_date, paid_fen, received_fen, \
             visit_id, outcome) ",
        );
        q.push_values(chunk, |mut row, s| {
            let outcome = s.outcome();
            row.push_bind(s.household_id)
                .push_bind(&s.item_code)
                .push_bind(s.stat_year)
                .push_bind(&s.village_code)
                .push_bind(s.entitlement_id)
                .push_bind(s.payout_id)
                .push_bind(s.due_fen)
                .push_bind(s.expected_date)
                .push_bind(s.paid_fen)
                .push_bind(s.received_fen)
                .push_bind(s.visit_id)
                .push_bind(outcome.as_str());
        });
        db(q.build().execute(&mut *conn).await)?;
        mismatches.extend(chunk.iter().filter_map(|s| {
            let outcome = s.outcome();
            let not_yet =
                outcome == Outcome::DueUnpaid && s.expected_date.is_none_or(|d| d > today);
            outcome
                .discrepancy()
                .filter(|_| !not_yet)
                .map(|kind| (s, kind))
        }));
    }
    open_items_in(conn, &mismatches, now).await?;
    Ok(())
}

/// Opens an item for each mismatch that has none of its kind yet (open or
/// closed: a closed item was settled by a person), each chained.
async fn open_items_in(
    conn: &mut Conn,
    mismatches: &[(&Sides, crate::discrepancies::DiscrepancyKind)],
    now: DateTime<Utc>,
) -> DbResult<usize> {
    let mut opened_n = 0;
    for chunk in mismatches.chunks(CHUNK) {
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "INSERT INTO discrepancies (id, kind, household_id, village_code, entitlement_id, \
             expected_fen, received_fen, reported_at, item_code, stat_year, payout_id, paid_fen) ",
        );
        q.push_values(chunk, |mut row, (s, kind)| {
            row.push_bind(Uuid::now_v7())
                .push_bind(kind.as_str())
                .push_bind(s.household_id)
                .push_bind(&s.village_code)
                .push_bind(s.entitlement_id)
                .push_bind(s.due_fen)
                .push_bind(s.received_fen)
                .push_bind(now)
                .push_bind(&s.item_code)
                .push_bind(s.stat_year)
                .push_bind(s.payout_id)
                .push_bind(s.paid_fen);
        });
        q.push(
            " ON CONFLICT (household_id, item_code, stat_year, kind) WHERE item_code IS NOT NULL \
             DO NOTHING RETURNING id",
        );
        let opened = db(q.build().fetch_all(&mut *conn).await)?;
        opened_n += opened.len();
        for r in opened {
            let id: Uuid = r.try_get("id")?;
            ledger_sql::record_in(conn, RecordKind::Discrepancy, id, now).await?;
        }
    }
    Ok(opened_n)
}

fn payout_from_row(r: &DbRow) -> DbResult<PayoutRecord> {
    Ok(PayoutRecord {
        id: r.try_get("id")?,
        household_id: r.try_get("household_id")?,
        item_code: r.try_get("item_code")?,
        stat_year: r.try_get("stat_year")?,
        paid_fen: r.try_get("paid_fen")?,
        payments: r.try_get("payments")?,
        first_paid_on: r.try_get("first_paid_on")?,
        last_paid_on: r.try_get("last_paid_on")?,
        account_tail: r.try_get("account_tail")?,
        department: r.try_get("department")?,
        by_day: Vec::new(),
    })
}

/// The outcome as the page counts it: "due but not paid" before its
/// expected date is "not due yet". `$1` is today.
const OUTCOME_NOW: &str = "CASE WHEN r.outcome = 'due_unpaid' AND r.expected_date > $1 \
     THEN 'not_due_yet' ELSE r.outcome END";

fn outcome_from(s: &str) -> DbResult<Outcome> {
    Outcome::parse(s).ok_or_else(|| corrupt("reconciliation outcome", s))
}

#[async_trait]
impl ReconciliationStore for ThisStore {
    async fn current_payouts(&self, households: &[Uuid]) -> DbResult<Vec<PayoutRecord>> {
        let mut out = Vec::new();
        for chunk in households.chunks(CHUNK) {
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "SELECT p.id, p.household_id, p.item_code, p.stat_year, p.paid_fen, p.payments, \
                        p.first_paid_on, p.last_paid_on, p.account_tail, p.department \
                 FROM payout_current pc JOIN payouts p ON p.id = pc.payout_id \
                 WHERE pc.household_id IN (",
            );
            push_in_list(&mut q, chunk.iter().copied());
            let mut found: Vec<PayoutRecord> = db(q.build().fetch_all(&self.pool).await)?
                .iter()
                .map(payout_from_row)
                .collect::<DbResult<_>>()?;
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "SELECT pp.payout_id, pp.paid_on, pp.fen FROM payout_current pc \
                 JOIN payout_payments pp ON pp.payout_id = pc.payout_id \
                 WHERE pc.household_id IN (",
            );
            push_in_list(&mut q, chunk.iter().copied());
            q.push(" ORDER BY pp.payout_id, pp.paid_on");
            let mut days: std::collections::HashMap<Uuid, Vec<(NaiveDate, i64)>> =
                std::collections::HashMap::new();
            for r in db(q.build().fetch_all(&self.pool).await)? {
                days.entry(r.try_get("payout_id")?)
                    .or_default()
                    .push((r.try_get("paid_on")?, r.try_get("fen")?));
            }
            for p in &mut found {
                p.by_day = days.remove(&p.id).unwrap_or_default();
            }
            out.extend(found);
        }
        Ok(out)
    }

    async fn apply_payouts(
        &self,
        write: &PayoutWrite,
        progress: &(dyn Fn(usize) + Sync),
        job: Option<crate::server::db::ImportDone<'_>>,
    ) -> DbResult<bool> {
        let (lo, hi) = write.area.subtree_range();
        let mut tx = begin_write(&self.writer).await?;
        // Every village of the area, before any household's rows: the
        // order a visit takes them in, which rewrites its household's
        // match too (PostgreSQL; SQLite's one writer needs no lock).
        let villages: Vec<String> = db(sqlx::query(
            "SELECT code FROM areas WHERE level = 5 AND code BETWEEN $1 AND $2",
        )
        .bind(&lo)
        .bind(&hi)
        .fetch_all(&mut *tx)
        .await)?
        .iter()
        .map(|r| r.try_get("code"))
        .collect::<Result<_, _>>()?;
        for chunk in villages.chunks(CHUNK) {
            lock_villages(&mut tx, chunk.iter().map(String::as_str)).await?;
        }
        let mut done = 0;
        for chunk in write.payouts.chunks(CHUNK) {
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "INSERT INTO payouts (id, household_id, item_code, stat_year, paid_fen, payments, \
                 first_paid_on, last_paid_on, account_tail, department, file_name, imported_by, \
                 imported_at) ",
            );
            q.push_values(chunk, |mut row, p| {
                row.push_bind(p.id)
                    .push_bind(p.household_id)
                    .push_bind(&p.item_code)
                    .push_bind(p.stat_year)
                    .push_bind(p.paid_fen)
                    .push_bind(p.payments)
                    .push_bind(p.first_paid_on)
                    .push_bind(p.last_paid_on)
                    .push_bind(&p.account_tail)
                    .push_bind(&p.department)
                    .push_bind(&write.file_name)
                    .push_bind(write.imported_by)
                    .push_bind(write.at);
            });
            db(q.build().execute(&mut *tx).await)?;
            let days: Vec<(Uuid, NaiveDate, i64)> = chunk
                .iter()
                .flat_map(|p| p.by_day.iter().map(|(d, f)| (p.id, *d, *f)))
                .collect();
            for days in days.chunks(CHUNK) {
                let mut q = sqlx::QueryBuilder::<Db>::new(
                    "INSERT INTO payout_payments (payout_id, paid_on, fen) ",
                );
                q.push_values(days, |mut row, (id, day, fen)| {
                    row.push_bind(*id).push_bind(*day).push_bind(*fen);
                });
                db(q.build().execute(&mut *tx).await)?;
            }
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "INSERT INTO payout_current (household_id, item_code, stat_year, payout_id) ",
            );
            q.push_values(chunk, |mut row, p| {
                row.push_bind(p.household_id)
                    .push_bind(&p.item_code)
                    .push_bind(p.stat_year)
                    .push_bind(p.id);
            });
            q.push(
                " ON CONFLICT (household_id, item_code, stat_year) \
                 DO UPDATE SET payout_id = excluded.payout_id",
            );
            db(q.build().execute(&mut *tx).await)?;
            done += chunk.len();
            progress(done);
        }
        // A file that changed nothing leaves the scopes as they were.
        let on_conflict = if write.payouts.is_empty() {
            "DO NOTHING"
        } else {
            "DO UPDATE SET imported_at = excluded.imported_at"
        };
        for (item, year) in &write.scopes {
            db(sqlx::query(&format!(
                "INSERT INTO payout_scopes (area_code, item_code, stat_year, lo, hi, imported_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (area_code, item_code, stat_year) \
                 {on_conflict}"
            ))
            .bind(write.area.as_str())
            .bind(item)
            .bind(year)
            .bind(&lo)
            .bind(&hi)
            .bind(write.at)
            .execute(&mut *tx)
            .await)?;
        }
        let mut years: Vec<i32> = write.scopes.iter().map(|(_, y)| *y).collect();
        years.sort_unstable();
        years.dedup();
        for year in years {
            let items: Vec<String> = write
                .scopes
                .iter()
                .filter(|(_, y)| *y == year)
                .map(|(i, _)| i.clone())
                .collect();
            let keys = Keys::Scope {
                lo: &lo,
                hi: &hi,
                stat_year: year,
                items: &items,
            };
            reconcile_in(&mut tx, &keys, write.at).await?;
        }
        if let Some(job) = job
            && !imports_sql::written_job_in(&mut tx, job.job_id, job.report, job.at).await?
        {
            return Ok(false);
        }
        db(tx.commit().await)?;
        Ok(true)
    }

    async fn reconciliation_figures(
        &self,
        area: &AreaCode,
        stat_year: i32,
        today: NaiveDate,
    ) -> DbResult<(Vec<OutcomeFigure>, Vec<OutcomeFigure>)> {
        let child_len = area.level().child().unwrap_or(area.level()).prefix_len();
        let (lo, hi) = area.subtree_range();
        let mut groups = Vec::new();
        for group in [
            format!("substr(r.village_code, 1, {child_len})"),
            "r.item_code".into(),
        ] {
            let rows = db(sqlx::query(&format!(
                "SELECT {group} AS grp, {OUTCOME_NOW} AS outcome, COUNT(*) AS n, {}, {}, {} \
                 FROM reconciliation r \
                 WHERE r.village_code BETWEEN $2 AND $3 AND r.stat_year = $4 \
                 GROUP BY 1, 2 ORDER BY 1, 2",
                split_sum("COALESCE(r.due_fen, 0)", "due"),
                split_sum("COALESCE(r.paid_fen, 0)", "paid"),
                split_sum("COALESCE(r.received_fen, 0)", "received"),
            ))
            .bind(today)
            .bind(&lo)
            .bind(&hi)
            .bind(stat_year)
            .fetch_all(&self.pool)
            .await)?;
            let figures = rows
                .iter()
                .map(|r| {
                    let outcome: String = r.try_get("outcome")?;
                    Ok(OutcomeFigure {
                        group: r.try_get("grp")?,
                        outcome: outcome_from(&outcome)?,
                        keys: r.try_get("n")?,
                        due_fen: split_sum_of(r, "due")?,
                        paid_fen: split_sum_of(r, "paid")?,
                        received_fen: split_sum_of(r, "received")?,
                    })
                })
                .collect::<DbResult<Vec<_>>>()?;
            groups.push(figures);
        }
        let by_item = groups.pop().unwrap_or_default();
        let by_area = groups.pop().unwrap_or_default();
        Ok((by_area, by_item))
    }

    async fn reconciled(&self, q: &ReconciledQuery) -> DbResult<(Vec<ReconciledRow>, i64)> {
        let (lo, hi) = q.area.subtree_range();
        // One WHERE clause for the page and the count, so they cannot disagree.
        let filter = format!(
            "r.village_code BETWEEN $2 AND $3 AND r.stat_year = $4 AND {OUTCOME_NOW} = $5 \
             AND ($6 IS NULL OR r.item_code = $6)"
        );
        let rows = db(sqlx::query(&format!(
            "SELECT r.household_id, h.number, h.head_name, r.village_code, a.name AS village_name, \
                    i.name AS item_name, {OUTCOME_NOW} AS outcome, r.due_fen, r.paid_fen, \
                    r.received_fen, \
                    (SELECT d.id FROM discrepancies d WHERE d.household_id = r.household_id \
                     AND d.item_code = r.item_code AND d.stat_year = r.stat_year \
                     AND d.kind = r.outcome) AS discrepancy_id \
             FROM reconciliation r JOIN households h ON h.id = r.household_id \
             JOIN areas a ON a.code = r.village_code \
             JOIN subsidy_items i ON i.code = r.item_code \
             WHERE {filter} ORDER BY r.village_code, h.number, r.item_code LIMIT $7 OFFSET $8"
        ))
        .bind(q.today)
        .bind(&lo)
        .bind(&hi)
        .bind(q.stat_year)
        .bind(q.outcome.as_str())
        .bind(&q.item_code)
        .bind(i64::from(q.limit))
        .bind(i64::from(q.offset))
        .fetch_all(&self.pool)
        .await)?;
        let total = db(sqlx::query(&format!(
            "SELECT COUNT(*) AS n FROM reconciliation r WHERE {filter}"
        ))
        .bind(q.today)
        .bind(&lo)
        .bind(&hi)
        .bind(q.stat_year)
        .bind(q.outcome.as_str())
        .bind(&q.item_code)
        .fetch_one(&self.pool)
        .await)?;
        let rows = rows
            .iter()
            .map(|r| {
                let outcome: String = r.try_get("outcome")?;
                Ok(ReconciledRow {
                    household_id: r.try_get("household_id")?,
                    number: r.try_get("number")?,
                    head_name: r.try_get("head_name")?,
                    village_code: r.try_get("village_code")?,
                    village_name: r.try_get("village_name")?,
                    item_name: r.try_get("item_name")?,
                    outcome: outcome_from(&outcome)?,
                    due_fen: r.try_get("due_fen")?,
                    paid_fen: r.try_get("paid_fen")?,
                    received_fen: r.try_get("received_fen")?,
                    discrepancy_id: r.try_get("discrepancy_id")?,
                })
            })
            .collect::<DbResult<Vec<_>>>()?;
        Ok((rows, total.try_get("n")?))
    }

    async fn open_fallen_due(&self, now: DateTime<Utc>) -> DbResult<usize> {
        let today = crate::subsidies::china_date(now);
        let mut tx = begin_write(&self.writer).await?;
        let rows = db(sqlx::query(
            "SELECT r.household_id, r.item_code, r.stat_year, r.village_code, r.entitlement_id, \
                    r.due_fen, r.expected_date, r.received_fen \
             FROM reconciliation r WHERE r.outcome = 'due_unpaid' AND r.expected_date <= $1 \
               AND NOT EXISTS (SELECT 1 FROM discrepancies d WHERE d.household_id = r.household_id \
                   AND d.item_code = r.item_code AND d.stat_year = r.stat_year \
                   AND d.kind = 'due_unpaid')",
        )
        .bind(today)
        .fetch_all(&mut *tx)
        .await)?;
        let fallen: Vec<Sides> = rows
            .iter()
            .map(|r| {
                Ok(Sides {
                    household_id: r.try_get("household_id")?,
                    item_code: r.try_get("item_code")?,
                    stat_year: r.try_get("stat_year")?,
                    village_code: r.try_get("village_code")?,
                    entitlement_id: r.try_get("entitlement_id")?,
                    due_fen: r.try_get("due_fen")?,
                    expected_date: r.try_get("expected_date")?,
                    payout_id: None,
                    paid_fen: None,
                    received_fen: r.try_get("received_fen")?,
                    paid_by_then: None,
                    visit_id: None,
                })
            })
            .collect::<DbResult<_>>()?;
        let items: Vec<_> = fallen
            .iter()
            .map(|s| (s, crate::discrepancies::DiscrepancyKind::DueUnpaid))
            .collect();
        let opened = open_items_in(&mut tx, &items, now).await?;
        db(tx.commit().await)?;
        Ok(opened)
    }

    async fn payout_scopes(&self, area: &AreaCode) -> DbResult<Vec<PayoutScopeRow>> {
        let (lo, hi) = area.subtree_range();
        // Overlapping ranges: the scope is above, at or below the area.
        let rows = db(sqlx::query(
            "SELECT s.area_code, a.name AS area_name, i.name AS item_name, s.stat_year, \
                    s.imported_at \
             FROM payout_scopes s JOIN areas a ON a.code = s.area_code \
             JOIN subsidy_items i ON i.code = s.item_code \
             WHERE s.lo <= $2 AND s.hi >= $1 ORDER BY s.imported_at DESC, s.area_code, s.item_code",
        )
        .bind(&lo)
        .bind(&hi)
        .fetch_all(&self.pool)
        .await)?;
        rows.iter()
            .map(|r| {
                Ok(PayoutScopeRow {
                    area_code: r.try_get("area_code")?,
                    area_name: r.try_get("area_name")?,
                    item_name: r.try_get("item_name")?,
                    stat_year: r.try_get("stat_year")?,
                    imported_at: r.try_get("imported_at")?,
                })
            })
            .collect()
    }
}
