use leptos::prelude::*;

use crate::error::AppError;
use crate::reports::DispatchTable;

#[server(prefix = "/api", endpoint = "reports/dispatch")]
pub async fn get_dispatch_table(
    code: String,
    as_of: Option<String>,
) -> Result<DispatchTable, AppError> {
    let (deps, caller) = crate::server::session::require_caller().await?;
    crate::reports::service::dispatch_table(deps.store.as_ref(), &caller, &code, as_of.as_deref())
        .await
}
