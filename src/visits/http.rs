//! A visit's evidence photos, a plain axum route: an `<img>` on the
//! household page loads each one only when it is shown, instead of the
//! page carrying every photo of every visit.

use std::net::SocketAddr;

use axum::Extension;
use axum::extract::rejection::PathRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use crate::access::{self, Reach};
use crate::error::AppError;
use crate::server::rejections::{address_error, plain_error};
use crate::server::session::caller_from_headers;
use crate::server::state::AppState;
use crate::visits::EvidenceFor;

/// `/visits/{visit}/evidence/{line}` (see [`crate::visits::evidence_href`]).
pub const EVIDENCE_PATH: &str = "/visits/{visit}/evidence/{line}";

/// The photo to anyone who may see the visit's household; the same 404
/// for a photo that does not exist as for a visit that does not.
pub async fn get_evidence(
    State(state): State<AppState>,
    path: Result<Path<(Uuid, String)>, PathRejection>,
    headers: HeaderMap,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> Response {
    let (visit, line) = match path {
        Ok(Path(p)) => p,
        Err(e) => return plain_error(&address_error(&e.body_text())),
    };
    let address = connect.map(|Extension(ConnectInfo(a))| a);
    let result = async {
        let caller = caller_from_headers(&state, &headers, address).await?;
        let line = EvidenceFor::from_slug(&line).ok_or(AppError::NotFound)?;
        let store = state.store.as_ref();
        let (household, jpeg) = store
            .evidence_photo(visit, line)
            .await?
            .ok_or(AppError::NotFound)?;
        access::household(store, &caller, household, Reach::See, "get_evidence").await?;
        Ok::<_, AppError>(jpeg)
    }
    .await;
    match result {
        Ok(jpeg) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg")),
                // Signed content never changes; only this user may keep it.
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("private, max-age=86400"),
                ),
            ],
            jpeg,
        )
            .into_response(),
        Err(e) => plain_error(&e),
    }
}
