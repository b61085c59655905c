// The store's SQL for derived work and schedules (migration 0010); included
// by `sqlite.rs` and `postgres.rs` inside a module of their own (see
// `portable.rs` for the rules of portable SQL).

use crate::server::db::{Backlog, ClaimedWork, DerivedStore, IncomeWork};

#[async_trait]
impl DerivedStore for ThisStore {
    async fn queue_income_work(&self, work: &[IncomeWork]) -> DbResult<()> {
        let mut tx = begin_write(&self.writer).await?;
        queue_income_work_in(&mut tx, work.iter().copied(), Utc::now()).await?;
        db(tx.commit().await)
    }

    async fn claim_income_work(
        &self,
        limit: i64,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> DbResult<Vec<ClaimedWork>> {
        let rows = db(sqlx::query(&format!(
            "UPDATE derived_work SET claimed_until = $1, attempts = attempts + 1 \
             WHERE (kind, household_id, stat_year) IN ( \
                 SELECT kind, household_id, stat_year FROM derived_work \
                 WHERE kind = 'income' AND (claimed_until IS NULL OR claimed_until < $2) \
                 ORDER BY queued_at LIMIT $3{SKIP_LOCKED}) \
             RETURNING household_id, stat_year, version, queued_at"
        ))
        .bind(until)
        .bind(now)
        .bind(limit)
        .fetch_all(&self.writer)
        .await)?;
        rows.iter()
            .map(|r| {
                Ok(ClaimedWork {
                    work: IncomeWork {
                        household_id: r.try_get("household_id")?,
                        stat_year: r.try_get("stat_year")?,
                    },
                    version: r.try_get("version")?,
                    queued_at: r.try_get("queued_at")?,
                })
            })
            .collect()
    }

    async fn income_backlog(&self) -> DbResult<Backlog> {
        let r = db(sqlx::query(
            "SELECT COUNT(*) AS pending, MIN(queued_at) AS oldest FROM derived_work",
        )
        .fetch_one(&self.pool)
        .await)?;
        Ok(Backlog {
            pending: r.try_get("pending")?,
            oldest: r.try_get("oldest")?,
        })
    }

    async fn claim_schedule(
        &self,
        name: &str,
        now: DateTime<Utc>,
        next: DateTime<Utc>,
        runner: &str,
        first_due: Option<DateTime<Utc>>,
    ) -> DbResult<bool> {
        let mut tx = begin_write(&self.writer).await?;
        if let Some(first_due) = first_due {
            db(sqlx::query(
                "INSERT INTO schedules (name, next_run_at, runs) VALUES ($1, $2, 0) \
                 ON CONFLICT (name) DO NOTHING",
            )
            .bind(name)
            .bind(first_due)
            .execute(&mut *tx)
            .await)?;
        }
        // Row-level atomic on both backends: of the instances that find the
        // run due, the first to update moves it on and the rest match
        // nothing (PostgreSQL re-checks the condition after waiting).
        let claimed = db(sqlx::query(
            "UPDATE schedules SET next_run_at = $2, runs = runs + 1, last_run_at = $3, \
             last_runner = $4 WHERE name = $1 AND next_run_at <= $3",
        )
        .bind(name)
        .bind(next)
        .bind(now)
        .bind(runner)
        .execute(&mut *tx)
        .await)?
        .rows_affected();
        db(tx.commit().await)?;
        Ok(claimed == 1)
    }

    async fn put_off_schedule(
        &self,
        name: &str,
        claimed_next: DateTime<Utc>,
        next: DateTime<Utc>,
    ) -> DbResult<bool> {
        let moved = db(sqlx::query(
            "UPDATE schedules SET next_run_at = $3 WHERE name = $1 AND next_run_at = $2",
        )
        .bind(name)
        .bind(claimed_next)
        .bind(next)
        .execute(&self.writer)
        .await)?
        .rows_affected();
        Ok(moved == 1)
    }

    async fn schedule_runs(&self, name: &str) -> DbResult<i64> {
        Ok(db(sqlx::query("SELECT runs FROM schedules WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await)?
        .map(|r| r.try_get("runs"))
        .transpose()?
        .unwrap_or(0))
    }
}
