// The store's SQL for roster import jobs; included by `sqlite.rs` and
// `postgres.rs` inside a module of their own (see `portable.rs` for the
// rules of portable SQL, and `imports.rs` for what each operation means).

use crate::roster::{ImportPhase, ImportReport, Problem, RosterKind};
use crate::server::db::{Claim, ImportJobRow, ImportStore, JobClock, NewImportJob, Queued};

type Conn = <Db as sqlx::Database>::Connection;

/// The key of the PostgreSQL advisory lock that claims and queueing take
/// for their transaction ("daohuimp"): they read what others hold and then
/// write, and two doing so at once must not both see the area free.
const CLAIM_LOCK_KEY: i64 = 0x6461_6f68_7569_6d70;

/// Makes this transaction the only one queueing or claiming until it ends.
/// PostgreSQL: the advisory lock above. SQLite: nothing more to do, the
/// writing transaction (`begin_write`) holds the database's one write lock.
async fn serialize_claims(conn: &mut Conn) -> DbResult<()> {
    if BACKEND == "postgres" {
        db(sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(CLAIM_LOCK_KEY)
            .execute(conn)
            .await)?;
    }
    Ok(())
}

/// Jobs whose scope overlaps `$1` (one is a prefix of the other).
const OVERLAPS: &str = "(substr(CAST($1 AS TEXT), 1, length(scope)) = scope \
     OR substr(scope, 1, length(CAST($1 AS TEXT))) = CAST($1 AS TEXT))";

/// How a dead job ends (`$1` the failure, `$2` now): failed, or done if its
/// rows were written (its instance died between that commit and saying so).
const END_DEAD: &str = "phase = CASE WHEN report_rows IS NULL THEN 'failed' ELSE 'done' END, \
     failure = CASE WHEN report_rows IS NULL THEN CAST($1 AS TEXT) END, finished_at = $2";

/// Ends every unfinished job not heard from since `stale_before`.
async fn sweep_dead_in(conn: &mut Conn, clock: JobClock) -> DbResult<u64> {
    let r = db(sqlx::query(&format!(
        "UPDATE import_jobs SET {END_DEAD} WHERE finished_at IS NULL AND heartbeat_at < $3"
    ))
    .bind(crate::text::zh::IMPORT_INTERRUPTED)
    .bind(clock.now)
    .bind(clock.stale_before)
    .execute(conn)
    .await)?;
    Ok(r.rows_affected())
}

/// Records what an import wrote, inside the transaction writing it, if the
/// job is still unfinished; whether it was (the transaction's fence). The
/// job stays unfinished, holding its area, until its runner says done.
pub(super) async fn written_job_in(
    conn: &mut Conn,
    id: Uuid,
    report: &ImportReport,
    at: DateTime<Utc>,
) -> DbResult<bool> {
    let r = db(sqlx::query(
        "UPDATE import_jobs SET report_rows = $2, report_added = $3, report_changed = $4, \
         report_unchanged = $5, heartbeat_at = $6, report_skipped = $7 \
         WHERE id = $1 AND finished_at IS NULL",
    )
    .bind(id)
    .bind(i64::from(report.rows))
    .bind(i64::from(report.added))
    .bind(i64::from(report.changed))
    .bind(i64::from(report.unchanged))
    .bind(at)
    .bind(i64::from(report.skipped))
    .execute(conn)
    .await)?;
    Ok(r.rows_affected() == 1)
}

fn phase_name(phase: &ImportPhase) -> &'static str {
    match phase {
        ImportPhase::Queued => "queued",
        ImportPhase::Reading => "reading",
        ImportPhase::Checking => "checking",
        ImportPhase::Writing => "writing",
        ImportPhase::Done(_) => "done",
        ImportPhase::Refused { .. } => "refused",
        ImportPhase::Failed(_) => "failed",
    }
}

