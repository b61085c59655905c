use leptos::prelude::*;

use crate::error::AppError;
use crate::signals::{SignalQueue, Thresholds};

#[server(prefix = "/api", endpoint = "signals/queue")]
pub async fn get_signal_queue(code: String, state: String) -> Result<SignalQueue, AppError> {
    let (deps, caller) = crate::server::session::require_caller().await?;
    crate::signals::service::queue(deps.store.as_ref(), &caller, &code, &state).await
}

/// 已核实无误 (`cleared`) or 需复核 (`needs_review`) on one signal.
#[server(prefix = "/api", endpoint = "signals/review")]
pub async fn review_signal(
    visit_id: uuid::Uuid,
    kind: String,
    state: String,
    comment: String,
) -> Result<(), AppError> {
    let (deps, caller) = crate::server::session::require_caller().await?;
    crate::signals::service::review(
        deps.store.as_ref(),
        &caller,
        visit_id,
        &kind,
        &state,
        &comment,
    )
    .await
}

#[server(prefix = "/api", endpoint = "signals/threshold")]
pub async fn set_signal_threshold(name: String, value: i64) -> Result<Thresholds, AppError> {
    let (deps, caller) = crate::server::session::require_caller().await?;
    crate::signals::service::set_threshold(deps.store.as_ref(), &caller, &name, value).await
}
