//! The upload and the templates: plain axum routes, because a browser posts
//! a file with an ordinary form and downloads a template by following a
//! link (no JavaScript needed, nothing to hydrate first).

use std::net::SocketAddr;

use axum::Extension;
use axum::extract::{ConnectInfo, Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::error::AppError;
use crate::roster::model::{RosterKind, job_href, may_import};
use crate::roster::{service, template};
use crate::server::session::caller_from_headers;
use crate::server::state::AppState;

/// `/roster/template/{households|entitlements}.{xlsx|csv}`.
pub const TEMPLATE_PATH: &str = "/roster/template/{file}";
/// Largest upload: a province's roster as .xlsx is far smaller.
pub const MAX_UPLOAD_BYTES: usize = 64 * 1024 * 1024;

/// Takes the form's `kind` and `file`, starts the import in the background
/// and sends the browser to the page that follows it.
pub async fn post_import(
    State(state): State<AppState>,
    headers: HeaderMap,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    multipart: Multipart,
) -> Response {
    let address = connect.map(|Extension(ConnectInfo(a))| a);
    match start_import(&state, &headers, address, multipart).await {
        Ok(location) => Redirect::to(&location).into_response(),
        Err(AppError::Unauthorized) => Redirect::to("/login").into_response(),
        Err(e) => plain_error(e),
    }
}

async fn start_import(
    state: &AppState,
    headers: &HeaderMap,
    address: Option<SocketAddr>,
    mut multipart: Multipart,
) -> Result<String, AppError> {
    let caller = caller_from_headers(state, headers, address).await?;
    if !may_import(&caller.actor) {
        return crate::auth::service::deny_role(
            state.store.as_ref(),
            &caller,
            "roster.import",
            caller.actor.area.as_str(),
        )
        .await;
    }
    let mut kind = None;
    let mut file = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| upload_error(&e.body_text()))?
    {
        match field.name() {
            Some("kind") => {
                let text = field
                    .text()
                    .await
                    .map_err(|e| upload_error(&e.body_text()))?;
                kind = RosterKind::parse(&text);
            }
            Some("file") => {
                let name = field.file_name().unwrap_or_default().to_owned();
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| upload_error(&e.body_text()))?;
                file = Some((name, bytes));
            }
            _ => {}
        }
    }
    let kind = kind.ok_or_else(|| AppError::validation("名单类型", "请选择要导入的名单"))?;
    let (name, bytes) = file
        .filter(|(name, _)| !name.is_empty())
        .ok_or_else(|| AppError::validation("文件", "请选择要上传的文件"))?;
    let job = state.imports.start(
        caller.actor.user_id,
        kind,
        name.clone(),
        caller.actor.area_name.clone(),
    );
    let location = job_href(job.id);
    let state = state.clone();
    tokio::spawn(async move {
        use futures::FutureExt;
        let _one_at_a_time = state.imports.writer.lock().await;
        let store = state.store.as_ref();
        // A panic must still end the job, or its page would wait forever.
        let outcome = std::panic::AssertUnwindSafe(service::import(
            store,
            &caller.actor,
            kind,
            &name,
            bytes,
            &job.progress,
        ))
        .catch_unwind()
        .await
        .unwrap_or(Err(service::ImportFailure::Error(AppError::Internal)));
        if let Err(service::ImportFailure::Error(e)) = &outcome {
            tracing::error!(file = %name, error = ?e, "roster import failed");
        }
        service::audit(
            store,
            &caller.actor,
            caller.address.clone(),
            kind,
            &name,
            &outcome,
        )
        .await;
        job.progress.finish(&outcome);
    });
    Ok(location)
}

fn upload_error(detail: &str) -> AppError {
    AppError::validation("文件", format!("上传没有完成，请重试（{detail}）"))
}

/// The template for a kind, as an .xlsx workbook or a UTF-8 CSV.
pub async fn get_template(Path(file): Path<String>) -> Response {
    let Some((kind, extension)) = file
        .split_once('.')
        .and_then(|(k, ext)| RosterKind::parse(k).map(|k| (k, ext)))
    else {
        return plain_error(AppError::NotFound);
    };
    let (bytes, content_type) = match extension {
        "xlsx" => match template::workbook(kind) {
            Ok(bytes) => (
                bytes,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            Err(e) => {
                tracing::error!("template workbook: {e}");
                return plain_error(AppError::Internal);
            }
        },
        "csv" => (template::csv(kind), "text/csv; charset=utf-8"),
        _ => return plain_error(AppError::NotFound),
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

fn plain_error(e: AppError) -> Response {
    let status = StatusCode::from_u16(e.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        e.to_string(),
    )
        .into_response()
}
