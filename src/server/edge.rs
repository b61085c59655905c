//! What every response passes on its way out, and every request on its way
//! in: the browser security headers, and the refusal of state-changing
//! requests sent by other sites (cross-site request forgery).
//!
//! One layer around the whole router ([`guard`]), so that no route, server
//! function or error page can be added without it.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use leptos::nonce::Nonce;
use leptos::prelude::{provide_context, use_context};

use crate::server::config::Config;
use crate::text::zh;

/// Geolocation (the visit's position) and the camera (the visit's photo)
/// for the site itself; every other powerful feature for nobody, embedded
/// frames included.
pub const PERMISSIONS_POLICY: &str = "geolocation=(self), camera=(self), microphone=(), \
     accelerometer=(), autoplay=(), display-capture=(), encrypted-media=(), fullscreen=(), \
     gyroscope=(), hid=(), idle-detection=(), magnetometer=(), midi=(), payment=(), \
     picture-in-picture=(), publickey-credentials-get=(), screen-wake-lock=(), serial=(), \
     usb=(), xr-spatial-tracking=()";

/// `same-origin`, not `no-referrer`: under `no-referrer` browsers send
/// `Origin: null` with a page's own form posts, which [`guard`] refuses.
pub const REFERRER_POLICY: &str = "same-origin";

/// A year, without `includeSubDomains`: other sites under the same parent
/// domain (a government portal) may not all serve HTTPS.
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000";

/// What the layer needs, built once with the router.
#[derive(Clone)]
pub struct Edge {
    config: Arc<Config>,
    /// Extra `connect-src` sources: `cargo leptos watch`'s reload socket,
    /// only while it runs.
    dev_connect: String,
}

impl Edge {
    pub fn new(config: Arc<Config>, options: &leptos::config::LeptosOptions) -> Edge {
        // AutoReload (in the shell) opens ws://<page host>:<reload port>
        // only when LEPTOS_WATCH is set, i.e. under `cargo leptos watch`.
        let dev_connect = if std::env::var_os("LEPTOS_WATCH").is_some() {
            let port = options.reload_external_port.unwrap_or(options.reload_port);
            format!(" ws://*:{port} wss://*:{port}")
        } else {
            String::new()
        };
        Edge {
            config,
            dev_connect,
        }
    }

    /// The policy of one response. Scripts: the site's own files and the
    /// inline scripts carrying this response's nonce (Leptos' hydration
    /// loader and the resources it streams), and compiling the site's
    /// WebAssembly. Styles: the stylesheet only, no inline styles at all.
    /// Images: the site's files and the `data:` URLs of a visit's photo and
    /// signature previews.
    pub fn content_security_policy(&self, nonce: &str) -> String {
        format!(
            "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
             style-src 'self'; img-src 'self' data:; connect-src 'self'{dev}; \
             worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'",
            dev = self.dev_connect
        )
    }

    /// Why this request must be refused as cross-site, or `None`.
    ///
    /// Only state-changing methods are checked: a GET changes nothing here,
    /// and a link from elsewhere (`Sec-Fetch-Site: cross-site`) must open.
    /// A request with neither `Sec-Fetch-Site` nor `Origin` is not from a
    /// browser page (curl, the tests, an old client) and passes: a forged
    /// request from another site always carries one of them.
    pub fn cross_site(&self, method: &Method, uri: &Uri, headers: &HeaderMap) -> Option<String> {
        if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
            return None;
        }
        // `same-site` (a sibling subdomain) and `none` (not started by a
        // page) are refused too: only the site's own pages post here.
        if let Some(site) = headers.get("sec-fetch-site")
            && site.as_bytes() != b"same-origin"
        {
            return Some(format!("Sec-Fetch-Site: {}", lossy(site)));
        }
        for origin in headers.get_all(header::ORIGIN) {
            if !self.is_own_origin(origin, uri, headers) {
                return Some(format!("Origin: {}", lossy(origin)));
            }
        }
        None
    }

    /// Whether `origin` is this site: the configured public origin exactly,
    /// or else the host the request was sent to (the proxy's
    /// `X-Forwarded-Host`/`-Proto` only when the proxy is trusted). `null`
    /// (sandboxed frames, `data:` pages, some redirects) never is.
    fn is_own_origin(&self, origin: &HeaderValue, uri: &Uri, headers: &HeaderMap) -> bool {
        let Some((scheme, authority)) = origin.to_str().ok().and_then(split_origin) else {
            return false;
        };
        if let Some(public) = &self.config.public_origin {
            return split_origin(public) == Some((scheme, authority));
        }
        let forwarded = |name: &str| {
            self.config
                .trust_forwarded_for
                .then(|| first_value(headers, name))
                .flatten()
        };
        let host = forwarded("x-forwarded-host")
            .or_else(|| first_value(headers, header::HOST.as_str()))
            .or_else(|| uri.authority().map(|a| a.as_str().to_owned()));
        let Some(host) = host else {
            return false;
        };
        // The scheme is known behind a trusted proxy, and is HTTPS whenever
        // session cookies are `Secure` (browsers send them over TLS only);
        // otherwise the host decides.
        let expected_scheme = forwarded("x-forwarded-proto")
            .map(|s| s.to_ascii_lowercase())
            .or_else(|| self.config.secure_cookies.then(|| "https".to_owned()));
        if expected_scheme.is_some_and(|s| s != scheme) {
            return false;
        }
        without_default_port(&scheme, &host.to_ascii_lowercase()) == authority
    }

    fn set_headers(&self, headers: &mut HeaderMap, nonce: &str) {
        let mut set = |name: header::HeaderName, value: &str| {
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.insert(name, v);
            }
        };
        set(
            header::CONTENT_SECURITY_POLICY,
            &self.content_security_policy(nonce),
        );
        set(header::X_FRAME_OPTIONS, "DENY");
        set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
        set(header::REFERRER_POLICY, REFERRER_POLICY);
        set(
            header::HeaderName::from_static("permissions-policy"),
            PERMISSIONS_POLICY,
        );
        set(
            header::HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        );
        if self.config.secure_cookies {
            set(header::STRICT_TRANSPORT_SECURITY, STRICT_TRANSPORT_SECURITY);
        }
        // Pages, server function answers and downloads show personal data:
        // no cache on the way or on disk keeps them. Only what chose its own
        // caching keeps it: the content-hashed bundle (`immutable`) and the
        // service worker script.
        if !headers.contains_key(header::CACHE_CONTROL) {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
    }
}

