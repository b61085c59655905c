//! The store's part for payout files and the three-way match (migration
//! 0020, `crate::reconciliation`).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{DbResult, ImportDone};
use crate::areas::AreaCode;
use crate::reconciliation::Outcome;

/// What a payout file says was paid one household for one item in one
/// year: the sum of its rows for that key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutRecord {
    pub id: Uuid,
    pub household_id: Uuid,
    pub item_code: String,
    pub stat_year: i32,
    pub paid_fen: i64,
    pub payments: i32,
    pub first_paid_on: NaiveDate,
    pub last_paid_on: NaiveDate,
    /// The accounts' last four digits, `、`-separated; none if masked whole.
    pub account_tail: Option<String>,
    pub department: String,
    /// What was paid each day, by day: sums to `paid_fen`.
    pub by_day: Vec<(NaiveDate, i64)>,
}

impl PayoutRecord {
    /// The same payment as `other`, whatever the ids.
    pub fn same_as(&self, other: &PayoutRecord) -> bool {
        self.paid_fen == other.paid_fen
            && self.payments == other.payments
            && self.first_paid_on == other.first_paid_on
            && self.last_paid_on == other.last_paid_on
            && self.account_tail == other.account_tail
            && self.department == other.department
            && self.by_day == other.by_day
    }
}

/// A checked payout file, written in one transaction.
#[derive(Debug, Clone)]
pub struct PayoutWrite {
    /// The importer's area: the file speaks for it.
    pub area: AreaCode,
    pub file_name: String,
    pub imported_by: Uuid,
    pub at: DateTime<Utc>,
    /// New and changed keys (each a new row: payouts are never edited).
    pub payouts: Vec<PayoutRecord>,
    /// Every item and year the file holds: inside `area` a payment due
    /// with no record in a file of its item is "due but not paid".
    pub scopes: Vec<(String, i32)>,
}

/// Keys of one group (a child area or an item) in one outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeFigure {
    pub group: String,
    pub outcome: Outcome,
    pub keys: i64,
    pub due_fen: i64,
    pub paid_fen: i64,
    pub received_fen: i64,
}

/// Which keys the drill-down lists.
#[derive(Debug, Clone)]
pub struct ReconciledQuery {
    pub area: AreaCode,
    pub stat_year: i32,
    pub outcome: Outcome,
    pub item_code: Option<String>,
    /// Splits "due but not paid" from "not due yet".
    pub today: NaiveDate,
    pub limit: u32,
    pub offset: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconciledRow {
    pub household_id: Uuid,
    pub number: String,
    pub head_name: String,
    pub village_code: String,
    pub village_name: String,
    pub item_name: String,
    pub outcome: Outcome,
    pub due_fen: Option<i64>,
    pub paid_fen: Option<i64>,
    pub received_fen: Option<i64>,
    pub discrepancy_id: Option<Uuid>,
}

/// A payout file's item and year imported for an area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutScopeRow {
    pub area_code: String,
    pub area_name: String,
    pub item_name: String,
    pub stat_year: i32,
    pub imported_at: DateTime<Utc>,
}

#[async_trait]
pub trait ReconciliationStore {
    /// The payouts in force for these households.
    async fn current_payouts(&self, households: &[Uuid]) -> DbResult<Vec<PayoutRecord>>;
    /// Writes a payout file, rewrites the match of every key in its scope
    /// and opens the discrepancy items of the mismatches, in one
    /// transaction that also records the job's report (see
    /// `apply_roster`): whether it was written.
    async fn apply_payouts(
        &self,
        write: &PayoutWrite,
        progress: &(dyn Fn(usize) + Sync),
        job: Option<ImportDone<'_>>,
    ) -> DbResult<bool>;
    /// Keys of `area` in `stat_year` per outcome: grouped by child area
    /// (the area itself for a village), and by item.
    async fn reconciliation_figures(
        &self,
        area: &AreaCode,
        stat_year: i32,
        today: NaiveDate,
    ) -> DbResult<(Vec<OutcomeFigure>, Vec<OutcomeFigure>)>;
    /// One page of the keys in one outcome, by village and number, and how
    /// many there are.
    async fn reconciled(&self, q: &ReconciledQuery) -> DbResult<(Vec<ReconciledRow>, i64)>;
    /// Opens the "due but not paid" items of keys whose expected date has
    /// come since they were matched (the match itself reads the date when
    /// shown); how many. Run with the periodic refresh.
    async fn open_fallen_due(&self, now: DateTime<Utc>) -> DbResult<usize>;
    /// The payout files' items and years imported for `area`, an area
    /// above it, or an area below it, newest first.
    async fn payout_scopes(&self, area: &AreaCode) -> DbResult<Vec<PayoutScopeRow>>;
}
