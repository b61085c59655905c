//! Persistence: one [`Store`] trait, one implementation per backend.
//!
//! The backend is chosen at start-up from `DATABASE_URL` (`sqlite:` or
//! `postgres://`). Both backends run the same portable SQL (`portable.rs`,
//! compiled once for each); what differs (connecting, pragmas, migrations)
//! lives in `sqlite.rs` and `postgres.rs`. Portable columns: ids are UUIDs,
//! money is integer fen, times are UTC, dates are calendar dates.

mod auth;
mod derived;
mod imports;
mod income;
mod ledger;
mod notices;
mod plans;
mod postgres;
mod receipts;
mod reconciliation;
mod signals;
mod sqlite;
mod startup;
mod weekly;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::areas::{Area, AreaCode, AreaSummary, RecentVisit, UnvisitedHousehold, WorkerProgress};
use crate::auth::Role;
use crate::households::{Category, HealthStatus, LabourStatus};
use crate::reports::DispatchFigure;
use crate::subsidies::{Channel, SubsidyItem};
use crate::users::UserSummary;
use crate::visits::VisitSubmission;

pub use auth::{AuthStore, FailureCount, NewSessionRow, SessionRow};
pub use derived::{Backlog, ClaimedWork, DerivedStore, IncomeWork};
pub use imports::{Claim, ImportDone, ImportJobRow, ImportStore, JobClock, NewImportJob, Queued};
pub use income::{
    DeclaredFact, HouseholdFacts, HouseholdIncomeRow, IncomeFacts, IncomeRollupRow, IncomeScope,
    IncomeStore, PaymentFact, SizeFact,
};
pub use ledger::{ChainHead, LedgerStore, VerificationRow};
pub use notices::{NewObjection, NoticeFacts, NoticeObjection, NoticePosting, NoticeStore};
pub use plans::{
    MeasureEvent, MeasureHistoryRow, NewPlan, ONE_PLAN_PER_HOUSEHOLD, PlanStore, PlanWrite,
};
pub use postgres::PostgresStore;
pub use receipts::{DisputeRow, NewDispute, ReceiptLookup, ReceiptStore};
pub use reconciliation::{
    OutcomeFigure, PayoutRecord, PayoutScopeRow, PayoutWrite, ReconciledQuery, ReconciledRow,
    ReconciliationStore,
};
pub use signals::{FoundSignal, SignalContext, SignalReview, SignalRow, SignalStore, SignalWrite};
pub use sqlite::SqliteStore;
pub use startup::StartupLock;
pub use weekly::{LateVisitRow, NewSubmission, SubmissionRow, SubmitRefusal, WeeklyStore};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("not found")]
    NotFound,
    /// A constraint refused the write; `constraint` names it where the
    /// database says, so services can turn it into a friendly message.
    #[error("conflict on {constraint}")]
    Conflict { constraint: String },
    /// Something the transaction read changed under it before it could
    /// lock it: nothing was written, and running it again is right.
    #[error("changed concurrently")]
    Retry,
    #[error(transparent)]
    Other(#[from] sqlx::Error),
}

impl DbError {
    fn from_sqlx(e: sqlx::Error) -> DbError {
        match &e {
            sqlx::Error::RowNotFound => DbError::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => DbError::Conflict {
                constraint: db.constraint().unwrap_or(db.message()).to_owned(),
            },
            _ => DbError::Other(e),
        }
    }

    /// A transaction the database gave up on to break a deadlock, or
    /// because of a concurrent update (PostgreSQL SQLSTATE 40P01, 40001),
    /// or that waited out SQLite's busy timeout for the one writer (5,
    /// 517): nothing of it was written, and running it again is right.
    pub fn is_retryable(&self) -> bool {
        matches!(self, DbError::Retry)
            || matches!(self, DbError::Other(e) if e
            .as_database_error()
            .and_then(|d| d.code())
            .is_some_and(|c| matches!(c.as_ref(), "40P01" | "40001" | "5" | "517")))
    }
}

