//! Office forms without script: a plain form post to a server function is
//! answered by Leptos with a redirect back to the page. This carries what
//! the function answered (its result or its refusal) across that redirect,
//! so the page the browser lands on shows it at the form that was sent.
//!
//! Leptos puts a refusal in the redirect's query (`__path`, `__err`) and
//! shows any such query on any page: a crafted link could make a page say
//! anything. Here the answer travels in a short-lived cookie instead, which
//! another site cannot set, bound to the page it returns to and read once;
//! the query form is stripped from every request before Leptos sees it.
//!
//! A refusal also carries what was typed, so the form comes back filled in
//! (`server::form_refill`); and a form repeated once per record posts its
//! record's key, so the answer lands at that row's form and is shown there
//! alone.

use axum::body::{Body, HttpBody, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;
use serde::{Deserialize, Serialize};

use crate::components::form_action::{
    API_PREFIX, FormOutcome, ROW_FIELD, anchor_of_path, row_anchor_of_path, row_key,
};
use crate::server::form_refill::{self, Typed};
use crate::server::rejections::MAX_SERVER_FN_BODY_BYTES;
use crate::server::session::cookie_value;

const COOKIE: &str = "daohu_outcome";
/// An answer bigger than this is not carried (the page still reloads with
/// the new state).
const MAX_ANSWER_BYTES: usize = 2048;
/// A browser keeps a cookie of up to 4 KB: typed values that would take
/// the cookie past this are left out, the last fields first.
const MAX_COOKIE_VALUE_BYTES: usize = 3900;
/// A page rewritten to refill a form is read whole first.
const MAX_PAGE_BYTES: usize = 8 * 1024 * 1024;
/// The redirect is followed at once; a cookie left by a closed tab expires.
const MAX_AGE_SECS: u32 = 60;
const LEPTOS_ERROR_PARAMS: [&str; 2] = ["__path", "__err"];

#[derive(Serialize, Deserialize)]
struct Carried {
    /// The page the answer belongs to: read only when that page is shown.
    page: String,
    #[serde(flatten)]
    outcome: FormOutcome,
    /// A refused form's fields as typed (never a password).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    typed: Typed,
}

/// `secure`: the cookie gets `Secure` like the session's.
pub async fn carry(State(secure): State<bool>, mut req: Request, next: Next) -> Response {
    strip_leptos_error_query(req.uri_mut());
    let plain_form_post = req.method() == Method::POST
        && req.uri().path().starts_with(API_PREFIX)
        && accepts_html(req.headers());
    if plain_form_post {
        let fn_path = req.uri().path().to_owned();
        let form_page = req
            .headers()
            .get(header::REFERER)
            .and_then(|r| r.to_str().ok())
            .and_then(path_of);
        let (req, posted) = match read_posted(req).await {
            Ok(read) => read,
            Err(refused) => return refused,
        };
        let res = next.run(req).await;
        return after_form_post(res, fn_path, form_page, posted, secure).await;
    }
    let carried = (req.method() == Method::GET)
        .then(|| cookie_value(req.headers(), COOKIE))
        .flatten()
        .map(|raw| decode(&raw));
    let Some(carried) = carried else {
        return next.run(req).await;
    };
    let mut refill = None;
    if let Some(c) = carried.filter(|c| c.page == req.uri().path()) {
        if c.outcome.failed && !c.typed.is_empty() {
            refill = scope_of(&c.outcome).map(|scope| (scope, c.typed));
        }
        req.extensions_mut().insert(c.outcome);
    } else if !is_page_request(req.headers()) {
        // A script, image or probe fetched meanwhile leaves the answer for
        // the page it belongs to.
        return next.run(req).await;
    }
    let mut res = next.run(req).await;
    if let Some((scope, typed)) = refill {
        res = refilled(res, &scope, &typed).await;
    }
    set_cookie(res.headers_mut(), &clear_cookie(secure));
    res
}

/// The request with its body read (an urlencoded form within the server
/// functions' limit) and what it posted. Anything else goes on untouched
/// (a file upload, or a body the limit will refuse anyway).
async fn read_posted(req: Request) -> Result<(Request, Option<Typed>), Response> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    // Known before reading (a browser sends the form's length).
    let length = req.body().size_hint().exact();
    if !is_form || length.is_none_or(|n| n > MAX_SERVER_FN_BODY_BYTES as u64) {
        return Ok((req, None));
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_SERVER_FN_BODY_BYTES).await else {
        return Err((
            axum::http::StatusCode::BAD_REQUEST,
            "表单没有完整送达，请重新提交。",
        )
            .into_response());
    };
    let posted = form_urlencoded::parse(&bytes).into_owned().collect();
    Ok((Request::from_parts(parts, Body::from(bytes)), Some(posted)))
}

