// The store's SQL, written once in the dialect SQLite and PostgreSQL share
// and compiled once per backend: `sqlite.rs` and `postgres.rs` each define
// `Db`, `ThisStore` and `BACKEND` and then include this file. Rules for
// keeping it portable: `$n` placeholders, `CAST(SUM(..) AS BIGINT)` (PG sums
// bigints into numeric), no ILIKE, no backend-only functions (the one
// exception, a visit's China date, comes from the backend file as
// `CHINA_DAY_OF_VISIT`). Money: a roll-up counts each stored amount
// through `counted` (within the bound, whatever a row holds), and a report
// that adds roll-up rows sums through `split_sum`, which no row can
// overflow on either backend.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Row;
use uuid::Uuid;

use crate::areas::{Area, AreaCode, AreaSummary, RecentVisit, UnvisitedHousehold, WorkerProgress};
use crate::auth::Role;
use crate::discrepancies::{DiscrepancyAction, DiscrepancyKind, Resolution};
use crate::households::{Category, HealthStatus, LabourStatus};
use crate::income::{IncomeKind, IncomeLine};
use crate::ledger::RecordKind;
use crate::plans::{MeasureStatus, MeasureUpdate};
use crate::reports::{DispatchFigure, Progress};
use crate::server::db::{
    AssignTarget, AssignmentRecord, AuditEvent, ConflictRecord, DbError, DbResult,
    DiscrepancyCount, DiscrepancyEvent, DiscrepancyQuery, DiscrepancyRecord, DiscrepancyStatus,
    EntitlementRecord, EntitlementRow, HouseholdQuery, HouseholdRecord, HouseholdRow, MemberRecord,
    NotReady, PoolStats, READY_TIMEOUT, ReviewRecord, RosterWrite, Store, StoredVisit, UserRecord,
    VisitInsert, VisitRecord,
};
use crate::subsidies::{Channel, Fen, IncomeBucket, SubsidyItem};
use crate::users::UserSummary;
use crate::visits::{
    EvidenceFor, LineEvidence, Location, PaymentStatus, ReviewState, ShortfallReason, Signature,
    VerificationLine, VisitSubmission,
};

type DbRow = <Db as sqlx::Database>::Row;

fn corrupt(what: &str, value: &str) -> DbError {
    DbError::Other(sqlx::Error::Decode(
        format!("unexpected {what} in database: {value:?}").into(),
    ))
}

fn area_code(value: String) -> DbResult<AreaCode> {
    AreaCode::parse(&value).map_err(|_| corrupt("area code", &value))
}

fn user_from_row(row: &DbRow) -> DbResult<UserRecord> {
    let role: String = row.try_get("role")?;
    Ok(UserRecord {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        role: Role::parse(&role).ok_or_else(|| corrupt("role", &role))?,
        area: area_code(row.try_get("area_code")?)?,
        password_hash: row.try_get("password_hash")?,
        active: row.try_get("active")?,
    })
}

fn category_from_row(row: &DbRow) -> DbResult<Category> {
    let category: String = row.try_get("category")?;
    let kind: Option<String> = row.try_get("monitoring_kind")?;
    Category::from_columns(&category, kind.as_deref())
        .ok_or_else(|| corrupt("category", &format!("{category}/{kind:?}")))
}

fn item_from_row(row: &DbRow) -> DbResult<SubsidyItem> {
    let bucket: String = row.try_get("bucket")?;
    let channel: String = row.try_get("default_channel")?;
    Ok(SubsidyItem {
        code: row.try_get("code")?,
        name: row.try_get("name")?,
        bucket: IncomeBucket::parse(&bucket).ok_or_else(|| corrupt("bucket", &bucket))?,
        counts_as_income: row.try_get("counts_as_income")?,
        default_channel: Channel::parse(&channel).ok_or_else(|| corrupt("channel", &channel))?,
    })
}

fn member_from_row(r: &DbRow) -> DbResult<MemberRecord> {
    let labour: String = r.try_get("labour")?;
    let health: String = r.try_get("health")?;
    Ok(MemberRecord {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        relation: r.try_get("relation")?,
        id_number: r.try_get("id_number")?,
        labour: LabourStatus::parse(&labour).ok_or_else(|| corrupt("labour", &labour))?,
        health: HealthStatus::parse(&health).ok_or_else(|| corrupt("health", &health))?,
    })
}

const HOUSEHOLD_COLUMNS: &str =
    "id, number, head_name, category, monitoring_kind, relocated, village_code, worker_id, phone";

fn household_from_row(h: &DbRow, members: Vec<MemberRecord>) -> DbResult<HouseholdRecord> {
    Ok(HouseholdRecord {
        id: h.try_get("id")?,
        number: h.try_get("number")?,
        head_name: h.try_get("head_name")?,
        category: category_from_row(h)?,
        relocated: h.try_get("relocated")?,
        village: area_code(h.try_get("village_code")?)?,
        worker_id: h.try_get("worker_id")?,
        phone: h.try_get("phone")?,
        members,
    })
}

fn entitlement_from_row(r: &DbRow) -> DbResult<EntitlementRecord> {
    let channel: String = r.try_get("channel")?;
    Ok(EntitlementRecord {
        id: r.try_get("id")?,
        household_id: r.try_get("household_id")?,
        item_code: r.try_get("item_code")?,
        stat_year: r.try_get("stat_year")?,
        expected_fen: r.try_get("expected_fen")?,
        expected_date: r.try_get("expected_date")?,
        department: r.try_get("department")?,
        channel: Channel::parse(&channel).ok_or_else(|| corrupt("channel", &channel))?,
    })
}

/// Keys per `IN (..)` query and rows per multi-row `INSERT`: well inside
/// both backends' limits on bound parameters.
const CHUNK: usize = 500;

/// A stored amount in SQL as every roll-up counts it: within 0 ..= the
/// bound (`Fen::counted`, the same rule in Rust). A row stored before the
/// bound, or written around the services, cannot overflow a sum.
fn counted(amount: &str) -> String {
    at_most(amount, Fen::MAX.0)
}

/// `value` in SQL, held within 0 ..= `max`.
fn at_most(value: &str, max: i64) -> String {
    format!("(CASE WHEN {value} > {max} THEN {max} WHEN {value} < 0 THEN 0 ELSE {value} END)")
}

/// `a + b` in SQL, held within i64 on both backends (PostgreSQL raises
/// "bigint out of range", SQLite turns to floating point): a row written
/// around the services must not make the next delta fail.
fn saturating_add(a: &str, b: &str) -> String {
    format!(
        "(CASE WHEN {b} > 0 AND {a} > 9223372036854775807 - {b} THEN 9223372036854775807 \
         WHEN {b} < 0 AND {a} < (-9223372036854775807 - 1) - {b} \
         THEN (-9223372036854775807 - 1) ELSE {a} + {b} END)"
    )
}

/// `SUM(expr)` that no row values can overflow, as two columns
/// `{alias}_hi` and `{alias}_lo`: the sums of each value's quotient and
/// remainder by 2³² (truncating, alike on both backends), each of which
/// stays within i64 for fewer than 2³¹ rows. [`split_sum_of`] joins them.
/// (SQLite's SUM raises "integer overflow" past i64; PostgreSQL's sums
/// into numeric, which then fails to cast back.)
fn split_sum(expr: &str, alias: &str) -> String {
    format!(
        "CAST(SUM(({expr}) / 4294967296) AS BIGINT) AS {alias}_hi, \
         CAST(SUM(({expr}) % 4294967296) AS BIGINT) AS {alias}_lo"
    )
}

/// The exact sum behind [`split_sum`]'s two columns, saturated into i64.
fn split_sum_of(r: &DbRow, alias: &str) -> DbResult<i64> {
    let hi: Option<i64> = r.try_get(format!("{alias}_hi").as_str())?;
    let lo: Option<i64> = r.try_get(format!("{alias}_lo").as_str())?;
    let wide = (i128::from(hi.unwrap_or(0)) << 32) + i128::from(lo.unwrap_or(0));
    Ok(crate::subsidies::saturate(wide))
}

const USER_COLUMNS: &str =
    "u.id, u.username, u.display_name, u.role, u.area_code, u.password_hash, u.active";

fn db<T>(r: Result<T, sqlx::Error>) -> DbResult<T> {
    r.map_err(DbError::from_sqlx)
}

/// Starts a transaction that will write. SQLite: `BEGIN IMMEDIATE` takes
/// the database's one write lock at once, waiting up to the busy timeout.
/// A deferred transaction that reads first cannot become a writer once
/// another connection has committed meanwhile (`SQLITE_BUSY_SNAPSHOT`,
/// which no busy timeout waits out): under load that answered a sync 500.
async fn begin_write(pool: &sqlx::Pool<Db>) -> DbResult<sqlx::Transaction<'static, Db>> {
    db(pool.begin_with(BEGIN_WRITE).await)
}

/// Binds each value and closes the list: the tail of an `IN (` clause.
fn push_in_list<'a, T>(q: &mut sqlx::QueryBuilder<'a, Db>, values: impl IntoIterator<Item = T>)
where
    T: 'a + sqlx::Encode<'a, Db> + sqlx::Type<Db> + Send,
{
    let mut list = q.separated(", ");
    for v in values {
        list.push_bind(v);
    }
    q.push(")");
}

/// Locks these villages' area rows, in code order, before their roll-ups
/// are rewritten (PostgreSQL; SQLite's one writer needs no lock). Two
/// transactions refreshing one village would each delete, then both insert
/// (a duplicate key), and the later could write totals that miss the
/// earlier's rows: the lock makes the second wait and then read the
/// first's committed rows.
async fn lock_villages<'v>(
    tx: &mut sqlx::Transaction<'_, Db>,
    villages: impl IntoIterator<Item = &'v str>,
) -> DbResult<()> {
    if LOCK_ROWS.is_empty() {
        return Ok(());
    }
    let mut q = sqlx::QueryBuilder::<Db>::new("SELECT code FROM areas WHERE code IN (");
    push_in_list(&mut q, villages);
    q.push(format!(" ORDER BY code{LOCK_ROWS}"));
    db(q.build().fetch_all(&mut **tx).await)?;
    Ok(())
}

/// The line statuses the dispatch table counts as paid (到户), and the one
/// it counts as paid in full (足额到户).
const PAID: &str = "'received_in_full', 'received_in_part'";
const FULL: &str = "'received_in_full'";

/// Rewrites the dispatch roll-ups (`rollup_due`, `rollup_paid`, see
/// migration 0007) of these villages from their rows, inside the caller's
/// transaction: every write that changes what a village is due or was
/// verified to have received calls this before committing.
async fn refresh_rollups(
    tx: &mut sqlx::Transaction<'_, Db>,
    villages: &std::collections::BTreeSet<String>,
) -> DbResult<()> {
    let villages: Vec<&String> = villages.iter().collect();
    for chunk in villages.chunks(CHUNK) {
        lock_villages(tx, chunk.iter().map(|v| v.as_str())).await?;
        for table in ["rollup_due", "rollup_paid"] {
            let mut q = sqlx::QueryBuilder::<Db>::new(format!(
                "DELETE FROM {table} WHERE village_code IN ("
            ));
            push_in_list(&mut q, chunk.iter().copied());
            db(q.build().execute(&mut **tx).await)?;
        }
        let mut q = sqlx::QueryBuilder::<Db>::new(format!(
            "INSERT INTO rollup_due (village_code, item_code, stat_year, due, due_fen) \
             SELECT h.village_code, e.item_code, e.stat_year, COUNT(*), \
                    CAST(SUM({}) AS BIGINT) \
             FROM households h JOIN entitlements e ON e.household_id = h.id \
             WHERE h.village_code IN (",
            counted("e.expected_fen")
        ));
        push_in_list(&mut q, chunk.iter().copied());
        q.push(" GROUP BY h.village_code, e.item_code, e.stat_year");
        db(q.build().execute(&mut **tx).await)?;
        // Each verification line counts itself minus what the previous
        // verification of the same payment counted, on the day it was made:
        // as paid (in full or in part), and as paid in full.
        let mut q = sqlx::QueryBuilder::<Db>::new(format!(
            "INSERT INTO rollup_paid (village_code, item_code, stat_year, day, paid, paid_fen, \
                                      full_paid, full_fen) \
             SELECT village_code, item_code, stat_year, day, \
                    CAST(SUM(d_paid) AS BIGINT), CAST(SUM(d_fen) AS BIGINT), \
                    CAST(SUM(d_full) AS BIGINT), CAST(SUM(d_full_fen) AS BIGINT) \
             FROM ( \
                 SELECT h.village_code, e.item_code, e.stat_year, {CHINA_DAY_OF_VISIT} AS day, \
                        x.paid - COALESCE(LAG(x.paid) OVER w, 0) AS d_paid, \
                        x.fen - COALESCE(LAG(x.fen) OVER w, 0) AS d_fen, \
                        x.full_paid - COALESCE(LAG(x.full_paid) OVER w, 0) AS d_full, \
                        x.full_fen - COALESCE(LAG(x.full_fen) OVER w, 0) AS d_full_fen \
                 FROM ( \
                     SELECT l.entitlement_id, l.visit_id, \
                            CASE WHEN l.status IN ({PAID}) THEN 1 ELSE 0 END AS paid, \
                            CASE WHEN l.status IN ({PAID}) THEN {received} ELSE 0 END AS fen, \
                            CASE WHEN l.status = {FULL} THEN 1 ELSE 0 END AS full_paid, \
                            CASE WHEN l.status = {FULL} THEN {received} ELSE 0 END AS full_fen \
                     FROM verification_lines l \
                 ) x \
                 JOIN visits v ON v.id = x.visit_id \
                 JOIN entitlements e ON e.id = x.entitlement_id \
                 JOIN households h ON h.id = e.household_id \
                 WHERE h.village_code IN (",
            received = counted("COALESCE(l.received_fen, 0)"),
        ));
        push_in_list(&mut q, chunk.iter().copied());
        q.push(
            " WINDOW w AS (PARTITION BY x.entitlement_id ORDER BY v.started_at, v.id) \
             ) d \
             GROUP BY village_code, item_code, stat_year, day \
             HAVING SUM(d_paid) <> 0 OR SUM(d_fen) <> 0 OR SUM(d_full) <> 0 OR SUM(d_full_fen) <> 0",
        );
        db(q.build().execute(&mut **tx).await)?;
    }
    Ok(())
}

