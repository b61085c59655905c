//! Requests to the server with the session cookie, as plain `fetch`.

use js_sys::JsString;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestCredentials, RequestInit, Response};

/// Why a request got no usable answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetError {
    /// No connection, the server down, or the request cut: try later.
    Offline,
    /// The session is gone: the worker must sign in again.
    SignedOut,
    /// The server refused or failed; the text says why.
    Refused { status: u16, message: String },
}

impl std::fmt::Display for NetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NetError::Offline => write!(f, "无法连接服务器（无网络或服务器未开）"),
            NetError::SignedOut => write!(f, "登录已失效，请联网后重新登录"),
            NetError::Refused { status, message } => write!(f, "服务器拒绝（{status}）：{message}"),
        }
    }
}

/// Calls a server function that takes no arguments (`/api/auth/…`) the
/// way a form would, and returns its JSON answer. Leptos' own client for
/// server functions would bring its request machinery into the phone's
/// bundle for two calls.
pub async fn call_server_fn(path: &str) -> Result<String, NetError> {
    send_with(
        "POST",
        path,
        Some(("application/x-www-form-urlencoded", "")),
    )
    .await
}

/// Sends a request and returns the body of a 2xx answer.
pub async fn send(method: &str, url: &str, json_body: Option<&str>) -> Result<String, NetError> {
    send_with(method, url, json_body.map(|b| ("application/json", b))).await
}

/// `body`: its content type and text.
async fn send_with(
    method: &str,
    url: &str,
    body: Option<(&str, &str)>,
) -> Result<String, NetError> {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_credentials(RequestCredentials::SameOrigin);
    if let Some((_, text)) = body {
        init.set_body(&JsValue::from_str(text));
    }
    let request = Request::new_with_str_and_init(url, &init).map_err(|_| NetError::Offline)?;
    if let Some((content_type, _)) = body {
        let _ = request.headers().set("Content-Type", content_type);
    }
    request.headers().set("Accept", "application/json").ok();
    let window = web_sys::window().ok_or(NetError::Offline)?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|_| NetError::Offline)?
        .dyn_into()
        .map_err(|_| NetError::Offline)?;
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|t| t.dyn_into::<JsString>().ok())
            .map(String::from)
            .ok_or(NetError::Offline)?,
        Err(_) => return Err(NetError::Offline),
    };
    let status = response.status();
    match status {
        200..=299 => Ok(text),
        401 => Err(NetError::SignedOut),
        // A proxy or a server starting up: the same as no connection.
        502..=504 => Err(NetError::Offline),
        _ => {
            let message = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
                .unwrap_or_else(|| text.chars().take(200).collect());
            Err(NetError::Refused { status, message })
        }
    }
}