/// Where on the page the refused form is.
fn scope_of(outcome: &FormOutcome) -> Option<String> {
    match &outcome.row {
        Some(key) => Some(format!("#{}", row_anchor_of_path(&outcome.fn_path, key))),
        None => form_refill::form_posting_to(&outcome.fn_path),
    }
}

/// The page with the refused form filled in as typed; as rendered if it is
/// not a page or cannot be rewritten.
async fn refilled(res: Response, scope: &str, typed: &Typed) -> Response {
    let is_page = res.status().is_success()
        && res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"));
    if !is_page {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_PAGE_BYTES).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let html = String::from_utf8_lossy(&bytes);
    let out = match form_refill::refill(&html, scope, typed) {
        Some(rewritten) => Body::from(rewritten),
        None => Body::from(bytes),
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, out)
}

async fn after_form_post(
    res: Response,
    fn_path: String,
    form_page: Option<String>,
    posted: Option<Typed>,
    secure: bool,
) -> Response {
    let Some(location) = res
        .headers()
        .get(header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .map(str::to_owned)
    else {
        return res;
    };
    let failed = res.headers().contains_key(SERVER_FN_ERROR_HEADER);
    let (mut parts, body) = res.into_parts();
    // 303: the browser fetches the page with GET whatever the status the
    // function set for a refusal (the body is for scripts, not here).
    parts.status = axum::http::StatusCode::SEE_OTHER;
    let target = without_leptos_error(&location);
    let mut landing = target.clone();
    let page = path_of(&target).filter(|p| Some(p) == form_page.as_ref());
    // Only back at the form is there anything to show: a function that sent
    // the browser on to a page of its own (signed in: the start page) has
    // said what it had to.
    if let Some(page) = page
        && let Ok(answer) = to_bytes(body, MAX_ANSWER_BYTES).await
    {
        let posted = posted.unwrap_or_default();
        let row = posted
            .iter()
            .find(|(k, _)| k == ROW_FIELD)
            .map(|(_, v)| row_key(v));
        let mut carried = Carried {
            page,
            outcome: FormOutcome {
                fn_path: fn_path.clone(),
                failed,
                answer: URL_SAFE_NO_PAD.encode(&answer),
                row,
            },
            typed: Vec::new(),
        };
        if failed {
            carried.typed = fitting(&carried, posted);
        }
        let value = encode(&carried);
        set_cookie(
            &mut parts.headers,
            &format!(
                "{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={MAX_AGE_SECS}{}",
                secure_attr(secure)
            ),
        );
        // Land at the form that was sent, not at the top of a long page.
        let anchor = match &carried.outcome.row {
            Some(key) => row_anchor_of_path(&fn_path, key),
            None => anchor_of_path(&fn_path),
        };
        landing = format!("{}#{anchor}", target.split('#').next().unwrap_or("/"));
    }
    if let Ok(v) = HeaderValue::from_str(&landing) {
        parts.headers.insert(header::LOCATION, v);
    }
    Response::from_parts(parts, Body::empty())
}

/// The posted fields that can travel back, in order, as many as the
/// cookie holds beside the rest of `carried`.
fn fitting(carried: &Carried, posted: Typed) -> Typed {
    fn json_len<T: Serialize>(v: &T) -> usize {
        serde_json::to_vec(v).map_or(usize::MAX, |v| v.len())
    }
    let budget = MAX_COOKIE_VALUE_BYTES / 4 * 3;
    let mut used = json_len(carried) + r#","typed":[]"#.len();
    let mut kept = Vec::new();
    for field in posted {
        if field.0 == ROW_FIELD || !form_refill::may_carry(&field.0) {
            continue;
        }
        // `["name","value"],`
        used = used.saturating_add(json_len(&field)).saturating_add(1);
        if used > budget {
            break;
        }
        kept.push(field);
    }
    kept
}

fn encode(carried: &Carried) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(carried).unwrap_or_default())
}