impl From<DbError> for crate::error::AppError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound => crate::error::AppError::NotFound,
            DbError::Conflict { constraint } => {
                crate::error::AppError::Conflict(format!("记录已存在（{constraint}）"))
            }
            // PostgreSQL cannot hold a NUL character in text (SQLSTATE
            // 22021, character_not_in_repertoire): that is what was sent,
            // not a fault of ours, wherever the text came from.
            DbError::Other(e)
                if e.as_database_error()
                    .and_then(|d| d.code())
                    .is_some_and(|c| c == "22021") =>
            {
                tracing::info!(error = %e, "text refused by the database");
                crate::error::AppError::validation("文本", crate::text::zh::ERR_NUL_IN_TEXT)
            }
            DbError::Retry => {
                tracing::error!("a transaction kept meeting concurrent changes");
                crate::error::AppError::Internal
            }
            DbError::Other(e) => {
                tracing::error!(error = %e, "database error");
                crate::error::AppError::Internal
            }
        }
    }
}

pub type DbResult<T> = Result<T, DbError>;

/// A user as stored, password hash included: never leaves the server.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub area: AreaCode,
    pub password_hash: String,
    pub active: bool,
}

/// A household as stored, unmasked.
#[derive(Debug, Clone)]
pub struct HouseholdRecord {
    pub id: Uuid,
    pub number: String,
    pub head_name: String,
    pub category: Category,
    pub relocated: bool,
    pub village: AreaCode,
    pub worker_id: Option<Uuid>,
    pub phone: Option<String>,
    pub members: Vec<MemberRecord>,
}

#[derive(Debug, Clone)]
pub struct MemberRecord {
    pub id: Uuid,
    pub name: String,
    pub relation: String,
    /// Checked with [`crate::households::id_number::IdNumber`] before storing.
    pub id_number: String,
    pub labour: LabourStatus,
    pub health: HealthStatus,
}

#[derive(Debug, Clone)]
pub struct EntitlementRecord {
    pub id: Uuid,
    pub household_id: Uuid,
    pub item_code: String,
    pub stat_year: i32,
    pub expected_fen: i64,
    pub expected_date: NaiveDate,
    pub department: String,
    pub channel: Channel,
}

/// An entitlement joined with its catalogue item.
#[derive(Debug, Clone)]
pub struct EntitlementRow {
    pub entitlement: EntitlementRecord,
    pub item: SubsidyItem,
}

/// Which households to list. The scope is mandatory: callers always pass
/// the caller's area, so no query can forget it.
#[derive(Debug, Clone)]
pub struct HouseholdQuery {
    pub scope: AreaCode,
    /// Only households assigned to this worker.
    pub worker_id: Option<Uuid>,
    pub village: Option<AreaCode>,
    /// Matches the head's name (substring) or the household number (prefix).
    pub search: Option<String>,
    /// Only households with a payment due in this state (the dispatch
    /// table's cells drill down through this).
    pub payment: Option<PaymentQuery>,
    /// Only households whose account has one of these risk signals.
    pub flags: Option<FlagQuery>,
    pub limit: u32,
    pub offset: u32,
}

/// Households whose account of `stat_year` carries any signal in `bits`
/// (a sum of [`crate::income::IncomeFlag::bit`]s).
#[derive(Debug, Clone)]
pub struct FlagQuery {
    pub stat_year: i32,
    pub bits: i32,
}

/// Households behind a dispatch table cell: with a payment due in
/// `stat_year` (of `item_code`, or any item) that, as of `cutoff`, is in
/// `state`, by the rule in [`crate::reports`].
#[derive(Debug, Clone)]
pub struct PaymentQuery {
    pub stat_year: i32,
    pub item_code: Option<String>,
    pub cutoff: DateTime<Utc>,
    pub state: crate::reports::PaymentState,
}

/// What a roster import writes, computed by the import against what is
/// stored: only what is new or different.
#[derive(Debug, Clone, Default)]
pub struct RosterWrite {
    /// New households, and changed ones under their stored id (values and
    /// worker overwritten, creation time kept).
    pub households: Vec<HouseholdRecord>,
    /// Stored households (among `households`) whose members are replaced.
    pub replaced_members_of: Vec<Uuid>,
    /// New payments due, and changed ones under their stored id.
    pub entitlements: Vec<EntitlementRecord>,
    /// The accounts to recompute after it, queued in the same transaction.
    pub income_work: Vec<IncomeWork>,
}

/// A household list row, with its village and size.
#[derive(Debug, Clone)]
pub struct HouseholdRow {
    pub id: Uuid,
    pub number: String,
    pub head_name: String,
    pub category: Category,
    pub relocated: bool,
    pub village: Area,
    pub size: i64,
    pub worker_id: Option<Uuid>,
    /// The signals of the household's latest computed account.
    pub flags: crate::income::Flags,
}

