//! Sign-in and account server functions. Their URLs are pinned: an offline
//! client built from an older version still finds them.

use leptos::prelude::*;

use crate::auth::{AccountView, Actor};
use crate::error::AppError;

/// Signs in and sets the session cookie; a plain form post is redirected to
/// the user's home page.
#[server(prefix = "/api", endpoint = "auth/sign_in")]
pub async fn sign_in(username: String, password: String) -> Result<Actor, AppError> {
    use crate::auth::service::DEVICE_COOKIE;
    use crate::auth::service::{self, Attempt};
    use crate::server::session::{client_address_of_request, deps, request_cookie};
    let deps = deps()?;
    let address = client_address_of_request();
    let device = request_cookie(DEVICE_COOKIE);
    let session = service::sign_in(
        &deps,
        Attempt {
            username: &username,
            password: &password,
            address: address.as_deref(),
            device_token: device.as_deref(),
        },
    )
    .await?;
    let secure = deps.config.secure_cookies;
    set_cookie(&service::session_cookie(
        Some(&session.token),
        deps.config.session_days,
        secure,
    ));
    if let Some(device) = &session.new_device_token {
        set_cookie(&service::device_cookie(device, secure));
    }
    leptos_axum::redirect(&session.actor.home_path());
    Ok(session.actor)
}

#[server(prefix = "/api", endpoint = "auth/sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::server::session::{current_token, deps};
    let deps = deps()?;
    if let Some(token) = current_token() {
        crate::auth::service::sign_out(deps.store.as_ref(), &token).await?;
    }
    set_cookie(&crate::auth::service::session_cookie(
        None,
        0,
        deps.config.secure_cookies,
    ));
    leptos_axum::redirect("/login");
    Ok(())
}

/// Who is signed in, if anyone.
#[server(prefix = "/api", endpoint = "auth/current_user")]
pub async fn current_user() -> Result<Option<Actor>, AppError> {
    let caller = crate::server::session::optional_caller().await?;
    Ok(caller.map(|(_, caller)| caller.actor))
}

/// The caller's account page: their live sessions.
#[server(prefix = "/api", endpoint = "auth/account")]
pub async fn get_account() -> Result<AccountView, AppError> {
    use crate::server::session::{current_token, require_caller};
    let (deps, caller) = require_caller().await?;
    let token = current_token().ok_or(AppError::Unauthorized)?;
    crate::auth::service::account(&deps, &caller, &token).await
}

/// Changes the caller's password; every other session of theirs ends.
#[server(prefix = "/api", endpoint = "auth/change_password")]
pub async fn change_password(current: String, new: String, again: String) -> Result<(), AppError> {
    use crate::auth::service::PasswordChange;
    use crate::server::session::{current_token, require_caller};
    let (deps, caller) = require_caller().await?;
    let token = current_token().ok_or(AppError::Unauthorized)?;
    let change = PasswordChange {
        current: &current,
        new: &new,
        again: &again,
    };
    crate::auth::service::change_password(&deps, &caller, &token, change).await
}

/// Ends every session of the caller but this one; how many ended.
#[server(prefix = "/api", endpoint = "auth/sign_out_others")]
pub async fn sign_out_others() -> Result<u64, AppError> {
    use crate::server::session::{current_token, require_caller};
    let (deps, caller) = require_caller().await?;
    let token = current_token().ok_or(AppError::Unauthorized)?;
    crate::auth::service::sign_out_others(&deps, &caller, &token).await
}

#[cfg(feature = "ssr")]
fn set_cookie(value: &str) {
    if let (Some(res), Ok(v)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(value),
    ) {
        res.append_header(http::header::SET_COOKIE, v);
    }
}
