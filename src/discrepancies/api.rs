use leptos::prelude::*;

use crate::discrepancies::{DiscrepancyDetail, DiscrepancyQueue};
use crate::error::AppError;

#[server(prefix = "/api", endpoint = "discrepancies/list")]
pub async fn list_discrepancies(
    code: String,
    filter: Option<String>,
    page: Option<u32>,
) -> Result<DiscrepancyQueue, AppError> {
    let (deps, caller) = crate::server::session::require_caller().await?;
    crate::discrepancies::service::queue(
        deps.store.as_ref(),
        &caller,
        &code,
        crate::discrepancies::QueueFilter::parse(filter.as_deref()),
        page.unwrap_or(0),
    )
    .await
}

#[server(prefix = "/api", endpoint = "discrepancies/open_count")]
pub async fn count_open_discrepancies(code: String) -> Result<i64, AppError> {
    let (deps, caller) = crate::server::session::require_caller().await?;
    crate::discrepancies::service::open_count(deps.store.as_ref(), &caller, &code).await
}

#[server(prefix = "/api", endpoint = "discrepancies/get")]
pub async fn get_discrepancy(id: String) -> Result<DiscrepancyDetail, AppError> {
    let (deps, caller) = crate::server::session::require_caller().await?;
    let id = uuid::Uuid::parse_str(id.trim())
        .map_err(|_| AppError::validation("id", "事项编号格式错误"))?;
    crate::discrepancies::service::detail(deps.store.as_ref(), &caller, id).await
}

#[server(prefix = "/api", endpoint = "discrepancies/assign")]
pub async fn assign_discrepancy(
    id: String,
    assignee_id: Option<String>,
    note: Option<String>,
) -> Result<(), AppError> {
    use crate::discrepancies::service::Step;
    act(id, Step::Assign { assignee_id }, note).await
}

#[server(prefix = "/api", endpoint = "discrepancies/note")]
pub async fn note_discrepancy(id: String, note: Option<String>) -> Result<(), AppError> {
    act(id, crate::discrepancies::service::Step::Note, note).await
}

#[server(prefix = "/api", endpoint = "discrepancies/close")]
pub async fn close_discrepancy(
    id: String,
    resolution: Option<String>,
    note: Option<String>,
) -> Result<(), AppError> {
    use crate::discrepancies::service::Step;
    act(id, Step::Close { resolution }, note).await
}

#[server(prefix = "/api", endpoint = "discrepancies/reopen")]
pub async fn reopen_discrepancy(id: String, note: Option<String>) -> Result<(), AppError> {
    act(id, crate::discrepancies::service::Step::Reopen, note).await
}

/// The four steps share one path: the caller, then the service's checks.
#[cfg(feature = "ssr")]
async fn act(
    id: String,
    step: crate::discrepancies::service::Step,
    note: Option<String>,
) -> Result<(), AppError> {
    let (deps, caller) = crate::server::session::require_caller().await?;
    crate::discrepancies::service::act(deps.store.as_ref(), &caller, &id, step, note.as_deref())
        .await
}
