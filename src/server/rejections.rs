//! Statuses and Chinese answers for what the plumbing refuses before our
//! own code runs: a client mistake is a 4xx that says what to change, and
//! a 5xx only ever means a bug.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;

use crate::error::AppError;
use crate::text::zh;

/// The most a server function's request may weigh. Every one of them is a
/// small form (ids, codes, a few notes of at most a few thousand
/// characters); the routes that take more (sync, upload) set their own.
pub const MAX_SERVER_FN_BODY_BYTES: usize = 64 * 1024;

/// An encoded `AppError` is a few hundred bytes; anything longer is not
/// one of ours and keeps its status.
const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// server_fn answers every error of a server function 500 (its
/// `error_response`), also the errors that are the caller's and that arise
/// before the function's body runs (a missing or mistyped argument, invalid
/// UTF-8, a body over the limit). This gives every such answer the status
/// of the `AppError` it carries, for every server function at once. The
/// status a function sets itself (through `ResponseOptions`) is already
/// applied by then and is not 500, so it is left alone.
pub async fn server_fn_status(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !res.headers().contains_key(SERVER_FN_ERROR_HEADER)
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_ERROR_BODY_BYTES).await else {
        tracing::error!("server function error body unreadable");
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            plain(&AppError::Internal),
        )
            .into_response();
    };
    if let Ok(e) = serde_json::from_slice::<AppError>(&bytes)
        && let Ok(status) = StatusCode::from_u16(e.status_code())
    {
        parts.status = status;
        if let Some(secs) = e.retry_after_secs() {
            parts.headers.insert(header::RETRY_AFTER, secs.into());
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// A wrong method on a route that exists (a GET of a server function).
pub async fn method_not_allowed() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        zh::ERR_METHOD_NOT_ALLOWED,
    )
        .into_response()
}

/// A file of the bundle that is not there, or a method other than GET on
/// it: in Chinese like every other refusal.
pub async fn missing_file(method: Method) -> Response {
    if method == Method::GET || method == Method::HEAD {
        plain_error(&AppError::NotFound)
    } else {
        method_not_allowed().await
    }
}

/// What a body reader refused, as ours: over the route's `limit` is a
/// 413 that says so, anything else (a malformed chunked body, a connection
/// cut mid-body) a 400.
pub fn body_error(status: StatusCode, detail: &str, limit: usize) -> AppError {
    tracing::info!(%detail, "request body refused");
    if status == StatusCode::PAYLOAD_TOO_LARGE || detail.contains("length limit exceeded") {
        too_large(limit)
    } else {
        AppError::BadRequest(zh::ERR_BODY_INCOMPLETE.into())
    }
}

/// The 413 of a route whose bodies may weigh at most `limit` bytes.
pub fn too_large(limit: usize) -> AppError {
    let size = if limit >= 1024 * 1024 {
        format!("{} MB", limit / (1024 * 1024))
    } else {
        format!("{} KB", limit / 1024)
    };
    AppError::TooLarge(format!("{}（最多 {size}）", zh::ERR_BODY_TOO_LARGE))
}

/// A path or query string that does not decode (bad percent-encoding,
/// invalid UTF-8, a repeated or mistyped parameter).
pub fn address_error(detail: &str) -> AppError {
    tracing::info!(%detail, "request address refused");
    AppError::BadRequest(format!(
        "{}：{}",
        zh::ERR_BAD_ADDRESS,
        crate::error::decode_problem(detail)
    ))
}

/// An error as a plain-text answer with its status (downloads and the
/// upload are followed links and form posts, not JSON clients).
pub fn plain_error(e: &AppError) -> Response {
    let status = StatusCode::from_u16(e.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, plain(e)).into_response()
}

fn plain(e: &AppError) -> ([(header::HeaderName, &'static str); 1], String) {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        e.to_string(),
    )
}
