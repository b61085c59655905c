//! Signing in and out, one's own sessions and password, creating users.

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::access::{Caller, actor_from, audit};
use crate::areas::AreaCode;
use crate::auth::hashing::Hashing;
use crate::auth::throttle::{self, Keys};
use crate::auth::{AccountView, Actor, Role, SessionView, password};
use crate::error::{AppError, AppResult};
use crate::server::db::{AuditEvent, NewSessionRow, Store, UserRecord};
use crate::server::deps::Deps;
use crate::subsidies::china_time;

/// A fresh session: the cookie token (shown once, to the client) and who it
/// is for, and a new device token to remember this browser by, if it had
/// none.
pub struct NewSession {
    pub token: String,
    pub actor: Actor,
    pub new_device_token: Option<String>,
}

/// One sign-in attempt as it reached the server.
pub struct Attempt<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub address: Option<&'a str>,
    /// The device cookie, if the browser sent one.
    pub device_token: Option<&'a str>,
}

pub const SESSION_COOKIE: &str = "daohu_session";
/// Marks a browser that signed an account in before (see
/// [`crate::auth::throttle`]); sent only to the sign-in endpoints.
pub const DEVICE_COOKIE: &str = "daohu_device";

/// A session is marked as seen at most this often: one write an hour, not
/// one per request.
pub const SEEN_EVERY: chrono::Duration = chrono::Duration::hours(1);

/// The earliest last-seen time of a session still live at `now`.
fn idle_cutoff(deps: &Deps, now: DateTime<Utc>) -> DateTime<Utc> {
    now - chrono::Duration::days(deps.config.session_idle_days)
}

/// Only the hash of a session token is stored.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The caller a session token (from its cookie) belongs to, coming from
/// `address`, or `Unauthorized` when the session is unknown, idle too long,
/// past its end or its user disabled.
pub async fn session_caller(
    deps: &Deps,
    token: &str,
    address: Option<String>,
) -> AppResult<Caller> {
    let hash = token_hash(token);
    let now = deps.now();
    let (user, last_seen) = deps
        .store
        .session_user(&hash, now, idle_cutoff(deps, now))
        .await?
        .ok_or(AppError::Unauthorized)?;
    if now - last_seen >= SEEN_EVERY {
        deps.store
            .touch_session(&hash, now, address.as_deref())
            .await?;
    }
    let actor = actor_from(deps.store.as_ref(), user).await?;
    Ok(Caller { actor, address })
}

pub async fn sign_in(deps: &Deps, attempt: Attempt<'_>) -> AppResult<NewSession> {
    let result = check_sign_in(deps, attempt).await;
    crate::server::metrics::sign_in(match &result {
        Ok(_) => "ok",
        Err(AppError::BadCredentials) => "refused",
        Err(AppError::TooManyAttempts { .. }) => "throttled",
        Err(AppError::Busy { .. }) => "busy",
        Err(AppError::Validation { .. }) => "invalid",
        Err(_) => "error",
    });
    result
}

async fn check_sign_in(deps: &Deps, attempt: Attempt<'_>) -> AppResult<NewSession> {
    let username = attempt.username.trim();
    if username.is_empty() {
        return Err(AppError::validation("用户名", "请输入用户名"));
    }
    if attempt.password.is_empty() {
        return Err(AppError::validation("密码", "请输入密码"));
    }
    let store = deps.store.as_ref();
    let now = deps.now();
    let keys = Keys::new(username, attempt.address);
    let wait = keys.wait(&store.sign_in_failures(&keys.all()).await?, now);
    let user = store.user_by_username(username).await?;
    // A device cookie is ours only if it looks like one we made.
    let device = attempt
        .device_token
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()));
    let sources: Vec<String> = attempt
        .address
        .map(throttle::address_source)
        .into_iter()
        .chain(device.map(throttle::device_source))
        .collect();
    // The same query for a made-up name (the nil id matches nothing), so it
    // takes as long as for a real one.
    let known = store
        .known_sign_in(
            user.as_ref().map_or(Uuid::nil(), |u| u.id),
            &sources,
            now - throttle::KNOWN_FOR,
        )
        .await?;
    let refusal = match wait {
        Some(w) => AppError::TooManyAttempts {
            retry_after_secs: w.as_secs().max(1),
        },
        None => AppError::BadCredentials,
    };
    if wait.is_some() && !known {
        tracing::info!(username, address = ?attempt.address, "sign-in refused: throttled");
        return Err(refusal);
    }
    let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
    let password_ok = Hashing::shared()
        .verify(attempt.password, stored_hash)
        .await?;
    let user = match user {
        Some(u) if password_ok && u.active => u,
        other => {
            store
                .record_sign_in_failure(&keys.all(), now, now - throttle::FORGET_AFTER)
                .await?;
            store
                .record_audit(&AuditEvent {
                    user_id: other.map(|u| u.id),
                    action: "sign_in".into(),
                    target: username.to_owned(),
                    outcome: "refused".into(),
                    address: attempt.address.map(str::to_owned),
                })
                .await?;
            // A known source's wrong password is answered as anyone's.
            return Err(refusal);
        }
    };
    let new_device_token = device.is_none().then(new_token);
    let mut sources = sources;
    sources.extend(new_device_token.as_deref().map(throttle::device_source));
    // Only this pair's count is cleared: one right password must not wipe
    // what a guesser did from elsewhere, or at other accounts from here.
    store
        .record_sign_in(user.id, &sources, now, std::slice::from_ref(&keys.pair))
        .await?;
    // The cheap moment to forget what is old: a sign-in is rare next to
    // page views, and every instance does it.
    store
        .delete_dead_sessions(now, idle_cutoff(deps, now))
        .await?;
    store
        .prune_sign_in_records(now - throttle::FORGET_AFTER, now - throttle::KNOWN_FOR)
        .await?;
    let token = new_token();
    store
        .insert_session(&NewSessionRow {
            token_hash: &token_hash(&token),
            user_id: user.id,
            at: now,
            expires_at: now + Duration::days(deps.config.session_days),
            address: attempt.address,
        })
        .await?;
    let actor = actor_from(store, user).await?;
    Ok(NewSession {
        token,
        actor,
        new_device_token,
    })
}

