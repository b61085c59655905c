//! Managing users: the scope rule of [`crate::auth::Actor::manages`] over
//! the store, refusals audited, the field rules of
//! [`crate::auth::service::create_user`] reused.

use uuid::Uuid;

use crate::access::{self, Caller, Reach, audit, deny, deny_role};
use crate::areas::{AreaCode, AreaLevel};
use crate::auth::Role;
use crate::auth::service::{NewUser, create_user};
use crate::error::{AppError, AppResult};
use crate::server::db::Store;
use crate::users::{UserAdmin, UserSummary};

fn area_of(code: &str) -> AppResult<AreaCode> {
    AreaCode::parse(code).map_err(|m| AppError::validation("区划代码", m))
}

/// The users page of `code`: the users there the caller manages, and the
/// roles and areas a new user may get.
pub async fn admin_page(store: &dyn Store, caller: &Caller, code: &str) -> AppResult<UserAdmin> {
    let actor = &caller.actor;
    let code = area_of(code)?;
    access::area(store, caller, &code, Reach::Supervise, "list_users").await?;
    let area = store.area(&code).await?.ok_or(AppError::NotFound)?;
    let mut users: Vec<UserSummary> = store
        .users_in_area(&code)
        .await?
        .into_iter()
        .filter(|u| actor.manages(u.role, &u.area.code))
        .collect();
    users.sort_by(|a, b| {
        (b.role, &a.area.code, &a.display_name).cmp(&(a.role, &b.area.code, &b.display_name))
    });
    let mut areas = vec![area.clone()];
    areas.extend(store.child_areas(&code).await?);
    let roles: Vec<Role> = Role::ALL
        .into_iter()
        .rev()
        .filter(|r| *r < actor.role && areas.iter().any(|a| r.allows_area_level(a.level())))
        .collect();
    areas.retain(|a| roles.iter().any(|r| r.allows_area_level(a.level())));
    Ok(UserAdmin {
        area,
        users,
        roles,
        areas,
    })
}

/// Creates a user the caller may manage, before any field is judged: a
/// role not below the caller's is refused for the role (403), an area
/// outside theirs as if it did not exist (404); both audited.
pub async fn create(store: &dyn Store, caller: &Caller, new: NewUser) -> AppResult<UserSummary> {
    let area = area_of(&new.area)?;
    let target = format!("{} {} {}", new.username.trim(), new.role.as_str(), area);
    if new.role >= caller.actor.role {
        return deny_role(store, caller, "create_user", &target).await;
    }
    if !caller.actor.manages(new.role, &area) {
        return deny(store, caller, "create_user", &target).await;
    }
    let user = create_user(store, new).await?;
    audit(store, caller, "create_user", &user.username, "ok").await?;
    let area = store.area(&user.area).await?.ok_or(AppError::Internal)?;
    Ok(UserSummary {
        id: user.id,
        username: user.username,
        display_name: user.display_name,
        role: user.role,
        area,
        active: user.active,
        caseload: 0,
    })
}

/// Disables or re-enables a user the caller manages. Nobody disables
/// themselves (they would lock the door behind them).
pub async fn set_active(
    store: &dyn Store,
    caller: &Caller,
    user_id: Uuid,
    active: bool,
) -> AppResult<()> {
    if user_id == caller.actor.user_id {
        return Err(AppError::validation("用户", "不能停用或启用自己的账号"));
    }
    let action = if active {
        "enable_user"
    } else {
        "disable_user"
    };
    // Field workers manage nobody: refused for the role, whatever the id.
    if caller.actor.role == Role::FieldWorker {
        return deny_role(store, caller, action, &user_id.to_string()).await;
    }
    // A user the caller does not manage (a peer, a superior, someone of
    // another area) is answered as an unknown id.
    let user = match store.user_by_id(user_id).await? {
        Some(u) if caller.actor.manages(u.role, &u.area) => u,
        Some(u) => return deny(store, caller, action, &u.username).await,
        None => return Err(AppError::NotFound),
    };
    if store.set_user_active(user_id, active).await? {
        audit(store, caller, action, &user.username, "ok").await?;
    }
    Ok(())
}

/// The active field workers a household of `code` (a village) or of any
/// village of `code` (a township) may be assigned to, by name.
pub async fn assignable_workers(
    store: &dyn Store,
    caller: &Caller,
    code: &str,
) -> AppResult<Vec<UserSummary>> {
    let code = area_of(code)?;
    access::area(store, caller, &code, Reach::Supervise, "list_workers").await?;
    let township = match code.level() {
        AreaLevel::Township => code.clone(),
        AreaLevel::Village => code.parent().ok_or(AppError::Internal)?,
        _ => {
            return Err(AppError::validation(
                "区划代码",
                "请在乡镇或村的页面分配帮扶干部",
            ));
        }
    };
    let mut workers: Vec<UserSummary> = store
        .users_in_area(&township)
        .await?
        .into_iter()
        .filter(|u| {
            u.role == Role::FieldWorker
                && u.active
                && (u.area.code.contains(&code) || code.contains(&u.area.code))
        })
        .collect();
    workers.sort_by(|a, b| (&a.display_name, a.id).cmp(&(&b.display_name, b.id)));
    Ok(workers)
}
