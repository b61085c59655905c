use leptos::prelude::*;

use crate::error::AppError;
use crate::roster::ImportJob;

/// How an import started by the caller is getting on, from any instance;
/// `None` for an id that is unknown, another user's, or finished long ago
/// (one answer for all three).
#[server(prefix = "/api", endpoint = "roster/job")]
pub async fn get_import_job(id: String) -> Result<Option<ImportJob>, AppError> {
    use crate::server::session::require_caller;
    let (deps, caller) = require_caller().await?;
    let id = uuid::Uuid::parse_str(id.trim())
        .map_err(|_| AppError::validation("id", "导入编号格式错误"))?;
    crate::roster::jobs::get(deps.store.as_ref(), id, caller.actor.user_id).await
}