/// Queues `work` in the caller's transaction (migration 0010): in key
/// order, so that two transactions queueing for the same households take
/// the rows' locks in one order. Work already queued coalesces: its
/// version moves on, so the worker doing it now leaves it for another
/// round; if a worker had claimed it, the claim is dropped and the wait
/// counts from this write.
async fn queue_income_work_in(
    tx: &mut sqlx::Transaction<'_, Db>,
    work: impl IntoIterator<Item = crate::server::db::IncomeWork>,
    now: DateTime<Utc>,
) -> DbResult<()> {
    let work: std::collections::BTreeSet<crate::server::db::IncomeWork> =
        work.into_iter().collect();
    let work: Vec<_> = work.into_iter().collect();
    for chunk in work.chunks(CHUNK / 2) {
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "INSERT INTO derived_work (kind, household_id, stat_year, version, queued_at) ",
        );
        q.push_values(chunk, |mut b, w| {
            b.push("'income'")
                .push_bind(w.household_id)
                .push_bind(w.stat_year)
                .push("1")
                .push_bind(now);
        });
        q.push(
            " ON CONFLICT (kind, household_id, stat_year) DO UPDATE SET \
             version = derived_work.version + 1, \
             queued_at = CASE WHEN derived_work.claimed_until IS NULL \
                              THEN derived_work.queued_at ELSE excluded.queued_at END, \
             claimed_until = NULL",
        );
        db(q.build().execute(&mut **tx).await)?;
    }
    Ok(())
}

/// Deletes the claimed work whose result the caller's transaction stores,
/// each only at the version claimed (a write since leaves it queued), in
/// key order (see [`queue_income_work_in`]).
async fn finish_income_work_in(
    tx: &mut sqlx::Transaction<'_, Db>,
    done: &[crate::server::db::ClaimedWork],
) -> DbResult<()> {
    let mut done: Vec<_> = done.to_vec();
    done.sort_by_key(|c| c.work);
    for c in done {
        db(sqlx::query(
            "DELETE FROM derived_work WHERE kind = 'income' AND household_id = $1 \
             AND stat_year = $2 AND version = $3",
        )
        .bind(c.work.household_id)
        .bind(c.work.stat_year)
        .bind(c.version)
        .execute(&mut **tx)
        .await)?;
    }
    Ok(())
}

/// A monitored household's identification date when it enters Daohu
/// (the roster does not carry one): today in China; `None` for others.
fn identified_on(h: &HouseholdRecord) -> Option<NaiveDate> {
    h.category
        .is_monitored()
        .then(|| crate::subsidies::china_date(Utc::now()))
}

/// The villages of these households, as stored now.
async fn villages_of(
    tx: &mut sqlx::Transaction<'_, Db>,
    households: &[Uuid],
) -> DbResult<std::collections::BTreeSet<String>> {
    let mut villages = std::collections::BTreeSet::new();
    for chunk in households.chunks(CHUNK) {
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "SELECT DISTINCT village_code FROM households WHERE id IN (",
        );
        push_in_list(&mut q, chunk.iter().copied());
        for r in db(q.build().fetch_all(&mut **tx).await)? {
            villages.insert(r.try_get("village_code")?);
        }
    }
    Ok(villages)
}

#[async_trait]
impl Store for ThisStore {
    async fn migrate(&self) -> DbResult<()> {
        self.run_migrations()
            .await
            .map_err(|e| DbError::Other(sqlx::Error::Migrate(Box::new(e))))?;
        let items = crate::subsidies::parse_catalogue(crate::subsidies::DEFAULT_CATALOGUE_TSV)
            .map_err(|e| corrupt("catalogue", &e))?;
        let mut tx = begin_write(&self.writer).await?;
        for item in items {
            db(sqlx::query(
                "INSERT INTO subsidy_items (code, name, bucket, counts_as_income, default_channel) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO NOTHING",
            )
            .bind(&item.code)
            .bind(&item.name)
            .bind(item.bucket.as_str())
            .bind(item.counts_as_income)
            .bind(item.default_channel.as_str())
            .execute(&mut *tx)
            .await)?;
        }
        db(tx.commit().await)
    }

    async fn startup_lock(&self) -> DbResult<crate::server::db::StartupLock> {
        self.take_startup_lock().await
    }