/// Writes a finished outcome if the job is still unfinished; whether it was.
async fn finish_job_in(
    conn: &mut Conn,
    id: Uuid,
    outcome: &ImportPhase,
    at: DateTime<Utc>,
) -> DbResult<bool> {
    let (mut report, mut problems, mut problem_total, mut failure) = (None, None, None, None);
    match outcome {
        ImportPhase::Done(r) => report = Some(r),
        ImportPhase::Refused { problems: p, total } => {
            let json = serde_json::to_string(p)
                .map_err(|e| DbError::Other(sqlx::Error::Encode(e.into())))?;
            problems = Some(json);
            problem_total = Some(i64::from(*total));
        }
        ImportPhase::Failed(message) => failure = Some(message.as_str()),
        unfinished => {
            return Err(DbError::Other(sqlx::Error::Protocol(format!(
                "an import cannot finish as {}",
                phase_name(unfinished)
            ))));
        }
    }
    // A refusal or failure only ends a job that wrote nothing: one whose
    // report was recorded with its rows (and then failed in its follow-up
    // work) is done, whatever went wrong after.
    let unwritten = if report.is_some() {
        ""
    } else {
        " AND report_rows IS NULL"
    };
    let r = db(sqlx::query(&format!(
        "UPDATE import_jobs SET phase = $2, report_rows = $3, report_added = $4, \
         report_changed = $5, report_unchanged = $6, problems = $7, problem_total = $8, \
         failure = $9, finished_at = $10, heartbeat_at = $10, done_rows = total_rows, \
         report_skipped = $11 WHERE id = $1 AND finished_at IS NULL{unwritten}"
    ))
    .bind(id)
    .bind(phase_name(outcome))
    .bind(report.map(|r| i64::from(r.rows)))
    .bind(report.map(|r| i64::from(r.added)))
    .bind(report.map(|r| i64::from(r.changed)))
    .bind(report.map(|r| i64::from(r.unchanged)))
    .bind(problems)
    .bind(problem_total)
    .bind(failure)
    .bind(at)
    .bind(report.map(|r| i64::from(r.skipped)))
    .execute(&mut *conn)
    .await)?;
    if r.rows_affected() == 1 || report.is_some() {
        return Ok(r.rows_affected() == 1);
    }
    let r = db(sqlx::query(
        "UPDATE import_jobs SET phase = 'done', finished_at = $2, heartbeat_at = $2 \
         WHERE id = $1 AND finished_at IS NULL AND report_rows IS NOT NULL",
    )
    .bind(id)
    .bind(at)
    .execute(conn)
    .await)?;
    Ok(r.rows_affected() == 1)
}

const JOB_COLUMNS: &str = "id, owner_id, kind, file_name, area_name, scope, runner, phase, \
     done_rows, total_rows, report_rows, report_added, report_changed, report_unchanged, \
     COALESCE(report_skipped, 0) AS report_skipped, problems, problem_total, failure, created_at, started_at, heartbeat_at, finished_at";

fn count(row: &DbRow, column: &str) -> DbResult<u32> {
    let n: i64 = row.try_get(column)?;
    Ok(u32::try_from(n.max(0)).unwrap_or(u32::MAX))
}

fn job_from_row(row: &DbRow) -> DbResult<ImportJobRow> {
    let kind: String = row.try_get("kind")?;
    let phase: String = row.try_get("phase")?;
    let phase = match phase.as_str() {
        "queued" => ImportPhase::Queued,
        "reading" => ImportPhase::Reading,
        "checking" => ImportPhase::Checking,
        "writing" => ImportPhase::Writing,
        "done" => ImportPhase::Done(ImportReport {
            rows: count(row, "report_rows")?,
            added: count(row, "report_added")?,
            changed: count(row, "report_changed")?,
            unchanged: count(row, "report_unchanged")?,
            skipped: count(row, "report_skipped")?,
        }),
        "refused" => {
            let json: String = row.try_get("problems")?;
            let problems: Vec<Problem> =
                serde_json::from_str(&json).map_err(|_| corrupt("import problems", &json))?;
            ImportPhase::Refused {
                problems,
                total: count(row, "problem_total")?,
            }
        }
        "failed" => ImportPhase::Failed(row.try_get("failure")?),
        other => return Err(corrupt("import phase", other)),
    };
    Ok(ImportJobRow {
        id: row.try_get("id")?,
        owner_id: row.try_get("owner_id")?,
        kind: RosterKind::parse(&kind).ok_or_else(|| corrupt("roster kind", &kind))?,
        file_name: row.try_get("file_name")?,
        area_name: row.try_get("area_name")?,
        scope: row.try_get("scope")?,
        runner: row.try_get("runner")?,
        phase,
        done: count(row, "done_rows")?,
        total: count(row, "total_rows")?,
        created_at: row.try_get("created_at")?,
        started_at: row.try_get("started_at")?,
        heartbeat_at: row.try_get("heartbeat_at")?,
        finished_at: row.try_get("finished_at")?,
    })
}

