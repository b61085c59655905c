use leptos::prelude::*;
use uuid::Uuid;

use crate::error::AppError;
use crate::income::{HouseholdIncomeView, IncomeTable, Threshold};

#[server(prefix = "/api", endpoint = "income/household")]
pub async fn get_household_income(
    household_id: Uuid,
    stat_year: Option<i32>,
) -> Result<HouseholdIncomeView, AppError> {
    let (deps, caller) = crate::server::session::require_caller().await?;
    crate::income::service::household_income(deps.store.as_ref(), &caller, household_id, stat_year)
        .await
}

#[server(prefix = "/api", endpoint = "income/table")]
pub async fn get_income_table(code: String) -> Result<IncomeTable, AppError> {
    let (deps, caller) = crate::server::session::require_caller().await?;
    crate::income::service::income_table(deps.store.as_ref(), &caller, &code).await
}

#[server(prefix = "/api", endpoint = "income/thresholds")]
pub async fn list_thresholds() -> Result<Vec<Threshold>, AppError> {
    // Signed in, whoever it is.
    let (deps, _) = crate::server::session::require_caller().await?;
    crate::income::service::thresholds(deps.store.as_ref()).await
}

#[server(prefix = "/api", endpoint = "income/set_threshold")]
pub async fn set_threshold(
    stat_year: String,
    threshold: String,
) -> Result<Vec<Threshold>, AppError> {
    let (deps, caller) = crate::server::session::require_caller().await?;
    crate::income::service::set_threshold(deps.store.clone(), &caller, &stat_year, &threshold).await
}
