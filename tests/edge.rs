//! The edge of every request and response, through the router on both
//! backends: a state-changing request from another site is refused on every
//! route and changes nothing, while the same request from the site's own
//! page goes through; every kind of answer carries the browser security
//! headers; a page's inline scripts carry the one nonce its policy names.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{Reply, TestDb, household_of, send, sign_in, signed_visit};
use daohu::areas::AreaCode;
use daohu::server::AppState;
use daohu::server::config::Config;
use daohu::server::db::DiscrepancyQuery;
use daohu::text::zh;
use daohu::visits::{PaymentStatus, ShortfallReason, confirmation_hash};

on_both_backends!(
    every_state_changing_route_refuses_cross_site_requests,
    forged_writes_change_nothing_and_the_sites_own_go_through,
    every_kind_of_answer_carries_the_security_headers,
    each_page_has_its_own_nonce_on_every_inline_script_and_no_inline_style,
);

/// The host the tests' requests are sent to, and its origin.
const SITE: &str = "daohu.test:3000";
const OWN: &str = "http://daohu.test:3000";
const TOWNSHIP: &str = "621102100000";

/// Who a request says it comes from.
#[derive(Clone, Copy, Debug)]
enum From {
    /// A page of the site at this origin: a browser sends both headers.
    Page(&'static str),
    /// One header of a request made by another page.
    Forged(&'static str, &'static str),
}

/// The site's own page.
const SITE_PAGE: From = From::Page(OWN);

/// How forged requests show themselves: another origin, an opaque origin
/// (sandboxed frame, `data:` page), and the browser's own verdict.
const FORGED: [From; 5] = [
    From::Forged("origin", "https://evil.example"),
    From::Forged("origin", "null"),
    From::Forged("origin", "http://daohu.test:3001"),
    From::Forged("sec-fetch-site", "cross-site"),
    From::Forged("sec-fetch-site", "same-site"),
];

fn request(
    method: Method,
    path: &str,
    cookie: Option<&str>,
    from: From,
) -> axum::http::request::Builder {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, SITE);
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    match from {
        From::Page(origin) => b
            .header(header::ORIGIN, origin)
            .header("sec-fetch-site", "same-origin"),
        From::Forged(name, value) => b.header(name, value),
    }
}

/// A server function called as the page's client calls it.
async fn form(
    state: &AppState,
    cookie: Option<&str>,
    path: &str,
    fields: &[(&str, &str)],
    from: From,
) -> Reply {
    let body = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", common::urlencode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let req = request(Method::POST, path, cookie, from)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .body(Body::from(body))
        .unwrap();
    send(state, req).await
}

async fn json(
    state: &AppState,
    cookie: Option<&str>,
    path: &str,
    body: String,
    from: From,
) -> Reply {
    let req = request(Method::POST, path, cookie, from)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap();
    send(state, req).await
}

/// The import page's multipart upload of a households file.
async fn upload(state: &AppState, cookie: &str, csv: &str, from: From) -> Reply {
    let boundary = "----daohu-edge-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nhouseholds\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"名单.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
    );
    let req = request(Method::POST, daohu::roster::UPLOAD_PATH, Some(cookie), from)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .unwrap();
    send(state, req).await
}

async fn get(state: &AppState, cookie: Option<&str>, path: &str) -> Reply {
    let mut req = Request::get(path)
        .header(header::HOST, SITE)
        .header(header::ACCEPT, "text/html");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    send(state, req.body(Body::empty()).unwrap()).await
}

fn assert_refused(what: &str, r: &Reply) {
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{what}: {}", r.body);
    assert_eq!(r.body, zh::ERR_CROSS_SITE, "{what}");
    assert!(r.session_cookie().is_none(), "{what} set a session cookie");
}

fn refused_as_cross_site(r: &Reply) -> bool {
    r.status == StatusCode::FORBIDDEN && r.body == zh::ERR_CROSS_SITE
}