fn decode(raw: &str) -> Option<Carried> {
    let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// A top-level navigation (what a redirect leads to), as opposed to a
/// subresource. Browsers that send no `Sec-Fetch-Dest` are judged by
/// `Accept`.
fn is_page_request(headers: &HeaderMap) -> bool {
    match headers.get("sec-fetch-dest").and_then(|v| v.to_str().ok()) {
        Some(dest) => dest == "document",
        None => accepts_html(headers),
    }
}

/// The path of a redirect target (absolute URL or path). The target is
/// the form's own page: a post from another site never gets here.
fn path_of(location: &str) -> Option<String> {
    let uri: Uri = location.parse().ok()?;
    let path = uri.path();
    path.starts_with('/').then(|| path.to_owned())
}

fn without_leptos_error(location: &str) -> String {
    let Some((base, query)) = location.split_once('?') else {
        return location.to_owned();
    };
    let (query, fragment) = match query.split_once('#') {
        Some((q, f)) => (q, Some(f)),
        None => (query, None),
    };
    let kept = kept_query(query);
    let mut out = base.to_owned();
    if !kept.is_empty() {
        out.push('?');
        out.push_str(&kept);
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

fn kept_query(query: &str) -> String {
    query
        .split('&')
        .filter(|pair| {
            let key = pair.split('=').next().unwrap_or("");
            !key.is_empty() && !LEPTOS_ERROR_PARAMS.contains(&key)
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn strip_leptos_error_query(uri: &mut Uri) {
    let Some(query) = uri.query() else {
        return;
    };
    if !query.split('&').any(|p| {
        let key = p.split('=').next().unwrap_or("");
        LEPTOS_ERROR_PARAMS.contains(&key)
    }) {
        return;
    }
    let kept = kept_query(query);
    let path_and_query = if kept.is_empty() {
        uri.path().to_owned()
    } else {
        format!("{}?{kept}", uri.path())
    };
    let mut parts = uri.clone().into_parts();
    if let Ok(pq) = path_and_query.parse() {
        parts.path_and_query = Some(pq);
        if let Ok(u) = Uri::from_parts(parts) {
            *uri = u;
        }
    }
}

fn secure_attr(secure: bool) -> &'static str {
    if secure { "; Secure" } else { "" }
}

fn clear_cookie(secure: bool) -> String {
    format!(
        "{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
        secure_attr(secure)
    )
}

fn set_cookie(headers: &mut HeaderMap, cookie: &str) {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        headers.append(header::SET_COOKIE, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leptos_error_params_are_removed_and_the_rest_kept() {
        assert_eq!(
            without_leptos_error("http://h/x?a=1&__path=%2Fapi%2Ff&__err=abc&b=2#top"),
            "http://h/x?a=1&b=2#top"
        );
        assert_eq!(without_leptos_error("/x?__path=p&__err=e"), "/x");
        let mut uri: Uri = "/households/1?__err=QQ&__path=%2Fapi%2Ff&q=2"
            .parse()
            .unwrap();
        strip_leptos_error_query(&mut uri);
        assert_eq!(uri.to_string(), "/households/1?q=2");
        let mut plain: Uri = "/a?b=c".parse().unwrap();
        strip_leptos_error_query(&mut plain);
        assert_eq!(plain.to_string(), "/a?b=c");
    }

    #[test]
    fn the_target_page_is_the_path_alone() {
        assert_eq!(
            path_of("http://127.0.0.1:3000/areas/62?x=1").as_deref(),
            Some("/areas/62")
        );
        assert_eq!(path_of("/login").as_deref(), Some("/login"));
        assert_eq!(path_of("not a url at all").as_deref(), None);
    }

    #[test]
    fn a_damaged_cookie_is_ignored() {
        assert!(decode("%%%").is_none());
        assert!(decode(&URL_SAFE_NO_PAD.encode(b"{\"page\":1}")).is_none());
    }
}