/// The layer: refuses cross-site writes before anything reads their body,
/// makes this response's nonce (for the page's inline scripts, see
/// [`provide_request_nonce`]) and sets the headers on every answer.
pub async fn guard(State(edge): State<Arc<Edge>>, mut req: Request, next: Next) -> Response {
    let nonce = Nonce::new();
    let mut res = match edge.cross_site(req.method(), req.uri(), req.headers()) {
        Some(reason) => {
            tracing::warn!(
                method = %req.method(),
                path = req.uri().path(),
                host = ?req.headers().get(header::HOST),
                %reason,
                "cross-site request refused"
            );
            (
                StatusCode::FORBIDDEN,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                zh::ERR_CROSS_SITE,
            )
                .into_response()
        }
        None => {
            req.extensions_mut().insert(nonce.clone());
            next.run(req).await
        }
    };
    edge.set_headers(res.headers_mut(), &nonce);
    res
}

/// Gives the page being rendered the nonce [`guard`] put in its request, so
/// that the inline scripts Leptos writes carry the one nonce the response's
/// policy names. (Leptos makes a nonce of its own per render; this replaces
/// it.)
pub fn provide_request_nonce() {
    if let Some(nonce) = use_context::<Parts>().and_then(|p| p.extensions.get::<Nonce>().cloned()) {
        provide_context(nonce);
    }
}

/// `HTTPS://Host:443` → `("https", "host")`: scheme and authority, lower
/// case, the scheme's default port dropped (browsers never send it, a
/// `Host` header or a configured origin may). `None` for anything that is
/// not `http(s)://authority`.
pub fn split_origin(origin: &str) -> Option<(String, String)> {
    let (scheme, authority) = origin.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if (scheme != "http" && scheme != "https")
        || authority.is_empty()
        || authority.contains(['/', '?', '#', '@', ' ', ','])
    {
        return None;
    }
    let authority = without_default_port(&scheme, &authority.to_ascii_lowercase());
    Some((scheme, authority))
}

fn without_default_port(scheme: &str, authority: &str) -> String {
    let default = if scheme == "https" { ":443" } else { ":80" };
    authority
        .strip_suffix(default)
        .unwrap_or(authority)
        .to_owned()
}

/// The first of a comma-separated header's values (a proxy chain appends).
fn first_value(headers: &HeaderMap, name: &str) -> Option<String> {
    let v = headers.get(name)?.to_str().ok()?;
    let first = v.split(',').next()?.trim();
    (!first.is_empty()).then(|| first.to_owned())
}

