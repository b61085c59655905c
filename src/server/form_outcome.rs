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

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, Uri, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;
use serde::{Deserialize, Serialize};

use crate::components::form_action::{API_PREFIX, FormOutcome, anchor_of_path};
use crate::server::session::cookie_value;

const COOKIE: &str = "daohu_outcome";
/// An answer bigger than this is not carried (the page still reloads with
/// the new state); a cookie must stay well under 4 KB.
const MAX_ANSWER_BYTES: usize = 2048;
/// The redirect is followed at once; a cookie left by a closed tab expires.
const MAX_AGE_SECS: u32 = 60;
const LEPTOS_ERROR_PARAMS: [&str; 2] = ["__path", "__err"];

#[derive(Serialize, Deserialize)]
struct Carried {
    /// The page the answer belongs to: read only when that page is shown.
    page: String,
    #[serde(flatten)]
    outcome: FormOutcome,
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
        let res = next.run(req).await;
        return after_form_post(res, fn_path, form_page, secure).await;
    }
    let carried = (req.method() == Method::GET)
        .then(|| cookie_value(req.headers(), COOKIE))
        .flatten()
        .map(|raw| decode(&raw));
    let Some(carried) = carried else {
        return next.run(req).await;
    };
    if let Some(c) = carried.filter(|c| c.page == req.uri().path()) {
        req.extensions_mut().insert(c.outcome);
    } else if !is_page_request(req.headers()) {
        // A script, image or probe fetched meanwhile leaves the answer for
        // the page it belongs to.
        return next.run(req).await;
    }
    let mut res = next.run(req).await;
    set_cookie(res.headers_mut(), &clear_cookie(secure));
    res
}

async fn after_form_post(
    res: Response,
    fn_path: String,
    form_page: Option<String>,
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
        let carried = Carried {
            page,
            outcome: FormOutcome {
                fn_path: fn_path.clone(),
                failed,
                answer: URL_SAFE_NO_PAD.encode(&answer),
            },
        };
        let value = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&carried).unwrap_or_default());
        set_cookie(
            &mut parts.headers,
            &format!(
                "{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={MAX_AGE_SECS}{}",
                secure_attr(secure)
            ),
        );
        // Land at the form that was sent, not at the top of a long page.
        landing = format!(
            "{}#{}",
            target.split('#').next().unwrap_or("/"),
            anchor_of_path(&fn_path)
        );
    }
    if let Ok(v) = HeaderValue::from_str(&landing) {
        parts.headers.insert(header::LOCATION, v);
    }
    Response::from_parts(parts, Body::empty())
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
