// The store's SQL for signals of fabricated visits (migration 0014);
// included by `sqlite.rs` and `postgres.rs` inside a module of their own
// (see `portable.rs` for the rules of portable SQL).

use crate::discrepancies::DiscrepancyKind;
use crate::ledger::RecordKind;
use crate::server::db::{SignalContext, SignalReview, SignalRow, SignalStore, SignalWrite};

/// Other visits a village's centre is taken from, at most.
const VILLAGE_FIXES: i64 = 2000;

/// Queues just-stored visits for their signals, in their own transaction.
pub(crate) async fn queue_all_in(
    conn: &mut <Db as sqlx::Database>::Connection,
    visit_ids: &[Uuid],
    at: DateTime<Utc>,
) -> DbResult<()> {
    for chunk in visit_ids.chunks(CHUNK) {
        let mut q = sqlx::QueryBuilder::<Db>::new("INSERT INTO signal_work (visit_id, queued_at) ");
        q.push_values(chunk, |mut b, id| {
            b.push_bind(*id).push_bind(at);
        });
        q.push(" ON CONFLICT (visit_id) DO NOTHING");
        db(q.build().execute(&mut *conn).await)?;
    }
    Ok(())
}

fn fix_of(r: &DbRow) -> DbResult<Option<(i64, i64)>> {
    let lat: Option<i64> = r.try_get("lat_e6")?;
    let lon: Option<i64> = r.try_get("lon_e6")?;
    Ok(lat.zip(lon))
}

async fn others_with_mark(
    pool: &sqlx::Pool<Db>,
    kind: &str,
    mark: Option<&str>,
    household_id: Uuid,
) -> DbResult<Vec<Uuid>> {
    let Some(mark) = mark else {
        return Ok(Vec::new());
    };
    let rows = db(sqlx::query(
        "SELECT visit_id FROM visit_marks WHERE kind = $1 AND mark = $2 AND household_id <> $3 \
         ORDER BY visit_id LIMIT 50",
    )
    .bind(kind)
    .bind(mark)
    .bind(household_id)
    .fetch_all(pool)
    .await)?;
    rows.iter().map(|r| Ok(r.try_get("visit_id")?)).collect()
}

