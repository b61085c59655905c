//! User management server functions: authenticate, then the service.

use leptos::prelude::*;

use crate::error::AppError;
use crate::users::{UserAdmin, UserSummary};

#[server(prefix = "/api", endpoint = "users/list")]
pub async fn list_users(code: String) -> Result<UserAdmin, AppError> {
    let (deps, caller) = crate::server::session::require_caller().await?;
    crate::users::service::admin_page(deps.store.as_ref(), &caller, &code).await
}

#[server(prefix = "/api", endpoint = "users/create")]
pub async fn create_user(
    username: String,
    display_name: String,
    role: String,
    area: String,
    password: String,
) -> Result<UserSummary, AppError> {
    use crate::auth::Role;
    use crate::auth::service::NewUser;
    let (deps, caller) = crate::server::session::require_caller().await?;
    let role = Role::parse(role.trim())
        .ok_or_else(|| AppError::validation("角色", format!("未知角色“{role}”")))?;
    let new = NewUser {
        username,
        display_name,
        role,
        area,
        password,
    };
    crate::users::service::create(deps.store.as_ref(), &caller, new).await
}

#[server(prefix = "/api", endpoint = "users/set_active")]
pub async fn set_user_active(user_id: String, active: bool) -> Result<(), AppError> {
    let (deps, caller) = crate::server::session::require_caller().await?;
    let user_id = uuid::Uuid::parse_str(user_id.trim())
        .map_err(|_| AppError::validation("用户", "用户编号格式错误"))?;
    crate::users::service::set_active(deps.store.as_ref(), &caller, user_id, active).await
}

/// The field workers a household of `area` (a village or a township) may
/// be assigned to.
#[server(prefix = "/api", endpoint = "users/workers")]
pub async fn list_assignable_workers(area: String) -> Result<Vec<UserSummary>, AppError> {
    let (deps, caller) = crate::server::session::require_caller().await?;
    crate::users::service::assignable_workers(deps.store.as_ref(), &caller, &area).await
}
