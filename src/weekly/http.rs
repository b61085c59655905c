//! A submission's .xlsx, exactly as it was submitted: a plain route, so a
//! link downloads it without script.

use std::net::SocketAddr;

use axum::Extension;
use axum::extract::rejection::PathRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use uuid::Uuid;

use crate::reports::http::xlsx_response;
use crate::server::rejections::{address_error, plain_error};
use crate::server::session::caller_from_headers;
use crate::server::state::AppState;

/// `/reports/weekly/submissions/{id}/xlsx` (see [`crate::weekly::Submission::xlsx_href`]).
pub const SUBMISSION_XLSX_PATH: &str = "/reports/weekly/submissions/{id}/xlsx";

pub async fn submission_xlsx(
    State(state): State<AppState>,
    id: Result<Path<Uuid>, PathRejection>,
    headers: HeaderMap,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> Response {
    let id = match id {
        Ok(Path(id)) => id,
        Err(e) => return plain_error(&address_error(&e.body_text())),
    };
    let address = connect.map(|Extension(ConnectInfo(a))| a);
    let result = async {
        let caller = caller_from_headers(&state, &headers, address).await?;
        crate::weekly::service::submission_xlsx(state.store.as_ref(), &caller, id).await
    }
    .await;
    match result {
        Ok((name, bytes)) => xlsx_response(&name, bytes),
        Err(e) => plain_error(&e),
    }
}
