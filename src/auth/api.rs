//! Sign-in server functions. Their URLs are pinned: an offline client built
//! from an older version still finds them.

use leptos::prelude::*;

use crate::auth::Actor;
use crate::error::AppError;

/// Signs in and sets the session cookie; a plain form post is redirected to
/// the user's home page.
#[server(prefix = "/api", endpoint = "auth/sign_in")]
pub async fn sign_in(username: String, password: String) -> Result<Actor, AppError> {
    use crate::server::session::{app_state, client_address_of_request, respond};
    respond(
        async {
            let state = app_state()?;
            let address = client_address_of_request();
            let session =
                crate::auth::service::sign_in(&state, &username, &password, address.as_deref())
                    .await?;
            let cookie = crate::auth::service::session_cookie(
                Some(&session.token),
                state.config.session_days,
                state.config.secure_cookies,
            );
            set_cookie(&cookie);
            leptos_axum::redirect(&session.actor.home_path());
            Ok(session.actor)
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "auth/sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::server::session::{app_state, current_token, respond};
    respond(
        async {
            let state = app_state()?;
            if let Some(token) = current_token() {
                crate::auth::service::sign_out(state.store.as_ref(), &token).await?;
            }
            set_cookie(&crate::auth::service::session_cookie(
                None,
                0,
                state.config.secure_cookies,
            ));
            leptos_axum::redirect("/login");
            Ok(())
        }
        .await,
    )
}

/// Who is signed in, if anyone.
#[server(prefix = "/api", endpoint = "auth/current_user")]
pub async fn current_user() -> Result<Option<Actor>, AppError> {
    use crate::server::session::{optional_caller, respond};
    respond(
        optional_caller()
            .await
            .map(|c| c.map(|(_, caller)| caller.actor)),
    )
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
