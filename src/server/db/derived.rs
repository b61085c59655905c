//! The store's part for derived work (migration 0010): the outbox of work a
//! write causes, and the schedule of periodic work. Both live in the
//! database so that any instance can do the work and every limit holds
//! across instances.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::DbResult;

/// A household whose income account (and signals, and village roll-up) of
/// a statistics year is to be recomputed, because a write changed what it
/// is computed from. Recorded in the write's transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IncomeWork {
    pub household_id: Uuid,
    pub stat_year: i32,
}

/// A claimed piece of work, with the version it had when claimed: the
/// worker that stores the result deletes the row only if no write bumped
/// the version meanwhile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimedWork {
    pub work: IncomeWork,
    pub version: i64,
    pub queued_at: DateTime<Utc>,
}

/// How far behind the workers are.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Backlog {
    pub pending: i64,
    /// When the oldest pending work was queued.
    pub oldest: Option<DateTime<Utc>>,
}

#[async_trait]
pub trait DerivedStore {
    /// Queues work outside any other write (a repair, a test). Writes that
    /// cause work queue it in their own transaction instead.
    async fn queue_income_work(&self, work: &[IncomeWork]) -> DbResult<()>;

    /// Claims up to `limit` pending pieces, oldest first, that no live
    /// claim holds, until `until`. Claims by concurrent workers never
    /// overlap (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite: one writer).
    async fn claim_income_work(
        &self,
        limit: i64,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> DbResult<Vec<ClaimedWork>>;

    async fn income_backlog(&self) -> DbResult<Backlog>;

    /// Claims the run of periodic work `name` that is due at `now`: true
    /// for exactly one caller per interval across all instances, which
    /// then runs it; the next run is due at `next`. A schedule not yet
    /// stored is first due at `first_due` (`None`: only when something
    /// makes it due).
    async fn claim_schedule(
        &self,
        name: &str,
        now: DateTime<Utc>,
        next: DateTime<Utc>,
        runner: &str,
        first_due: Option<DateTime<Utc>>,
    ) -> DbResult<bool>;

    /// After a run claimed with `claimed_next`: makes the next one due at
    /// `next` instead, unless the schedule was moved meanwhile (a new
    /// reason to run, which stands). True if it was put off.
    async fn put_off_schedule(
        &self,
        name: &str,
        claimed_next: DateTime<Utc>,
        next: DateTime<Utc>,
    ) -> DbResult<bool>;

    /// How many times `name` has run (operators, tests).
    async fn schedule_runs(&self, name: &str) -> DbResult<i64>;
}
