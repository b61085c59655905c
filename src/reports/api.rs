use leptos::prelude::*;

use crate::error::AppError;
use crate::reports::DispatchTable;

#[server(prefix = "/api", endpoint = "reports/dispatch")]
pub async fn get_dispatch_table(
    code: String,
    as_of: Option<String>,
) -> Result<DispatchTable, AppError> {
    use crate::server::session::{require_caller, respond};
    respond(
        async {
            let (state, caller) = require_caller().await?;
            crate::reports::service::dispatch_table(
                state.store.as_ref(),
                &caller,
                &code,
                as_of.as_deref(),
            )
            .await
        }
        .await,
    )
}