pub async fn sign_out(store: &dyn Store, token: &str) -> AppResult<()> {
    store.delete_session(&token_hash(token)).await?;
    Ok(())
}

/// The caller's account page: their live sessions, this one marked.
pub async fn account(deps: &Deps, caller: &Caller, token: &str) -> AppResult<AccountView> {
    let now = deps.now();
    let current = token_hash(token);
    let sessions = deps
        .store
        .sessions_of(caller.actor.user_id, now, idle_cutoff(deps, now))
        .await?
        .into_iter()
        .map(|s| SessionView {
            signed_in_at: local(s.created_at),
            last_seen_at: local(s.last_seen_at),
            address: s.address,
            current: s.token_hash == current,
        })
        .collect();
    Ok(AccountView {
        username: caller.actor.username.clone(),
        display_name: caller.actor.display_name.clone(),
        sessions,
    })
}

/// Ends every session of the caller but this one; how many ended.
pub async fn sign_out_others(deps: &Deps, caller: &Caller, token: &str) -> AppResult<u64> {
    let ended = deps
        .store
        .delete_other_sessions(caller.actor.user_id, &token_hash(token))
        .await?;
    audit(
        deps.store.as_ref(),
        caller,
        "sign_out_others",
        &ended.to_string(),
        "ok",
    )
    .await?;
    Ok(ended)
}

/// What the change-password form sends.
pub struct PasswordChange<'a> {
    pub current: &'a str,
    pub new: &'a str,
    pub again: &'a str,
}

/// Sets a new password after checking the current one, and ends every
/// other session (whoever else holds one, perhaps a thief, is out). A wrong
/// current password counts as a failed sign-in of this account from this
/// address, so a borrowed session cannot be used to guess it.
pub async fn change_password(
    deps: &Deps,
    caller: &Caller,
    token: &str,
    change: PasswordChange<'_>,
) -> AppResult<()> {
    let store = deps.store.as_ref();
    if change.current.is_empty() {
        return Err(AppError::validation("当前密码", "请输入当前密码"));
    }
    let now = deps.now();
    let keys = Keys::new(&caller.actor.username, caller.address.as_deref());
    let pair = std::slice::from_ref(&keys.pair);
    if let Some(w) = keys.wait(&store.sign_in_failures(pair).await?, now) {
        return Err(AppError::TooManyAttempts {
            retry_after_secs: w.as_secs().max(1),
        });
    }
    let user = store
        .user_by_id(caller.actor.user_id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    if !Hashing::shared()
        .verify(change.current, Some(user.password_hash.clone()))
        .await?
    {
        store
            .record_sign_in_failure(pair, now, now - throttle::FORGET_AFTER)
            .await?;
        audit(store, caller, "change_password", &user.username, "refused").await?;
        return Err(AppError::validation("当前密码", "当前密码不正确"));
    }
    if let Some(why) = password::weakness(change.new, &user.username) {
        return Err(AppError::validation("新密码", why));
    }
    if change.new != change.again {
        return Err(AppError::validation("确认新密码", "两次输入的新密码不一致"));
    }
    if change.new == change.current {
        return Err(AppError::validation("新密码", "新密码不能与当前密码相同"));
    }
    let password_hash = Hashing::shared().hash(change.new).await?;
    store
        .set_password(user.id, &password_hash, &token_hash(token))
        .await?;
    audit(store, caller, "change_password", &user.username, "ok").await
}

fn local(at: DateTime<Utc>) -> String {
    china_time(at).format("%Y-%m-%d %H:%M").to_string()
}

/// The `Set-Cookie` value for a session token, or for clearing it (`None`).
pub fn session_cookie(token: Option<&str>, max_age_days: i64, secure: bool) -> String {
    let name = SESSION_COOKIE;
    let secure = if secure { "; Secure" } else { "" };
    match token {
        Some(t) => format!(
            "{name}={t}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
            max_age_days * 24 * 3600
        ),
        None => format!("{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
    }
}

/// The `Set-Cookie` value that marks this browser as one the account signed
/// in from: sent back only to the sign-in endpoints, kept for 400 days (the
/// most browsers allow), and kept across sign-outs on purpose.
pub fn device_cookie(token: &str, secure: bool) -> String {
    let name = DEVICE_COOKIE;
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{name}={token}; Path=/api/auth; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        400 * 24 * 3600
    )
}

/// 32 random bytes in hex: a session, device or receipt token.
pub(crate) fn new_token() -> String {
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
    if let Some(why) = password::weakness(&new.password, &username) {
        return Err(AppError::validation("密码", why));
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
    let password_hash = Hashing::shared().hash(&new.password).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_hash_is_hex_sha256() {
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

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

    #[test]
    fn the_device_cookie_goes_only_to_the_sign_in_endpoints() {
        let c = device_cookie("abc", true);
        assert!(c.starts_with("daohu_device=abc;"));
        assert!(c.contains("Path=/api/auth;") && c.contains("HttpOnly"));
        assert!(c.contains("SameSite=Strict") && c.ends_with("; Secure"));
    }
}
