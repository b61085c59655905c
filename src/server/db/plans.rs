//! The store's part for 一户一策: plans, measures and their history.

use async_trait::async_trait;
use uuid::Uuid;

use super::DbResult;
use crate::plans::{Measure, Plan};

#[async_trait]
pub trait PlanStore {
    /// The household's plan with its measures (in due-date order), if it has one.
    async fn plan_of_household(&self, household_id: Uuid) -> DbResult<Option<Plan>>;

    /// The measures of these households, each with its household's id, in
    /// household then due-date order.
    async fn measures_of_households(&self, ids: &[Uuid]) -> DbResult<Vec<(Uuid, Measure)>>;
}
