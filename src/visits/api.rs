use leptos::prelude::*;

use crate::error::AppError;

#[server(prefix = "/api", endpoint = "visits/review")]
pub async fn review_visit(
    visit_id: String,
    state: String,
    comment: String,
) -> Result<(), AppError> {
    let (deps, caller) = crate::server::session::require_caller().await?;
    let visit_id = uuid::Uuid::parse_str(visit_id.trim())
        .map_err(|_| AppError::validation("visit_id", "走访编号格式错误"))?;
    crate::visits::service::review(deps.store.as_ref(), &caller, visit_id, &state, &comment).await
}