impl From<HouseholdRow> for crate::households::HouseholdSummary {
    fn from(r: HouseholdRow) -> Self {
        crate::households::HouseholdSummary {
            id: r.id,
            number: r.number,
            head_name: r.head_name,
            category: r.category,
            relocated: r.relocated,
            village: r.village,
            size: r.size,
            flags: r.flags,
        }
    }
}

/// A checked visit, ready to store: the submission plus what the server
/// derived from it.
#[derive(Debug, Clone)]
pub struct VisitRecord {
    pub visit: VisitSubmission,
    pub worker_id: Uuid,
    pub signature_png: Vec<u8>,
    pub photo_jpeg: Option<Vec<u8>>,
    /// The evidence photos, one per line they back.
    pub evidence_jpeg: Vec<(crate::visits::EvidenceFor, Vec<u8>)>,
    /// Hex SHA-256 of the submission's JSON: tells a replay from a conflict.
    pub payload_hash: String,
    /// The hash releases before the canonical form gave the same
    /// submission, where it differs: a visit they stored, sent again, is a
    /// replay too.
    pub earlier_payload_hash: Option<String>,
    /// The accounts to recompute once it is stored, queued in the same
    /// transaction (nothing when it is not stored: a replay changes nothing).
    pub income_work: Vec<IncomeWork>,
}

/// What storing a visit did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisitInsert {
    Stored,
    /// The same id with the same content was already there: nothing written.
    AlreadyStored,
    /// The same id with other content: kept in `visit_conflicts`, the stored
    /// visit untouched.
    Conflict,
    /// The id is another caller's visit, or another household's: not a
    /// copy this caller could have made, so nothing written at all.
    Taken,
}

/// A visit as stored, rebuilt into the form it arrived in.
#[derive(Debug, Clone)]
pub struct StoredVisit {
    pub visit: VisitSubmission,
    pub worker_id: Uuid,
    pub payload_hash: String,
    pub received_at: DateTime<Utc>,
}

/// A review step as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewRecord {
    pub id: Uuid,
    pub visit_id: Uuid,
    pub state: crate::visits::ReviewState,
    pub comment: String,
    pub reviewer_id: Uuid,
    pub at: DateTime<Utc>,
}

/// Which households an assignment covers.
#[derive(Debug, Clone)]
pub enum AssignTarget {
    Household(Uuid),
    /// Every household of the village, or only those waiting for a worker
    /// (none, or a disabled one).
    Village {
        code: AreaCode,
        only_unassigned: bool,
    },
}

/// One step of a household's assignment trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentRecord {
    pub household_id: Uuid,
    pub old_worker_id: Option<Uuid>,
    pub new_worker_id: Uuid,
    pub assigned_by: Uuid,
    pub at: DateTime<Utc>,
}

/// A discrepancy with what the queue shows beside it, read in one query.
#[derive(Debug, Clone)]
pub struct DiscrepancyRecord {
    pub id: Uuid,
    pub kind: crate::discrepancies::DiscrepancyKind,
    pub household_id: Uuid,
    pub household_number: String,
    pub head_name: String,
    pub village: Area,
    /// None for a reconciliation item: it comes from a payout file.
    pub visit_id: Option<Uuid>,
    pub worker_name: Option<String>,
    pub visit_started_at: Option<DateTime<Utc>>,
    pub reported_at: DateTime<Utc>,
    pub item_name: Option<String>,
    pub expected_fen: Option<i64>,
    pub received_fen: Option<i64>,
    pub paid_fen: Option<i64>,
    pub expected_date: Option<NaiveDate>,
    pub received_on: Option<NaiveDate>,
    pub reason: Option<crate::visits::ShortfallReason>,
    pub reason_text: Option<String>,
    pub status: DiscrepancyStatus,
    pub assignee_name: Option<String>,
    /// For a conflict: the stored copy's hash and arrival, the other's.
    pub conflict: Option<ConflictRecord>,
}

/// The part of a discrepancy that its events change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscrepancyStatus {
    pub closed: bool,
    pub assignee_id: Option<Uuid>,
    pub resolution: Option<crate::discrepancies::Resolution>,
    pub closed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct ConflictRecord {
    pub stored_hash: String,
    pub stored_at: DateTime<Utc>,
    pub other_hash: String,
    pub other_at: DateTime<Utc>,
    pub other_worker_name: String,
}

