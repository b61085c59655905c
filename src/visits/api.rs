use leptos::prelude::*;

use crate::error::AppError;

#[server(prefix = "/api", endpoint = "visits/review")]
pub async fn review_visit(
    visit_id: String,
    state: String,
    comment: String,
) -> Result<(), AppError> {
    use crate::server::session::{require_caller, respond};
    respond(
        async {
            let (state_, caller) = require_caller().await?;
            let visit_id = uuid::Uuid::parse_str(visit_id.trim())
                .map_err(|_| AppError::validation("visit_id", "走访编号格式错误"))?;
            crate::visits::service::review(
                state_.store.as_ref(),
                &caller,
                visit_id,
                &state,
                &comment,
            )
            .await
        }
        .await,
    )
}
