use leptos::prelude::*;

use crate::error::AppError;
use crate::roster::ImportJob;

/// How an import started by the caller is getting on; `None` when the
/// server does not know it (it restarted: the import wrote nothing).
#[server(prefix = "/api", endpoint = "roster/job")]
pub async fn get_import_job(id: String) -> Result<Option<ImportJob>, AppError> {
    use crate::server::session::{app_state, require_caller};
    let (_, caller) = require_caller().await?;
    let id = uuid::Uuid::parse_str(id.trim())
        .map_err(|_| AppError::validation("id", "导入编号格式错误"))?;
    Ok(app_state()?.imports.get(id, caller.actor.user_id))
}
