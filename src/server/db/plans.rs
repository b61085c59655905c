//! The store's part for 一户一策: plans, measures and their history.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::DbResult;
use crate::field::{RecordedIncome, YearVisit};
use crate::plans::{Measure, MeasureStatus, MeasureUpdate, Plan};

/// The constraint that keeps one plan per household; [`PlanStore::insert_plans`]
/// reports a second plan as a conflict on it, on both backends.
pub const ONE_PLAN_PER_HOUSEHOLD: &str = "plans_one_per_household";

/// A plan's own fields as written: `by` and `at` are its creator and
/// creation time on insert, and only `at` (the edit time) on update.
#[derive(Debug, Clone)]
pub struct PlanWrite {
    pub id: Uuid,
    pub household_id: Uuid,
    pub responsible_name: String,
    pub responsible_phone: String,
    pub labour_situation: String,
    pub health_situation: String,
    pub by: Uuid,
    pub at: DateTime<Utc>,
}

/// One move of a measure as stored; `visit_id` is `None` for a move made
/// online (on the household page).
#[derive(Debug, Clone)]
pub struct MeasureEvent {
    pub id: Uuid,
    pub measure_id: Uuid,
    pub visit_id: Option<Uuid>,
    pub user_id: Uuid,
    pub status: MeasureStatus,
    pub done_on: Option<NaiveDate>,
    pub drop_reason: Option<String>,
    pub note: String,
    pub at: DateTime<Utc>,
}

/// A move with the name of its author and the start of its visit.
#[derive(Debug, Clone)]
pub struct MeasureHistoryRow {
    pub event: MeasureEvent,
    pub user_name: String,
    pub visit_started_at: Option<DateTime<Utc>>,
}

/// A plan written whole, with its measures (as they stand now) and the
/// moves that brought them there.
#[derive(Debug, Clone)]
pub struct NewPlan {
    pub plan: PlanWrite,
    pub measures: Vec<Measure>,
    pub events: Vec<MeasureEvent>,
}

#[async_trait]
pub trait PlanStore {
    /// The household's plan with its measures (in due-date order), if it has one.
    async fn plan_of_household(&self, household_id: Uuid) -> DbResult<Option<Plan>>;

    /// The measures of these households, each with its household's id, in
    /// household then due-date order.
    async fn measures_of_households(&self, ids: &[Uuid]) -> DbResult<Vec<(Uuid, Measure)>>;

    /// Writes these plans, their measures and history in one transaction:
    /// all or none. A household that already has a plan is
    /// `Conflict { constraint: ONE_PLAN_PER_HOUSEHOLD }`.
    async fn insert_plans(&self, plans: &[NewPlan]) -> DbResult<()>;

    /// Replaces the plan's own fields (not its measures); `NotFound` when
    /// the household has no plan with that id.
    async fn update_plan(&self, plan: &PlanWrite) -> DbResult<()>;

    /// Adds a measure to the household's plan with its first history row
    /// (`created`), and queues `then`, in one transaction.
    async fn insert_measure(
        &self,
        plan_id: Uuid,
        household_id: Uuid,
        measure: &Measure,
        created: &MeasureEvent,
        then: &[super::IncomeWork],
    ) -> DbResult<()>;

    /// Moves a measure of this household online and records the move, in
    /// one transaction with queueing `then`; `NotFound` when it is not this
    /// household's.
    async fn update_measure(
        &self,
        household_id: Uuid,
        update: &MeasureUpdate,
        user_id: Uuid,
        at: DateTime<Utc>,
        then: &[super::IncomeWork],
    ) -> DbResult<()>;

    /// Every move of the household's measures, oldest first.
    async fn measure_history(&self, household_id: Uuid) -> DbResult<Vec<MeasureHistoryRow>>;

    /// Sets monitored households' identification dates, from which the
    /// 30-day "no measure yet" signal counts.
    async fn set_identified_on(&self, dates: &[(Uuid, NaiveDate)]) -> DbResult<()>;
    /// For the phone's roster: each household's latest declared figure of
    /// each income kind in the statistics year (the latest visit's counts).
    async fn latest_income_of_households(
        &self,
        ids: &[Uuid],
        stat_year: i32,
    ) -> DbResult<Vec<(Uuid, RecordedIncome)>>;

    /// For the phone's roster: the household size the latest visit of the
    /// statistics year confirmed, for the households where one did.
    async fn confirmed_sizes_of_households(
        &self,
        ids: &[Uuid],
        stat_year: i32,
    ) -> DbResult<Vec<(Uuid, i32)>>;

    /// For the phone's roster: the statistics year's stored visits of the
    /// households (from any phone), newest first, each with its worker's
    /// name, its review (state and comment) and its open discrepancies.
    async fn year_visits_of_households(
        &self,
        ids: &[Uuid],
        stat_year: i32,
    ) -> DbResult<Vec<YearVisit>>;
}