/// (scope, created_at, finished) of a job.
async fn job_place(conn: &mut Conn, id: Uuid) -> DbResult<Option<(String, DateTime<Utc>, bool)>> {
    let row = db(sqlx::query(
        "SELECT scope, created_at, finished_at IS NOT NULL AS finished FROM import_jobs \
         WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await)?;
    row.map(|r| {
        Ok((
            r.try_get("scope")?,
            r.try_get("created_at")?,
            r.try_get("finished")?,
        ))
    })
    .transpose()
}

/// Whether a live job other than `id` stands before it: one overlapping its
/// scope that runs, or that was queued earlier. Jobs not heard from since
/// `alive_after` do not count.
async fn blocked(
    conn: &mut Conn,
    id: Uuid,
    scope: &str,
    created_at: DateTime<Utc>,
    alive_after: DateTime<Utc>,
) -> DbResult<bool> {
    let row = db(sqlx::query(&format!(
        "SELECT COUNT(*) AS n FROM import_jobs WHERE finished_at IS NULL AND {OVERLAPS} \
         AND id <> $2 AND heartbeat_at >= $4 \
         AND (started_at IS NOT NULL OR created_at < $3 OR (created_at = $3 AND id < $2))"
    ))
    .bind(scope)
    .bind(id)
    .bind(created_at)
    .bind(alive_after)
    .fetch_one(conn)
    .await)?;
    Ok(row.try_get::<i64, _>("n")? > 0)
}

#[async_trait]
impl ImportStore for ThisStore {
    async fn queue_import_job(
        &self,
        job: &NewImportJob<'_>,
        max_unfinished: u32,
        clock: JobClock,
        finished_before: DateTime<Utc>,
    ) -> DbResult<Queued> {
        let mut tx = begin_write(&self.writer).await?;
        serialize_claims(&mut tx).await?;
        sweep_dead_in(&mut tx, clock).await?;
        db(
            sqlx::query("DELETE FROM import_jobs WHERE finished_at < $1")
                .bind(finished_before)
                .execute(&mut *tx)
                .await,
        )?;
        let row = db(sqlx::query(&format!(
            "SELECT COUNT(*) AS n FROM import_jobs WHERE finished_at IS NULL AND {OVERLAPS}"
        ))
        .bind(job.scope)
        .fetch_one(&mut *tx)
        .await)?;
        let unfinished: i64 = row.try_get("n")?;
        if unfinished >= i64::from(max_unfinished) {
            db(tx.commit().await)?;
            return Ok(Queued::Full(u32::try_from(unfinished).unwrap_or(u32::MAX)));
        }
        db(sqlx::query(
            "INSERT INTO import_jobs (id, owner_id, kind, file_name, area_name, scope, runner, \
             phase, created_at, heartbeat_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', $8, $8)",
        )
        .bind(job.id)
        .bind(job.owner_id)
        .bind(job.kind.as_str())
        .bind(job.file_name)
        .bind(job.area_name)
        .bind(job.scope)
        .bind(job.runner)
        .bind(clock.now)
        .execute(&mut *tx)
        .await)?;
        db(tx.commit().await)?;
        Ok(Queued::Yes)
    }

    async fn claim_import_job(&self, id: Uuid, clock: JobClock) -> DbResult<Claim> {
        // A look first, outside any write: while another import runs, the
        // waiting ones only read (on SQLite a write would queue behind
        // that import's long transaction).
        let mut conn = db(self.pool.acquire().await)?;
        let Some((scope, created_at, finished)) = job_place(&mut conn, id).await? else {
            return Ok(Claim::Ended);
        };
        if finished {
            return Ok(Claim::Ended);
        }
        if blocked(&mut conn, id, &scope, created_at, clock.stale_before).await? {
            return Ok(Claim::Wait);
        }
        drop(conn);
        let mut tx = begin_write(&self.writer).await?;
        serialize_claims(&mut tx).await?;
        sweep_dead_in(&mut tx, clock).await?;
        let claim = match job_place(&mut tx, id).await? {
            None | Some((_, _, true)) => Claim::Ended,
            Some(_) if blocked(&mut tx, id, &scope, created_at, clock.stale_before).await? => {
                Claim::Wait
            }
            Some(_) => {
                db(sqlx::query(
                    "UPDATE import_jobs SET phase = 'reading', started_at = $2, heartbeat_at = $2 \
                     WHERE id = $1 AND finished_at IS NULL",
                )
                .bind(id)
                .bind(clock.now)
                .execute(&mut *tx)
                .await)?;
                Claim::Claimed
            }
        };
        db(tx.commit().await)?;
        Ok(claim)
    }

    async fn beat_import_job(
        &self,
        id: Uuid,
        progress: Option<(&ImportPhase, u32, u32)>,
        now: DateTime<Utc>,
    ) -> DbResult<bool> {
        let r = match progress {
            None => db(sqlx::query(
                "UPDATE import_jobs SET heartbeat_at = $2 WHERE id = $1 AND finished_at IS NULL",
            )
            .bind(id)
            .bind(now)
            .execute(&self.writer)
            .await)?,
            Some((phase, done, total)) => db(sqlx::query(
                "UPDATE import_jobs SET heartbeat_at = $2, phase = $3, done_rows = $4, \
                 total_rows = $5 WHERE id = $1 AND finished_at IS NULL AND started_at IS NOT NULL",
            )
            .bind(id)
            .bind(now)
            .bind(phase_name(phase))
            .bind(i64::from(done))
            .bind(i64::from(total))
            .execute(&self.writer)
            .await)?,
        };
        Ok(r.rows_affected() == 1)
    }

    async fn finish_import_job(
        &self,
        id: Uuid,
        outcome: &ImportPhase,
        now: DateTime<Utc>,
    ) -> DbResult<bool> {
        let mut conn = db(self.writer.acquire().await)?;
        finish_job_in(&mut conn, id, outcome, now).await
    }

    async fn import_job(
        &self,
        id: Uuid,
        owner_id: Uuid,
        clock: JobClock,
    ) -> DbResult<Option<ImportJobRow>> {
        let select =
            format!("SELECT {JOB_COLUMNS} FROM import_jobs WHERE id = $1 AND owner_id = $2");
        let read = || async {
            let row = db(sqlx::query(&select)
                .bind(id)
                .bind(owner_id)
                .fetch_optional(&self.pool)
                .await)?;
            row.as_ref().map(job_from_row).transpose()
        };
        let Some(job) = read().await? else {
            return Ok(None);
        };
        if job.finished_at.is_some() || job.heartbeat_at >= clock.stale_before {
            return Ok(Some(job));
        }
        // Its instance stopped beating: end it, unless it finished (or beat)
        // meanwhile, which the condition checks again.
        let failed = sqlx::query(&format!(
            "UPDATE import_jobs SET {END_DEAD} \
             WHERE id = $4 AND finished_at IS NULL AND heartbeat_at < $3"
        ))
        .bind(crate::text::zh::IMPORT_INTERRUPTED)
        .bind(clock.now)
        .bind(clock.stale_before)
        .bind(id)
        .execute(&self.writer)
        .await;
        if let Err(e) = failed {
            // SQLite's one writer may be a long import's write: the job is
            // shown as it stands, and the next read tries again.
            tracing::info!(error = %e, "failing a dead import job");
            return Ok(Some(job));
        }
        read().await
    }
}
