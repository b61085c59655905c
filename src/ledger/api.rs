use leptos::prelude::*;

use crate::error::AppError;
use crate::ledger::CountyLedger;

#[server(prefix = "/api", endpoint = "ledger/county")]
pub async fn get_county_ledger(code: String) -> Result<CountyLedger, AppError> {
    let (deps, caller) = crate::server::session::require_caller().await?;
    crate::ledger::service::county_ledger(deps.store.as_ref(), &caller, &code).await
}

/// Verifies a county's chain now (county admins and above).
#[server(prefix = "/api", endpoint = "ledger/verify")]
pub async fn verify_ledger(code: String) -> Result<CountyLedger, AppError> {
    let (deps, caller) = crate::server::session::require_caller().await?;
    crate::ledger::service::verify_now(deps.store.as_ref(), &caller, &code).await
}