/// Every route that changes state: each registered server function, the
/// router's own POST routes, and (the layer is global) the other
/// state-changing methods on pages and on paths that do not exist.
fn state_changing_routes() -> Vec<(Method, String)> {
    let mut routes: Vec<(Method, String)> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, method)| (method, path.to_owned()))
        .collect();
    for path in [daohu::roster::UPLOAD_PATH, daohu::sync::VISITS_PATH] {
        routes.push((Method::POST, path.to_owned()));
    }
    for method in [Method::PUT, Method::PATCH, Method::DELETE] {
        for path in [
            "/",
            "/login",
            "/households",
            daohu::sync::VISITS_PATH,
            "/no/such/page",
        ] {
            routes.push((method.clone(), path.to_owned()));
        }
    }
    routes.push((Method::POST, "/no/such/page".to_owned()));
    routes
}

async fn every_state_changing_route_refuses_cross_site_requests(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let routes = state_changing_routes();
    let server_fns: Vec<&str> = routes
        .iter()
        .filter(|(_, p)| p.starts_with("/api/") && p != daohu::sync::VISITS_PATH)
        .map(|(_, p)| p.as_str())
        .collect();
    for expected in [
        "/api/auth/sign_in",
        "/api/auth/sign_out",
        "/api/discrepancies/note",
        "/api/households/get",
    ] {
        assert!(
            server_fns.contains(&expected),
            "{expected} is registered: {server_fns:?}"
        );
    }
    assert!(
        server_fns.len() >= 30,
        "{} server functions",
        server_fns.len()
    );

    let cookie = sign_in(&state, "county").await;
    for (method, path) in &routes {
        for from in FORGED {
            let req = request(method.clone(), path, Some(&cookie), from)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("id=x&note=x&username=county&password=daohu2026"))
                .unwrap();
            assert_refused(
                &format!("{method} {path} {from:?}"),
                &send(&state, req).await,
            );
        }
    }

    // The same requests from the site's own page are not refused (they may
    // still fail on their arguments: that is the route's own answer).
    // Signing out last, as it ends the session the others use.
    let mut site_routes: Vec<_> = routes.iter().filter(|(m, _)| *m == Method::POST).collect();
    site_routes.sort_by_key(|(_, p)| p.ends_with("/sign_out"));
    for (method, path) in site_routes {
        let req = request(method.clone(), path, Some(&cookie), SITE_PAGE)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::empty())
            .unwrap();
        let r = send(&state, req).await;
        assert!(
            !refused_as_cross_site(&r),
            "{method} {path} from the site was refused as cross-site"
        );
    }
}

/// A signed visit of one of worker1's households with one payment not
/// received, so that it opens a discrepancy.
async fn visit_with_a_missing_payment(db: &TestDb) -> String {
    let household = household_of(db.store.as_ref(), "worker1").await;
    let mut v = signed_visit(db.store.as_ref(), household).await;
    assert!(!v.lines.is_empty(), "the household has payments due");
    let l = &mut v.lines[0];
    (l.status, l.received_fen, l.received_on, l.channel) =
        (PaymentStatus::NotReceived, None, None, None);
    l.reason = Some(ShortfallReason::NotYetPaidOut);
    v.signature.content_hash = confirmation_hash(&v);
    serde_json::json!({ "visits": [v] }).to_string()
}

