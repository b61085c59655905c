//! What a balancer and an orchestrator ask: `/healthz` (the process is
//! alive and answering: restart it if not) and `/readyz` (it may take
//! traffic: the database answers and its schema is this build's; take it
//! out of rotation if not). Neither needs a session, both pass the edge
//! layer like every answer, and neither says more than a short sentence.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::server::state::AppState;

pub const HEALTH_PATH: &str = "/healthz";
pub const READY_PATH: &str = "/readyz";

/// Alive: answered by the process alone, never by the database, so a
/// database outage takes instances out of rotation (`/readyz`) without
/// getting them restarted.
pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(state): State<AppState>) -> Response {
    let text = [(header::CONTENT_TYPE, "text/plain; charset=utf-8")];
    match state.store.ready().await {
        Ok(()) => (StatusCode::OK, text, "ready".to_owned()).into_response(),
        Err(why) => {
            tracing::warn!(%why, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, text, why.to_string()).into_response()
        }
    }
}
