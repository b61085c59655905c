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
    let response = fetch(method, url, body).await?;
    let text = text_of(&response).await?;
    answer(response.status(), text)
}

/// GETs `url` and reads its body in chunks, telling `progress` the bytes
/// received so far and, when the server said (`length_header`), how many
/// there are in all: a first download on one bar of signal takes minutes,
/// and the worker sees it go on.
pub async fn download(
    url: &str,
    length_header: &str,
    mut progress: impl FnMut(u64, Option<u64>),
) -> Result<String, NetError> {
    let response = fetch("GET", url, None).await?;
    let status = response.status();
    let body = response.body();
    let (200..=299, Some(body)) = (status, body) else {
        let text = text_of(&response).await?;
        return answer(status, text);
    };
    let total = response
        .headers()
        .get(length_header)
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<u64>().ok());
    let reader: web_sys::ReadableStreamDefaultReader = body
        .get_reader()
        .dyn_into()
        .map_err(|_| NetError::Offline)?;
    // What the header claims is reserved only up to a few MB: wasm memory
    // never shrinks.
    let mut bytes = Vec::with_capacity(total.unwrap_or(0).min(4 << 20) as usize);
    progress(0, total);
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|_| NetError::Offline)?;
        let done = js_sys::Reflect::get(&chunk, &JsValue::from_str("done"))
            .map_err(|_| NetError::Offline)?;
        if done.is_truthy() {
            break;
        }
        let value = js_sys::Reflect::get(&chunk, &JsValue::from_str("value"))
            .map_err(|_| NetError::Offline)?;
        let value: js_sys::Uint8Array = value.dyn_into().map_err(|_| NetError::Offline)?;
        let at = bytes.len();
        bytes.resize(at + value.length() as usize, 0);
        value.copy_to(&mut bytes[at..]);
        progress(bytes.len() as u64, total);
    }
    // A connection that closed early ends the stream like a whole body
    // would: short of the length the server said, it was cut.
    if total.is_some_and(|t| t != bytes.len() as u64) {
        return Err(NetError::Offline);
    }
    String::from_utf8(bytes).map_err(|_| NetError::Offline)
}

async fn fetch(method: &str, url: &str, body: Option<(&str, &str)>) -> Result<Response, NetError> {
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
    JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|_| NetError::Offline)?
        .dyn_into()
        .map_err(|_| NetError::Offline)
}

async fn text_of(response: &Response) -> Result<String, NetError> {
    let promise = response.text().map_err(|_| NetError::Offline)?;
    JsFuture::from(promise)
        .await
        .ok()
        .and_then(|t| t.dyn_into::<JsString>().ok())
        .map(String::from)
        .ok_or(NetError::Offline)
}

/// A 2xx answer's text, or why there is none.
fn answer(status: u16, text: String) -> Result<String, NetError> {
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
