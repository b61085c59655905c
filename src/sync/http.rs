//! The sync endpoint, a plain axum route: its URL and JSON contract are
//! fixed, and every 4xx is ours to choose.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::ConnectInfo;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;

use crate::error::AppError;
use crate::server::session::{Caller, caller_from_headers};
use crate::server::state::AppState;
use crate::sync::BatchReply;
use crate::visits::MAX_VISITS_PER_BATCH;
use crate::visits::service::ingest_batch;

/// A whole batch may carry photos: this is the most one request may weigh.
pub const MAX_BATCH_BYTES: usize = 40 * 1024 * 1024;

#[derive(Deserialize)]
struct Batch {
    visits: Vec<serde_json::Value>,
}

/// The worker's roster for offline work (see [`crate::field::Roster`]).
pub async fn get_roster(
    State(state): State<AppState>,
    headers: HeaderMap,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> Response {
    let caller = match caller(&state, &headers, connect).await {
        Ok(c) => c,
        Err(refusal) => return refusal,
    };
    match crate::households::service::roster(state.store.as_ref(), &caller, chrono::Utc::now())
        .await
    {
        // Personal data, even masked: never kept by a cache on the way.
        Ok(roster) => ([(header::CACHE_CONTROL, "no-store")], Json(roster)).into_response(),
        Err(e) => error(e),
    }
}

pub async fn post_visits(
    State(state): State<AppState>,
    headers: HeaderMap,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    body: Bytes,
) -> Response {
    let caller = match caller(&state, &headers, connect).await {
        Ok(c) => c,
        Err(refusal) => return refusal,
    };
    let batch: Batch = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return error(AppError::BadRequest(format!(
                "应为 {{\"visits\": [...]}}：{e}"
            )));
        }
    };
    if batch.visits.len() > MAX_VISITS_PER_BATCH {
        return error(AppError::BadRequest(format!(
            "每批最多 {MAX_VISITS_PER_BATCH} 条走访记录，收到 {} 条",
            batch.visits.len()
        )));
    }
    let results = ingest_batch(state.store.as_ref(), &caller, batch.visits).await;
    Json(BatchReply { results }).into_response()
}

/// Who is calling, from the session cookie; a 401 answer without one.
async fn caller(
    state: &AppState,
    headers: &HeaderMap,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> Result<Caller, Response> {
    caller_from_headers(state, headers, connect.map(|Extension(ConnectInfo(a))| a))
        .await
        .map_err(error)
}

fn error(e: AppError) -> Response {
    let status = StatusCode::from_u16(e.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        Json(serde_json::json!({ "error": e.to_string(), "kind": e })),
    )
        .into_response()
}
