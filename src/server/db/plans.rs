//! The store's part for 一户一策: plans, measures and their history.

use async_trait::async_trait;
use uuid::Uuid;

use super::DbResult;
use crate::field::RecordedIncome;
use crate::plans::{Measure, Plan};

#[async_trait]
pub trait PlanStore {
    /// The household's plan with its measures (in due-date order), if it has one.
    async fn plan_of_household(&self, household_id: Uuid) -> DbResult<Option<Plan>>;

    /// The measures of these households, each with its household's id, in
    /// household then due-date order.
    async fn measures_of_households(&self, ids: &[Uuid]) -> DbResult<Vec<(Uuid, Measure)>>;

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
}
