// The store's SQL for income accounts; included by `sqlite.rs` and
// `postgres.rs` inside a module of their own (see `portable.rs` for the
// rules of portable SQL).

use crate::income::{IncomeFlag, IncomeKind, MeasureFacts};
use crate::plans::MeasureStatus;
use crate::server::db::{
    DeclaredFact, HouseholdFacts, HouseholdIncomeRow, IncomeFacts, IncomeRollupRow, IncomeScope,
    IncomeStore, PaymentFact, SizeFact,
};
use crate::subsidies::Fen;

/// Starts a query over the scope's households (`h`), `… WHERE <scope>`,
/// and leaves it open for more conditions.
fn scoped<'a>(select: &str, scope: &'a IncomeScope, ids: &'a [Uuid]) -> sqlx::QueryBuilder<'a, Db> {
    let mut q = sqlx::QueryBuilder::<Db>::new(select);
    match scope {
        IncomeScope::Area(area) => {
            let (lo, hi) = area.subtree_range();
            q.push(" h.village_code BETWEEN ");
            q.push_bind(lo);
            q.push(" AND ");
            q.push_bind(hi);
        }
        IncomeScope::Households(_) => {
            q.push(" h.id IN (");
            push_in_list(&mut q, ids.iter().copied());
        }
    }
    q
}

/// A catalogue item's bucket as the account uses it: an item edited to
/// not count as income is listed but not counted, whatever its bucket; the
/// production-cost offsets (农机购置补贴) are not income either, and keep
/// their bucket to reduce the costs.
fn counted_bucket(bucket: IncomeBucket, counts_as_income: bool) -> IncomeBucket {
    match bucket {
        IncomeBucket::BusinessCost => bucket,
        _ if !counts_as_income => IncomeBucket::None,
        _ => bucket,
    }
}

/// The scope as chunks of queries: one for an area, one per [`CHUNK`] ids.
fn chunks(scope: &IncomeScope) -> Vec<&[Uuid]> {
    match scope {
        IncomeScope::Area(_) => vec![&[]],
        IncomeScope::Households(ids) => ids.chunks(CHUNK).collect(),
    }
}

#[async_trait]
impl IncomeStore for ThisStore {
    async fn income_thresholds(&self) -> DbResult<Vec<(i32, Fen)>> {
        db(sqlx::query(
            "SELECT stat_year, threshold_fen FROM income_thresholds ORDER BY stat_year",
        )
        .fetch_all(&self.pool)
        .await)?
        .iter()
        .map(|r| Ok((r.try_get("stat_year")?, Fen(r.try_get("threshold_fen")?))))
        .collect()
    }

    async fn set_income_threshold(
        &self,
        stat_year: i32,
        threshold: Fen,
        by: Uuid,
        then_run: &str,
    ) -> DbResult<()> {
        let now = Utc::now();
        let mut tx = begin_write(&self.writer).await?;
        db(sqlx::query(
            "INSERT INTO income_thresholds (stat_year, threshold_fen, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (stat_year) DO UPDATE SET \
             threshold_fen = excluded.threshold_fen, updated_by = excluded.updated_by, \
             updated_at = excluded.updated_at",
        )
        .bind(stat_year)
        .bind(threshold.0)
        .bind(by)
        .bind(now)
        .execute(&mut *tx)
        .await)?;
        db(sqlx::query(
            "INSERT INTO schedules (name, next_run_at, runs) VALUES ($1, $2, 0) \
             ON CONFLICT (name) DO UPDATE SET next_run_at = excluded.next_run_at",
        )
        .bind(then_run)
        .bind(now)
        .execute(&mut *tx)
        .await)?;
        db(tx.commit().await)
    }

