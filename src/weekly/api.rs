use std::collections::BTreeMap;

use leptos::prelude::*;

use crate::error::AppError;
use crate::weekly::WeeklyView;

#[server(prefix = "/api", endpoint = "weekly/view")]
pub async fn get_weekly(code: String, as_of: Option<String>) -> Result<WeeklyView, AppError> {
    let (deps, caller) = crate::server::session::require_caller().await?;
    crate::weekly::service::weekly_view(&deps, &caller, &code, as_of.as_deref()).await
}

/// Submits the area's week: remarks per item code (`remarks[<code>]`),
/// and the 联络人.
#[server(prefix = "/api", endpoint = "weekly/submit")]
pub async fn submit_week(
    code: String,
    as_of: String,
    #[server(default)] remarks: BTreeMap<String, String>,
    contact_name: String,
    contact_phone: String,
) -> Result<i32, AppError> {
    let (deps, caller) = crate::server::session::require_caller().await?;
    crate::weekly::service::submit(
        &deps,
        &caller,
        &code,
        &as_of,
        &remarks,
        &contact_name,
        &contact_phone,
    )
    .await
}

/// Returns (`accept` false, a comment required) or accepts a submission.
#[server(prefix = "/api", endpoint = "weekly/review")]
pub async fn review_week(
    id: uuid::Uuid,
    accept: bool,
    #[server(default)] comment: String,
) -> Result<(), AppError> {
    let (deps, caller) = crate::server::session::require_caller().await?;
    crate::weekly::service::review(&deps, &caller, id, accept, &comment).await
}
