//! The dispatch table's Excel download: a plain axum route, because a
//! browser downloads it by following a link (no JavaScript needed).

use std::net::SocketAddr;

use axum::Extension;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::error::AppError;
use crate::server::rejections::{address_error, plain_error};
use crate::server::session::caller_from_headers;
use crate::server::state::AppState;

/// `/reports/dispatch/{code}/xlsx?as_of=YYYY-MM-DD` (see [`crate::reports::xlsx_href`]).
pub const DISPATCH_XLSX_PATH: &str = "/reports/dispatch/{code}/xlsx";

#[derive(Deserialize)]
pub struct ExportQuery {
    pub as_of: Option<String>,
}

pub async fn dispatch_xlsx(
    State(state): State<AppState>,
    code: Result<Path<String>, PathRejection>,
    q: Result<Query<ExportQuery>, QueryRejection>,
    headers: HeaderMap,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> Response {
    let (code, q) = match (code, q) {
        (Ok(Path(code)), Ok(Query(q))) => (code, q),
        (Err(e), _) => return plain_error(&address_error(&e.body_text())),
        (_, Err(e)) => return plain_error(&address_error(&e.body_text())),
    };
    let address = connect.map(|Extension(ConnectInfo(a))| a);
    let result = async {
        let caller = caller_from_headers(&state, &headers, address).await?;
        let table = crate::reports::service::dispatch_table(
            state.store.as_ref(),
            &caller,
            &code,
            q.as_of.as_deref(),
        )
        .await?;
        let income =
            crate::income::service::income_table(state.store.as_ref(), &caller, &code).await?;
        let bytes = crate::reports::xlsx::dispatch_workbook(&table, &income).map_err(|e| {
            tracing::error!("dispatch xlsx: {e}");
            AppError::Internal
        })?;
        Ok::<_, AppError>((crate::reports::xlsx::file_name(&table), bytes))
    }
    .await;
    match result {
        Ok((name, bytes)) => xlsx_response(&name, bytes),
        Err(e) => plain_error(&e),
    }
}

/// An .xlsx download named `name` (in Chinese, RFC 5987), never cached.
pub fn xlsx_response(name: &str, bytes: Vec<u8>) -> Response {
    let disposition = format!(
        "attachment; filename=\"dispatch.xlsx\"; filename*=UTF-8''{}",
        percent_encode(name)
    );
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        bytes,
    )
        .into_response()
}

/// RFC 5987 encoding for the Chinese file name.
pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