    async fn income_facts(&self, scope: &IncomeScope, stat_year: i32) -> DbResult<IncomeFacts> {
        let mut facts = IncomeFacts::default();
        let years = (stat_year - 1, stat_year);
        for ids in chunks(scope) {
            let mut q = scoped(
                "SELECT h.id, h.village_code, h.category, h.identified_on, \
                        (SELECT COUNT(*) FROM members m WHERE m.household_id = h.id) AS members \
                 FROM households h WHERE",
                scope,
                ids,
            );
            for r in db(q.build().fetch_all(&self.pool).await)? {
                let category: String = r.try_get("category")?;
                facts.households.push(HouseholdFacts {
                    id: r.try_get("id")?,
                    village_code: r.try_get("village_code")?,
                    identified_on: if category == "monitored" {
                        r.try_get("identified_on")?
                    } else {
                        None
                    },
                    members: i32::try_from(r.try_get::<i64, _>("members")?).unwrap_or(i32::MAX),
                });
            }

            let select = format!(
                "SELECT i.household_id, i.stat_year, i.kind, i.amount_fen, {} AS evidence, \
                        i.visit_id, v.started_at \
                 FROM income_entries i JOIN households h ON h.id = i.household_id \
                 JOIN visits v ON v.id = i.visit_id WHERE",
                income_backed("i")
            );
            let mut q = scoped(&select, scope, ids);
            q.push(" AND i.stat_year IN (");
            push_in_list(&mut q, [years.0, years.1]);
            for r in db(q.build().fetch_all(&self.pool).await)? {
                let kind: String = r.try_get("kind")?;
                facts.declared.push(DeclaredFact {
                    household_id: r.try_get("household_id")?,
                    stat_year: r.try_get("stat_year")?,
                    kind: IncomeKind::parse(&kind).ok_or_else(|| corrupt("income kind", &kind))?,
                    amount_fen: r.try_get("amount_fen")?,
                    evidence: r.try_get("evidence")?,
                    visit_id: r.try_get("visit_id")?,
                    visit_at: r.try_get("started_at")?,
                });
            }

            let mut q = scoped(
                "SELECT e.household_id, e.stat_year, e.id AS entitlement_id, s.name, s.bucket, \
                        s.counts_as_income, l.status, l.received_fen, l.visit_id, l.started_at \
                 FROM verification_lines l \
                 JOIN entitlements e ON e.id = l.entitlement_id \
                 JOIN subsidy_items s ON s.code = e.item_code \
                 JOIN households h ON h.id = e.household_id WHERE",
                scope,
                ids,
            );
            q.push(" AND e.stat_year IN (");
            push_in_list(&mut q, [years.0, years.1]);
            for r in db(q.build().fetch_all(&self.pool).await)? {
                let bucket: String = r.try_get("bucket")?;
                let status: String = r.try_get("status")?;
                let received = PaymentStatus::parse(&status)
                    .ok_or_else(|| corrupt("payment status", &status))?
                    .has_receipt();
                facts.payments.push(PaymentFact {
                    household_id: r.try_get("household_id")?,
                    stat_year: r.try_get("stat_year")?,
                    entitlement_id: r.try_get("entitlement_id")?,
                    item_name: r.try_get("name")?,
                    bucket: counted_bucket(
                        IncomeBucket::parse(&bucket)
                            .ok_or_else(|| corrupt("income bucket", &bucket))?,
                        r.try_get("counts_as_income")?,
                    ),
                    received_fen: if received {
                        r.try_get::<Option<i64>, _>("received_fen")?.unwrap_or(0)
                    } else {
                        0
                    },
                    visit_id: r.try_get("visit_id")?,
                    visit_at: r.try_get("started_at")?,
                });
            }

            let mut q = scoped(
                "SELECT v.household_id, v.stat_year, v.household_size, v.id, v.started_at \
                 FROM visits v JOIN households h ON h.id = v.household_id WHERE",
                scope,
                ids,
            );
            q.push(" AND v.household_size IS NOT NULL AND v.stat_year IN (");
            push_in_list(&mut q, [years.0, years.1]);
            for r in db(q.build().fetch_all(&self.pool).await)? {
                facts.sizes.push(SizeFact {
                    household_id: r.try_get("household_id")?,
                    stat_year: r.try_get("stat_year")?,
                    size: r.try_get("household_size")?,
                    visit_id: r.try_get("id")?,
                    visit_at: r.try_get("started_at")?,
                });
            }

            let mut q = scoped(
                "SELECT m.household_id, m.status, m.due_on, m.done_on \
                 FROM measures m JOIN households h ON h.id = m.household_id WHERE",
                scope,
                ids,
            );
            for r in db(q.build().fetch_all(&self.pool).await)? {
                let status: String = r.try_get("status")?;
                facts.measures.push((
                    r.try_get("household_id")?,
                    MeasureFacts {
                        status: MeasureStatus::parse(&status)
                            .ok_or_else(|| corrupt("measure status", &status))?,
                        due_on: r.try_get("due_on")?,
                        done_on: r.try_get("done_on")?,
                    },
                ));
            }
        }
        Ok(facts)
    }

