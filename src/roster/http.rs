//! The upload and the templates: plain axum routes, because a browser posts
//! a file with an ordinary form and downloads a template by following a
//! link (no JavaScript needed, nothing to hydrate first).

use std::net::SocketAddr;

use axum::Extension;
use axum::extract::multipart::{MultipartError, MultipartRejection};
use axum::extract::rejection::PathRejection;
use axum::extract::{ConnectInfo, Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::error::AppError;
use crate::roster::model::{RosterKind, job_href, may_import};
use crate::roster::template;
use crate::server::rejections::{address_error, body_error, plain_error};
use crate::server::session::caller_from_headers;
use crate::server::state::AppState;

/// `/roster/template/{households|entitlements}.{xlsx|csv}`.
pub const TEMPLATE_PATH: &str = "/roster/template/{file}";
/// Largest upload: a province's roster as .xlsx is far smaller. The file is
/// held once, as received, while it is read (see `roster::table`).
pub const MAX_UPLOAD_BYTES: usize = 64 * 1024 * 1024;
/// Longest file name accepted, as most file systems allow.
pub const MAX_FILE_NAME_CHARS: usize = 255;

/// Takes the form's `kind` and `file`, starts the import in the background
/// and sends the browser to the page that follows it.
pub async fn post_import(
    State(state): State<AppState>,
    headers: HeaderMap,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let address = connect.map(|Extension(ConnectInfo(a))| a);
    match start_import(&state, &headers, address, multipart).await {
        Ok(location) => Redirect::to(&location).into_response(),
        Err(AppError::Unauthorized) => Redirect::to("/login").into_response(),
        Err(e) => plain_error(&e),
    }
}

async fn start_import(
    state: &AppState,
    headers: &HeaderMap,
    address: Option<SocketAddr>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<String, AppError> {
    let caller = caller_from_headers(state, headers, address).await?;
    if !may_import(&caller.actor) {
        return crate::access::deny_role(
            state.store.as_ref(),
            &caller,
            "roster.import",
            caller.actor.area.as_str(),
        )
        .await;
    }
    // Not a multipart form at all (no or another content type, no boundary).
    let mut multipart = multipart.map_err(|e| {
        tracing::info!(detail = %e.body_text(), "upload refused");
        AppError::validation("文件", "请用导入页的表单上传文件")
    })?;
    let mut kind = None;
    let mut file = None;
    while let Some(mut field) = multipart.next_field().await.map_err(upload_error)? {
        match field.name() {
            Some("kind") => {
                // A kind is a short word: the field is read only that far,
                // however much was sent in it.
                let mut text = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(upload_error)? {
                    text.extend_from_slice(&chunk);
                    if text.len() > MAX_KIND_BYTES {
                        break;
                    }
                }
                kind = std::str::from_utf8(&text).ok().and_then(RosterKind::parse);
            }
            Some("file") => {
                // The previous file of a form that sent two is let go
                // before the next is read: one file is held at a time.
                drop(file.take());
                let name = field.file_name().unwrap_or_default().to_owned();
                let bytes = field.bytes().await.map_err(upload_error)?;
                file = Some((name, bytes));
            }
            _ => {}
        }
    }
    let kind = kind.ok_or_else(|| AppError::validation("名单类型", "请选择要导入的名单"))?;
    let (name, bytes) = file
        .filter(|(name, _)| !name.is_empty())
        .ok_or_else(|| AppError::validation("文件", "请选择要上传的文件"))?;
    // The name is repeated in every problem found in the file.
    if name.chars().count() > MAX_FILE_NAME_CHARS {
        return Err(AppError::validation(
            "文件",
            format!("文件名过长（最多 {MAX_FILE_NAME_CHARS} 个字）：请改短后再上传"),
        ));
    }
    let id = crate::roster::jobs::start(
        state.store.clone(),
        &state.import_slots,
        crate::roster::jobs::Upload {
            actor: caller.actor,
            address: caller.address,
            kind,
            file: name,
            bytes,
        },
    )
    .await?;
    let location = job_href(id);
    Ok(location)
}

/// Longer than any [`RosterKind`]'s name.
const MAX_KIND_BYTES: usize = 64;

fn upload_error(e: MultipartError) -> AppError {
    match body_error(e.status(), &e.body_text(), MAX_UPLOAD_BYTES) {
        too_large @ AppError::TooLarge(_) => too_large,
        _ => AppError::validation("文件", "上传没有完成，请重试"),
    }
}

/// The template for a kind, as an .xlsx workbook or a UTF-8 CSV.
pub async fn get_template(file: Result<Path<String>, PathRejection>) -> Response {
    let file = match file {
        Ok(Path(file)) => file,
        Err(e) => return plain_error(&address_error(&e.body_text())),
    };
    let Some((kind, extension)) = file
        .split_once('.')
        .and_then(|(k, ext)| RosterKind::parse(k).map(|k| (k, ext)))
    else {
        return plain_error(&AppError::NotFound);
    };
    let (bytes, content_type) = match extension {
        "xlsx" => match template::workbook(kind) {
            Ok(bytes) => (
                bytes,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            Err(e) => {
                tracing::error!("template workbook: {e}");
                return plain_error(&AppError::Internal);
            }
        },
        "csv" => (template::csv(kind), "text/csv; charset=utf-8"),
        _ => return plain_error(&AppError::NotFound),
    };
    let name = format!("{}.{extension}", kind.template_name());
    let disposition = format!(
        "attachment; filename=\"{}.{extension}\"; filename*=UTF-8''{}",
        kind.as_str(),
        crate::reports::http::percent_encode(&name)
    );
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
            ),
        ],
        bytes,
    )
        .into_response()
}