/// Which discrepancies to list: the scope is mandatory, as for households.
#[derive(Debug, Clone)]
pub struct DiscrepancyQuery {
    pub scope: AreaCode,
    pub closed: bool,
    /// Only items assigned to this user.
    pub assignee_id: Option<Uuid>,
    pub limit: u32,
    pub offset: u32,
}

/// How many items of a kind an area holds in one state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscrepancyCount {
    pub kind: crate::discrepancies::DiscrepancyKind,
    pub closed: bool,
    /// Assigned to the user the counts were asked for.
    pub mine: bool,
    pub n: i64,
}

/// A step of a discrepancy's history as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscrepancyEvent {
    pub id: Uuid,
    pub discrepancy_id: Uuid,
    pub action: crate::discrepancies::DiscrepancyAction,
    pub actor_id: Uuid,
    pub assignee_id: Option<Uuid>,
    pub resolution: Option<crate::discrepancies::Resolution>,
    pub note: String,
    pub at: DateTime<Utc>,
}

/// Something a user tried, for the audit trail.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub user_id: Option<Uuid>,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub address: Option<String>,
}

/// Why [`Store::ready`] says no, in words fit for anyone to read: no
/// address, no SQL, no error text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotReady {
    /// No connection, or the database did not answer in time.
    Unreachable,
    /// This many of the build's migrations are not applied.
    MigrationsPending(usize),
}

impl std::fmt::Display for NotReady {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotReady::Unreachable => f.write_str("数据库无法连接 / database unreachable"),
            NotReady::MigrationsPending(n) => {
                write!(f, "数据库迁移未完成 / {n} migration(s) not applied")
            }
        }
    }
}

/// How long a readiness probe waits for the database: a balancer's check
/// must get an answer well within its own timeout.
pub const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Connections of the pool: open (busy or idle), idle, and the most it opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

