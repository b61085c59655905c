use leptos::prelude::*;

use crate::error::AppError;
use crate::notices::VillageNotice;

#[server(prefix = "/api", endpoint = "notices/village")]
pub async fn get_village_notice(
    code: String,
    stat_year: Option<i32>,
) -> Result<VillageNotice, AppError> {
    let (deps, caller) = crate::server::session::require_caller().await?;
    let origin = crate::server::session::site_origin();
    crate::notices::service::notice(deps.store.as_ref(), &caller, &code, stat_year, &origin).await
}

/// Records the notice's posting: dates (both included) and the phone.
#[server(prefix = "/api", endpoint = "notices/post")]
pub async fn post_notice(
    code: String,
    stat_year: i32,
    from: chrono::NaiveDate,
    until: chrono::NaiveDate,
    phone: String,
) -> Result<(), AppError> {
    let (deps, caller) = crate::server::session::require_caller().await?;
    crate::notices::service::post(
        deps.store.as_ref(),
        &caller,
        &code,
        stat_year,
        from,
        until,
        &phone,
    )
    .await
}

/// Enters an objection the township received while the notice was up.
#[server(prefix = "/api", endpoint = "notices/objection")]
pub async fn add_objection(
    code: String,
    stat_year: i32,
    household_id: uuid::Uuid,
    reason: String,
    details: String,
    phone: String,
    received_on: chrono::NaiveDate,
) -> Result<(), AppError> {
    let (deps, caller) = crate::server::session::require_caller().await?;
    crate::notices::service::add_objection(
        deps.store.as_ref(),
        &caller,
        &code,
        stat_year,
        household_id,
        &reason,
        &details,
        &phone,
        received_on,
    )
    .await
}
