//! The store's part for income accounts, thresholds and their roll-ups.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::DbResult;
use crate::areas::AreaCode;
use crate::income::{IncomeKind, MeasureFacts};
use crate::subsidies::{Fen, IncomeBucket};

/// Whose accounts to read or recompute.
#[derive(Debug, Clone)]
pub enum IncomeScope {
    /// Every household in the area's subtree.
    Area(AreaCode),
    Households(Vec<Uuid>),
}

/// A household as its account needs it.
#[derive(Debug, Clone)]
pub struct HouseholdFacts {
    pub id: Uuid,
    pub village_code: String,
    /// A monitored household's identification date; `None` for others.
    pub identified_on: Option<NaiveDate>,
    /// Members on record now.
    pub members: i32,
}

/// One declared income line with the visit it came in.
#[derive(Debug, Clone)]
pub struct DeclaredFact {
    pub household_id: Uuid,
    pub stat_year: i32,
    pub kind: IncomeKind,
    pub amount_fen: i64,
    pub evidence: bool,
    pub visit_id: Uuid,
    pub visit_at: DateTime<Utc>,
}

/// One verification line of a payment due, with the visit it came in.
#[derive(Debug, Clone)]
pub struct PaymentFact {
    pub household_id: Uuid,
    pub stat_year: i32,
    pub entitlement_id: Uuid,
    pub item_name: String,
    pub bucket: IncomeBucket,
    /// What the line says arrived; 0 when it says nothing did.
    pub received_fen: i64,
    pub visit_id: Uuid,
    pub visit_at: DateTime<Utc>,
}

/// A household size a visit confirmed.
#[derive(Debug, Clone)]
pub struct SizeFact {
    pub household_id: Uuid,
    pub stat_year: i32,
    pub size: i32,
    pub visit_id: Uuid,
    pub visit_at: DateTime<Utc>,
}

/// Everything the accounts of a scope's households are computed from, for
/// a statistics year and the one before.
#[derive(Debug, Clone, Default)]
pub struct IncomeFacts {
    pub households: Vec<HouseholdFacts>,
    pub declared: Vec<DeclaredFact>,
    pub payments: Vec<PaymentFact>,
    pub sizes: Vec<SizeFact>,
    pub measures: Vec<(Uuid, MeasureFacts)>,
}

/// A computed account as kept in `household_income`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseholdIncomeRow {
    pub household_id: Uuid,
    pub village_code: String,
    pub wage: Fen,
    pub business: Fen,
    pub property: Fen,
    pub transfer: Fen,
    pub cost: Fen,
    pub net: Fen,
    pub backed: Fen,
    pub size: i32,
    pub per_capita: Option<Fen>,
    pub flags: i32,
    pub measures_due: i64,
    pub measures_on_time: i64,
}

/// One row of the plan and risk roll-up: an area below the one asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncomeRollupRow {
    /// The child area's full 12-digit code.
    pub child: String,
    pub households: i64,
    pub flagged: i64,
    /// Per [`crate::income::IncomeFlag::ALL`], in that order.
    pub by_flag: [i64; 5],
    pub measures_due: i64,
    pub measures_on_time: i64,
}

#[async_trait]
pub trait IncomeStore {
    /// The monitoring threshold of every configured year, in year order.
    async fn income_thresholds(&self) -> DbResult<Vec<(i32, Fen)>>;

    /// Sets the threshold and, in the same transaction, makes the periodic
    /// run `then_run` due now (every account is recomputed against it).
    async fn set_income_threshold(
        &self,
        stat_year: i32,
        threshold: Fen,
        by: Uuid,
        then_run: &str,
    ) -> DbResult<()>;

    /// What the scope's accounts for `stat_year` and `stat_year - 1` are
    /// computed from: every line, not yet reduced to the latest.
    async fn income_facts(&self, scope: &IncomeScope, stat_year: i32) -> DbResult<IncomeFacts>;

    /// Replaces the accounts of these households for `stat_year`, computed
    /// `as_of` that day from facts read from `read_at` on, and the roll-ups
    /// of their villages (old and new), in one transaction. An account
    /// already stored from facts read later is kept: a long county refresh
    /// cannot overwrite what a visit's own recomputation wrote meanwhile.
    /// `done`: the queued work these rows settle, deleted in the same
    /// transaction (each at the version claimed).
    async fn save_income(
        &self,
        stat_year: i32,
        as_of: NaiveDate,
        read_at: DateTime<Utc>,
        rows: &[HouseholdIncomeRow],
        done: &[super::ClaimedWork],
    ) -> DbResult<()>;

    /// The roll-up for the areas one level below `area` (villages for a
    /// township or a village itself).
    async fn income_rollup(
        &self,
        area: &AreaCode,
        stat_year: i32,
    ) -> DbResult<Vec<IncomeRollupRow>>;

    /// Every area of a level, in code order (the background refresh
    /// walks the counties).
    async fn areas_at_level(&self, level: crate::areas::AreaLevel) -> DbResult<Vec<AreaCode>>;

    /// How many of the area's households have no account for the year
    /// computed on `as_of` (the background refresh skips a county at 0).
    async fn households_not_computed_on(
        &self,
        area: &AreaCode,
        stat_year: i32,
        as_of: NaiveDate,
    ) -> DbResult<i64>;

    /// The day the area's accounts for the year were last computed.
    async fn income_as_of(&self, area: &AreaCode, stat_year: i32) -> DbResult<Option<NaiveDate>>;
}
