//! Resolving the caller of a server function or page from its cookie (the
//! rules of sessions are `auth::service`'s), and a page's status from an
//! error.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use http::HeaderMap;
use http::request::Parts;
use leptos::prelude::*;
use leptos_axum::ResponseOptions;

use crate::access::Caller;
use crate::auth::service::{SESSION_COOKIE, session_caller};
use crate::error::{AppError, AppResult};
use crate::server::deps::Deps;
use crate::server::state::AppState;

/// The app state provided by `leptos_routes` to every page and server fn.
pub fn app_state() -> AppResult<AppState> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from context");
        AppError::Internal
    })
}

fn request_parts() -> AppResult<Parts> {
    use_context::<Parts>().ok_or_else(|| {
        tracing::error!("request parts missing from context");
        AppError::Internal
    })
}

/// What the services of a server function are given, for one that needs
/// no caller (signing in and out).
pub fn deps() -> AppResult<Deps> {
    Ok(app_state()?.deps())
}

/// What the services are given, and the caller, or `Unauthorized` when
/// there is no live session.
pub async fn require_caller() -> AppResult<(Deps, Caller)> {
    let state = app_state()?;
    let parts = request_parts()?;
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| *a);
    let caller = caller_from_headers(&state, &parts.headers, peer).await?;
    Ok((state.deps(), caller))
}

/// The caller of a plain axum handler, from its headers and peer address.
pub async fn caller_from_headers(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
) -> AppResult<Caller> {
    let address = client_address(headers, peer, state.config.trust_forwarded_for);
    let token = cookie_value(headers, SESSION_COOKIE).ok_or(AppError::Unauthorized)?;
    session_caller(&state.deps(), &token, address).await
}

/// The caller if signed in, `None` otherwise.
pub async fn optional_caller() -> AppResult<Option<(Deps, Caller)>> {
    match require_caller().await {
        Ok(c) => Ok(Some(c)),
        Err(AppError::Unauthorized) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The session token from the request's cookie header, if any.
pub fn current_token() -> Option<String> {
    request_cookie(SESSION_COOKIE)
}

/// A cookie of the request a server function answers.
pub fn request_cookie(name: &str) -> Option<String> {
    let parts = use_context::<Parts>()?;
    cookie_value(&parts.headers, name)
}

pub fn client_address_of_request() -> Option<String> {
    let state = use_context::<AppState>()?;
    let parts = use_context::<Parts>()?;
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| *a);
    client_address(&parts.headers, peer, state.config.trust_forwarded_for)
}

/// The client's address: the peer, or behind a proxy one runs, the last
/// `X-Forwarded-For` entry (the one that proxy added; earlier entries are
/// whatever the client wrote, and a throttle keyed on them could be dodged
/// by writing a new one each time).
fn client_address(
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    trust_forwarded_for: bool,
) -> Option<String> {
    if trust_forwarded_for
        && let Some(last) = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rfind(|v| !v.is_empty())
        && let Ok(ip) = last.parse::<IpAddr>()
    {
        return Some(ip.to_string());
    }
    peer.map(|a| a.ip().to_string())
}

pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

/// Sets the HTTP status of the current response from an error, so that
/// pages answer 401/403/404/… and not 200. (A server function's error gets
/// its status from `rejections::server_fn_status`, for all of them at once.)
pub fn set_status_for(error: &AppError) {
    // A plain HTML form post to a server function (before the bundle has
    // loaded) is answered by Leptos with a redirect back to the form, the
    // error in the URL; a status here would replace that redirect with a
    // bare error document.
    if let Some(parts) = use_context::<Parts>() {
        let accepts_html = parts
            .headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"));
        if accepts_html && parts.uri.path().starts_with("/api/") {
            return;
        }
    }
    if let Some(res) = use_context::<ResponseOptions>() {
        res.set_status(
            http::StatusCode::from_u16(error.status_code())
                .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR),
        );
        if let Some(secs) = error.retry_after_secs() {
            res.insert_header(http::header::RETRY_AFTER, secs.into());
        }
    }
}

/// The site's origin as browsers reach it, for links printed on paper (a
/// QR code): the configured public origin, or the scheme and host of this
/// request (the proxy's `X-Forwarded-Host`/`-Proto` when it is trusted).
/// A host with anything but host characters is not believed.
pub fn site_origin() -> String {
    let Some(state) = use_context::<AppState>() else {
        return String::new();
    };
    if let Some(public) = &state.config.public_origin {
        return public.trim_end_matches('/').to_owned();
    }
    let Some(parts) = use_context::<Parts>() else {
        return String::new();
    };
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|v| v.trim().to_owned())
    };
    let trusted = state.config.trust_forwarded_for;
    let host = trusted
        .then(|| header("x-forwarded-host"))
        .flatten()
        .or_else(|| header("host"))
        .filter(|h| {
            !h.is_empty()
                && h.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
                })
        })
        .unwrap_or_else(|| "localhost".to_owned());
    let scheme = trusted
        .then(|| header("x-forwarded-proto"))
        .flatten()
        .filter(|p| p == "https" || p == "http")
        .unwrap_or_else(|| {
            if state.config.secure_cookies {
                "https"
            } else {
                "http"
            }
            .to_owned()
        });
    format!("{scheme}://{host}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_session_cookie_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            http::header::COOKIE,
            "a=1; daohu_session=tok123; b=2".parse().unwrap(),
        );
        assert_eq!(cookie_value(&h, SESSION_COOKIE).as_deref(), Some("tok123"));
        assert_eq!(cookie_value(&h, "missing"), None);
    }

    #[test]
    fn behind_a_proxy_the_address_is_the_last_forwarded_entry() {
        let peer: SocketAddr = "10.9.9.9:1234".parse().unwrap();
        let mut h = HeaderMap::new();
        h.append("x-forwarded-for", "1.1.1.1, 2.2.2.2".parse().unwrap());
        h.append("x-forwarded-for", "3.3.3.3".parse().unwrap());
        assert_eq!(
            client_address(&h, Some(peer), true).as_deref(),
            Some("3.3.3.3")
        );
        assert_eq!(
            client_address(&h, Some(peer), false).as_deref(),
            Some("10.9.9.9")
        );
        let mut junk = HeaderMap::new();
        junk.insert("x-forwarded-for", "1.1.1.1, not-an-ip".parse().unwrap());
        assert_eq!(
            client_address(&junk, Some(peer), true).as_deref(),
            Some("10.9.9.9")
        );
    }
}