    async fn save_income(
        &self,
        stat_year: i32,
        as_of: NaiveDate,
        read_at: DateTime<Utc>,
        rows: &[HouseholdIncomeRow],
        done: &[crate::server::db::ClaimedWork],
    ) -> DbResult<()> {
        // Rows in id order, in every transaction that writes them, so that a
        // county's refresh and a visit's recomputation cannot deadlock.
        let mut rows: Vec<&HouseholdIncomeRow> = rows.iter().collect();
        rows.sort_by_key(|r| r.household_id);
        // A household that moved leaves its old village's roll-up to redo.
        // Read before the transaction: on SQLite it must start by writing.
        let mut villages: std::collections::BTreeSet<String> =
            rows.iter().map(|r| r.village_code.clone()).collect();
        for chunk in rows.chunks(CHUNK) {
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "SELECT DISTINCT village_code FROM household_income WHERE stat_year = ",
            );
            q.push_bind(stat_year);
            q.push(" AND household_id IN (");
            push_in_list(&mut q, chunk.iter().map(|r| r.household_id));
            for r in db(q.build().fetch_all(&self.pool).await)? {
                villages.insert(r.try_get("village_code")?);
            }
        }
        let villages: Vec<String> = villages.into_iter().collect();
        let mut tx = begin_write(&self.writer).await?;
        // Two saves for one village take turns, or each could rewrite its
        // roll-up without the other's accounts. A lock of its own (not the
        // village's area row), so that saving accounts never holds up the
        // visits of the village; taken first, in code order.
        if let Some(lock) = INCOME_ROLLUP_LOCK {
            for village in &villages {
                db(sqlx::query(lock).bind(village).execute(&mut *tx).await)?;
            }
        }
        // Writes first: on SQLite the transaction takes the write lock now
        // rather than failing to upgrade a read later.
        finish_income_work_in(&mut tx, done).await?;
        for chunk in rows.chunks(CHUNK / 2) {
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "INSERT INTO household_income (household_id, stat_year, village_code, wage_fen, \
                 business_fen, property_fen, transfer_fen, cost_fen, net_fen, backed_fen, size, \
                 per_capita_fen, flags, measures_due, measures_on_time, as_of, computed_at) ",
            );
            q.push_values(chunk, |mut b, r: &&HouseholdIncomeRow| {
                b.push_bind(r.household_id)
                    .push_bind(stat_year)
                    .push_bind(&r.village_code)
                    .push_bind(r.wage.0)
                    .push_bind(r.business.0)
                    .push_bind(r.property.0)
                    .push_bind(r.transfer.0)
                    .push_bind(r.cost.0)
                    .push_bind(r.net.0)
                    .push_bind(r.backed.0)
                    .push_bind(r.size)
                    .push_bind(r.per_capita.map(|f| f.0))
                    .push_bind(r.flags)
                    .push_bind(r.measures_due as i32)
                    .push_bind(r.measures_on_time as i32)
                    .push_bind(as_of)
                    .push_bind(read_at);
            });
            q.push(
                " ON CONFLICT (household_id, stat_year) DO UPDATE SET \
                 village_code = excluded.village_code, wage_fen = excluded.wage_fen, \
                 business_fen = excluded.business_fen, property_fen = excluded.property_fen, \
                 transfer_fen = excluded.transfer_fen, cost_fen = excluded.cost_fen, \
                 net_fen = excluded.net_fen, backed_fen = excluded.backed_fen, \
                 size = excluded.size, per_capita_fen = excluded.per_capita_fen, \
                 flags = excluded.flags, measures_due = excluded.measures_due, \
                 measures_on_time = excluded.measures_on_time, as_of = excluded.as_of, \
                 computed_at = excluded.computed_at \
                 WHERE household_income.computed_at <= excluded.computed_at",
            );
            db(q.build().execute(&mut *tx).await)?;
        }
        let flag_sums: String = IncomeFlag::ALL
            .iter()
            .map(|f| {
                format!(
                    "CAST(SUM(CASE WHEN (flags & {}) <> 0 THEN 1 ELSE 0 END) AS BIGINT)",
                    f.bit()
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        // Each village's row rewritten in place from its accounts (a few
        // hundred households at most, whatever the history); a village
        // left without accounts drops its row.
        for chunk in villages.chunks(CHUNK) {
            let mut q =
                sqlx::QueryBuilder::<Db>::new("DELETE FROM rollup_income WHERE stat_year = ");
            q.push_bind(stat_year);
            q.push(" AND village_code IN (");
            push_in_list(&mut q, chunk.iter().map(String::as_str));
            q.push(
                " AND NOT EXISTS (SELECT 1 FROM household_income hi \
                 JOIN households h ON h.id = hi.household_id AND h.village_code = hi.village_code \
                 WHERE hi.village_code = rollup_income.village_code \
                 AND hi.stat_year = rollup_income.stat_year)",
            );
            db(q.build().execute(&mut *tx).await)?;
            let mut q = sqlx::QueryBuilder::<Db>::new(format!(
                "INSERT INTO rollup_income (village_code, stat_year, households, flagged, \
                 below_threshold, fell, unbacked_jump, overdue_measure, no_measure, \
                 measures_due, measures_on_time, as_of) \
                 SELECT hi.village_code, hi.stat_year, COUNT(*), \
                        CAST(SUM(CASE WHEN hi.flags <> 0 THEN 1 ELSE 0 END) AS BIGINT), \
                        {flag_sums}, CAST(SUM({due}) AS BIGINT), \
                        CAST(SUM({on_time}) AS BIGINT), MIN(hi.as_of) \
                 FROM household_income hi JOIN households h ON h.id = hi.household_id \
                      AND h.village_code = hi.village_code \
                 WHERE hi.stat_year = ",
                // Counts of a household's measures: within i32 as stored on
                // PostgreSQL, so no village's sum can overflow on SQLite.
                due = at_most("hi.measures_due", i32::MAX.into()),
                on_time = at_most("hi.measures_on_time", i32::MAX.into()),
            ));
            q.push_bind(stat_year);
            q.push(" AND hi.village_code IN (");
            push_in_list(&mut q, chunk.iter().map(String::as_str));
            q.push(
                " GROUP BY hi.village_code, hi.stat_year \
                 ON CONFLICT (village_code, stat_year) DO UPDATE SET \
                 households = excluded.households, flagged = excluded.flagged, \
                 below_threshold = excluded.below_threshold, fell = excluded.fell, \
                 unbacked_jump = excluded.unbacked_jump, \
                 overdue_measure = excluded.overdue_measure, no_measure = excluded.no_measure, \
                 measures_due = excluded.measures_due, \
                 measures_on_time = excluded.measures_on_time, as_of = excluded.as_of",
            );
            db(q.build().execute(&mut *tx).await)?;
        }
        db(tx.commit().await)?;
        Ok(())
    }

    async fn income_rollup(
        &self,
        area: &AreaCode,
        stat_year: i32,
    ) -> DbResult<Vec<IncomeRollupRow>> {
        let child_len = area.level().child().unwrap_or(area.level()).prefix_len();
        let (lo, hi) = area.subtree_range();
        let sums = [
            ("households", "households"),
            ("flagged", "flagged"),
            ("below_threshold", "f0"),
            ("fell", "f1"),
            ("unbacked_jump", "f2"),
            ("overdue_measure", "f3"),
            ("no_measure", "f4"),
            ("measures_due", "measures_due"),
            ("measures_on_time", "measures_on_time"),
        ]
        .map(|(column, alias)| split_sum(column, alias))
        .join(", ");
        db(sqlx::query(&format!(
            "SELECT substr(village_code, 1, $1) AS child, {sums} \
             FROM rollup_income \
             WHERE village_code BETWEEN $2 AND $3 AND stat_year = $4 \
             GROUP BY 1 ORDER BY 1",
        ))
        .bind(child_len as i32)
        .bind(lo)
        .bind(hi)
        .bind(stat_year)
        .fetch_all(&self.pool)
        .await)?
        .iter()
        .map(|r| {
            let prefix: String = r.try_get("child")?;
            Ok(IncomeRollupRow {
                child: format!("{prefix:0<12}"),
                households: split_sum_of(r, "households")?,
                flagged: split_sum_of(r, "flagged")?,
                by_flag: [
                    split_sum_of(r, "f0")?,
                    split_sum_of(r, "f1")?,
                    split_sum_of(r, "f2")?,
                    split_sum_of(r, "f3")?,
                    split_sum_of(r, "f4")?,
                ],
                measures_due: split_sum_of(r, "measures_due")?,
                measures_on_time: split_sum_of(r, "measures_on_time")?,
            })
        })
        .collect()
    }

    async fn areas_at_level(&self, level: crate::areas::AreaLevel) -> DbResult<Vec<AreaCode>> {
        db(
            sqlx::query("SELECT code FROM areas WHERE level = $1 ORDER BY code")
                .bind(level.as_i32())
                .fetch_all(&self.pool)
                .await,
        )?
        .into_iter()
        .map(|r| area_code(r.try_get("code")?))
        .collect()
    }

    async fn households_not_computed_on(
        &self,
        area: &AreaCode,
        stat_year: i32,
        as_of: NaiveDate,
    ) -> DbResult<i64> {
        let (lo, hi) = area.subtree_range();
        Ok(db(sqlx::query(
            "SELECT COUNT(*) AS n FROM households h \
             WHERE h.village_code BETWEEN $1 AND $2 AND NOT EXISTS ( \
                 SELECT 1 FROM household_income hi \
                 WHERE hi.household_id = h.id AND hi.stat_year = $3 AND hi.as_of = $4)",
        )
        .bind(lo)
        .bind(hi)
        .bind(stat_year)
        .bind(as_of)
        .fetch_one(&self.pool)
        .await)?
        .try_get("n")?)
    }

    async fn income_as_of(&self, area: &AreaCode, stat_year: i32) -> DbResult<Option<NaiveDate>> {
        let (lo, hi) = area.subtree_range();
        Ok(db(sqlx::query(
            "SELECT MIN(as_of) AS as_of FROM rollup_income \
             WHERE village_code BETWEEN $1 AND $2 AND stat_year = $3",
        )
        .bind(lo)
        .bind(hi)
        .bind(stat_year)
        .fetch_one(&self.pool)
        .await)?
        .try_get("as_of")?)
    }
}