#[async_trait]
impl SignalStore for ThisStore {
    async fn signal_work(&self, limit: i64) -> DbResult<Vec<Uuid>> {
        let rows = db(sqlx::query(
            "SELECT visit_id FROM signal_work ORDER BY queued_at, visit_id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await)?;
        rows.iter().map(|r| Ok(r.try_get("visit_id")?)).collect()
    }

    async fn signal_context(
        &self,
        visit_id: Uuid,
        signature_mark: Option<&str>,
        photo_marks: &[String],
    ) -> DbResult<SignalContext> {
        let Some(v) = db(sqlx::query(
            "SELECT v.household_id, v.worker_id, v.stat_year, v.started_at, h.village_code \
             FROM visits v JOIN households h ON h.id = v.household_id WHERE v.id = $1",
        )
        .bind(visit_id)
        .fetch_optional(&self.pool)
        .await)?
        else {
            return Err(DbError::NotFound);
        };
        let household_id: Uuid = v.try_get("household_id")?;
        let worker_id: Uuid = v.try_get("worker_id")?;
        let stat_year: i32 = v.try_get("stat_year")?;
        let started: DateTime<Utc> = v.try_get("started_at")?;
        let village: String = v.try_get("village_code")?;
        let mut ctx = SignalContext::default();
        for r in db(sqlx::query(
            "SELECT v.lat_e6, v.lon_e6 FROM visits v JOIN households h ON h.id = v.household_id \
             WHERE h.village_code = $1 AND v.stat_year = $2 AND v.location_kind = 'fix' \
             AND v.id <> $3 ORDER BY v.started_at DESC LIMIT $4",
        )
        .bind(&village)
        .bind(stat_year)
        .bind(visit_id)
        .bind(VILLAGE_FIXES)
        .fetch_all(&self.pool)
        .await)?
        {
            ctx.village_fixes.extend(fix_of(&r)?);
        }
        let hour = chrono::TimeDelta::hours(1);
        for r in db(sqlx::query(
            "SELECT v.started_at, h.village_code, v.lat_e6, v.lon_e6 FROM visits v \
             JOIN households h ON h.id = v.household_id \
             WHERE v.worker_id = $1 AND v.started_at >= $2 AND v.started_at <= $3 AND v.id <> $4",
        )
        .bind(worker_id)
        .bind(started - hour)
        .bind(started + hour)
        .bind(visit_id)
        .fetch_all(&self.pool)
        .await)?
        {
            ctx.worker_nearby.push((
                r.try_get("started_at")?,
                r.try_get("village_code")?,
                fix_of(&r)?,
            ));
        }
        ctx.same_signature =
            others_with_mark(&self.pool, "signature", signature_mark, household_id).await?;
        for mark in photo_marks {
            for other in others_with_mark(&self.pool, "photo", Some(mark), household_id).await? {
                if !ctx.same_photo.contains(&other) {
                    ctx.same_photo.push(other);
                }
            }
        }
        ctx.net_fen = db(sqlx::query(
            "SELECT net_fen FROM household_income WHERE household_id = $1 AND stat_year = $2",
        )
        .bind(household_id)
        .bind(stat_year)
        .fetch_optional(&self.pool)
        .await)?
        .map(|r| r.try_get::<i64, _>("net_fen"))
        .transpose()?;
        Ok(ctx)
    }

    async fn save_signals(&self, w: &SignalWrite) -> DbResult<()> {
        let mut tx = begin_write(&self.writer).await?;
        for s in &w.signals {
            db(sqlx::query(
                "INSERT INTO visit_signals (visit_id, kind, detail, village_code, household_id, \
                 worker_id, visit_at, found_at) \
                 SELECT v.id, $2, $3, h.village_code, v.household_id, v.worker_id, v.started_at, $4 \
                 FROM visits v JOIN households h ON h.id = v.household_id WHERE v.id = $1 \
                 ON CONFLICT (visit_id, kind) DO NOTHING",
            )
            .bind(s.visit_id)
            .bind(s.kind)
            .bind(&s.detail)
            .bind(w.at)
            .execute(&mut *tx)
            .await)?;
        }
        for (kind, mark) in &w.marks {
            db(sqlx::query(
                "INSERT INTO visit_marks (visit_id, kind, mark, household_id) \
                 SELECT id, $2, $3, household_id FROM visits WHERE id = $1 \
                 ON CONFLICT (visit_id, kind, mark) DO NOTHING",
            )
            .bind(w.visit_id)
            .bind(*kind)
            .bind(mark)
            .execute(&mut *tx)
            .await)?;
        }
        db(sqlx::query("DELETE FROM signal_work WHERE visit_id = $1")
            .bind(w.visit_id)
            .execute(&mut *tx)
            .await)?;
        db(tx.commit().await)
    }

    async fn signal_thresholds(&self) -> DbResult<Vec<(String, i64)>> {
        let rows = db(
            sqlx::query("SELECT name, value FROM signal_thresholds ORDER BY name")
                .fetch_all(&self.pool)
                .await,
        )?;
        rows.iter()
            .map(|r| Ok((r.try_get("name")?, r.try_get("value")?)))
            .collect()
    }

    async fn set_signal_threshold(
        &self,
        name: &str,
        value: i64,
        by: Uuid,
        at: DateTime<Utc>,
    ) -> DbResult<()> {
        db(sqlx::query(
            "INSERT INTO signal_thresholds (name, value, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO UPDATE SET value = excluded.value, \
             updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        )
        .bind(name)
        .bind(value)
        .bind(by)
        .bind(at)
        .execute(&self.writer)
        .await)?;
        Ok(())
    }

    async fn signal_queue(
        &self,
        scope: &AreaCode,
        state: &str,
        limit: i64,
    ) -> DbResult<Vec<SignalRow>> {
        let (lo, hi) = scope.subtree_range();
        let rows = db(sqlx::query(
            "SELECT s.visit_id, s.kind, s.detail, s.household_id, h.number, h.head_name, \
             a.name AS village_name, w.display_name AS worker_name, s.visit_at, s.state \
             FROM visit_signals s JOIN households h ON h.id = s.household_id \
             JOIN areas a ON a.code = s.village_code JOIN users w ON w.id = s.worker_id \
             WHERE s.village_code BETWEEN $1 AND $2 AND s.state = $3 \
             ORDER BY s.visit_at DESC, s.visit_id, s.kind LIMIT $4",
        )
        .bind(lo)
        .bind(hi)
        .bind(state)
        .bind(limit)
        .fetch_all(&self.pool)
        .await)?;
        rows.iter()
            .map(|r| {
                Ok(SignalRow {
                    visit_id: r.try_get("visit_id")?,
                    kind: r.try_get("kind")?,
                    detail: r.try_get("detail")?,
                    household_id: r.try_get("household_id")?,
                    household_number: r.try_get("number")?,
                    head_name: r.try_get("head_name")?,
                    village_name: r.try_get("village_name")?,
                    worker_name: r.try_get("worker_name")?,
                    visit_at: r.try_get("visit_at")?,
                    state: r.try_get("state")?,
                })
            })
            .collect()
    }

    async fn signal_counts(&self, scope: &AreaCode) -> DbResult<Vec<(String, i64)>> {
        let (lo, hi) = scope.subtree_range();
        let rows = db(sqlx::query(
            "SELECT kind, COUNT(*) AS n FROM visit_signals \
             WHERE village_code BETWEEN $1 AND $2 AND state = 'open' GROUP BY kind ORDER BY kind",
        )
        .bind(lo)
        .bind(hi)
        .fetch_all(&self.pool)
        .await)?;
        rows.iter()
            .map(|r| Ok((r.try_get("kind")?, r.try_get("n")?)))
            .collect()
    }

    async fn suspicious_visits_by_village(
        &self,
        scope: &AreaCode,
        stat_year: i32,
    ) -> DbResult<Vec<(String, i64)>> {
        let (lo, hi) = scope.subtree_range();
        let rows = db(sqlx::query(
            "SELECT s.village_code, COUNT(DISTINCT s.visit_id) AS n FROM visit_signals s \
             JOIN visits v ON v.id = s.visit_id \
             WHERE s.village_code BETWEEN $1 AND $2 AND s.state = 'open' AND v.stat_year = $3 \
             GROUP BY s.village_code",
        )
        .bind(lo)
        .bind(hi)
        .bind(stat_year)
        .fetch_all(&self.pool)
        .await)?;
        rows.iter()
            .map(|r| Ok((r.try_get("village_code")?, r.try_get("n")?)))
            .collect()
    }

    async fn signal_village(&self, visit_id: Uuid, kind: &str) -> DbResult<Option<String>> {
        db(
            sqlx::query("SELECT village_code FROM visit_signals WHERE visit_id = $1 AND kind = $2")
                .bind(visit_id)
                .bind(kind)
                .fetch_optional(&self.pool)
                .await,
        )?
        .map(|r| Ok(r.try_get("village_code")?))
        .transpose()
    }

    async fn review_signal(&self, r: &SignalReview) -> DbResult<()> {
        let mut tx = begin_write(&self.writer).await?;
        db(
            sqlx::query("UPDATE visit_signals SET state = $3 WHERE visit_id = $1 AND kind = $2")
                .bind(r.visit_id)
                .bind(&r.kind)
                .bind(r.state)
                .execute(&mut *tx)
                .await,
        )?;
        if let Some(item) = r.discrepancy_id {
            db(sqlx::query(
                "INSERT INTO discrepancies (id, kind, household_id, village_code, visit_id, \
                 reported_at) SELECT $1, $2, v.household_id, h.village_code, v.id, $3 \
                 FROM visits v JOIN households h ON h.id = v.household_id WHERE v.id = $4",
            )
            .bind(item)
            .bind(DiscrepancyKind::SuspiciousVisit.as_str())
            .bind(r.at)
            .bind(r.visit_id)
            .execute(&mut *tx)
            .await)?;
            ledger_sql::record_in(&mut tx, RecordKind::Discrepancy, item, r.at).await?;
        }
        db(sqlx::query(
            "INSERT INTO visit_signal_reviews (id, visit_id, kind, state, comment, reviewer_id, \
             discrepancy_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(r.id)
        .bind(r.visit_id)
        .bind(&r.kind)
        .bind(r.state)
        .bind(&r.comment)
        .bind(r.reviewer_id)
        .bind(r.discrepancy_id)
        .bind(r.at)
        .execute(&mut *tx)
        .await)?;
        db(tx.commit().await)
    }

    async fn signals_of_household(
        &self,
        household_id: Uuid,
    ) -> DbResult<Vec<(Uuid, String, String, String)>> {
        let rows = db(sqlx::query(
            "SELECT visit_id, kind, detail, state FROM visit_signals WHERE household_id = $1 \
             ORDER BY visit_at, kind",
        )
        .bind(household_id)
        .fetch_all(&self.pool)
        .await)?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("visit_id")?,
                    r.try_get("kind")?,
                    r.try_get("detail")?,
                    r.try_get("state")?,
                ))
            })
            .collect()
    }
}
