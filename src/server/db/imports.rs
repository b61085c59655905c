//! The store's part for roster imports: the jobs themselves (queue, phase,
//! progress, outcome) and the claim that lets one import at a time check
//! and write an area. All of it lives in the database, so that any server
//! instance answers for any import and the one-at-a-time rule holds across
//! instances (`src/roster/jobs.rs` drives it).
//!
//! Liveness is a heartbeat: the instance holding a job renews
//! `heartbeat_at`; every operation here treats a job whose heartbeat is
//! older than the `stale_before` it is given as dead, and ends it before
//! going on: failed with [`crate::text::zh::IMPORT_INTERRUPTED`], or done if
//! its rows were written.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::DbResult;
use crate::roster::{ImportPhase, ImportReport, RosterKind};

/// A job as queued at upload.
#[derive(Debug, Clone)]
pub struct NewImportJob<'a> {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub kind: RosterKind,
    pub file_name: &'a str,
    pub area_name: &'a str,
    /// The importer's area ([`crate::areas::AreaCode::scope_prefix`]): jobs
    /// whose scopes are prefixes of one another run one at a time.
    pub scope: &'a str,
    /// Which instance runs it, for the operator.
    pub runner: &'a str,
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportJobRow {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub kind: RosterKind,
    pub file_name: String,
    pub area_name: String,
    pub scope: String,
    pub runner: String,
    /// With the outcome folded in once finished.
    pub phase: ImportPhase,
    pub done: u32,
    pub total: u32,
    pub created_at: DateTime<Utc>,
    /// When it claimed its area (`None` while queued).
    pub started_at: Option<DateTime<Utc>>,
    pub heartbeat_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// The times every job operation judges by: the caller's clock, so that
/// tests can age a job (instances' clocks must agree within seconds, as
/// for sessions).
#[derive(Debug, Clone, Copy)]
pub struct JobClock {
    pub now: DateTime<Utc>,
    /// A job not heard from since before this is dead.
    pub stale_before: DateTime<Utc>,
}

/// Why [`ImportStore::queue_import_job`] did not queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queued {
    Yes,
    /// This many unfinished jobs already overlap the scope.
    Full(u32),
}

/// What [`ImportStore::claim_import_job`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// The job holds its area now: it may check and write.
    Claimed,
    /// A job overlapping its scope runs, or one queued earlier waits.
    Wait,
    /// The job is finished (failed as dead meanwhile) or gone: stop.
    Ended,
}

/// What an import wrote, recorded in the transaction that writes its rows:
/// either both are stored or neither (see [`super::Store::apply_roster`]).
/// A job whose instance dies after that commit ends done, not failed.
#[derive(Debug, Clone, Copy)]
pub struct ImportDone<'a> {
    pub job_id: Uuid,
    pub report: &'a ImportReport,
    pub at: DateTime<Utc>,
}

#[async_trait]
pub trait ImportStore {
    /// Queues a job at `clock.now`, unless `max_unfinished` live jobs
    /// already overlap its scope (counted and inserted atomically across
    /// instances). On the way it fails dead jobs and deletes jobs finished
    /// before `finished_before`, so the table stays small.
    async fn queue_import_job(
        &self,
        job: &NewImportJob<'_>,
        max_unfinished: u32,
        clock: JobClock,
        finished_before: DateTime<Utc>,
    ) -> DbResult<Queued>;
    /// Takes the job's area if no live job overlapping it has one and none
    /// queued before it waits (first come, first served); dead jobs in the
    /// way are failed first. Atomic across instances: two claims never
    /// both succeed for overlapping scopes.
    async fn claim_import_job(&self, id: Uuid, clock: JobClock) -> DbResult<Claim>;
    /// The heartbeat, with the progress once the job runs (`phase` one of
    /// reading, checking, writing). `false` when the job is no longer
    /// unfinished (failed as dead): its runner must stop.
    async fn beat_import_job(
        &self,
        id: Uuid,
        progress: Option<(&ImportPhase, u32, u32)>,
        now: DateTime<Utc>,
    ) -> DbResult<bool>;
    /// Records the outcome, only if the job is unfinished; whether it was.
    /// A job ends done only after [`super::Store::apply_roster`] recorded
    /// its report with its rows (and then with that report): until this
    /// call it still holds its area, while its follow-up work runs.
    async fn finish_import_job(
        &self,
        id: Uuid,
        outcome: &ImportPhase,
        now: DateTime<Utc>,
    ) -> DbResult<bool>;
    /// The job, if `owner_id` queued it (nobody reads another's import: its
    /// problems quote the file). A dead one is failed before it is returned.
    async fn import_job(
        &self,
        id: Uuid,
        owner_id: Uuid,
        clock: JobClock,
    ) -> DbResult<Option<ImportJobRow>>;
}