    fn backend(&self) -> &'static str {
        BACKEND
    }

    async fn ready(&self) -> Result<(), NotReady> {
        let probe = async {
            let mut conn = self
                .pool
                .acquire()
                .await
                .map_err(|_| NotReady::Unreachable)?;
            let applied: Vec<i64> =
                sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(|e| match e {
                        // The database answered: it has no migrations table
                        // (a fresh database), so nothing is applied.
                        sqlx::Error::Database(_) => NotReady::MigrationsPending(
                            MIGRATOR
                                .iter()
                                .filter(|m| m.migration_type.is_up_migration())
                                .count(),
                        ),
                        _ => NotReady::Unreachable,
                    })?;
            let missing = MIGRATOR
                .iter()
                .filter(|m| m.migration_type.is_up_migration() && !applied.contains(&m.version))
                .count();
            if missing == 0 {
                Ok(())
            } else {
                Err(NotReady::MigrationsPending(missing))
            }
        };
        tokio::time::timeout(READY_TIMEOUT, probe)
            .await
            .unwrap_or(Err(NotReady::Unreachable))
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.pool.options().get_max_connections(),
        }
    }

    async fn upsert_areas(&self, areas: &[Area]) -> DbResult<()> {
        let mut tx = begin_write(&self.writer).await?;
        for area in areas {
            db(sqlx::query(
                "INSERT INTO areas (code, name, level, parent_code) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name",
            )
            .bind(area.code.as_str())
            .bind(&area.name)
            .bind(area.level().as_i32())
            .bind(area.code.parent().map(String::from))
            .execute(&mut *tx)
            .await)?;
        }
        db(tx.commit().await)
    }

    async fn area(&self, code: &AreaCode) -> DbResult<Option<Area>> {
        let row = db(sqlx::query("SELECT code, name FROM areas WHERE code = $1")
            .bind(code.as_str())
            .fetch_optional(&self.pool)
            .await)?;
        row.map(|r| {
            Ok(Area {
                code: area_code(r.try_get("code")?)?,
                name: r.try_get("name")?,
            })
        })
        .transpose()
    }

    async fn child_areas(&self, parent: &AreaCode) -> DbResult<Vec<Area>> {
        let rows = db(sqlx::query(
            "SELECT code, name FROM areas WHERE parent_code = $1 ORDER BY code",
        )
        .bind(parent.as_str())
        .fetch_all(&self.pool)
        .await)?;
        rows.iter()
            .map(|r| {
                Ok(Area {
                    code: area_code(r.try_get("code")?)?,
                    name: r.try_get("name")?,
                })
            })
            .collect()
    }

    async fn child_area_summaries(
        &self,
        parent: &AreaCode,
        stat_year: i32,
    ) -> DbResult<Vec<AreaSummary>> {
        let Some(child_level) = parent.level().child() else {
            return Ok(Vec::new());
        };
        let (lo, hi) = parent.subtree_range();
        // Households are grouped by the child's prefix of their village code;
        // the range keeps the scan on the village index, and "visited" is
        // one probe of the visits' household index per household.
        let visited = visited_in_year("$5");
        let rows = db(sqlx::query(&format!(
            "SELECT a.code, a.name, \
                    COALESCE(h.households, 0) AS households, \
                    COALESCE(h.monitored, 0) AS monitored, \
                    COALESCE(h.unassigned, 0) AS unassigned, \
                    COALESCE(h.visited, 0) AS visited \
             FROM areas a \
             LEFT JOIN ( \
                 SELECT substr(h.village_code, 1, $1) AS prefix, \
                        COUNT(*) AS households, \
                        CAST(SUM(CASE WHEN h.category = 'monitored' THEN 1 ELSE 0 END) AS BIGINT) AS monitored, \
                        CAST(SUM(CASE WHEN {TO_ASSIGN} THEN 1 ELSE 0 END) AS BIGINT) AS unassigned, \
                        CAST(SUM(CASE WHEN {visited} THEN 1 ELSE 0 END) AS BIGINT) AS visited \
                 FROM households h WHERE h.village_code BETWEEN $2 AND $3 \
                 GROUP BY 1 \
             ) h ON substr(a.code, 1, $1) = h.prefix \
             WHERE a.parent_code = $4 \
             ORDER BY a.code",
        ))
        .bind(child_level.prefix_len() as i32)
        .bind(lo)
        .bind(hi)
        .bind(parent.as_str())
        .bind(stat_year)
        .fetch_all(&self.pool)
        .await)?;
        rows.iter()
            .map(|r| {
                Ok(AreaSummary {
                    area: Area {
                        code: area_code(r.try_get("code")?)?,
                        name: r.try_get("name")?,
                    },
                    households: r.try_get("households")?,
                    monitored: r.try_get("monitored")?,
                    unassigned: r.try_get("unassigned")?,
                    visited: r.try_get("visited")?,
                })
            })
            .collect()
    }

    async fn worker_progress(
        &self,
        area: &AreaCode,
        stat_year: i32,
    ) -> DbResult<Vec<WorkerProgress>> {
        let (lo, hi) = area.subtree_range();
        let visited = visited_in_year("$3");
        // Workers bound inside the area appear even with no households yet
        // (a supervisor should see an idle worker); workers bound elsewhere
        // appear only for the households they hold here.
        // The area's households are counted once, per worker, and then
        // joined to the workers: joining every worker of the province to
        // the households instead probed the household index 16,000 times.
        let rows = db(sqlx::query(&format!(
            "SELECT u.id, u.display_name, \
                    CAST(COALESCE(c.households, 0) AS BIGINT) AS households, \
                    CAST(COALESCE(c.visited, 0) AS BIGINT) AS visited \
             FROM users u \
             LEFT JOIN ( \
                 SELECT h.worker_id, COUNT(*) AS households, \
                        SUM(CASE WHEN {visited} THEN 1 ELSE 0 END) AS visited \
                 FROM households h \
                 WHERE h.village_code BETWEEN $1 AND $2 AND h.worker_id IS NOT NULL \
                 GROUP BY h.worker_id \
             ) c ON c.worker_id = u.id \
             WHERE u.role = 'field_worker' \
               AND ((u.active AND u.area_code BETWEEN $1 AND $2) OR c.worker_id IS NOT NULL) \
             ORDER BY u.display_name, u.id",
        ))
        .bind(lo)
        .bind(hi)
        .bind(stat_year)
        .fetch_all(&self.pool)
        .await)?;
        rows.iter()
            .map(|r| {
                Ok(WorkerProgress {
                    worker_id: r.try_get("id")?,
                    name: r.try_get("display_name")?,
                    households: r.try_get("households")?,
                    visited: r.try_get("visited")?,
                })
            })
            .collect()
    }

    async fn unvisited_households(
        &self,
        area: &AreaCode,
        stat_year: i32,
        limit: i64,
    ) -> DbResult<Vec<UnvisitedHousehold>> {
        let (lo, hi) = area.subtree_range();
        let visited = visited_in_year("$3");
        let rows = db(sqlx::query(&format!(
            "SELECT h.id, h.number, h.head_name, a.name AS village, u.display_name AS worker \
             FROM households h \
             JOIN areas a ON a.code = h.village_code \
             LEFT JOIN users u ON u.id = h.worker_id AND u.active \
             WHERE h.village_code BETWEEN $1 AND $2 AND NOT {visited} \
             ORDER BY h.village_code, h.number \
             LIMIT $4",
        ))
        .bind(lo)
        .bind(hi)
        .bind(stat_year)
        .bind(limit)
        .fetch_all(&self.pool)
        .await)?;
        rows.iter()
            .map(|r| {
                Ok(UnvisitedHousehold {
                    id: r.try_get("id")?,
                    number: r.try_get("number")?,
                    head_name: r.try_get("head_name")?,
                    village: r.try_get("village")?,
                    worker: r.try_get("worker")?,
                })
            })
            .collect()
    }

    async fn dispatch_due(&self, area: &AreaCode, stat_year: i32) -> DbResult<Vec<DispatchFigure>> {
        let child_len = area.level().child().unwrap_or(area.level()).prefix_len();
        let (lo, hi) = area.subtree_range();
        let rows = db(sqlx::query(&format!(
            "SELECT substr(village_code, 1, $1) AS child, item_code, {}, {}, \
                    {NO_PAID} \
             FROM rollup_due \
             WHERE village_code BETWEEN $2 AND $3 AND stat_year = $4 \
             GROUP BY 1, 2",
            split_sum("due", "due"),
            split_sum("due_fen", "due_fen"),
        ))
        .bind(child_len as i32)
        .bind(lo)
        .bind(hi)
        .bind(stat_year)
        .fetch_all(&self.pool)
        .await)?;
        rows.iter().map(dispatch_figure_from_row).collect()
    }

    async fn dispatch_paid(
        &self,
        area: &AreaCode,
        stat_year: i32,
        as_of: NaiveDate,
    ) -> DbResult<Vec<DispatchFigure>> {
        let child_len = area.level().child().unwrap_or(area.level()).prefix_len();
        let (lo, hi) = area.subtree_range();
        // The days' changes up to `as_of` add up to the state at its end.
        let rows = db(sqlx::query(&format!(
            "SELECT substr(village_code, 1, $1) AS child, item_code, \
                    CAST(0 AS BIGINT) AS due_hi, CAST(0 AS BIGINT) AS due_lo, \
                    CAST(0 AS BIGINT) AS due_fen_hi, CAST(0 AS BIGINT) AS due_fen_lo, \
                    {}, {}, {}, {} \
             FROM rollup_paid \
             WHERE village_code BETWEEN $2 AND $3 AND stat_year = $4 AND day <= $5 \
             GROUP BY 1, 2",
            split_sum("paid", "paid"),
            split_sum("paid_fen", "paid_fen"),
            split_sum("full_paid", "full_paid"),
            split_sum("full_fen", "full_fen"),
        ))
        .bind(child_len as i32)
        .bind(lo)
        .bind(hi)
        .bind(stat_year)
        .bind(as_of)
        .fetch_all(&self.pool)
        .await)?;
        // Changes that cancel out leave nothing to show (an SQL `HAVING`
        // would sum again, unsplit).
        let figures: Vec<DispatchFigure> = rows
            .iter()
            .map(dispatch_figure_from_row)
            .collect::<DbResult<_>>()?;
        Ok(figures
            .into_iter()
            .filter(|f| f.progress != Progress::default())
            .collect())
    }

    async fn recent_visits(&self, area: &AreaCode, limit: i64) -> DbResult<Vec<RecentVisit>> {
        let (lo, hi) = area.subtree_range();
        let rows = db(sqlx::query(
            "SELECT v.id, v.household_id, h.head_name, a.name AS village, \
                    u.display_name AS worker, v.started_at, \
                    (SELECT COUNT(*) FROM verification_lines l \
                     WHERE l.visit_id = v.id \
                       AND l.status IN ('received_in_part', 'not_received')) AS shortfalls, \
                    (SELECT COUNT(*) FROM verification_lines l \
                     WHERE l.visit_id = v.id AND l.status = 'not_due_yet') AS not_due_yet, \
                    (SELECT COUNT(*) FROM verification_lines l \
                     WHERE l.visit_id = v.id) AS lines \
             FROM households h \
             JOIN visits v ON v.household_id = h.id \
             JOIN areas a ON a.code = h.village_code \
             JOIN users u ON u.id = v.worker_id \
             WHERE h.village_code BETWEEN $1 AND $2 \
             ORDER BY v.started_at DESC, v.id DESC \
             LIMIT $3",
        )
        .bind(lo)
        .bind(hi)
        .bind(limit)
        .fetch_all(&self.pool)
        .await)?;
        rows.iter()
            .map(|r| {
                Ok(RecentVisit {
                    visit_id: r.try_get("id")?,
                    household_id: r.try_get("household_id")?,
                    head_name: r.try_get("head_name")?,
                    village: r.try_get("village")?,
                    worker: r.try_get("worker")?,
                    started_at: r.try_get("started_at")?,
                    shortfalls: r.try_get("shortfalls")?,
                    not_due_yet: r.try_get("not_due_yet")?,
                    lines: r.try_get("lines")?,
                })
            })
            .collect()
    }

    async fn villages_of_worker(&self, worker_id: Uuid) -> DbResult<Vec<Area>> {
        let rows = db(sqlx::query(
            "SELECT code, name FROM areas WHERE code IN \
             (SELECT DISTINCT village_code FROM households WHERE worker_id = $1) ORDER BY code",
        )
        .bind(worker_id)
        .fetch_all(&self.pool)
        .await)?;
        rows.iter()
            .map(|r| {
                Ok(Area {
                    code: area_code(r.try_get("code")?)?,
                    name: r.try_get("name")?,
                })
            })
            .collect()
    }

    async fn insert_user(&self, user: &UserRecord) -> DbResult<()> {
        db(sqlx::query(
            "INSERT INTO users (id, username, display_name, role, area_code, password_hash, active, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(user.id)
        .bind(&user.username)
        .bind(&user.display_name)
        .bind(user.role.as_str())
        .bind(user.area.as_str())
        .bind(&user.password_hash)
        .bind(user.active)
        .bind(Utc::now())
        .execute(&self.writer)
        .await)?;
        Ok(())
    }

    async fn user_by_username(&self, username: &str) -> DbResult<Option<UserRecord>> {
        let row = db(sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.username = $1"
        ))
        .bind(username)
        .fetch_optional(&self.pool)
        .await)?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn user_by_id(&self, id: Uuid) -> DbResult<Option<UserRecord>> {
        let row = db(sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await)?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn users_in_area(&self, area: &AreaCode) -> DbResult<Vec<UserSummary>> {
        let (lo, hi) = area.subtree_range();
        let rows = db(sqlx::query(
            "SELECT u.id, u.username, u.display_name, u.role, u.area_code, a.name AS area_name, \
                    u.active, \
                    (SELECT COUNT(*) FROM households h WHERE h.worker_id = u.id) AS caseload \
             FROM users u JOIN areas a ON a.code = u.area_code \
             WHERE u.area_code BETWEEN $1 AND $2 \
             ORDER BY u.area_code, u.display_name, u.id",
        )
        .bind(lo)
        .bind(hi)
        .fetch_all(&self.pool)
        .await)?;
        rows.iter()
            .map(|r| {
                let role: String = r.try_get("role")?;
                Ok(UserSummary {
                    id: r.try_get("id")?,
                    username: r.try_get("username")?,
                    display_name: r.try_get("display_name")?,
                    role: Role::parse(&role).ok_or_else(|| corrupt("role", &role))?,
                    area: Area {
                        code: area_code(r.try_get("area_code")?)?,
                        name: r.try_get("area_name")?,
                    },
                    active: r.try_get("active")?,
                    caseload: r.try_get("caseload")?,
                })
            })
            .collect()
    }

    async fn set_user_active(&self, id: Uuid, active: bool) -> DbResult<bool> {
        let mut tx = begin_write(&self.writer).await?;
        let changed = db(sqlx::query(
            "UPDATE users SET active = $1 WHERE id = $2 AND active <> $1",
        )
        .bind(active)
        .bind(id)
        .execute(&mut *tx)
        .await)?
        .rows_affected();
        if !active {
            // A disabled user is out at once, on every device; re-enabling
            // must not bring an old (perhaps stolen) session back.
            db(sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await)?;
        }
        db(tx.commit().await)?;
        Ok(changed > 0)
    }

    async fn subsidy_items(&self) -> DbResult<Vec<SubsidyItem>> {
        let rows = db(sqlx::query(
            "SELECT code, name, bucket, counts_as_income, default_channel FROM subsidy_items ORDER BY code",
        )
        .fetch_all(&self.pool)
        .await)?;
        rows.iter().map(item_from_row).collect()
    }

    async fn insert_households(
        &self,
        households: &[HouseholdRecord],
        entitlements: &[EntitlementRecord],
    ) -> DbResult<()> {
        let mut tx = begin_write(&self.writer).await?;
        let now = Utc::now();
        for h in households {
            let (category, kind) = h.category.to_columns();
            db(sqlx::query(
                "INSERT INTO households (id, number, head_name, category, monitoring_kind, relocated, \
                 village_code, worker_id, phone, created_at, identified_on) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(h.id)
            .bind(&h.number)
            .bind(&h.head_name)
            .bind(category)
            .bind(kind)
            .bind(h.relocated)
            .bind(h.village.as_str())
            .bind(h.worker_id)
            .bind(&h.phone)
            .bind(now)
            .bind(identified_on(h))
            .execute(&mut *tx)
            .await)?;
            for (position, m) in h.members.iter().enumerate() {
                db(sqlx::query(
                    "INSERT INTO members (id, household_id, position, name, relation, id_number, labour, health) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(m.id)
                .bind(h.id)
                .bind(position as i32)
                .bind(&m.name)
                .bind(&m.relation)
                .bind(&m.id_number)
                .bind(m.labour.as_str())
                .bind(m.health.as_str())
                .execute(&mut *tx)
                .await)?;
            }
        }
        for e in entitlements {
            db(sqlx::query(
                "INSERT INTO entitlements (id, household_id, item_code, stat_year, expected_fen, \
                 expected_date, department, channel) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(e.id)
            .bind(e.household_id)
            .bind(&e.item_code)
            .bind(e.stat_year)
            .bind(e.expected_fen)
            .bind(e.expected_date)
            .bind(&e.department)
            .bind(e.channel.as_str())
            .execute(&mut *tx)
            .await)?;
        }
        let villages = households.iter().map(|h| h.village.to_string()).collect();
        refresh_rollups(&mut tx, &villages).await?;
        db(tx.commit().await)
    }

    async fn count_households(&self) -> DbResult<i64> {
        let row = db(sqlx::query("SELECT COUNT(*) AS n FROM households")
            .fetch_one(&self.pool)
            .await)?;
        Ok(row.try_get("n")?)
    }

    async fn list_households(&self, q: &HouseholdQuery) -> DbResult<(Vec<HouseholdRow>, i64)> {
        let (lo, hi) = q.scope.subtree_range();
        let (vlo, vhi) = match &q.village {
            Some(v) => v.subtree_range(),
            None => (lo.clone(), hi.clone()),
        };
        let search = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let name_pattern = search.map(|s| format!("%{}%", escape_like(s)));
        let number_pattern = search.map(|s| format!("{}%", escape_like(s)));
        // One WHERE clause for the page and the count, so they cannot disagree.
        const WHERE: &str = "h.village_code BETWEEN $1 AND $2 \
             AND h.village_code BETWEEN $3 AND $4 \
             AND ($5 IS NULL OR h.worker_id = $5) \
             AND ($6 IS NULL OR h.head_name LIKE $6 ESCAPE '\\' OR h.number LIKE $7 ESCAPE '\\') \
             AND ($8 IS NULL OR EXISTS ( \
                 SELECT 1 FROM entitlements e \
                 WHERE e.household_id = h.id AND e.stat_year = $8 \
                   AND ($9 IS NULL OR e.item_code = $9) \
                   AND ($10 = 'due' OR CASE COALESCE(( \
                       SELECT l.status FROM verification_lines l \
                       JOIN visits v ON v.id = l.visit_id \
                       WHERE l.entitlement_id = e.id AND v.started_at < $11 \
                       ORDER BY v.started_at DESC, v.id DESC LIMIT 1 \
                   ), 'none') \
                       WHEN 'received_in_full' THEN $10 IN ('paid', 'full') \
                       WHEN 'received_in_part' THEN $10 IN ('paid', 'part') \
                       ELSE $10 = 'unpaid' END))) \
             AND ($12 IS NULL OR EXISTS ( \
                 SELECT 1 FROM household_income hi \
                 WHERE hi.household_id = h.id AND hi.stat_year = $12 AND (hi.flags & $13) <> 0))";
        // The payment filter's binds ($8–$11): NULL year means no filter.
        let payment = q.payment.as_ref();
        let pay_year = payment.map(|p| p.stat_year);
        let pay_item = payment.and_then(|p| p.item_code.clone());
        let pay_state = match payment.map(|p| p.state) {
            Some(crate::reports::PaymentState::Paid) => "paid",
            Some(crate::reports::PaymentState::Full) => "full",
            Some(crate::reports::PaymentState::Part) => "part",
            Some(crate::reports::PaymentState::Unpaid) => "unpaid",
            Some(crate::reports::PaymentState::Due) | None => "due",
        };
        let pay_cutoff = payment.map_or_else(Utc::now, |p| p.cutoff);
        // The risk signal filter's binds ($12, $13): NULL year means none.
        let flag_year = q.flags.as_ref().map(|f| f.stat_year);
        let flag_bits = q.flags.as_ref().map_or(0, |f| f.bits);
        let rows = db(sqlx::query(&format!(
            "SELECT h.id, h.number, h.head_name, h.category, h.monitoring_kind, h.relocated, \
                    h.worker_id, a.code AS village_code, a.name AS village_name, \
                    (SELECT COUNT(*) FROM members m WHERE m.household_id = h.id) AS size, \
                    COALESCE((SELECT hi.flags FROM household_income hi \
                              WHERE hi.household_id = h.id \
                              ORDER BY hi.stat_year DESC LIMIT 1), 0) AS flags \
             FROM households h JOIN areas a ON a.code = h.village_code \
             WHERE {WHERE} ORDER BY h.village_code, h.number LIMIT $14 OFFSET $15"
        ))
        .bind(&lo)
        .bind(&hi)
        .bind(&vlo)
        .bind(&vhi)
        .bind(q.worker_id)
        .bind(&name_pattern)
        .bind(&number_pattern)
        .bind(pay_year)
        .bind(&pay_item)
        .bind(pay_state)
        .bind(pay_cutoff)
        .bind(flag_year)
        .bind(flag_bits)
        .bind(i64::from(q.limit))
        .bind(i64::from(q.offset))
        .fetch_all(&self.pool)
        .await)?;
        let total_row = db(sqlx::query(&format!(
            "SELECT COUNT(*) AS n FROM households h WHERE {WHERE}"
        ))
        .bind(&lo)
        .bind(&hi)
        .bind(&vlo)
        .bind(&vhi)
        .bind(q.worker_id)
        .bind(&name_pattern)
        .bind(&number_pattern)
        .bind(pay_year)
        .bind(&pay_item)
        .bind(pay_state)
        .bind(pay_cutoff)
        .bind(flag_year)
        .bind(flag_bits)
        .fetch_one(&self.pool)
        .await)?;
        let households = rows
            .iter()
            .map(|r| {
                Ok(HouseholdRow {
                    id: r.try_get("id")?,
                    number: r.try_get("number")?,
                    head_name: r.try_get("head_name")?,
                    category: category_from_row(r)?,
                    relocated: r.try_get("relocated")?,
                    village: Area {
                        code: area_code(r.try_get("village_code")?)?,
                        name: r.try_get("village_name")?,
                    },
                    size: r.try_get("size")?,
                    worker_id: r.try_get("worker_id")?,
                    flags: crate::income::Flags(r.try_get("flags")?),
                })
            })
            .collect::<DbResult<Vec<_>>>()?;
        Ok((households, total_row.try_get("n")?))
    }

    async fn household(&self, id: Uuid) -> DbResult<Option<HouseholdRecord>> {
        let Some(h) = db(sqlx::query(&format!(
            "SELECT {HOUSEHOLD_COLUMNS} FROM households WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await)?
        else {
            return Ok(None);
        };
        let members = db(sqlx::query(
            "SELECT id, name, relation, id_number, labour, health FROM members \
             WHERE household_id = $1 ORDER BY position",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await)?
        .iter()
        .map(member_from_row)
        .collect::<DbResult<Vec<_>>>()?;
        Ok(Some(household_from_row(&h, members)?))
    }

    async fn entitlements(
        &self,
        household_id: Uuid,
        stat_year: i32,
    ) -> DbResult<Vec<EntitlementRow>> {
        let rows = db(sqlx::query(
            "SELECT e.id, e.household_id, e.item_code, e.stat_year, e.expected_fen, e.expected_date, \
                    e.department, e.channel, \
                    i.code, i.name, i.bucket, i.counts_as_income, i.default_channel \
             FROM entitlements e JOIN subsidy_items i ON i.code = e.item_code \
             WHERE e.household_id = $1 AND e.stat_year = $2 \
             ORDER BY e.expected_date, i.code",
        )
        .bind(household_id)
        .bind(stat_year)
        .fetch_all(&self.pool)
        .await)?;
        rows.iter()
            .map(|r| {
                Ok(EntitlementRow {
                    entitlement: entitlement_from_row(r)?,
                    item: item_from_row(r)?,
                })
            })
            .collect()
    }

    async fn entitlement_ids(
        &self,
        household_id: Uuid,
        stat_year: i32,
    ) -> DbResult<Vec<(Uuid, i64)>> {
        let rows = db(sqlx::query(
            "SELECT id, expected_fen FROM entitlements WHERE household_id = $1 AND stat_year = $2",
        )
        .bind(household_id)
        .bind(stat_year)
        .fetch_all(&self.pool)
        .await)?;
        // Counted as the phone's roster shows it, so that the phone's check
        // and this one agree even over an amount stored before the bound.
        rows.iter()
            .map(|r| {
                let expected: i64 = r.try_get("expected_fen")?;
                Ok((r.try_get("id")?, Fen::counted(expected).0))
            })
            .collect()
    }

    async fn rebuild_rollups(&self, area: &AreaCode) -> DbResult<usize> {
        let (lo, hi) = area.subtree_range();
        let mut tx = begin_write(&self.writer).await?;
        let mut villages = std::collections::BTreeSet::new();
        for table in ["households", "rollup_due", "rollup_paid"] {
            let rows = db(sqlx::query(&format!(
                "SELECT DISTINCT village_code FROM {table} WHERE village_code BETWEEN $1 AND $2"
            ))
            .bind(&lo)
            .bind(&hi)
            .fetch_all(&mut *tx)
            .await)?;
            for r in rows {
                villages.insert(r.try_get::<String, _>("village_code")?);
            }
        }
        refresh_rollups(&mut tx, &villages).await?;
        db(tx.commit().await)?;
        Ok(villages.len())
    }

    async fn analyze(&self) -> DbResult<()> {
        db(sqlx::query("ANALYZE").execute(&self.writer).await)?;
        Ok(())
    }

    async fn households_by_numbers(&self, numbers: &[String]) -> DbResult<Vec<HouseholdRecord>> {
        let mut households = Vec::with_capacity(numbers.len());
        for chunk in numbers.chunks(CHUNK) {
            let mut q = sqlx::QueryBuilder::<Db>::new(format!(
                "SELECT {HOUSEHOLD_COLUMNS} FROM households WHERE number IN ("
            ));
            push_in_list(&mut q, chunk);
            let rows = db(q.build().fetch_all(&self.pool).await)?;
            let ids: Vec<Uuid> = rows
                .iter()
                .map(|r| r.try_get("id"))
                .collect::<Result<_, _>>()?;
            let mut members: std::collections::HashMap<Uuid, Vec<MemberRecord>> =
                std::collections::HashMap::new();
            if !ids.is_empty() {
                let mut q = sqlx::QueryBuilder::<Db>::new(
                    "SELECT household_id, id, name, relation, id_number, labour, health \
                     FROM members WHERE household_id IN (",
                );
                push_in_list(&mut q, ids.iter().copied());
                q.push(" ORDER BY household_id, position");
                for r in db(q.build().fetch_all(&self.pool).await)? {
                    members
                        .entry(r.try_get("household_id")?)
                        .or_default()
                        .push(member_from_row(&r)?);
                }
            }
            for (row, id) in rows.iter().zip(ids) {
                households.push(household_from_row(
                    row,
                    members.remove(&id).unwrap_or_default(),
                )?);
            }
        }
        Ok(households)
    }

    async fn household_keys_by_numbers(
        &self,
        numbers: &[String],
    ) -> DbResult<Vec<(String, Uuid, AreaCode)>> {
        let mut keys = Vec::with_capacity(numbers.len());
        for chunk in numbers.chunks(CHUNK) {
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "SELECT number, id, village_code FROM households WHERE number IN (",
            );
            push_in_list(&mut q, chunk);
            for r in db(q.build().fetch_all(&self.pool).await)? {
                keys.push((
                    r.try_get("number")?,
                    r.try_get("id")?,
                    area_code(r.try_get("village_code")?)?,
                ));
            }
        }
        Ok(keys)
    }

    async fn member_households(&self, id_numbers: &[String]) -> DbResult<Vec<(String, String)>> {
        let mut owners = Vec::new();
        for chunk in id_numbers.chunks(CHUNK) {
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "SELECT m.id_number, h.number FROM members m \
                 JOIN households h ON h.id = m.household_id WHERE m.id_number IN (",
            );
            push_in_list(&mut q, chunk);
            for r in db(q.build().fetch_all(&self.pool).await)? {
                owners.push((r.try_get("id_number")?, r.try_get("number")?));
            }
        }
        Ok(owners)
    }

    async fn entitlements_of_households(&self, ids: &[Uuid]) -> DbResult<Vec<EntitlementRecord>> {
        let mut lines = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "SELECT id, household_id, item_code, stat_year, expected_fen, expected_date, \
                 department, channel FROM entitlements WHERE household_id IN (",
            );
            push_in_list(&mut q, chunk.iter().copied());
            for r in db(q.build().fetch_all(&self.pool).await)? {
                lines.push(entitlement_from_row(&r)?);
            }
        }
        Ok(lines)
    }

    async fn apply_roster(
        &self,
        write: &RosterWrite,
        progress: &(dyn Fn(usize) + Sync),
        job: Option<crate::server::db::ImportDone<'_>>,
    ) -> DbResult<bool> {
        let mut tx = begin_write(&self.writer).await?;
        // The villages whose roll-ups change: where the households were and
        // are, and where the households of the payments due live.
        let touched: Vec<Uuid> = write
            .households
            .iter()
            .map(|h| h.id)
            .chain(write.entitlements.iter().map(|e| e.household_id))
            .collect();
        let mut villages = villages_of(&mut tx, &touched).await?;
        villages.extend(write.households.iter().map(|h| h.village.to_string()));
        // The villages' locks before any household's, the order visits
        // take them in (see `insert_visits_once`).
        for chunk in villages.iter().collect::<Vec<_>>().chunks(CHUNK) {
            lock_villages(&mut tx, chunk.iter().map(|v| v.as_str())).await?;
        }
        // Members first: a person moving between two households of the file
        // must leave the old one before joining the new (ID numbers are unique).
        for chunk in write.replaced_members_of.chunks(CHUNK) {
            let mut q =
                sqlx::QueryBuilder::<Db>::new("DELETE FROM members WHERE household_id IN (");
            push_in_list(&mut q, chunk.iter().copied());
            db(q.build().execute(&mut *tx).await)?;
        }
        let now = Utc::now();
        let mut done = 0;
        for chunk in write.households.chunks(CHUNK) {
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "INSERT INTO households (id, number, head_name, category, monitoring_kind, \
                 relocated, village_code, worker_id, phone, created_at, identified_on) ",
            );
            q.push_values(chunk, |mut row, h| {
                let (category, kind) = h.category.to_columns();
                row.push_bind(h.id)
                    .push_bind(&h.number)
                    .push_bind(&h.head_name)
                    .push_bind(category)
                    .push_bind(kind)
                    .push_bind(h.relocated)
                    .push_bind(h.village.as_str())
                    .push_bind(h.worker_id)
                    .push_bind(&h.phone)
                    .push_bind(now)
                    .push_bind(identified_on(h));
            });
            // An existing household keeps its id and creation time; its
            // worker is the one the import decided (kept, or none after a
            // move to another village).
            q.push(
                " ON CONFLICT (id) DO UPDATE SET number = excluded.number, \
                 head_name = excluded.head_name, category = excluded.category, \
                 monitoring_kind = excluded.monitoring_kind, relocated = excluded.relocated, \
                 village_code = excluded.village_code, phone = excluded.phone, \
                 worker_id = excluded.worker_id, \
                 identified_on = CASE WHEN households.category = 'monitored' \
                     THEN COALESCE(households.identified_on, excluded.identified_on) \
                     ELSE excluded.identified_on END",
            );
            db(q.build().execute(&mut *tx).await)?;
            let members: Vec<(Uuid, usize, &MemberRecord)> = chunk
                .iter()
                .flat_map(|h| h.members.iter().enumerate().map(|(i, m)| (h.id, i, m)))
                .collect();
            for members in members.chunks(CHUNK) {
                let mut q = sqlx::QueryBuilder::<Db>::new(
                    "INSERT INTO members (id, household_id, position, name, relation, id_number, \
                     labour, health) ",
                );
                q.push_values(members, |mut row, (household, position, m)| {
                    row.push_bind(m.id)
                        .push_bind(*household)
                        .push_bind(*position as i32)
                        .push_bind(&m.name)
                        .push_bind(&m.relation)
                        .push_bind(&m.id_number)
                        .push_bind(m.labour.as_str())
                        .push_bind(m.health.as_str());
                });
                db(q.build().execute(&mut *tx).await)?;
            }
            done += chunk.len();
            progress(done);
        }
        for chunk in write.entitlements.chunks(CHUNK) {
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "INSERT INTO entitlements (id, household_id, item_code, stat_year, expected_fen, \
                 expected_date, department, channel) ",
            );
            q.push_values(chunk, |mut row, e| {
                row.push_bind(e.id)
                    .push_bind(e.household_id)
                    .push_bind(&e.item_code)
                    .push_bind(e.stat_year)
                    .push_bind(e.expected_fen)
                    .push_bind(e.expected_date)
                    .push_bind(&e.department)
                    .push_bind(e.channel.as_str());
            });
            q.push(
                " ON CONFLICT (id) DO UPDATE SET expected_fen = excluded.expected_fen, \
                 expected_date = excluded.expected_date, department = excluded.department, \
                 channel = excluded.channel",
            );
            db(q.build().execute(&mut *tx).await)?;
            done += chunk.len();
            progress(done);
        }
        refresh_rollups(&mut tx, &villages).await?;
        // What is due may have changed beside a payout file.
        reconciliation_sql::reconcile_households_in(&mut tx, &touched, Utc::now()).await?;
        queue_income_work_in(&mut tx, write.income_work.iter().copied(), Utc::now()).await?;
        if let Some(job) = job {
            // Last, so that the job's row is locked only for the commit
            // (its heartbeat goes on meanwhile); dropping `tx` rolls back.
            if !imports_sql::written_job_in(&mut tx, job.job_id, job.report, job.at).await? {
                return Ok(false);
            }
        }
        db(tx.commit().await)?;
        Ok(true)
    }

    async fn assign_households(
        &self,
        target: &AssignTarget,
        worker_id: Uuid,
        by: Uuid,
    ) -> DbResult<u64> {
        let mut tx = begin_write(&self.writer).await?;
        let candidates = match target {
            AssignTarget::Household(id) => db(sqlx::query(
                "SELECT h.id, h.worker_id FROM households h \
                 WHERE h.id = $1 AND (h.worker_id IS NULL OR h.worker_id <> $2)",
            )
            .bind(id)
            .bind(worker_id)
            .fetch_all(&mut *tx)
            .await)?,
            AssignTarget::Village {
                code,
                only_unassigned,
            } => {
                let waiting = if *only_unassigned {
                    format!("AND {TO_ASSIGN}")
                } else {
                    String::new()
                };
                db(sqlx::query(&format!(
                    "SELECT h.id, h.worker_id FROM households h \
                     WHERE h.village_code = $1 AND (h.worker_id IS NULL OR h.worker_id <> $2) \
                     {waiting} ORDER BY h.number"
                ))
                .bind(code.as_str())
                .bind(worker_id)
                .fetch_all(&mut *tx)
                .await)?
            }
        };
        let now = Utc::now();
        let mut changed = 0;
        for row in &candidates {
            let id: Uuid = row.try_get("id")?;
            let old: Option<Uuid> = row.try_get("worker_id")?;
            // Compare-and-set: a household someone else reassigned since it
            // was read is left alone and not counted, so the trail never
            // records an old worker the household did not have.
            let updated = db(sqlx::query(
                "UPDATE households SET worker_id = $1 \
                 WHERE id = $2 AND worker_id IS NOT DISTINCT FROM $3",
            )
            .bind(worker_id)
            .bind(id)
            .bind(old)
            .execute(&mut *tx)
            .await)?
            .rows_affected();
            if updated == 0 {
                continue;
            }
            db(sqlx::query(
                "INSERT INTO household_assignments \
                 (id, household_id, old_worker_id, new_worker_id, assigned_by, at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(Uuid::now_v7())
            .bind(id)
            .bind(old)
            .bind(worker_id)
            .bind(by)
            .bind(now)
            .execute(&mut *tx)
            .await)?;
            changed += 1;
        }
        db(tx.commit().await)?;
        Ok(changed)
    }

    async fn assignments_of_household(
        &self,
        household_id: Uuid,
    ) -> DbResult<Vec<AssignmentRecord>> {
        let rows = db(sqlx::query(
            "SELECT household_id, old_worker_id, new_worker_id, assigned_by, at \
             FROM household_assignments WHERE household_id = $1 ORDER BY at, id",
        )
        .bind(household_id)
        .fetch_all(&self.pool)
        .await)?;
        rows.iter()
            .map(|r| {
                Ok(AssignmentRecord {
                    household_id: r.try_get("household_id")?,
                    old_worker_id: r.try_get("old_worker_id")?,
                    new_worker_id: r.try_get("new_worker_id")?,
                    assigned_by: r.try_get("assigned_by")?,
                    at: r.try_get("at")?,
                })
            })
            .collect()
    }

    async fn insert_visit(&self, record: &VisitRecord) -> DbResult<VisitInsert> {
        self.insert_visits(std::slice::from_ref(record))
            .await?
            .pop()
            .expect("one answer per visit")
    }

    async fn insert_visits(&self, records: &[VisitRecord]) -> DbResult<Vec<DbResult<VisitInsert>>> {
        // A deadlock (visits against an import or a worker on PostgreSQL)
        // undoes the whole transaction: then it runs again.
        let mut attempt = 1;
        loop {
            match insert_visits_once(&self.writer, records).await {
                Err(e) if e.is_retryable() && attempt < 4 => {
                    tracing::info!(error = %e, attempt, "visit batch retried");
                    attempt += 1;
                }
                answer => return answer,
            }
        }
    }

    async fn visit(&self, id: Uuid) -> DbResult<Option<StoredVisit>> {
        let row = db(
            sqlx::query(&format!("SELECT {VISIT_COLUMNS} FROM visits WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await,
        )?;
        match row {
            Some(r) => Ok(Some(self.stored_visit(&r).await?)),
            None => Ok(None),
        }
    }

    async fn visits_of_household(&self, household_id: Uuid) -> DbResult<Vec<StoredVisit>> {
        let rows = db(sqlx::query(&format!(
            "SELECT {VISIT_COLUMNS} FROM visits WHERE household_id = $1 ORDER BY started_at, id"
        ))
        .bind(household_id)
        .fetch_all(&self.pool)
        .await)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(self.stored_visit(r).await?);
        }
        Ok(out)
    }

    async fn evidence_photo(
        &self,
        visit_id: Uuid,
        line: EvidenceFor,
    ) -> DbResult<Option<(Uuid, Vec<u8>)>> {
        let row = db(sqlx::query(
            "SELECT v.household_id, e.photo_jpeg FROM line_evidence e \
             JOIN visits v ON v.id = e.visit_id \
             WHERE e.visit_id = $1 AND e.line_kind = $2 AND e.line_key = $3",
        )
        .bind(visit_id)
        .bind(line.kind())
        .bind(line.key())
        .fetch_optional(&self.pool)
        .await)?;
        row.map(|r| Ok((r.try_get("household_id")?, r.try_get("photo_jpeg")?)))
            .transpose()
    }

    async fn count_visits(&self) -> DbResult<i64> {
        let row = db(sqlx::query("SELECT COUNT(*) AS n FROM visits")
            .fetch_one(&self.pool)
            .await)?;
        Ok(row.try_get("n")?)
    }

    async fn visit_conflicts(&self, visit_id: Uuid) -> DbResult<Vec<String>> {
        let rows = db(sqlx::query(
            "SELECT payload_hash FROM visit_conflicts WHERE visit_id = $1 ORDER BY received_at, id",
        )
        .bind(visit_id)
        .fetch_all(&self.pool)
        .await)?;
        rows.iter()
            .map(|r| Ok(r.try_get("payload_hash")?))
            .collect()
    }

    async fn insert_review(&self, r: &ReviewRecord) -> DbResult<()> {
        let mut tx = begin_write(&self.writer).await?;
        db(sqlx::query(
            "INSERT INTO visit_reviews (id, visit_id, state, comment, reviewer_id, at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(r.id)
        .bind(r.visit_id)
        .bind(r.state.as_str())
        .bind(&r.comment)
        .bind(r.reviewer_id)
        .bind(r.at)
        .execute(&mut *tx)
        .await)?;
        ledger_sql::record_in(&mut tx, RecordKind::Review, r.id, Utc::now()).await?;
        db(tx.commit().await)
    }

    async fn reviews_of_household(&self, household_id: Uuid) -> DbResult<Vec<ReviewRecord>> {
        let rows = db(sqlx::query(
            "SELECT r.id, r.visit_id, r.state, r.comment, r.reviewer_id, r.at \
             FROM visit_reviews r JOIN visits v ON v.id = r.visit_id \
             WHERE v.household_id = $1 \
             ORDER BY r.at, r.id",
        )
        .bind(household_id)
        .fetch_all(&self.pool)
        .await)?;
        rows.iter()
            .map(|r| {
                let state: String = r.try_get("state")?;
                Ok(ReviewRecord {
                    id: r.try_get("id")?,
                    visit_id: r.try_get("visit_id")?,
                    state: ReviewState::parse(&state)
                        .ok_or_else(|| corrupt("review state", &state))?,
                    comment: r.try_get("comment")?,
                    reviewer_id: r.try_get("reviewer_id")?,
                    at: r.try_get("at")?,
                })
            })
            .collect()
    }

    async fn discrepancies(&self, q: &DiscrepancyQuery) -> DbResult<(Vec<DiscrepancyRecord>, i64)> {
        let (lo, hi) = q.scope.subtree_range();
        let state = if q.closed { "closed" } else { "open" };
        // One WHERE clause for the page and the count, so they cannot disagree.
        const WHERE: &str = "d.village_code BETWEEN $1 AND $2 AND d.state = $3 \
             AND ($4 IS NULL OR d.assignee_id = $4)";
        let rows = db(sqlx::query(&format!(
            "SELECT {DISCREPANCY_COLUMNS} FROM {DISCREPANCY_FROM} WHERE {WHERE} \
             ORDER BY d.reported_at DESC, d.id DESC LIMIT $5 OFFSET $6"
        ))
        .bind(&lo)
        .bind(&hi)
        .bind(state)
        .bind(q.assignee_id)
        .bind(i64::from(q.limit))
        .bind(i64::from(q.offset))
        .fetch_all(&self.pool)
        .await)?;
        let total = db(sqlx::query(&format!(
            "SELECT COUNT(*) AS n FROM discrepancies d WHERE {WHERE}"
        ))
        .bind(&lo)
        .bind(&hi)
        .bind(state)
        .bind(q.assignee_id)
        .fetch_one(&self.pool)
        .await)?;
        let items = rows
            .iter()
            .map(discrepancy_from_row)
            .collect::<DbResult<Vec<_>>>()?;
        Ok((items, total.try_get("n")?))
    }

    async fn discrepancy_counts(
        &self,
        scope: &AreaCode,
        user_id: Uuid,
    ) -> DbResult<Vec<DiscrepancyCount>> {
        let (lo, hi) = scope.subtree_range();
        let rows = db(sqlx::query(
            "SELECT d.kind, d.state, \
                    CASE WHEN d.assignee_id = $3 THEN 1 ELSE 0 END AS mine, COUNT(*) AS n \
             FROM discrepancies d WHERE d.village_code BETWEEN $1 AND $2 \
             GROUP BY 1, 2, 3",
        )
        .bind(&lo)
        .bind(&hi)
        .bind(user_id)
        .fetch_all(&self.pool)
        .await)?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get("kind")?;
                let state: String = r.try_get("state")?;
                let mine: i32 = r.try_get("mine")?;
                Ok(DiscrepancyCount {
                    kind: DiscrepancyKind::parse(&kind)
                        .ok_or_else(|| corrupt("discrepancy kind", &kind))?,
                    closed: state == "closed",
                    mine: mine == 1,
                    n: r.try_get("n")?,
                })
            })
            .collect()
    }

    async fn open_discrepancies_before(
        &self,
        area: &AreaCode,
        before: DateTime<Utc>,
    ) -> DbResult<Vec<(String, i64)>> {
        let child_len = area.level().child().unwrap_or(area.level()).prefix_len();
        let (lo, hi) = area.subtree_range();
        let rows = db(sqlx::query(
            "SELECT substr(d.village_code, 1, $1) AS child, COUNT(*) AS n FROM discrepancies d \
             WHERE d.village_code BETWEEN $2 AND $3 AND d.state = 'open' AND d.reported_at < $4 \
             GROUP BY 1",
        )
        .bind(child_len as i32)
        .bind(&lo)
        .bind(&hi)
        .bind(before)
        .fetch_all(&self.pool)
        .await)?;
        rows.iter()
            .map(|r| Ok((r.try_get("child")?, r.try_get("n")?)))
            .collect()
    }

    async fn discrepancy(&self, id: Uuid) -> DbResult<Option<DiscrepancyRecord>> {
        let row = db(sqlx::query(&format!(
            "SELECT {DISCREPANCY_COLUMNS} FROM {DISCREPANCY_FROM} WHERE d.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await)?;
        row.as_ref().map(discrepancy_from_row).transpose()
    }

    async fn discrepancy_events(&self, id: Uuid) -> DbResult<Vec<DiscrepancyEvent>> {
        let rows = db(sqlx::query(
            "SELECT id, discrepancy_id, action, actor_id, assignee_id, resolution, note, at \
             FROM discrepancy_events WHERE discrepancy_id = $1 ORDER BY at, id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await)?;
        rows.iter()
            .map(|r| {
                let action: String = r.try_get("action")?;
                let resolution: Option<String> = r.try_get("resolution")?;
                Ok(DiscrepancyEvent {
                    id: r.try_get("id")?,
                    discrepancy_id: r.try_get("discrepancy_id")?,
                    action: DiscrepancyAction::parse(&action)
                        .ok_or_else(|| corrupt("discrepancy action", &action))?,
                    actor_id: r.try_get("actor_id")?,
                    assignee_id: r.try_get("assignee_id")?,
                    resolution: resolution.as_deref().map(resolution_from).transpose()?,
                    note: r.try_get("note")?,
                    at: r.try_get("at")?,
                })
            })
            .collect()
    }

    async fn record_discrepancy_event(
        &self,
        e: &DiscrepancyEvent,
        from_closed: bool,
        to: &DiscrepancyStatus,
    ) -> DbResult<()> {
        let state = |closed: bool| if closed { "closed" } else { "open" };
        let mut tx = begin_write(&self.writer).await?;
        let updated = db(sqlx::query(
            "UPDATE discrepancies SET state = $2, assignee_id = $3, resolution = $4, closed_at = $5 \
             WHERE id = $1 AND state = $6",
        )
        .bind(e.discrepancy_id)
        .bind(state(to.closed))
        .bind(to.assignee_id)
        .bind(to.resolution.map(Resolution::as_str))
        .bind(to.closed_at)
        .bind(state(from_closed))
        .execute(&mut *tx)
        .await)?
        .rows_affected();
        if updated == 0 {
            return Err(DbError::Conflict {
                constraint: "discrepancies.state".into(),
            });
        }
        db(sqlx::query(
            "INSERT INTO discrepancy_events (id, discrepancy_id, action, actor_id, assignee_id, \
             resolution, note, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(e.id)
        .bind(e.discrepancy_id)
        .bind(e.action.as_str())
        .bind(e.actor_id)
        .bind(e.assignee_id)
        .bind(e.resolution.map(Resolution::as_str))
        .bind(&e.note)
        .bind(e.at)
        .execute(&mut *tx)
        .await)?;
        ledger_sql::record_in(&mut tx, RecordKind::DiscrepancyEvent, e.id, Utc::now()).await?;
        db(tx.commit().await)
    }

    async fn active_users_in(&self, areas: &[AreaCode]) -> DbResult<Vec<UserRecord>> {
        if areas.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders = (1..=areas.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.active AND u.area_code IN ({placeholders}) \
             ORDER BY u.area_code, u.display_name, u.id"
        );
        let mut query = sqlx::query(&sql);
        for a in areas {
            query = query.bind(a.as_str());
        }
        let rows = db(query.fetch_all(&self.pool).await)?;
        rows.iter().map(user_from_row).collect()
    }

    async fn record_audit(&self, e: &AuditEvent) -> DbResult<()> {
        db(sqlx::query(
            "INSERT INTO audit_events (id, at, user_id, action, target, outcome, address) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(Uuid::now_v7())
        .bind(Utc::now())
        .bind(e.user_id)
        .bind(&e.action)
        .bind(&e.target)
        .bind(&e.outcome)
        .bind(&e.address)
        .execute(&self.writer)
        .await)?;
        Ok(())
    }

    async fn audit_events(&self, action: &str) -> DbResult<Vec<AuditEvent>> {
        let rows = db(sqlx::query(
            "SELECT user_id, action, target, outcome, address FROM audit_events \
             WHERE action = $1 ORDER BY at, id",
        )
        .bind(action)
        .fetch_all(&self.pool)
        .await)?;
        rows.iter()
            .map(|r| {
                Ok(AuditEvent {
                    user_id: r.try_get("user_id")?,
                    action: r.try_get("action")?,
                    target: r.try_get("target")?,
                    outcome: r.try_get("outcome")?,
                    address: r.try_get("address")?,
                })
            })
            .collect()
    }
}

/// Escapes LIKE wildcards so a search for "50%" finds "50%".
fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The paid columns of a figure that has none (what is due, read alone).
const NO_PAID: &str = "CAST(0 AS BIGINT) AS paid_hi, CAST(0 AS BIGINT) AS paid_lo, \
     CAST(0 AS BIGINT) AS paid_fen_hi, CAST(0 AS BIGINT) AS paid_fen_lo, \
     CAST(0 AS BIGINT) AS full_paid_hi, CAST(0 AS BIGINT) AS full_paid_lo, \
     CAST(0 AS BIGINT) AS full_fen_hi, CAST(0 AS BIGINT) AS full_fen_lo";

fn dispatch_figure_from_row(r: &DbRow) -> DbResult<DispatchFigure> {
    let prefix: String = r.try_get("child")?;
    Ok(DispatchFigure {
        child: format!("{prefix:0<12}"),
        item_code: r.try_get("item_code")?,
        progress: Progress {
            due: split_sum_of(r, "due")?,
            due_fen: split_sum_of(r, "due_fen")?,
            paid: split_sum_of(r, "paid")?,
            paid_fen: split_sum_of(r, "paid_fen")?,
            full: split_sum_of(r, "full_paid")?,
            full_fen: split_sum_of(r, "full_fen")?,
        },
    })
}

/// SQL true when household `h` waits for a worker (待分配): nobody is
/// assigned, or the one assigned is disabled and will not visit.
const TO_ASSIGN: &str = "(h.worker_id IS NULL OR NOT EXISTS \
     (SELECT 1 FROM users w WHERE w.id = h.worker_id AND w.active))";

fn resolution_from(s: &str) -> DbResult<Resolution> {
    Resolution::parse(s).ok_or_else(|| corrupt("resolution", s))
}

/// What the queue shows of an item: the household, the visit and its
/// worker, the line (for a shortfall) or both copies (for a conflict), and
/// for a reconciliation item (no visit) what the payout file said.
const DISCREPANCY_COLUMNS: &str = "d.id, d.kind, d.household_id, h.number, h.head_name, \
     d.village_code, a.name AS village_name, d.visit_id, w.display_name AS worker_name, \
     v.started_at, d.reported_at, i.name AS item_name, d.expected_fen, d.received_fen, \
     d.paid_fen, e.expected_date, l.received_on, l.reason, l.reason_text, d.state, d.assignee_id, \
     d.resolution, d.closed_at, au.display_name AS assignee_name, \
     v.payload_hash AS stored_hash, v.received_at AS stored_at, \
     c.payload_hash AS other_hash, c.received_at AS other_at, cw.display_name AS other_worker, \
     rd.reason AS dispute_reason, rd.details AS dispute_details, rd.phone AS dispute_phone, \
     sr.kind AS signal_kind, sr.comment AS signal_comment";

const DISCREPANCY_FROM: &str = "discrepancies d \
     JOIN households h ON h.id = d.household_id \
     JOIN areas a ON a.code = d.village_code \
     LEFT JOIN visits v ON v.id = d.visit_id \
     LEFT JOIN users w ON w.id = v.worker_id \
     LEFT JOIN verification_lines l ON l.visit_id = d.visit_id AND l.entitlement_id = d.entitlement_id \
     LEFT JOIN entitlements e ON e.id = d.entitlement_id \
     LEFT JOIN subsidy_items i ON i.code = COALESCE(e.item_code, d.item_code) \
     LEFT JOIN users au ON au.id = d.assignee_id \
     LEFT JOIN visit_conflicts c ON c.id = d.conflict_id \
     LEFT JOIN users cw ON cw.id = c.worker_id \
     LEFT JOIN receipt_disputes rd ON rd.discrepancy_id = d.id \
     LEFT JOIN visit_signal_reviews sr ON sr.discrepancy_id = d.id";

fn discrepancy_from_row(r: &DbRow) -> DbResult<DiscrepancyRecord> {
    let kind: String = r.try_get("kind")?;
    let kind = DiscrepancyKind::parse(&kind).ok_or_else(|| corrupt("discrepancy kind", &kind))?;
    let state: String = r.try_get("state")?;
    let reason: Option<String> = r.try_get("reason")?;
    let resolution: Option<String> = r.try_get("resolution")?;
    let conflict = if kind == DiscrepancyKind::VisitConflict {
        Some(ConflictRecord {
            stored_hash: r.try_get("stored_hash")?,
            stored_at: r.try_get("stored_at")?,
            other_hash: r.try_get("other_hash")?,
            other_at: r.try_get("other_at")?,
            other_worker_name: r.try_get("other_worker")?,
        })
    } else {
        None
    };
    Ok(DiscrepancyRecord {
        id: r.try_get("id")?,
        kind,
        household_id: r.try_get("household_id")?,
        household_number: r.try_get("number")?,
        head_name: r.try_get("head_name")?,
        village: Area {
            code: area_code(r.try_get("village_code")?)?,
            name: r.try_get("village_name")?,
        },
        visit_id: r.try_get("visit_id")?,
        worker_name: r.try_get("worker_name")?,
        visit_started_at: r.try_get("started_at")?,
        reported_at: r.try_get("reported_at")?,
        item_name: r.try_get("item_name")?,
        expected_fen: r.try_get("expected_fen")?,
        received_fen: r.try_get("received_fen")?,
        paid_fen: r.try_get("paid_fen")?,
        expected_date: r.try_get("expected_date")?,
        received_on: r.try_get("received_on")?,
        reason: reason
            .map(|x| ShortfallReason::parse(&x).ok_or_else(|| corrupt("shortfall reason", &x)))
            .transpose()?,
        reason_text: match kind {
            // What the household wrote on its receipt, and where to call it.
            DiscrepancyKind::Dispute => {
                let reason: Option<String> = r.try_get("dispute_reason")?;
                let details: Option<String> = r.try_get("dispute_details")?;
                let phone: Option<String> = r.try_get("dispute_phone")?;
                Some(crate::receipts::dispute_words(
                    reason
                        .as_deref()
                        .and_then(crate::receipts::DisputeReason::parse),
                    details.as_deref().unwrap_or_default(),
                    phone.as_deref(),
                ))
            }
            DiscrepancyKind::SuspiciousVisit => {
                let kind: Option<String> = r.try_get("signal_kind")?;
                let comment: Option<String> = r.try_get("signal_comment")?;
                Some(format!(
                    "{}：{}",
                    kind.as_deref()
                        .and_then(crate::signals::SignalKind::parse)
                        .map_or("可疑走访", crate::signals::SignalKind::label),
                    comment.unwrap_or_default()
                ))
            }
            _ => r.try_get("reason_text")?,
        },
        status: DiscrepancyStatus {
            closed: state == "closed",
            assignee_id: r.try_get("assignee_id")?,
            resolution: resolution.as_deref().map(resolution_from).transpose()?,
            closed_at: r.try_get("closed_at")?,
        },
        assignee_name: r.try_get("assignee_name")?,
        conflict,
    })
}

/// SQL true when the income entry aliased `entry` is backed: its visit
/// carries an evidence photo for its kind. The tick older apps sent is
/// kept as signed, and backs nothing.
fn income_backed(entry: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM line_evidence le WHERE le.visit_id = {entry}.visit_id \
         AND le.line_kind = 'income' AND le.line_key = {entry}.kind)"
    )
}

/// SQL true when household `h` has a visit in the statistics year bound at
/// `year_param`: one probe of the visits' household index.
fn visited_in_year(year_param: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM visits v WHERE v.household_id = h.id AND v.stat_year = {year_param})"
    )
}

const VISIT_COLUMNS: &str = "id, household_id, worker_id, stat_year, started_at, ended_at, \
     met_with, notes, location_kind, lat_e6, lon_e6, accuracy_m, signer_name, signer_relation, \
     thumbprint, proxy_reason, signature_strokes, signature_png, content_hash, photo_jpeg, \
     payload_hash, received_at, household_size";

impl ThisStore {
    /// Rebuilds a visit in the form it arrived in, lines in entitlement order.
    async fn stored_visit(&self, r: &DbRow) -> DbResult<StoredVisit> {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        let id: Uuid = r.try_get("id")?;
        let kind: String = r.try_get("location_kind")?;
        let location = match kind.as_str() {
            "fix" => Location::Fix {
                lat_e6: r.try_get::<Option<i64>, _>("lat_e6")?.unwrap_or_default(),
                lon_e6: r.try_get::<Option<i64>, _>("lon_e6")?.unwrap_or_default(),
                accuracy_m: r
                    .try_get::<Option<i32>, _>("accuracy_m")?
                    .unwrap_or_default(),
            },
            "refused" => Location::Refused,
            "unavailable" => Location::Unavailable,
            other => return Err(corrupt("location kind", other)),
        };
        let line_rows = db(sqlx::query(
            "SELECT entitlement_id, status, received_fen, received_on, channel, reason, reason_text \
             FROM verification_lines WHERE visit_id = $1 ORDER BY entitlement_id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await)?;
        let lines = line_rows
            .iter()
            .map(|l| {
                let status: String = l.try_get("status")?;
                let channel: Option<String> = l.try_get("channel")?;
                let reason: Option<String> = l.try_get("reason")?;
                Ok(VerificationLine {
                    entitlement_id: l.try_get("entitlement_id")?,
                    status: PaymentStatus::parse(&status)
                        .ok_or_else(|| corrupt("payment status", &status))?,
                    received_fen: l.try_get("received_fen")?,
                    received_on: l.try_get("received_on")?,
                    channel: channel
                        .map(|c| Channel::parse(&c).ok_or_else(|| corrupt("channel", &c)))
                        .transpose()?,
                    reason: reason
                        .map(|x| {
                            ShortfallReason::parse(&x)
                                .ok_or_else(|| corrupt("shortfall reason", &x))
                        })
                        .transpose()?,
                    reason_text: l.try_get("reason_text")?,
                })
            })
            .collect::<DbResult<Vec<_>>>()?;
        let income = db(sqlx::query(
            "SELECT kind, amount_fen, evidence, note FROM income_entries WHERE visit_id = $1 \
             ORDER BY kind",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await)?
        .iter()
        .map(|l| {
            let kind: String = l.try_get("kind")?;
            Ok(IncomeLine {
                kind: IncomeKind::parse(&kind).ok_or_else(|| corrupt("income kind", &kind))?,
                amount_fen: l.try_get("amount_fen")?,
                evidence: l.try_get("evidence")?,
                note: l.try_get("note")?,
            })
        })
        .collect::<DbResult<Vec<_>>>()?;
        let measure_updates = db(sqlx::query(
            "SELECT measure_id, status, done_on, drop_reason, note FROM measure_events \
             WHERE visit_id = $1 ORDER BY measure_id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await)?
        .iter()
        .map(|u| {
            let status: String = u.try_get("status")?;
            Ok(MeasureUpdate {
                measure_id: u.try_get("measure_id")?,
                status: MeasureStatus::parse(&status)
                    .ok_or_else(|| corrupt("measure status", &status))?,
                done_on: u.try_get("done_on")?,
                drop_reason: u.try_get("drop_reason")?,
                note: u.try_get("note")?,
            })
        })
        .collect::<DbResult<Vec<_>>>()?;
        let evidence = db(sqlx::query(
            "SELECT line_kind, line_key, photo_jpeg FROM line_evidence WHERE visit_id = $1",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await)?
        .iter()
        .map(|e| {
            let (kind, key): (String, String) = (e.try_get("line_kind")?, e.try_get("line_key")?);
            Ok(LineEvidence {
                line: EvidenceFor::parse(&kind, &key)
                    .ok_or_else(|| corrupt("evidence line", &format!("{kind} {key}")))?,
                photo_base64: b64.encode(e.try_get::<Vec<u8>, _>("photo_jpeg")?),
            })
        })
        .collect::<DbResult<Vec<_>>>()?;
        let png: Vec<u8> = r.try_get("signature_png")?;
        let photo: Option<Vec<u8>> = r.try_get("photo_jpeg")?;
        let mut visit = VisitSubmission {
            id,
            household_id: r.try_get("household_id")?,
            stat_year: r.try_get("stat_year")?,
            started_at: r.try_get("started_at")?,
            ended_at: r.try_get("ended_at")?,
            met_with: r.try_get("met_with")?,
            notes: r.try_get("notes")?,
            location,
            lines,
            signature: Signature {
                signer_name: r.try_get("signer_name")?,
                signer_relation: r.try_get("signer_relation")?,
                thumbprint: r.try_get("thumbprint")?,
                proxy_reason: r.try_get("proxy_reason")?,
                strokes_json: r.try_get("signature_strokes")?,
                png_base64: b64.encode(png),
                content_hash: r.try_get("content_hash")?,
            },
            photo_base64: photo.map(|p| b64.encode(p)),
            measure_updates,
            income,
            household_size: r.try_get("household_size")?,
            evidence,
        };
        // The order the payload hash was taken in, whatever the SQL
        // collation's (PostgreSQL's text order need not be Rust's).
        visit.canonicalize();
        Ok(StoredVisit {
            visit,
            worker_id: r.try_get("worker_id")?,
            payload_hash: r.try_get("payload_hash")?,
            received_at: r.try_get("received_at")?,
        })
    }
}

/// Stores one visit inside the batch's transaction, under a savepoint of
/// its own: a visit that fails leaves nothing and does not undo the others.
/// One try at storing a batch of visits, each in a savepoint, in one
/// transaction that also moves the dispatch roll-up by what each stored
/// visit changed and queues the income work the visits cause (so a crash
/// after the commit leaves the work queued). Its cost does not grow with
/// the village's or the household's history: per line it reads only the
/// verifications just before and after it.
///
/// Locks, in the order every writer takes them (PostgreSQL): the villages'
/// area rows in share mode (a full roll-up refresh waits), then the
/// households' rows (two batches for one household take turns, so each
/// sees the other's lines when it works out its deltas), then roll-up and
/// work rows, each in key order.
async fn insert_visits_once(
    pool: &sqlx::Pool<Db>,
    records: &[VisitRecord],
) -> DbResult<Vec<DbResult<VisitInsert>>> {
    let mut tx = begin_write(pool).await?;
    if !LOCK_ROWS.is_empty() {
        let households: Vec<Uuid> = records.iter().map(|r| r.visit.household_id).collect();
        let villages = villages_of(&mut tx, &households).await?;
        for chunk in villages.iter().collect::<Vec<_>>().chunks(CHUNK) {
            let mut q = sqlx::QueryBuilder::<Db>::new("SELECT code FROM areas WHERE code IN (");
            push_in_list(&mut q, chunk.iter().map(|v| v.as_str()));
            q.push(format!(" ORDER BY code{SHARE_ROWS}"));
            db(q.build().fetch_all(&mut *tx).await)?;
        }
        let mut sorted = households.clone();
        sorted.sort_unstable();
        sorted.dedup();
        for chunk in sorted.chunks(CHUNK) {
            let mut q = sqlx::QueryBuilder::<Db>::new(
                "SELECT id, village_code FROM households WHERE id IN (",
            );
            push_in_list(&mut q, chunk.iter().copied());
            q.push(format!(" ORDER BY id{LOCK_ROWS}"));
            for r in db(q.build().fetch_all(&mut *tx).await)? {
                // Moved by an import since read: its new village is not
                // locked; start again.
                let village: String = r.try_get("village_code")?;
                if !villages.contains(&village) {
                    return Err(DbError::Retry);
                }
            }
        }
    }
    let mut answers = Vec::with_capacity(records.len());
    let mut work = Vec::new();
    let mut written = Written::default();
    for record in records {
        // A wait for a lock given up, or a deadlock, is not this visit's
        // fault: the whole batch runs again rather than answer it 500.
        let answer = match insert_visit_in(&mut tx, record, &mut written).await {
            Err(e) if e.is_retryable() => return Err(e),
            answer => answer,
        };
        if matches!(answer, Ok(VisitInsert::Stored)) {
            work.extend(record.income_work.iter().copied());
        }
        answers.push(answer);
    }
    // What the stored visits cause, once for the batch: the same
    // transaction, a few statements however many visits.
    let now = Utc::now();
    ledger_sql::record_all_in(&mut tx, RecordKind::Visit, &written.visits, now).await?;
    ledger_sql::record_all_in(&mut tx, RecordKind::Discrepancy, &written.items, now).await?;
    signals_sql::queue_all_in(&mut tx, &written.visits, now).await?;
    // Their lines may change what a payout file was matched with.
    written.households.sort_unstable();
    written.households.dedup();
    reconciliation_sql::reconcile_households_in(&mut tx, &written.households, now).await?;
    apply_paid_deltas(&mut tx, &written.deltas).await?;
    queue_income_work_in(&mut tx, work, now).await?;
    db(tx.commit().await)?;
    Ok(answers)
}

/// What a batch's visits wrote that the batch then chains, queues or
/// reconciles as a whole, in the order written.
#[derive(Default)]
struct Written {
    /// Visits stored.
    visits: Vec<Uuid>,
    /// Discrepancy items opened.
    items: Vec<Uuid>,
    /// The stored visits' households.
    households: Vec<Uuid>,
    /// What they change in `rollup_paid`.
    deltas: PaidDeltas,
}

/// What one verification line counts in `rollup_paid`, or a change of it:
/// `[paid, paid_fen, full_paid, full_fen]` (paid in full or in part, and
/// paid in full).
type PaidCounts = [i64; 4];

/// Changes to `rollup_paid` by (village, statistics year, item, China day).
type PaidDeltas = std::collections::BTreeMap<(String, i32, String, NaiveDate), PaidCounts>;

/// What a line of `status` with `received_fen` counts (see [`PaidCounts`]).
fn paid_counts(status: &str, received_fen: Option<i64>) -> PaidCounts {
    let fen = Fen::counted(received_fen.unwrap_or(0)).0;
    match status {
        "received_in_full" => [1, fen, 1, fen],
        "received_in_part" => [1, fen, 0, 0],
        _ => [0; 4],
    }
}

/// What a just-stored visit changes in `rollup_paid` (migration 0007: each
/// verification line counts itself minus what the previous verification of
/// the same payment counted, on its own day). A line placed between two
/// others of its payment (a visit that started earlier arriving later)
/// also changes what the next one takes back.
///
/// Its cost does not grow with the payments' history: per line it reads
/// only the verification just before and just after it, two seeks in
/// `verification_lines_payment` (migration 0021).
async fn paid_deltas_of(
    conn: &mut <Db as sqlx::Database>::Connection,
    v: &VisitSubmission,
    payments: &std::collections::HashMap<Uuid, Payment>,
    deltas: &mut PaidDeltas,
) -> DbResult<()> {
    if v.lines.is_empty() {
        return Ok(());
    }
    // Each line's neighbours in the order the roll-up counts
    // verifications: (started_at, visit_id).
    let mut q = sqlx::QueryBuilder::<Db>::new("");
    for (n, l) in v.lines.iter().enumerate() {
        for (side, cmp, order) in [(0, '<', "DESC"), (1, '>', "ASC")] {
            if n > 0 || side > 0 {
                q.push(" UNION ALL ");
            }
            q.push(format!(
                "SELECT * FROM (SELECT {side} AS side, entitlement_id, status, received_fen, \
                 started_at FROM verification_lines WHERE entitlement_id = "
            ));
            q.push_bind(l.entitlement_id);
            q.push(format!(" AND started_at {cmp}= "));
            q.push_bind(v.started_at);
            q.push(format!(" AND (started_at {cmp} "));
            q.push_bind(v.started_at);
            q.push(format!(" OR visit_id {cmp} "));
            q.push_bind(v.id);
            q.push(format!(
                ") ORDER BY started_at {order}, visit_id {order} LIMIT 1) AS n{n}s{side}"
            ));
        }
    }
    let mut before = std::collections::HashMap::new();
    let mut after = std::collections::HashMap::new();
    for r in db(q.build().fetch_all(&mut *conn).await)? {
        let counts = paid_counts(
            r.try_get::<String, _>("status")?.as_str(),
            r.try_get("received_fen")?,
        );
        let side = if r.try_get::<i32, _>("side")? == 0 {
            &mut before
        } else {
            &mut after
        };
        side.insert(
            r.try_get::<Uuid, _>("entitlement_id")?,
            (r.try_get::<DateTime<Utc>, _>("started_at")?, counts),
        );
    }
    for l in &v.lines {
        let Some(Payment {
            village_code: village,
            stat_year: year,
            item_code: item,
            ..
        }) = payments.get(&l.entitlement_id)
        else {
            continue;
        };
        let this = paid_counts(l.status.as_str(), l.received_fen);
        let prev = before.get(&l.entitlement_id).map_or([0; 4], |(_, c)| *c);
        let mut add = |at: DateTime<Utc>, plus: PaidCounts, minus: PaidCounts| {
            let key = (
                village.clone(),
                *year,
                item.clone(),
                crate::subsidies::china_date(at),
            );
            let slot = deltas.entry(key).or_default();
            for k in 0..4 {
                slot[k] += plus[k] - minus[k];
            }
        };
        add(v.started_at, this, prev);
        if let Some((next_at, _)) = after.get(&l.entitlement_id) {
            add(*next_at, prev, this);
        }
    }
    Ok(())
}

/// Adds the deltas to `rollup_paid` in place, in key order.
async fn apply_paid_deltas(
    tx: &mut sqlx::Transaction<'static, Db>,
    deltas: &PaidDeltas,
) -> DbResult<()> {
    let rows: Vec<_> = deltas.iter().filter(|(_, d)| **d != [0; 4]).collect();
    for chunk in rows.chunks(CHUNK / 2) {
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "INSERT INTO rollup_paid (village_code, stat_year, item_code, day, paid, paid_fen, \
             full_paid, full_fen) ",
        );
        q.push_values(chunk, |mut b, ((village, year, item, day), counts)| {
            b.push_bind(village.clone())
                .push_bind(*year)
                .push_bind(item.clone())
                .push_bind(*day);
            for c in counts.iter() {
                b.push_bind(*c);
            }
        });
        q.push(format!(
            " ON CONFLICT (village_code, stat_year, item_code, day) DO UPDATE SET \
             paid = {}, paid_fen = {}, full_paid = {}, full_fen = {}",
            saturating_add("rollup_paid.paid", "excluded.paid"),
            saturating_add("rollup_paid.paid_fen", "excluded.paid_fen"),
            saturating_add("rollup_paid.full_paid", "excluded.full_paid"),
            saturating_add("rollup_paid.full_fen", "excluded.full_fen"),
        ));
        db(q.build().execute(&mut **tx).await)?;
    }
    Ok(())
}

async fn insert_visit_in(
    tx: &mut sqlx::Transaction<'static, Db>,
    record: &VisitRecord,
    written: &mut Written,
) -> DbResult<VisitInsert> {
    let mut sp = db(sqlx::Acquire::begin(&mut **tx).await)?;

    let v = &record.visit;
    let (kind, lat, lon, accuracy) = match v.location {
        Location::Fix {
            lat_e6,
            lon_e6,
            accuracy_m,
        } => ("fix", Some(lat_e6), Some(lon_e6), Some(accuracy_m)),
        Location::Refused => ("refused", None, None, None),
        Location::Unavailable => ("unavailable", None, None, None),
    };
    let now = Utc::now();
    let inserted = db(sqlx::query(
        "INSERT INTO visits (id, household_id, worker_id, stat_year, started_at, ended_at, \
         met_with, notes, location_kind, lat_e6, lon_e6, accuracy_m, signer_name, \
         signer_relation, thumbprint, proxy_reason, signature_strokes, signature_png, \
         content_hash, photo_jpeg, payload_hash, received_at, household_size) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
         $17, $18, $19, $20, $21, $22, $23) ON CONFLICT (id) DO NOTHING",
    )
    .bind(v.id)
    .bind(v.household_id)
    .bind(record.worker_id)
    .bind(v.stat_year)
    .bind(v.started_at)
    .bind(v.ended_at)
    .bind(&v.met_with)
    .bind(&v.notes)
    .bind(kind)
    .bind(lat)
    .bind(lon)
    .bind(accuracy)
    .bind(&v.signature.signer_name)
    .bind(&v.signature.signer_relation)
    .bind(v.signature.thumbprint)
    .bind(&v.signature.proxy_reason)
    .bind(&v.signature.strokes_json)
    .bind(&record.signature_png)
    .bind(&v.signature.content_hash)
    .bind(&record.photo_jpeg)
    .bind(&record.payload_hash)
    .bind(now)
    .bind(v.household_size)
    .execute(&mut *sp)
    .await)?
    .rows_affected();
    if inserted == 0 {
        // The id is taken: a replay of the same visit, a conflict, or
        // someone else's id.
        sp.rollback().await?;
        let existing = db(sqlx::query(
            "SELECT payload_hash, worker_id, household_id FROM visits WHERE id = $1",
        )
        .bind(v.id)
        .fetch_one(&mut **tx)
        .await)?;
        // Two copies conflict only if the caller could have made both: the
        // same caller's visit of the same household. Anything else is not
        // theirs to dispute, and must leave no trace in another area's queue.
        if existing.try_get::<Uuid, _>("worker_id")? != record.worker_id
            || existing.try_get::<Uuid, _>("household_id")? != v.household_id
        {
            return Ok(VisitInsert::Taken);
        }
        let existing: String = existing.try_get("payload_hash")?;
        if existing == record.payload_hash
            || record.earlier_payload_hash.as_ref() == Some(&existing)
        {
            return Ok(VisitInsert::AlreadyStored);
        }
        let payload = serde_json::to_string(v).map_err(|e| corrupt("visit", &e.to_string()))?;
        let conflict_id = Uuid::now_v7();
        let kept = db(sqlx::query(
            "INSERT INTO visit_conflicts (id, visit_id, worker_id, payload, payload_hash, received_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (visit_id, payload_hash) DO NOTHING",
        )
        .bind(conflict_id)
        .bind(v.id)
        .bind(record.worker_id)
        .bind(payload)
        .bind(&record.payload_hash)
        .bind(now)
        .execute(&mut **tx)
        .await)?
        .rows_affected();
        // A new conflicting copy opens an item for a supervisor; the same
        // copy arriving again is already in the queue.
        if kept == 1 {
            let item = Uuid::now_v7();
            db(sqlx::query(
                "INSERT INTO discrepancies (id, kind, household_id, village_code, visit_id, \
                 conflict_id, reported_at) \
                 SELECT $1, $2, v.household_id, h.village_code, v.id, $3, $4 \
                 FROM visits v JOIN households h ON h.id = v.household_id WHERE v.id = $5",
            )
            .bind(item)
            .bind(DiscrepancyKind::VisitConflict.as_str())
            .bind(conflict_id)
            .bind(now)
            .bind(v.id)
            .execute(&mut **tx)
            .await)?;
            written.items.push(item);
        }
        return Ok(VisitInsert::Conflict);
    }
    for chunk in v.lines.chunks(CHUNK / 9) {
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "INSERT INTO verification_lines (visit_id, entitlement_id, status, received_fen, \
             received_on, channel, reason, reason_text, started_at) ",
        );
        q.push_values(chunk, |mut b, l| {
            b.push_bind(v.id)
                .push_bind(l.entitlement_id)
                .push_bind(l.status.as_str())
                .push_bind(l.received_fen)
                .push_bind(l.received_on)
                .push_bind(l.channel.map(Channel::as_str))
                .push_bind(l.reason.map(ShortfallReason::as_str))
                .push_bind(&l.reason_text)
                .push_bind(v.started_at);
        });
        db(q.build().execute(&mut *sp).await)?;
    }
    let payments = payments_of(&mut sp, v).await?;
    let items = open_line_discrepancies(&mut sp, record, &payments).await?;
    // Worked out before the next visit of the batch is stored: its lines
    // are this one's neighbours only once it is.
    let mut deltas = PaidDeltas::new();
    paid_deltas_of(&mut sp, v, &payments, &mut deltas).await?;
    for l in &v.income {
        db(sqlx::query(
            "INSERT INTO income_entries (id, visit_id, household_id, stat_year, kind, amount_fen, \
             evidence, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(Uuid::now_v7())
        .bind(v.id)
        .bind(v.household_id)
        .bind(v.stat_year)
        .bind(l.kind.as_str())
        .bind(l.amount_fen)
        .bind(l.evidence)
        .bind(&l.note)
        .execute(&mut *sp)
        .await)?;
    }
    for (line, jpeg) in &record.evidence_jpeg {
        db(sqlx::query(
            "INSERT INTO line_evidence (visit_id, line_kind, line_key, photo_jpeg) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(v.id)
        .bind(line.kind())
        .bind(line.key())
        .bind(jpeg)
        .execute(&mut *sp)
        .await)?;
    }
    for u in &v.measure_updates {
        // Only this household's measures: a phone cannot move another's. The
        // move happened when the visit ended, not when it arrived.
        plans_sql::move_measure_in(
            &mut sp,
            v.household_id,
            u,
            Some(v.id),
            record.worker_id,
            v.ended_at,
        )
        .await?;
    }
    db(sp.commit().await)?;
    written.visits.push(v.id);
    written.items.extend(items);
    written.households.push(v.household_id);
    for (key, counts) in deltas {
        let slot = written.deltas.entry(key).or_default();
        for k in 0..4 {
            slot[k] += counts[k];
        }
    }
    Ok(VisitInsert::Stored)
}

/// What a visit's lines verify, by entitlement id: read once per visit
/// for its discrepancies and its roll-up deltas.
struct Payment {
    household_id: Uuid,
    stat_year: i32,
    item_code: String,
    village_code: String,
    expected_fen: i64,
    expected_date: NaiveDate,
}

async fn payments_of(
    conn: &mut <Db as sqlx::Database>::Connection,
    v: &VisitSubmission,
) -> DbResult<std::collections::HashMap<Uuid, Payment>> {
    let mut payments = std::collections::HashMap::new();
    if v.lines.is_empty() {
        return Ok(payments);
    }
    let mut q = sqlx::QueryBuilder::<Db>::new(
        "SELECT e.id, e.household_id, e.stat_year, e.item_code, e.expected_fen, \
                e.expected_date, h.village_code \
         FROM entitlements e JOIN households h ON h.id = e.household_id WHERE e.id IN (",
    );
    push_in_list(&mut q, v.lines.iter().map(|l| l.entitlement_id));
    for r in db(q.build().fetch_all(&mut *conn).await)? {
        payments.insert(
            r.try_get::<Uuid, _>("id")?,
            Payment {
                household_id: r.try_get("household_id")?,
                stat_year: r.try_get("stat_year")?,
                item_code: r.try_get("item_code")?,
                village_code: r.try_get("village_code")?,
                expected_fen: r.try_get("expected_fen")?,
                expected_date: r.try_get("expected_date")?,
            },
        );
    }
    Ok(payments)
}

/// Opens a discrepancy for each line of a just-stored visit where what
/// arrived differs from what was due (a payment of its household and
/// year), in the visit's own transaction; answers the items opened (for
/// the batch to chain).
async fn open_line_discrepancies(
    sp: &mut sqlx::Transaction<'_, Db>,
    record: &VisitRecord,
    payments: &std::collections::HashMap<Uuid, Payment>,
) -> DbResult<Vec<Uuid>> {
    let v = &record.visit;
    let mut items = Vec::new();
    for l in &v.lines {
        let Some(due) = payments
            .get(&l.entitlement_id)
            .filter(|p| p.household_id == v.household_id && p.stat_year == v.stat_year)
        else {
            continue;
        };
        let Some(kind) = DiscrepancyKind::of_line(l, due.expected_date) else {
            continue;
        };
        let item = Uuid::now_v7();
        db(sqlx::query(
            "INSERT INTO discrepancies (id, kind, household_id, village_code, visit_id, \
             entitlement_id, expected_fen, received_fen, reported_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(item)
        .bind(kind.as_str())
        .bind(v.household_id)
        .bind(&due.village_code)
        .bind(v.id)
        .bind(l.entitlement_id)
        .bind(due.expected_fen)
        .bind(l.received_fen.unwrap_or(0))
        .bind(v.started_at)
        .execute(&mut **sp)
        .await)?;
        items.push(item);
    }
    Ok(items)
}
