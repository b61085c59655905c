use leptos::prelude::*;

use crate::areas::AreaOverview;
use crate::error::AppError;

#[server(prefix = "/api", endpoint = "areas/overview")]
pub async fn get_area_overview(code: String) -> Result<AreaOverview, AppError> {
    let (deps, caller) = crate::server::session::require_caller().await?;
    crate::areas::service::overview(deps.store.as_ref(), &caller, &code).await
}
