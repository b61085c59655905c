//! Signing in and out, and creating users.

use std::time::Instant;

use chrono::{Duration, Utc};
use uuid::Uuid;

use crate::areas::AreaCode;
use crate::auth::{Actor, Role, password};
use crate::error::{AppError, AppResult};
use crate::server::db::{AuditEvent, Store, UserRecord};
use crate::server::session::{Caller, actor_from, token_hash};
use crate::server::state::AppState;

/// A fresh session: the cookie token (shown once, to the client) and who it is for.
pub struct NewSession {
    pub token: String,
    pub actor: Actor,
}

pub async fn sign_in(
    state: &AppState,
    username: &str,
    password: &str,
    address: Option<&str>,
) -> AppResult<NewSession> {
    let username = username.trim();
    if username.is_empty() {
        return Err(AppError::validation("用户名", "请输入用户名"));
    }
    if password.is_empty() {
        return Err(AppError::validation("密码", "请输入密码"));
    }
    if let Some(wait) = state
        .throttle
        .wait_before_attempt(username, address, Instant::now())
    {
        return Err(AppError::TooManyAttempts {
            retry_after_secs: wait.as_secs().max(1),
        });
    }
    let user = state.store.user_by_username(username).await?;
    let stored_hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| password::dummy_hash().to_owned());
    let candidate = password.to_owned();
    let password_ok =
        tokio::task::spawn_blocking(move || password::verify(&candidate, &stored_hash))
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "password check panicked");
                AppError::Internal
            })?;
    let user = match user {
        Some(u) if password_ok && u.active => u,
        other => {
            state
                .throttle
                .record_failure(username, address, Instant::now());
            state
                .store
                .record_audit(&AuditEvent {
                    user_id: other.map(|u| u.id),
                    action: "sign_in".into(),
                    target: username.to_owned(),
                    outcome: "refused".into(),
                    address: address.map(str::to_owned),
                })
                .await?;
            return Err(AppError::BadCredentials);
        }
    };
    state.throttle.record_success(username);
    let token = new_token();
    let expires_at = Utc::now() + Duration::days(state.config.session_days);
    state
        .store
        .insert_session(&token_hash(&token), user.id, expires_at)
        .await?;
    let actor = actor_from(state.store.as_ref(), user).await?;
    Ok(NewSession { token, actor })
}

pub async fn sign_out(store: &dyn Store, token: &str) -> AppResult<()> {
    store.delete_session(&token_hash(token)).await?;
    Ok(())
}

/// The `Set-Cookie` value for a session token, or for clearing it (`None`).
pub fn session_cookie(token: Option<&str>, max_age_days: i64, secure: bool) -> String {
    let name = crate::server::session::SESSION_COOKIE;
    let secure = if secure { "; Secure" } else { "" };
    match token {
        Some(t) => format!(
            "{name}={t}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
            max_age_days * 24 * 3600
        ),
        None => format!("{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
    }
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).expect("the OS random source works");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A user to create, as typed on the command line.
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub area: String,
    pub password: String,
}

/// Validates and stores a user; errors name the field at fault.
pub async fn create_user(store: &dyn Store, new: NewUser) -> AppResult<UserRecord> {
    let username = new.username.trim().to_owned();
    if username.chars().count() < 2
        || !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
    {
        return Err(AppError::validation(
            "用户名",
            "至少2个字符，只能包含字母、数字、下划线、连字符和点",
        ));
    }
    if new.display_name.trim().is_empty() {
        return Err(AppError::validation("姓名", "不能为空"));
    }
    if new.password.chars().count() < 8 {
        return Err(AppError::validation("密码", "至少8个字符"));
    }
    let area = AreaCode::parse(&new.area).map_err(|m| AppError::validation("区划代码", m))?;
    if !new.role.allows_area_level(area.level()) {
        return Err(AppError::validation(
            "区划代码",
            format!(
                "{}不能绑定到{}级区域",
                new.role.label(),
                area.level().label()
            ),
        ));
    }
    if store.area(&area).await?.is_none() {
        return Err(AppError::validation(
            "区划代码",
            format!("区域 {area} 不存在"),
        ));
    }
    if store.user_by_username(&username).await?.is_some() {
        return Err(AppError::validation(
            "用户名",
            format!("“{username}”已被使用"),
        ));
    }
    let password = new.password;
    let password_hash = tokio::task::spawn_blocking(move || password::hash(&password))
        .await
        .map_err(|_| AppError::Internal)?;
    let user = UserRecord {
        id: Uuid::now_v7(),
        username,
        display_name: new.display_name.trim().to_owned(),
        role: new.role,
        area,
        password_hash,
        active: true,
    };
    // Two creations racing for one name: the constraint decides, and the
    // loser gets the same message as above.
    store.insert_user(&user).await.map_err(|e| match e {
        crate::server::db::DbError::Conflict { .. } => {
            AppError::validation("用户名", format!("“{}”已被使用", user.username))
        }
        other => other.into(),
    })?;
    Ok(user)
}

/// Records a refused access and returns `Forbidden`.
pub async fn deny<T>(
    store: &dyn Store,
    caller: &Caller,
    action: &str,
    target: &str,
) -> AppResult<T> {
    tracing::warn!(
        user = %caller.actor.username,
        action,
        target,
        address = ?caller.address,
        "access outside the caller's scope refused"
    );
    store
        .record_audit(&AuditEvent {
            user_id: Some(caller.actor.user_id),
            action: action.to_owned(),
            target: target.to_owned(),
            outcome: "forbidden".to_owned(),
            address: caller.address.clone(),
        })
        .await?;
    Err(AppError::Forbidden)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_cookie_is_http_only_same_site_and_optionally_secure() {
        let c = session_cookie(Some("abc"), 30, false);
        assert!(c.starts_with("daohu_session=abc;"));
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax"));
        assert!(c.contains("Max-Age=2592000"));
        assert!(!c.contains("Secure"));
        assert!(session_cookie(Some("abc"), 30, true).ends_with("; Secure"));
        assert!(session_cookie(None, 30, false).contains("Max-Age=0"));
    }
}
