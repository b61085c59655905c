//! Plan server functions: the caller, then the service. Every text field is
//! optional on the wire so that a missing one is answered like an empty one,
//! with the field's name, not as a malformed request.
// For the module, not the function: `#[server]` copies a function's
// attributes onto code where the lint does not fire.
#![expect(
    clippy::too_many_arguments,
    reason = "a server function's arguments are its form's fields (add_measure has eight)"
)]

use leptos::prelude::*;
use uuid::Uuid;

use crate::error::AppError;
use crate::plans::PlanPage;

#[server(prefix = "/api", endpoint = "plans/get")]
pub async fn get_plan(household_id: Uuid) -> Result<PlanPage, AppError> {
    let (deps, caller) = crate::server::session::require_caller().await?;
    crate::plans::service::page(deps.store.as_ref(), &caller, household_id, today()).await
}

#[server(prefix = "/api", endpoint = "plans/create")]
pub async fn create_plan(
    household_id: String,
    responsible_name: Option<String>,
    responsible_phone: Option<String>,
    labour_situation: Option<String>,
    health_situation: Option<String>,
) -> Result<(), AppError> {
    let (deps, caller) = crate::server::session::require_caller().await?;
    let household_id = parse_id("household_id", &household_id)?;
    let draft = plan_draft(
        responsible_name,
        responsible_phone,
        labour_situation,
        health_situation,
    );
    crate::plans::service::create(deps.store.as_ref(), &caller, household_id, &draft).await
}

#[server(prefix = "/api", endpoint = "plans/update")]
pub async fn update_plan(
    household_id: String,
    responsible_name: Option<String>,
    responsible_phone: Option<String>,
    labour_situation: Option<String>,
    health_situation: Option<String>,
) -> Result<(), AppError> {
    let (deps, caller) = crate::server::session::require_caller().await?;
    let household_id = parse_id("household_id", &household_id)?;
    let draft = plan_draft(
        responsible_name,
        responsible_phone,
        labour_situation,
        health_situation,
    );
    crate::plans::service::update(deps.store.as_ref(), &caller, household_id, &draft).await
}

/// Adds a measure; answers its id.
#[server(prefix = "/api", endpoint = "plans/add_measure")]
pub async fn add_measure(
    household_id: String,
    category: Option<String>,
    action: Option<String>,
    funding_source: Option<String>,
    funding: Option<String>,
    due_on: Option<String>,
    expected_income: Option<String>,
    note: Option<String>,
) -> Result<Uuid, AppError> {
    let (deps, caller) = crate::server::session::require_caller().await?;
    let household_id = parse_id("household_id", &household_id)?;
    let draft = crate::plans::MeasureDraft {
        category: category.unwrap_or_default(),
        action: action.unwrap_or_default(),
        funding_source: funding_source.unwrap_or_default(),
        funding: funding.unwrap_or_default(),
        due_on: due_on.unwrap_or_default(),
        expected_income: expected_income.unwrap_or_default(),
        note: note.unwrap_or_default(),
    };
    crate::plans::service::add_measure(deps.store.as_ref(), &caller, household_id, &draft, today())
        .await
}

#[server(prefix = "/api", endpoint = "plans/set_measure_status")]
pub async fn set_measure_status(
    household_id: String,
    measure_id: String,
    status: Option<String>,
    done_on: Option<String>,
    drop_reason: Option<String>,
    note: Option<String>,
) -> Result<(), AppError> {
    let (deps, caller) = crate::server::session::require_caller().await?;
    let household_id = parse_id("household_id", &household_id)?;
    let measure_id = parse_id("measure_id", &measure_id)?;
    let draft = crate::plans::MeasureStatusDraft {
        status: status.unwrap_or_default(),
        done_on: done_on.unwrap_or_default(),
        drop_reason: drop_reason.unwrap_or_default(),
        note: note.unwrap_or_default(),
    };
    crate::plans::service::set_status(
        deps.store.as_ref(),
        &caller,
        household_id,
        measure_id,
        &draft,
        today(),
    )
    .await
}

#[cfg(feature = "ssr")]
fn plan_draft(
    responsible_name: Option<String>,
    responsible_phone: Option<String>,
    labour_situation: Option<String>,
    health_situation: Option<String>,
) -> crate::plans::PlanDraft {
    crate::plans::PlanDraft {
        responsible_name: responsible_name.unwrap_or_default(),
        responsible_phone: responsible_phone.unwrap_or_default(),
        labour_situation: labour_situation.unwrap_or_default(),
        health_situation: health_situation.unwrap_or_default(),
    }
}

/// The day in China: what due and done dates are judged against.
#[cfg(feature = "ssr")]
fn today() -> chrono::NaiveDate {
    crate::subsidies::china_date(chrono::Utc::now())
}

#[cfg(feature = "ssr")]
fn parse_id(field: &str, value: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(value.trim()).map_err(|_| AppError::validation(field, "编号格式错误"))
}
