//! Household server functions: authenticate, then hand to the service.

use leptos::prelude::*;
use uuid::Uuid;

use crate::areas::Area;
use crate::error::AppError;
use crate::households::{HouseholdDetail, HouseholdPage};

#[server(prefix = "/api", endpoint = "households/list")]
pub async fn list_households(
    search: Option<String>,
    village: Option<String>,
    item: Option<String>,
    paid: Option<String>,
    as_of: Option<String>,
    flag: Option<String>,
    page: Option<u32>,
) -> Result<HouseholdPage, AppError> {
    use crate::households::service::{HouseholdFilter, list};
    let (deps, caller) = crate::server::session::require_caller().await?;
    let filter = HouseholdFilter {
        search,
        village,
        item,
        paid,
        as_of,
        flag,
        page: page.unwrap_or(0),
    };
    list(deps.store.as_ref(), &caller, filter).await
}

#[server(prefix = "/api", endpoint = "households/villages")]
pub async fn list_my_villages() -> Result<Vec<Area>, AppError> {
    let (deps, caller) = crate::server::session::require_caller().await?;
    crate::households::service::villages(deps.store.as_ref(), &caller).await
}

#[server(prefix = "/api", endpoint = "households/get")]
pub async fn get_household(id: Uuid) -> Result<HouseholdDetail, AppError> {
    let (deps, caller) = crate::server::session::require_caller().await?;
    let today = crate::subsidies::china_date(chrono::Utc::now());
    crate::households::service::detail(deps.store.as_ref(), &caller, id, today).await
}

/// Assigns one household to a field worker (a supervisor of its village).
#[server(prefix = "/api", endpoint = "households/assign")]
pub async fn assign_household(
    household_id: String,
    worker_id: String,
) -> Result<crate::households::Assigned, AppError> {
    let (deps, caller) = crate::server::session::require_caller().await?;
    let household_id = parse_id("household_id", &household_id)?;
    let worker_id = parse_id(crate::text::zh::WORKER, &worker_id)?;
    crate::households::service::assign_household(
        deps.store.as_ref(),
        &caller,
        household_id,
        worker_id,
    )
    .await
}

/// Assigns the households of a village, all or only those waiting for a
/// worker, to one field worker.
#[server(prefix = "/api", endpoint = "households/assign_village")]
pub async fn assign_village(
    village: String,
    worker_id: String,
    only_unassigned: bool,
) -> Result<crate::households::Assigned, AppError> {
    let (deps, caller) = crate::server::session::require_caller().await?;
    let worker_id = parse_id(crate::text::zh::WORKER, &worker_id)?;
    crate::households::service::assign_village(
        deps.store.as_ref(),
        &caller,
        &village,
        worker_id,
        only_unassigned,
    )
    .await
}

/// An id from a form; an empty or malformed one names the field.
#[cfg(feature = "ssr")]
fn parse_id(field: &str, value: &str) -> Result<Uuid, AppError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(AppError::validation(field, "请选择"));
    }
    Uuid::parse_str(value).map_err(|_| AppError::validation(field, "编号格式错误"))
}
