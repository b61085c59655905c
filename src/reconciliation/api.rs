use leptos::prelude::*;

use crate::error::AppError;
use crate::reconciliation::ReconciliationView;

/// An area's three-way match; with `outcome`, one page of its keys in that
/// outcome (of one child area or item, if given).
#[server(prefix = "/api", endpoint = "reconciliation/view")]
pub async fn get_reconciliation(
    code: String,
    #[server(default)] stat_year: Option<i32>,
    #[server(default)] outcome: Option<String>,
    #[server(default)] area: Option<String>,
    #[server(default)] item: Option<String>,
    #[server(default)] page: Option<u32>,
) -> Result<ReconciliationView, AppError> {
    let (deps, caller) = crate::server::session::require_caller().await?;
    let filter = crate::reconciliation::service::ListFilter {
        outcome,
        area,
        item,
        page,
    };
    crate::reconciliation::service::reconciliation_view(&deps, &caller, &code, stat_year, &filter)
        .await
}