#[async_trait]
pub trait Store:
    PlanStore
    + IncomeStore
    + AuthStore
    + DerivedStore
    + ImportStore
    + LedgerStore
    + ReceiptStore
    + SignalStore
    + NoticeStore
    + WeeklyStore
    + ReconciliationStore
    + Send
    + Sync
    + 'static
{
    /// Brings the schema up to date and loads the default catalogue items
    /// that are missing (local edits are kept).
    async fn migrate(&self) -> DbResult<()>;
    /// Waits until no other process holds the database's start-up lock,
    /// then holds it until released: taken around [`Store::migrate`] and
    /// the loading of data that must happen once (the demo), so instances
    /// started at once on one empty database come up one after another.
    async fn startup_lock(&self) -> DbResult<StartupLock>;
    fn backend(&self) -> &'static str;
    /// Whether this instance may take traffic (`/readyz`): the database
    /// answers within [`READY_TIMEOUT`] and every migration this build
    /// carries is applied (a database migrated further, by a newer build
    /// during a rolling upgrade, is ready too).
    async fn ready(&self) -> Result<(), NotReady>;
    /// The connection pool now (`/metrics`).
    fn pool_stats(&self) -> PoolStats;

    // areas
    async fn upsert_areas(&self, areas: &[Area]) -> DbResult<()>;
    async fn area(&self, code: &AreaCode) -> DbResult<Option<Area>>;
    /// The direct children of `parent`, by code.
    async fn child_areas(&self, parent: &AreaCode) -> DbResult<Vec<Area>>;
    /// The direct children of `parent`, each with household figures and
    /// how many households were visited in `stat_year`.
    async fn child_area_summaries(
        &self,
        parent: &AreaCode,
        stat_year: i32,
    ) -> DbResult<Vec<AreaSummary>>;
    /// Field workers of the area (or holding households in it) with their
    /// caseload there and how much of it was visited in `stat_year`.
    async fn worker_progress(
        &self,
        area: &AreaCode,
        stat_year: i32,
    ) -> DbResult<Vec<WorkerProgress>>;
    /// The first `limit` households of the area not visited in `stat_year`,
    /// by village and number.
    async fn unvisited_households(
        &self,
        area: &AreaCode,
        stat_year: i32,
        limit: i64,
    ) -> DbResult<Vec<UnvisitedHousehold>>;
    /// Per child area of `area` (the area itself for a village) and per
    /// subsidy item: the payments due in `stat_year` (`paid` left 0).
    async fn dispatch_due(&self, area: &AreaCode, stat_year: i32) -> DbResult<Vec<DispatchFigure>>;
    /// The same grouping: payments of `stat_year` whose latest verification
    /// by a visit started by the end of `as_of` (China time) found money
    /// (`due` left 0).
    async fn dispatch_paid(
        &self,
        area: &AreaCode,
        stat_year: i32,
        as_of: NaiveDate,
    ) -> DbResult<Vec<DispatchFigure>>;
    /// The area's `limit` most recently started visits.
    async fn recent_visits(&self, area: &AreaCode, limit: i64) -> DbResult<Vec<RecentVisit>>;
    /// Villages holding households assigned to `worker_id`.
    async fn villages_of_worker(&self, worker_id: Uuid) -> DbResult<Vec<Area>>;

    // users (sessions: [`AuthStore`])
    async fn insert_user(&self, user: &UserRecord) -> DbResult<()>;
    async fn user_by_username(&self, username: &str) -> DbResult<Option<UserRecord>>;
    async fn user_by_id(&self, id: Uuid) -> DbResult<Option<UserRecord>>;
    /// Users bound to `area` or below it, with their caseload (households
    /// assigned to them anywhere), by area code.
    async fn users_in_area(&self, area: &AreaCode) -> DbResult<Vec<UserSummary>>;
    /// Disables or re-enables a user; disabling also ends their sessions,
    /// in the same transaction. Whether anything changed.
    async fn set_user_active(&self, id: Uuid, active: bool) -> DbResult<bool>;

    // catalogue
    async fn subsidy_items(&self) -> DbResult<Vec<SubsidyItem>>;

    // households
    /// Inserts households with their members and entitlements in one
    /// transaction: all or nothing.
    async fn insert_households(
        &self,
        households: &[HouseholdRecord],
        entitlements: &[EntitlementRecord],
    ) -> DbResult<()>;
    async fn count_households(&self) -> DbResult<i64>;
    async fn list_households(&self, query: &HouseholdQuery) -> DbResult<(Vec<HouseholdRow>, i64)>;
    async fn household(&self, id: Uuid) -> DbResult<Option<HouseholdRecord>>;
    async fn entitlements(
        &self,
        household_id: Uuid,
        stat_year: i32,
    ) -> DbResult<Vec<EntitlementRow>>;

    async fn entitlement_ids(
        &self,
        household_id: Uuid,
        stat_year: i32,
    ) -> DbResult<Vec<(Uuid, i64)>>;
    /// Assigns the households of `target` not yet held by `worker_id` to
    /// them, each step recorded with the old worker, in one transaction.
    /// How many households changed hands.
    async fn assign_households(
        &self,
        target: &AssignTarget,
        worker_id: Uuid,
        by: Uuid,
    ) -> DbResult<u64>;
    /// A household's assignment trail, oldest first.
    async fn assignments_of_household(&self, household_id: Uuid)
    -> DbResult<Vec<AssignmentRecord>>;

    /// Rewrites the dispatch roll-ups of every village in `area` from their
    /// rows. Writes keep them current by deltas; this is the periodic
    /// repair that puts right whatever else changed them (a hand edit, a
    /// bug since fixed). Answers how many villages it rewrote.
    async fn rebuild_rollups(&self, area: &AreaCode) -> DbResult<usize>;

    /// Refreshes the query planner's statistics. After a bulk load the
    /// tables are many times larger than the planner believes, and it would
    /// scan where it should look up.
    async fn analyze(&self) -> DbResult<()>;

    // roster import
    /// The stored households (with members) among these numbers.
    async fn households_by_numbers(&self, numbers: &[String]) -> DbResult<Vec<HouseholdRecord>>;
    /// (number, id, village) of the stored households among these numbers.
    async fn household_keys_by_numbers(
        &self,
        numbers: &[String],
    ) -> DbResult<Vec<(String, Uuid, AreaCode)>>;
    /// (ID number, household number) for each of these ID numbers stored.
    async fn member_households(&self, id_numbers: &[String]) -> DbResult<Vec<(String, String)>>;
    /// Every payment due, of any year, to these households.
    async fn entitlements_of_households(&self, ids: &[Uuid]) -> DbResult<Vec<EntitlementRecord>>;
    /// Writes an import in one transaction: all or nothing. `progress` is
    /// told the rows written so far. With `job`, the same transaction
    /// records that import job's report, and writes nothing (`false`) when
    /// the job is no longer unfinished (failed as dead meanwhile, see
    /// [`ImportStore`]).
    async fn apply_roster(
        &self,
        write: &RosterWrite,
        progress: &(dyn Fn(usize) + Sync),
        job: Option<ImportDone<'_>>,
    ) -> DbResult<bool>;

    // visits
    /// Stores a visit with its lines in one transaction, exactly once.
    async fn insert_visit(&self, visit: &VisitRecord) -> DbResult<VisitInsert>;
    /// Stores many visits in one transaction, each under its own savepoint:
    /// one answer per visit, a failing visit leaves nothing of itself.
    async fn insert_visits(&self, visits: &[VisitRecord]) -> DbResult<Vec<DbResult<VisitInsert>>>;
    async fn visit(&self, id: Uuid) -> DbResult<Option<StoredVisit>>;
    async fn visits_of_household(&self, household_id: Uuid) -> DbResult<Vec<StoredVisit>>;
    /// One evidence photo of a visit (JPEG) and the visit's household.
    async fn evidence_photo(
        &self,
        visit_id: Uuid,
        line: crate::visits::EvidenceFor,
    ) -> DbResult<Option<(Uuid, Vec<u8>)>>;
    async fn count_visits(&self) -> DbResult<i64>;
    /// Payload hashes of the conflicting copies received for `visit_id`.
    async fn visit_conflicts(&self, visit_id: Uuid) -> DbResult<Vec<String>>;
    /// Adds a review step to a visit (history is never rewritten).
    async fn insert_review(&self, review: &ReviewRecord) -> DbResult<()>;
    /// The review steps of a household's visits, oldest first.
    async fn reviews_of_household(&self, household_id: Uuid) -> DbResult<Vec<ReviewRecord>>;

    // discrepancies (opened by `insert_visits` with the visit or conflict)
    /// A page of the area's discrepancies, newest first, and how many match.
    async fn discrepancies(
        &self,
        query: &DiscrepancyQuery,
    ) -> DbResult<(Vec<DiscrepancyRecord>, i64)>;
    /// The area's items per kind, state and whether assigned to `user_id`.
    async fn discrepancy_counts(
        &self,
        scope: &AreaCode,
        user_id: Uuid,
    ) -> DbResult<Vec<DiscrepancyCount>>;
    /// Items of `area` still open that were reported before `before`, per
    /// child area of `area` (the child's code prefix): `(prefix, items)`.
    async fn open_discrepancies_before(
        &self,
        area: &AreaCode,
        before: DateTime<Utc>,
    ) -> DbResult<Vec<(String, i64)>>;
    async fn discrepancy(&self, id: Uuid) -> DbResult<Option<DiscrepancyRecord>>;
    /// The item's history, oldest first.
    async fn discrepancy_events(&self, id: Uuid) -> DbResult<Vec<DiscrepancyEvent>>;
    /// Adds a step to the history and sets the item's state to `to` in one
    /// transaction, only if the item is still `from_closed` (else
    /// `Conflict`: someone else moved it first).
    async fn record_discrepancy_event(
        &self,
        event: &DiscrepancyEvent,
        from_closed: bool,
        to: &DiscrepancyStatus,
    ) -> DbResult<()>;
    /// Active users bound to one of `areas`.
    async fn active_users_in(&self, areas: &[AreaCode]) -> DbResult<Vec<UserRecord>>;

    // audit
    async fn record_audit(&self, event: &AuditEvent) -> DbResult<()>;
    async fn audit_events(&self, action: &str) -> DbResult<Vec<AuditEvent>>;
}

/// Opens the store named by `url`. Any scheme other than `sqlite:` or
/// `postgres://`/`postgresql://` is refused with a message saying so.
pub async fn connect(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::connect(url).await?))
    } else {
        anyhow::bail!(
            "DATABASE_URL 必须以 sqlite: 或 postgres:// 开头（收到“{}”）。\
             DATABASE_URL must start with sqlite: or postgres://",
            url.split(':').next().unwrap_or(url)
        )
    }
}