async fn forged_writes_change_nothing_and_the_sites_own_go_through(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let store = db.store.as_ref();
    let sign_in_form = [
        ("username", "township1"),
        ("password", daohu::demo::DEMO_PASSWORD),
    ];

    // Login CSRF: the right password, but from another site: no session.
    for from in FORGED {
        let r = form(&state, None, "/api/auth/sign_in", &sign_in_form, from).await;
        assert_refused(&format!("sign-in {from:?}"), &r);
    }
    let r = form(&state, None, "/api/auth/sign_in", &sign_in_form, SITE_PAGE).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let supervisor = r.session_cookie().expect("signed in from the site");
    // The page before its bundle has loaded: a plain form post, which
    // browsers send with the page's own Origin.
    let req = request(Method::POST, "/api/auth/sign_in", None, SITE_PAGE)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "text/html")
        .body(Body::from(format!(
            "username=worker1&password={}",
            daohu::demo::DEMO_PASSWORD
        )))
        .unwrap();
    let r = send(&state, req).await;
    assert!(r.status.is_redirection(), "{} {}", r.status, r.body);
    let worker = r.session_cookie().expect("a no-JS sign-in from the site");

    // The phone's outbox.
    let batch = visit_with_a_missing_payment(&db).await;
    for from in FORGED {
        let r = json(
            &state,
            Some(&worker),
            daohu::sync::VISITS_PATH,
            batch.clone(),
            from,
        )
        .await;
        assert_refused(&format!("sync {from:?}"), &r);
    }
    assert_eq!(
        store.count_visits().await.unwrap(),
        0,
        "no forged visit stored"
    );
    let r = json(
        &state,
        Some(&worker),
        daohu::sync::VISITS_PATH,
        batch,
        SITE_PAGE,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["results"][0]["outcome"], "stored", "{}", r.body);
    assert_eq!(store.count_visits().await.unwrap(), 1);

    // A supervisor's note on the discrepancy that visit opened.
    let query = DiscrepancyQuery {
        scope: AreaCode::parse(TOWNSHIP).unwrap(),
        closed: false,
        assignee_id: None,
        limit: 10,
        offset: 0,
    };
    let item = store.discrepancies(&query).await.unwrap().0[0].id;
    let id = item.to_string();
    let note = [("id", id.as_str()), ("note", "跨站写入的备注")];
    for from in FORGED {
        let r = form(
            &state,
            Some(&supervisor),
            "/api/discrepancies/note",
            &note,
            from,
        )
        .await;
        assert_refused(&format!("note {from:?}"), &r);
    }
    assert!(
        store.discrepancy_events(item).await.unwrap().is_empty(),
        "no forged note"
    );
    let r = form(
        &state,
        Some(&supervisor),
        "/api/discrepancies/note",
        &note,
        SITE_PAGE,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(store.discrepancy_events(item).await.unwrap().len(), 1);

    // A roster upload: no import starts.
    let county = sign_in(&state, "county").await;
    let households_before = store.count_households().await.unwrap();
    let csv = "户编号,所在村代码,户主姓名,户类型,监测类型,易地搬迁,联系电话,成员姓名,与户主关系,身份证号,劳动能力,健康状况\n\
               E0001,621102100201,跨站山,脱贫户,,否,13800000001,跨站山,户主,621102198001010018,普通劳动力,健康\n";
    for from in FORGED {
        assert_refused(
            &format!("upload {from:?}"),
            &upload(&state, &county, csv, from).await,
        );
    }
    let r = upload(&state, &county, csv, SITE_PAGE).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let job = r.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let mut finished = false;
    for _ in 0..600 {
        let r = form(
            &state,
            Some(&county),
            "/api/roster/job",
            &[("id", &job)],
            SITE_PAGE,
        )
        .await;
        let job: Option<daohu::roster::ImportJob> = serde_json::from_str(&r.body).unwrap();
        if job.expect("the importer's job").phase.is_finished() {
            finished = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(finished, "the site's own import finished");
    assert_eq!(
        store.count_households().await.unwrap(),
        households_before + 1,
        "only the site's own upload was imported"
    );

    // Signing out: a forged one leaves the session alive.
    for from in FORGED {
        let r = form(&state, Some(&supervisor), "/api/auth/sign_out", &[], from).await;
        assert_refused(&format!("sign-out {from:?}"), &r);
    }
    let who = form(
        &state,
        Some(&supervisor),
        "/api/auth/current_user",
        &[],
        SITE_PAGE,
    )
    .await;
    assert_eq!(who.json()["username"], "township1", "{}", who.body);
    let r = form(
        &state,
        Some(&supervisor),
        "/api/auth/sign_out",
        &[],
        SITE_PAGE,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let who = form(
        &state,
        Some(&supervisor),
        "/api/auth/current_user",
        &[],
        SITE_PAGE,
    )
    .await;
    assert!(who.json().is_null(), "{}", who.body);
}

/// The policy's nonce: `'nonce-…'`.
fn nonce_of(csp: &str) -> String {
    let start = csp.find("'nonce-").expect("a nonce in the policy") + "'nonce-".len();
    let len = csp[start..].find('\'').unwrap();
    csp[start..start + len].to_owned()
}

fn header_of<'a>(what: &str, r: &'a Reply, name: &str) -> &'a str {
    r.headers
        .get(name)
        .unwrap_or_else(|| panic!("{what} ({}) has no {name}: {:?}", r.status, r.headers))
        .to_str()
        .unwrap()
}

/// Asserts the headers every answer carries; returns the policy's nonce.
fn assert_security_headers(what: &str, r: &Reply, hsts: bool) -> String {
    let csp = header_of(what, r, "content-security-policy");
    for part in [
        "default-src 'self'",
        "'wasm-unsafe-eval'",
        "style-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(part), "{what}: {part} missing from {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert_eq!(header_of(what, r, "x-frame-options"), "DENY", "{what}");
    assert_eq!(
        header_of(what, r, "x-content-type-options"),
        "nosniff",
        "{what}"
    );
    assert_eq!(
        header_of(what, r, "referrer-policy"),
        "same-origin",
        "{what}"
    );
    let permissions = header_of(what, r, "permissions-policy");
    for part in [
        "geolocation=(self)",
        "camera=(self)",
        "microphone=()",
        "payment=()",
        "usb=()",
    ] {
        assert!(
            permissions.contains(part),
            "{what}: {part} missing from {permissions}"
        );
    }
    assert_eq!(
        r.headers.get("strict-transport-security").is_some(),
        hsts,
        "{what}: HSTS only with secure cookies"
    );
    nonce_of(csp)
}

fn assert_not_stored(what: &str, r: &Reply) {
    assert_eq!(header_of(what, r, "cache-control"), "no-store", "{what}");
}

async fn every_kind_of_answer_carries_the_security_headers(db: TestDb) {
    let db = db.with_demo().await;
    // A site root with a bundle file and a static asset in it.
    let site = common::tempdir::TempDir::new();
    std::fs::create_dir_all(site.0.join("pkg")).unwrap();
    std::fs::write(site.0.join("pkg/daohu.js"), "export default 1;").unwrap();
    std::fs::write(
        site.0.join("favicon.svg"),
        "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
    )
    .unwrap();
    for secure in [false, true] {
        let mut config = Config::for_database(&db.url);
        config.site_root = site.0.clone();
        config.secure_cookies = secure;
        let state = AppState::new(config, db.store.clone());
        // With secure cookies the site is served over HTTPS.
        let site_page = if secure {
            From::Page("https://daohu.test:3000")
        } else {
            SITE_PAGE
        };
        let county = sign_in(&state, "county").await;
        let worker = sign_in(&state, "worker1").await;
        let household = household_of(db.store.as_ref(), "worker1").await;

        let personal = [
            (
                "the sign-in page",
                get(&state, None, "/login").await,
                StatusCode::OK,
            ),
            (
                "the field app",
                get(&state, None, "/field").await,
                StatusCode::OK,
            ),
            (
                "a household page",
                get(&state, Some(&worker), &format!("/households/{household}")).await,
                StatusCode::OK,
            ),
            (
                "a signed-out page",
                get(&state, None, "/households").await,
                StatusCode::FOUND,
            ),
            (
                "the 404 page",
                get(&state, None, "/no/such/page").await,
                StatusCode::NOT_FOUND,
            ),
            (
                "a server function",
                form(
                    &state,
                    Some(&county),
                    "/api/households/list",
                    &[],
                    site_page,
                )
                .await,
                StatusCode::OK,
            ),
            (
                "a server function's refusal",
                form(&state, None, "/api/households/list", &[], site_page).await,
                StatusCode::UNAUTHORIZED,
            ),
            (
                "the sync endpoint",
                json(
                    &state,
                    Some(&worker),
                    daohu::sync::VISITS_PATH,
                    r#"{"visits":[]}"#.into(),
                    site_page,
                )
                .await,
                StatusCode::OK,
            ),
            (
                "the sync endpoint's refusal",
                json(
                    &state,
                    Some(&worker),
                    daohu::sync::VISITS_PATH,
                    "[0,0]".into(),
                    site_page,
                )
                .await,
                StatusCode::BAD_REQUEST,
            ),
            (
                "the roster download",
                get(&state, Some(&worker), daohu::sync::ROSTER_PATH).await,
                StatusCode::OK,
            ),
            (
                "the dispatch table's .xlsx",
                get(&state, Some(&county), "/reports/dispatch/621102000000/xlsx").await,
                StatusCode::OK,
            ),
            (
                "an import template",
                get(
                    &state,
                    Some(&county),
                    &daohu::roster::template_href(daohu::roster::RosterKind::Households, "xlsx"),
                )
                .await,
                StatusCode::OK,
            ),
            (
                "a static file",
                get(&state, None, "/favicon.svg").await,
                StatusCode::OK,
            ),
            (
                "a cross-site refusal",
                form(
                    &state,
                    Some(&county),
                    "/api/households/list",
                    &[],
                    FORGED[0],
                )
                .await,
                StatusCode::FORBIDDEN,
            ),
        ];
        for (what, r, status) in &personal {
            assert_eq!(r.status, *status, "{what}: {}", r.body);
            assert_security_headers(what, r, secure);
            assert_not_stored(what, r);
        }

        // What chose its own caching keeps it.
        let bundle = get(&state, None, "/pkg/daohu.js").await;
        assert_eq!(bundle.status, StatusCode::OK);
        assert_security_headers("a bundle file", &bundle, secure);
        let expected = if state.leptos_options.hash_files {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        assert_eq!(
            header_of("a bundle file", &bundle, "cache-control"),
            expected
        );
        let worker_js = get(&state, None, "/sw.js").await;
        assert_eq!(worker_js.status, StatusCode::OK);
        assert_security_headers("the service worker", &worker_js, secure);
        assert_eq!(
            header_of("the service worker", &worker_js, "cache-control"),
            "no-cache"
        );
    }
}

/// Every `<script …>` start tag of a page.
fn script_tags(html: &str) -> Vec<&str> {
    html.match_indices("<script")
        .map(|(i, _)| &html[i..i + html[i..].find('>').unwrap() + 1])
        .collect()
}

async fn each_page_has_its_own_nonce_on_every_inline_script_and_no_inline_style(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let worker = sign_in(&state, "worker1").await;
    let township = sign_in(&state, "township1").await;
    let household = household_of(db.store.as_ref(), "worker1").await;
    let pages = [
        (None, "/login".to_owned()),
        (None, "/field".to_owned()),
        (None, "/no/such/page".to_owned()),
        (Some(&worker), "/households".to_owned()),
        (Some(&worker), format!("/households/{household}")),
        // The visit progress bars.
        (Some(&township), format!("/areas/{TOWNSHIP}")),
        (Some(&township), format!("/reports/dispatch/{TOWNSHIP}")),
    ];
    let mut nonces = Vec::new();
    for (cookie, path) in &pages {
        for _ in 0..2 {
            let r = get(&state, cookie.map(String::as_str), path).await;
            assert!(
                r.status.is_success() || r.status == StatusCode::NOT_FOUND,
                "{path}: {}",
                r.status
            );
            let nonce = assert_security_headers(path, &r, false);
            assert!(nonce.len() >= 22, "{path}: a 128-bit nonce, not {nonce}");
            let scripts = script_tags(&r.body);
            assert!(!scripts.is_empty(), "{path} has its hydration script");
            for tag in scripts {
                assert!(
                    tag.contains(&format!("nonce=\"{nonce}\"")),
                    "{path}: {tag} lacks the policy's nonce {nonce}"
                );
            }
            // The policy allows no inline styles: none may be written.
            assert!(!r.body.contains("<style"), "{path} has a <style>");
            assert!(!r.body.contains(" style="), "{path} has a style attribute");
            nonces.push(nonce);
        }
    }
    let distinct: std::collections::HashSet<_> = nonces.iter().collect();
    assert_eq!(distinct.len(), nonces.len(), "a fresh nonce per response");
}