fn lossy(v: &HeaderValue) -> String {
    String::from_utf8_lossy(v.as_bytes()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(configure: impl FnOnce(&mut Config)) -> Edge {
        let mut config = Config::for_database("sqlite::memory:");
        configure(&mut config);
        Edge {
            config: Arc::new(config),
            dev_connect: String::new(),
        }
    }

    fn post(edge: &Edge, headers: &[(&str, &str)]) -> Option<String> {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.append(
                header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        edge.cross_site(&Method::POST, &Uri::from_static("/api/x"), &map)
    }

    #[test]
    fn the_own_host_passes_and_every_other_origin_is_refused() {
        let e = edge(|_| {});
        let host = ("host", "daohu.example:3000");
        assert_eq!(post(&e, &[host]), None, "no browser headers: passes");
        assert_eq!(
            post(&e, &[host, ("origin", "http://daohu.example:3000")]),
            None
        );
        assert_eq!(
            post(&e, &[host, ("origin", "HTTP://Daohu.Example:3000")]),
            None,
            "case does not matter"
        );
        for bad in [
            "http://evil.example",
            "http://daohu.example",
            "http://daohu.example:3001",
            "http://daohu.example:3000.evil.example",
            "http://evil.example/daohu.example:3000",
            "null",
            "",
            "daohu.example:3000",
            "file://daohu.example:3000",
        ] {
            assert!(post(&e, &[host, ("origin", bad)]).is_some(), "{bad}");
        }
        assert!(
            post(
                &e,
                &[
                    host,
                    ("origin", "http://daohu.example:3000"),
                    ("origin", "http://evil.example")
                ]
            )
            .is_some(),
            "every Origin value must be the site"
        );
        assert!(
            post(&e, &[("origin", "http://daohu.example:3000")]).is_some(),
            "without a host nothing can be compared"
        );
    }

    #[test]
    fn only_same_origin_fetch_metadata_passes() {
        let e = edge(|_| {});
        let host = ("host", "daohu.example");
        assert_eq!(post(&e, &[host, ("sec-fetch-site", "same-origin")]), None);
        for site in ["cross-site", "same-site", "none", "SAME-ORIGIN"] {
            assert!(
                post(&e, &[host, ("sec-fetch-site", site)]).is_some(),
                "{site}"
            );
        }
        assert!(
            post(
                &e,
                &[
                    host,
                    ("sec-fetch-site", "cross-site"),
                    ("origin", "http://daohu.example")
                ]
            )
            .is_some(),
            "a matching Origin does not excuse a cross-site fetch"
        );
    }

    #[test]
    fn safe_methods_are_never_refused() {
        let e = edge(|_| {});
        let mut map = HeaderMap::new();
        map.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        map.insert(header::ORIGIN, HeaderValue::from_static("null"));
        for m in [Method::GET, Method::HEAD, Method::OPTIONS] {
            assert_eq!(e.cross_site(&m, &Uri::from_static("/"), &map), None);
        }
        for m in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            assert!(e.cross_site(&m, &Uri::from_static("/"), &map).is_some());
        }
    }

    #[test]
    fn default_ports_are_the_same_origin() {
        let e = edge(|_| {});
        assert_eq!(
            post(
                &e,
                &[
                    ("host", "daohu.example:80"),
                    ("origin", "http://daohu.example")
                ]
            ),
            None
        );
        let s = edge(|c| c.secure_cookies = true);
        assert_eq!(
            post(
                &s,
                &[
                    ("host", "daohu.example:443"),
                    ("origin", "https://daohu.example")
                ]
            ),
            None
        );
    }

    #[test]
    fn secure_cookies_mean_https_pages_only() {
        let e = edge(|c| c.secure_cookies = true);
        let host = ("host", "daohu.example");
        assert_eq!(post(&e, &[host, ("origin", "https://daohu.example")]), None);
        assert!(post(&e, &[host, ("origin", "http://daohu.example")]).is_some());
    }

    #[test]
    fn forwarded_host_counts_only_behind_a_trusted_proxy() {
        let behind_proxy = [
            ("host", "127.0.0.1:3000"),
            ("x-forwarded-host", "daohu.example"),
            ("x-forwarded-proto", "https"),
            ("origin", "https://daohu.example"),
        ];
        assert!(
            post(&edge(|_| {}), &behind_proxy).is_some(),
            "an untrusted X-Forwarded-Host is ignored"
        );
        let trusted = edge(|c| c.trust_forwarded_for = true);
        assert_eq!(post(&trusted, &behind_proxy), None);
        let mut http_page = behind_proxy;
        http_page[3] = ("origin", "http://daohu.example");
        assert!(
            post(&trusted, &http_page).is_some(),
            "the forwarded scheme must match"
        );
    }

    #[test]
    fn a_configured_public_origin_is_the_only_one() {
        let e = edge(|c| c.public_origin = Some("https://daohu.example".into()));
        let host = ("host", "internal:3000");
        assert_eq!(post(&e, &[host, ("origin", "https://daohu.example")]), None);
        assert!(post(&e, &[host, ("origin", "http://internal:3000")]).is_some());
        assert!(
            post(
                &e,
                &[
                    ("host", "daohu.example"),
                    ("origin", "https://evil.example")
                ]
            )
            .is_some()
        );
    }

    #[test]
    fn the_policy_names_the_nonce_and_allows_no_inline_code() {
        let csp = edge(|_| {}).content_security_policy("abc123");
        assert!(csp.contains("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval'"));
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert!(!csp.contains(" 'unsafe-eval'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"));
    }
}
