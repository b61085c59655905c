//! The sync endpoint, a plain axum route: its URL and JSON contract are
//! fixed, and every 4xx is ours to choose.

use std::net::SocketAddr;

use axum::body::{Body, to_bytes};
use axum::extract::ConnectInfo;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde::de::{IgnoredAny, SeqAccess, Visitor};
use serde_json::value::RawValue;
use tokio::sync::Semaphore;

use crate::access::Caller;
use crate::error::{AppError, decode_problem};
use crate::server::rejections::{body_error, too_large};
use crate::server::session::caller_from_headers;
use crate::server::state::AppState;
use crate::sync::BatchReply;
use crate::visits::MAX_VISITS_PER_BATCH;
use crate::visits::service::ingest_batch;

/// The most one batch may weigh. The phone sends 10 visits a batch, each
/// at most a 300 KB photo (400 KB as base64), a 64 KB signature image and
/// the strokes and text fields: ≈ 6 MB at the very most, so this leaves
/// room for older apps and bigger batches without letting one request
/// hold much memory.
pub const MAX_BATCH_BYTES: usize = 16 * 1024 * 1024;

/// The bodies of all sync requests being read or worked on at once,
/// together. A batch costs about three times its size while it is worked
/// on (the body, the parsed visits, the decoded images), so this bounds
/// what sync can hold at ≈ 3 × 64 MiB however many phones deliver at once;
/// a request over the budget waits for its turn rather than fail.
const MAX_BATCH_BYTES_IN_FLIGHT: usize = 64 * 1024 * 1024;
const BUDGET_UNIT: usize = 1024;

/// The budget of [`MAX_BATCH_BYTES_IN_FLIGHT`], one per server (in
/// [`AppState`], not a process-wide static: a permit held by a request of
/// one server, say one test's, must never hold up another's).
pub fn batch_budget() -> std::sync::Arc<Semaphore> {
    std::sync::Arc::new(Semaphore::new(MAX_BATCH_BYTES_IN_FLIGHT / BUDGET_UNIT))
}

/// `{"visits": [...]}`, each visit left as its JSON text (borrowed from the
/// body, so parsing costs no more memory than the body itself) until it is
/// read into its own type one at a time. A generic `serde_json::Value` per
/// element would cost ~20 bytes for every `0,` of a hostile body.
#[derive(Deserialize)]
struct Batch<'a> {
    #[serde(borrow)]
    visits: Visits<'a>,
}

/// The first [`MAX_VISITS_PER_BATCH`] visits, and how many were sent: the
/// rest are only counted, never kept.
struct Visits<'a> {
    kept: Vec<&'a RawValue>,
    sent: usize,
}

impl<'de: 'a, 'a> Deserialize<'de> for Visits<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Bounded<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Bounded<'a> {
            type Value = Visits<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of visits")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Visits<'a>, A::Error> {
                let mut kept = Vec::new();
                let mut sent = 0;
                loop {
                    let more = if sent < MAX_VISITS_PER_BATCH {
                        seq.next_element::<&'a RawValue>()?.map(|v| kept.push(v))
                    } else {
                        seq.next_element::<IgnoredAny>()?.map(|_| ())
                    };
                    if more.is_none() {
                        return Ok(Visits { kept, sent });
                    }
                    sent += 1;
                }
            }
        }
        d.deserialize_seq(Bounded(std::marker::PhantomData))
    }
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
        Ok(roster) => match serde_json::to_vec(&roster) {
            Ok(json) => (
                [
                    (header::CONTENT_TYPE, "application/json".to_owned()),
                    // Personal data, even masked: never kept by a cache on the way.
                    (header::CACHE_CONTROL, "no-store".to_owned()),
                    (
                        header::HeaderName::from_static(crate::sync::ROSTER_LENGTH_HEADER),
                        json.len().to_string(),
                    ),
                ],
                json,
            )
                .into_response(),
            Err(e) => {
                tracing::error!(error = %e, "roster not serialised");
                error(AppError::Internal)
            }
        },
        Err(e) => error(e),
    }
}

pub async fn post_visits(
    State(state): State<AppState>,
    headers: HeaderMap,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    body: Body,
) -> Response {
    // Who is calling before reading a byte of what they send.
    let caller = match caller(&state, &headers, connect).await {
        Ok(c) => c,
        Err(refusal) => return refusal,
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BATCH_BYTES) {
        return error(too_large(MAX_BATCH_BYTES));
    }
    // A body of unknown length (chunked) may take up to the limit.
    let reserve = declared
        .unwrap_or(MAX_BATCH_BYTES)
        .div_ceil(BUDGET_UNIT)
        .max(1);
    let Ok(_budget) = state
        .sync_budget
        .acquire_many(u32::try_from(reserve).unwrap_or(u32::MAX))
        .await
    else {
        tracing::error!("sync body budget closed");
        return error(AppError::Internal);
    };
    let body = match to_bytes(body, MAX_BATCH_BYTES).await {
        Ok(b) => b,
        Err(e) => {
            return error(body_error(
                StatusCode::BAD_REQUEST,
                &e.to_string(),
                MAX_BATCH_BYTES,
            ));
        }
    };
    let batch: Batch = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            tracing::info!(error = %e, "sync batch refused");
            return error(AppError::BadRequest(format!(
                "应为 {{\"visits\": [...]}}（第 {} 行第 {} 列）：{}",
                e.line(),
                e.column(),
                decode_problem(&e.to_string())
            )));
        }
    };
    if batch.visits.sent > MAX_VISITS_PER_BATCH {
        return error(AppError::TooLarge(format!(
            "每批最多 {MAX_VISITS_PER_BATCH} 条走访记录，收到 {} 条",
            batch.visits.sent
        )));
    }
    let results = ingest_batch(state.store.as_ref(), &caller, batch.visits.kept).await;
    let reply = BatchReply { results };
    crate::server::metrics::sync_reply(&reply);
    Json(reply).into_response()
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
