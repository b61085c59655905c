//! HTTP behaviour through `router(state)`, without a socket.

mod common;

use axum::http::{StatusCode, header};
use common::{TestDb, call, page, send, sign_in};
use daohu::server::db;

on_both_backends!(
    sign_in_sets_an_http_only_session_cookie_and_lands_on_the_role_home,
    wrong_passwords_are_refused_then_slowed_down,
    a_form_post_without_javascript_is_redirected_back_with_the_error,
    a_refused_row_form_comes_back_as_typed_at_its_own_row_without_javascript,
    server_functions_without_a_session_answer_401,
    signed_out_pages_redirect_to_sign_in,
    worker_pages_show_only_their_households_with_masked_ids,
    out_of_scope_household_page_is_404_and_logged,
    sign_out_ends_the_session,
    sessions_survive_a_server_restart,
    unknown_paths_are_404,
    dispatch_table_is_scoped_to_the_callers_area,
    dispatch_xlsx_matches_the_table_cell_by_cell,
    a_supervisor_reviews_a_visit_and_the_worker_sees_the_issue,
    a_drill_down_from_the_dispatch_table_lists_the_cells_households,
);

async fn sign_in_sets_an_http_only_session_cookie_and_lands_on_the_role_home(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let r = call(
        &state,
        None,
        "/api/auth/sign_in",
        &[
            ("username", "worker1"),
            ("password", daohu::demo::DEMO_PASSWORD),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let set_cookie = r.headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
    assert_eq!(r.json()["role"], "FieldWorker");
    assert_eq!(r.headers.get("location").unwrap(), "/field");

    let r = call(
        &state,
        None,
        "/api/auth/sign_in",
        &[
            ("username", "township1"),
            ("password", daohu::demo::DEMO_PASSWORD),
        ],
    )
    .await;
    assert_eq!(r.headers.get("location").unwrap(), "/areas/621102100000");
    let cookie = r.session_cookie().unwrap();
    let home = page(&state, Some(&cookie), "/").await;
    assert_eq!(home.status, StatusCode::FOUND);
    assert_eq!(home.headers.get("location").unwrap(), "/areas/621102100000");
}

async fn wrong_passwords_are_refused_then_slowed_down(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    for _ in 0..daohu::auth::throttle::PAIR.free {
        let r = call(
            &state,
            None,
            "/api/auth/sign_in",
            &[("username", "worker2"), ("password", "wrong-password")],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
        assert!(r.session_cookie().is_none());
    }
    // From a source that never signed worker2 in, even the right password
    // now has to wait (tests/sign_in.rs: known sources do not).
    let r = call(
        &state,
        None,
        "/api/auth/sign_in",
        &[
            ("username", "worker2"),
            ("password", daohu::demo::DEMO_PASSWORD),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert!(r.body.contains("TooManyAttempts"), "{}", r.body);
    // Another account is not affected.
    sign_in(&state, "worker3").await;
    let refused = db.store.audit_events("sign_in").await.unwrap();
    assert_eq!(refused.len(), 5);
    assert!(
        refused
            .iter()
            .all(|e| e.target == "worker2" && e.outcome == "refused")
    );
}

async fn a_form_post_without_javascript_is_redirected_back_with_the_error(db: TestDb) {
    use axum::body::Body;
    use axum::http::{Request, header};
    let db = db.with_demo().await;
    let state = db.state();
    let post = |password: &str| {
        Request::post("/api/auth/sign_in")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "text/html")
            .header(header::REFERER, "http://localhost/login")
            .body(Body::from(format!("username=worker1&password={password}")))
            .unwrap()
    };
    let r = common::send(&state, post("wrong")).await;
    // 303 back to the form, the answer in a cookie (never in the URL, where
    // a crafted link could put words in the page), landing at the form.
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let location = r.headers.get("location").unwrap().to_str().unwrap();
    assert_eq!(location, "http://localhost/login#f-auth-sign-in");
    let carried = r
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("daohu_outcome="))
        .expect("the answer is carried")
        .to_owned();
    assert!(
        carried.contains("HttpOnly") && carried.contains("SameSite=Strict"),
        "{carried}"
    );
    let cookie = carried.split(';').next().unwrap().to_owned();
    // The page it returns to shows the refusal once, and clears it.
    let shown = page(&state, Some(&cookie), "/login").await;
    assert!(shown.body.contains("用户名或密码错误"), "{}", shown.body);
    // The name typed comes back in its field; the password never travels.
    assert!(
        tag_named(&shown.body, "input", "username").contains(r#"value="worker1""#),
        "{}",
        shown.body
    );
    assert!(!tag_named(&shown.body, "input", "password").contains("value="));
    assert!(!decoded_cookie(&cookie).contains("wrong"));
    assert!(
        shown
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .any(|v| v.to_str().unwrap().starts_with("daohu_outcome=;")),
        "the answer is read once"
    );
    // Another page does not show it (it belongs to /login).
    let elsewhere = page(&state, Some(&cookie), "/field").await;
    assert!(!elsewhere.body.contains("用户名或密码错误"));
    // Leptos' own error query is never believed: it would let a link
    // make any page say anything.
    let forged = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE,
        serde_json::to_vec(&daohu::error::AppError::Conflict(
            "请拨打 110 领取补贴".into(),
        ))
        .unwrap(),
    );
    let spoof = page(
        &state,
        None,
        &format!("/login?__path=/api/auth/sign_in&__err={forged}"),
    )
    .await;
    assert!(!spoof.body.contains("请拨打 110"), "{}", spoof.body);

    let r = common::send(&state, post(daohu::demo::DEMO_PASSWORD)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers.get("location").unwrap(), "/field");
    assert!(r.session_cookie().is_some());
}

/// The start tag of the first `<tag … name="name" …>` in `html`.
fn tag_named<'a>(html: &'a str, tag: &str, name: &str) -> &'a str {
    let needle = format!(r#"name="{name}""#);
    let at = html
        .match_indices(&format!("<{tag}"))
        .map(|(i, _)| i)
        .find(|&i| html[i..].split('>').next().unwrap().contains(&needle))
        .unwrap_or_else(|| panic!("no <{tag} name={name}>"));
    &html[at..at + html[at..].find('>').unwrap() + 1]
}

fn decoded_cookie(cookie: &str) -> String {
    let value = cookie.split_once('=').unwrap().1;
    let bytes = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, value)
        .expect("base64url");
    String::from_utf8(bytes).unwrap()
}

/// A form sent without script: the browser posts it as a form and asks
/// for a page, from the page the form is on.
async fn plain_post(
    state: &daohu::server::state::AppState,
    cookie: &str,
    page: &str,
    path: &str,
    form: &[(&str, &str)],
) -> common::Reply {
    use axum::body::Body;
    use axum::http::Request;
    let body = form
        .iter()
        .map(|(k, v)| format!("{k}={}", common::urlencode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "text/html")
        .header(header::REFERER, format!("http://localhost{page}"))
        .header(header::COOKIE, cookie)
        .body(Body::from(body))
        .unwrap();
    send(state, req).await
}

/// The outcome cookie a form post set, as a `Cookie` header's part.
fn outcome_cookie(r: &common::Reply) -> String {
    r.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("daohu_outcome="))
        .expect("the answer is carried")
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// The `<form id="id" …>…</form>` of a page.
fn form_with_id<'a>(html: &'a str, id: &str) -> &'a str {
    let at = html
        .find(&format!(r#"id="{id}""#))
        .unwrap_or_else(|| panic!("no element #{id}"));
    let start = html[..at].rfind("<form").unwrap();
    let end = at + html[at..].find("</form>").unwrap();
    &html[start..end]
}

async fn a_refused_row_form_comes_back_as_typed_at_its_own_row_without_javascript(db: TestDb) {
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    // Twice: a household with two visits has two review forms on its page.
    for seed in [3, 4] {
        daohu::demo::load_visits(store, &["worker1".to_owned()], common::year(), 100, seed)
            .await
            .unwrap();
    }
    let mut chosen = None;
    for h in common::households_of(store, "worker1", 20).await {
        let visits = store.visits_of_household(h).await.unwrap();
        if visits.len() >= 2 {
            chosen = Some((h, visits[0].visit.id, visits[1].visit.id));
            break;
        }
    }
    let (household, first, second) = chosen.expect("a household visited twice");
    let state = db.state();
    let township1 = sign_in(&state, "township1").await;
    let path = format!("/households/{household}");
    let typed = "核实中 <b>粗体</b> & \"引号\" &amp;";
    // A review of `visit` posted from its own row's form, as a browser without script would.
    let review = |visit: uuid::Uuid, state_: &'static str, comment: &'static str| {
        let (state, township1, path) = (&state, &township1, &path);
        async move {
            plain_post(
                state,
                township1,
                path,
                "/api/visits/review",
                &[
                    ("_row", &visit.to_string()),
                    ("visit_id", &visit.to_string()),
                    ("state", state_),
                    ("comment", comment),
                ],
            )
            .await
        }
    };
    let r = review(second, "has_issues", "   ").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let anchor = format!("f-visits-review-{second}");
    assert_eq!(
        r.headers.get("location").unwrap().to_str().unwrap(),
        format!("http://localhost{path}#{anchor}"),
        "lands at the row's own form"
    );
    let cookie = format!("{township1}; {}", outcome_cookie(&r));
    let shown = page(&state, Some(&cookie), &path).await;
    assert_eq!(shown.status, StatusCode::OK);
    let refused = form_with_id(&shown.body, &anchor);
    assert!(refused.contains("请写明问题"), "{refused}");
    assert_eq!(
        shown.body.matches("请写明问题").count(),
        1,
        "shown at that row alone"
    );
    assert!(
        refused.contains(r#"<option value="has_issues" selected"#),
        "the state chosen is kept: {refused}"
    );
    assert!(
        refused.contains("<textarea") && refused.contains(">   </textarea>"),
        "{refused}"
    );
    let other = form_with_id(&shown.body, &format!("f-visits-review-{first}"));
    assert!(
        !other.contains("请写明问题") && !other.contains("selected"),
        "{other}"
    );

    // Text typed into a field comes back as text, never as markup.
    let r = review(first, "no_such_state", typed).await;
    let cookie = format!("{township1}; {}", outcome_cookie(&r));
    let shown = page(&state, Some(&cookie), &path).await;
    let refused = form_with_id(&shown.body, &format!("f-visits-review-{first}"));
    assert!(
        refused.contains("核实中 &lt;b&gt;粗体&lt;/b&gt; &amp; \"引号\" &amp;amp;</textarea>"),
        "{refused}"
    );
    assert!(!shown.body.contains("<b>粗体"), "{}", shown.body);
    // Read once: the page shown again is as rendered.
    let again = page(&state, Some(&township1), &path).await;
    assert!(!again.body.contains("核实中"));

    // A hostile row key cannot break out of the id it lands at.
    let r = plain_post(
        &state,
        &township1,
        &path,
        "/api/visits/review",
        &[
            ("_row", "\"><script>alert(1)</script>"),
            ("visit_id", &first.to_string()),
            ("state", "has_issues"),
            ("comment", ""),
        ],
    )
    .await;
    assert_eq!(
        r.headers.get("location").unwrap().to_str().unwrap(),
        format!("http://localhost{path}#f-visits-review-scriptalert1script")
    );
}

async fn server_functions_without_a_session_answer_401(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    for path in [
        "/api/households/list",
        "/api/households/villages",
        "/api/areas/overview",
        "/api/reports/dispatch",
    ] {
        let r = call(&state, None, path, &[("code", "621102000000")]).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}: {}", r.body);
    }
    let r = call(
        &state,
        Some("daohu_session=forged"),
        "/api/households/list",
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Not signed in is not an error for "who am I".
    let r = call(&state, None, "/api/auth/current_user", &[]).await;
    assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, "null"));
}

async fn signed_out_pages_redirect_to_sign_in(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    for path in ["/", "/households", "/areas/621102000000"] {
        let r = page(&state, None, path).await;
        assert_eq!(r.status, StatusCode::FOUND, "{path}");
        assert_eq!(r.headers.get("location").unwrap(), "/login", "{path}");
        if path == "/" {
            continue; // the start page only points to sign-in
        }
        // A client that does not ask for HTML is told 401, never 200.
        let r = send(
            &state,
            axum::http::Request::get(path)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path} without Accept");
        assert_eq!(r.headers.get("location").unwrap(), "/login", "{path}");
    }
    let login = page(&state, None, "/login").await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.body.contains("登录") && login.body.contains("lang=\"zh-CN\""));
}

async fn worker_pages_show_only_their_households_with_masked_ids(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let cookie = sign_in(&state, "worker1").await;
    let worker = db.store.user_by_username("worker1").await.unwrap().unwrap();
    let list = page(&state, Some(&cookie), "/households").await;
    assert_eq!(list.status, StatusCode::OK);
    let list_json = call(&state, Some(&cookie), "/api/households/list", &[])
        .await
        .json();
    let total = list_json["total"].as_i64().unwrap();
    assert!(
        list.body.contains(&format!("<strong>{total}</strong>")),
        "count shown"
    );
    let first = &list_json["households"][0];
    assert!(list.body.contains(first["head_name"].as_str().unwrap()));

    let id = first["id"].as_str().unwrap();
    let record = db
        .store
        .household(id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.worker_id, Some(worker.id));
    let detail = page(&state, Some(&cookie), &format!("/households/{id}")).await;
    assert_eq!(detail.status, StatusCode::OK);
    for m in &record.members {
        assert!(!detail.body.contains(&m.id_number), "full ID number leaked");
        let masked = daohu::households::id_number::mask_id_number(&m.id_number);
        assert!(detail.body.contains(&masked), "masked {masked} shown");
    }
    if let Some(phone) = &record.phone {
        assert!(!detail.body.contains(phone.as_str()), "full phone leaked");
    }
    let json = call(&state, Some(&cookie), "/api/households/get", &[("id", id)])
        .await
        .json();
    assert!(!json.to_string().contains(&record.members[0].id_number));
}

async fn out_of_scope_household_page_is_404_and_logged(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let other = db.store.user_by_username("worker3").await.unwrap().unwrap();
    let q = daohu::server::db::HouseholdQuery {
        scope: other.area.clone(),
        worker_id: Some(other.id),
        village: None,
        search: None,
        payment: None,
        flags: None,
        limit: 1,
        offset: 0,
    };
    let theirs = db.store.list_households(&q).await.unwrap().0.remove(0);
    let cookie = sign_in(&state, "worker1").await;
    let r = page(&state, Some(&cookie), &format!("/households/{}", theirs.id)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(
        r.body.contains("未找到，或不在您的权限范围内"),
        "{}",
        r.body
    );
    assert!(
        !r.body.contains(&theirs.head_name),
        "nothing of the household leaks"
    );
    let logged = db.store.audit_events("get_household").await.unwrap();
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].target, theirs.id.to_string());
    assert_eq!(logged[0].outcome, "forbidden");
}

async fn sign_out_ends_the_session(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let cookie = sign_in(&state, "county").await;
    assert_eq!(
        call(&state, Some(&cookie), "/api/households/list", &[])
            .await
            .status,
        StatusCode::OK
    );
    let r = call(&state, Some(&cookie), "/api/auth/sign_out", &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        call(&state, Some(&cookie), "/api/households/list", &[])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

async fn sessions_survive_a_server_restart(db: TestDb) {
    let db = db.with_demo().await;
    let cookie = sign_in(&db.state(), "township2").await;
    // A new process: new store connection, new state, new router.
    let reopened = db::connect(&db.url).await.unwrap();
    let state = daohu::server::AppState::new(
        daohu::server::config::Config::for_database(&db.url),
        reopened,
    );
    let r = call(&state, Some(&cookie), "/api/auth/current_user", &[]).await;
    assert_eq!(r.json()["username"], "township2");
}

async fn unknown_paths_are_404(db: TestDb) {
    let state = db.state();
    let r = page(&state, None, "/no/such/page").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("页面不存在"));
}

#[tokio::test]
async fn the_bundle_is_served_precompressed_when_a_br_file_exists() {
    use axum::body::Body;
    use axum::http::{Request, header};
    let db = TestDb::sqlite().await;
    let site = common::tempdir::TempDir::new();
    std::fs::create_dir_all(site.0.join("pkg")).unwrap();
    std::fs::write(site.0.join("pkg/app.js"), "console.log('plain')").unwrap();
    std::fs::write(site.0.join("pkg/app.js.br"), b"BROTLI-BYTES").unwrap();
    let mut config = daohu::server::config::Config::for_database(&db.url);
    config.site_root = site.0.clone();
    let state = daohu::server::AppState::new(config, db.store.clone());
    let get = |encoding: Option<&str>| {
        let mut r = Request::get("/pkg/app.js");
        if let Some(e) = encoding {
            r = r.header(header::ACCEPT_ENCODING, e);
        }
        r.body(Body::empty()).unwrap()
    };
    let r = common::send(&state, get(Some("br"))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers.get("content-encoding").unwrap(), "br");
    assert_eq!(r.body, "BROTLI-BYTES");
    let r = common::send(&state, get(None)).await;
    assert_eq!(r.body, "console.log('plain')");
    assert!(r.headers.get("cache-control").is_some());
    assert_eq!(
        common::send(
            &state,
            Request::get("/pkg/missing.js").body(Body::empty()).unwrap()
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}

/// A compressed roster has no length of its own for the phone to measure
/// progress by: the roster's own length goes with it, in the bytes the
/// phone reads once decompressed.
#[tokio::test]
async fn the_roster_says_its_length_when_it_comes_compressed() {
    use axum::body::Body;
    use axum::http::{Request, header};
    let db = TestDb::sqlite().await.with_demo().await;
    let state = db.state();
    let cookie = common::sign_in(&state, "worker1").await;
    let get = |encoding: Option<&str>| {
        let mut r = Request::get(daohu::sync::ROSTER_PATH).header(header::COOKIE, &cookie);
        if let Some(e) = encoding {
            r = r.header(header::ACCEPT_ENCODING, e);
        }
        r.body(Body::empty()).unwrap()
    };
    let plain = common::send(&state, get(None)).await;
    assert_eq!(plain.status, StatusCode::OK, "{}", plain.body);
    let length = |r: &common::Reply| {
        r.headers[daohu::sync::ROSTER_LENGTH_HEADER]
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(length(&plain), plain.bytes.len().to_string());
    for encoding in ["br", "gzip"] {
        let packed = common::send(&state, get(Some(encoding))).await;
        assert_eq!(packed.status, StatusCode::OK);
        assert_eq!(packed.headers["content-encoding"], encoding);
        assert!(
            packed.bytes.len() < plain.bytes.len() / 2,
            "{encoding} compresses"
        );
        assert_eq!(length(&packed), length(&plain), "{encoding}");
        assert_eq!(packed.headers["cache-control"], "no-store");
    }
}

#[tokio::test]
async fn unknown_database_schemes_stop_start_up_with_a_clear_message() {
    let err = db::connect("mysql://root@localhost/daohu")
        .await
        .err()
        .expect("refused");
    let msg = err.to_string();
    assert!(
        msg.contains("sqlite:") && msg.contains("postgres://") && msg.contains("mysql"),
        "{msg}"
    );
    assert!(
        !msg.contains("root@localhost"),
        "the URL is not echoed: {msg}"
    );
}

async fn dispatch_table_is_scoped_to_the_callers_area(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let township1 = common::sign_in(&state, "township1").await;
    let own = call(
        &state,
        Some(&township1),
        "/api/reports/dispatch",
        &[("code", "621102100000")],
    )
    .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    let t = own.json();
    assert_eq!(t["rows"].as_array().unwrap().len(), 3, "three villages");
    assert!(!t["items"].as_array().unwrap().is_empty());
    let due: i64 = t["total"]["all"]["due"].as_i64().unwrap();
    assert!(due > 100, "the township's payments are due ({due})");
    assert_eq!(
        t["total"]["all"]["paid"].as_i64(),
        Some(0),
        "nothing visited yet"
    );

    // Another township, the county above, a bad date, a field worker.
    for code in ["621102201000", "621102000000"] {
        let r = call(
            &state,
            Some(&township1),
            "/api/reports/dispatch",
            &[("code", code)],
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{code}: {}", r.body);
    }
    assert!(
        db.store
            .audit_events("dispatch_table")
            .await
            .unwrap()
            .iter()
            .any(|e| e.target == "621102201000" && e.outcome == "forbidden")
    );
    let r = call(
        &state,
        Some(&township1),
        "/api/reports/dispatch",
        &[("code", "621102100000"), ("as_of", "2027-02-30")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("截至日期") && r.body.contains("2027-02-30"),
        "{}",
        r.body
    );
    let worker = common::sign_in(&state, "worker1").await;
    let r = call(
        &state,
        Some(&worker),
        "/api/reports/dispatch",
        &[("code", "621102100000")],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // The county sees both townships; the page renders for it.
    let county = common::sign_in(&state, "county").await;
    let r = call(
        &state,
        Some(&county),
        "/api/reports/dispatch",
        &[("code", "621102000000")],
    )
    .await;
    assert_eq!(r.json()["rows"].as_array().unwrap().len(), 2);
    let page = common::page(&state, Some(&county), "/reports/dispatch/621102000000").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("dispatch-table"),
        "the table is rendered on the server"
    );
}

async fn dispatch_xlsx_matches_the_table_cell_by_cell(db: TestDb) {
    use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
    use daohu::reports::DispatchTable;
    use daohu::reports::xlsx::{ALL_ITEMS_COUNT_HEADERS, FIGURE_HEADERS, HEADER_ROWS};
    let db = db.with_demo().await;
    let workers: Vec<String> = (1..=4).map(|i| format!("worker{i}")).collect();
    let visits = daohu::demo::load_visits(db.store.as_ref(), &workers, common::year(), 60, 7)
        .await
        .unwrap();
    assert!(visits > 50, "{visits} demo visits");
    let state = db.state();
    let county = common::sign_in(&state, "county").await;
    let r = call(
        &state,
        Some(&county),
        "/api/reports/dispatch",
        &[("code", "621102000000")],
    )
    .await;
    let table: DispatchTable = serde_json::from_str(&r.body).expect("the table");
    assert!(table.total.all.paid > 0, "some payments verified");

    let path = format!("/reports/dispatch/621102000000/xlsx?as_of={}", table.as_of);
    let x = common::page(&state, Some(&county), &path).await;
    assert_eq!(x.status, StatusCode::OK, "{}", x.body);
    assert_eq!(
        x.headers.get(header::CONTENT_TYPE).unwrap(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let disposition = x
        .headers
        .get(header::CONTENT_DISPOSITION)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        disposition.starts_with("attachment;") && disposition.contains("filename*=UTF-8''"),
        "{disposition}"
    );

    let mut book: Xlsx<_> = open_workbook_from_rs(std::io::Cursor::new(x.bytes.clone())).unwrap();
    let sheet = book.worksheet_range("调度表").unwrap();
    let at = |r: u32, c: u32| sheet.get_value((r, c)).cloned().unwrap_or(Data::Empty);
    let text = |r: u32, c: u32| match at(r, c) {
        Data::String(s) => s,
        other => panic!("({r}, {c}) is {other:?}, not text"),
    };
    let number = |r: u32, c: u32| match at(r, c) {
        Data::Float(f) => f,
        Data::Int(i) => i as f64,
        other => panic!("({r}, {c}) is {other:?}, not a number"),
    };
    assert_eq!(text(0, 0), "安定区到人到户各项补贴发放进展调度表");
    assert!(
        text(1, 0).contains(&table.as_of.to_string())
            && text(1, 0).contains(&table.week_before.to_string())
    );
    assert_eq!(text(2, 0), "区域");
    assert_eq!(text(2, 1), "全部补贴项目");
    let width = FIGURE_HEADERS.len() as u32;
    for (g, item) in table.items.iter().enumerate() {
        assert_eq!(text(2, 1 + width * (g as u32 + 1)), item.name);
    }
    // Over all items a household counts once per item: 户次, not 户.
    for (k, h) in ALL_ITEMS_COUNT_HEADERS.iter().enumerate() {
        assert_eq!(text(3, 1 + k as u32), *h);
    }
    for (k, h) in FIGURE_HEADERS
        .iter()
        .enumerate()
        .skip(ALL_ITEMS_COUNT_HEADERS.len())
    {
        assert_eq!(text(3, 1 + k as u32), *h);
    }
    if !table.items.is_empty() {
        for (k, h) in FIGURE_HEADERS.iter().enumerate() {
            assert_eq!(text(3, 1 + width + k as u32), *h);
        }
    }
    let rows: Vec<_> = table.rows.iter().chain([&table.total]).collect();
    let (mut cells, mut in_part) = (0, 0);
    for (n, row) in rows.iter().enumerate() {
        let r = HEADER_ROWS + n as u32;
        let label = if n + 1 == rows.len() {
            "合计".to_owned()
        } else {
            row.area.name.clone()
        };
        assert_eq!(text(r, 0), label);
        let groups = std::iter::once(None).chain((0..table.items.len()).map(Some));
        for (g, column) in groups.enumerate() {
            let c = 1 + width * g as u32;
            let (now, before) = row.figures(column);
            // Due, in full, in part, none: the last three add up to the first.
            let counts = [0, 1, 2, 3].map(|k| number(r, c + k));
            assert_eq!(counts[0], now.due as f64, "{label} group {g} due");
            assert_eq!(counts[1], now.full as f64, "{label} group {g} in full");
            assert_eq!(
                counts[2],
                (now.paid - now.full) as f64,
                "{label} group {g} in part"
            );
            assert_eq!(
                counts[1] + counts[2] + counts[3],
                counts[0],
                "{label} group {g}"
            );
            in_part += usize::from(counts[2] > 0.0);
            let yuan =
                |k: u32, fen: i64| assert!((number(r, c + k) - fen as f64 / 100.0).abs() < 1e-6);
            yuan(4, now.due_fen);
            yuan(5, now.full_fen);
            yuan(6, now.paid_fen - now.full_fen);
            let share = if now.due_fen == 0 {
                0.0
            } else {
                now.full_fen as f64 / now.due_fen as f64
            };
            assert!((number(r, c + 7) - share).abs() < 1e-9);
            assert_eq!(
                number(r, c + 8),
                (now.percent_full() - before.percent_full()) as f64
            );
            cells += width;
        }
    }
    assert!(cells > 100, "{cells} cells checked");
    assert!(in_part > 0, "the demo has payments received in part");
    // Nothing below the total.
    assert_eq!(at(HEADER_ROWS + rows.len() as u32, 0), Data::Empty);

    let merged: Vec<_> = book
        .merge_cells_by_sheet_name("调度表")
        .unwrap()
        .into_iter()
        .map(|d| (d.start, d.end))
        .collect();
    let last = width * (table.items.len() as u32 + 1);
    for region in [
        ((0, 0), (0, last)),
        ((2, 0), (3, 0)),
        ((2, 1), (2, width)),
        ((2, width + 1), (2, 2 * width)),
    ] {
        assert!(
            merged.contains(&region),
            "{region:?} merged; merged: {merged:?}"
        );
    }

    // Another township's table cannot be exported; signed out, nothing.
    let township1 = common::sign_in(&state, "township1").await;
    let r = common::page(
        &state,
        Some(&township1),
        "/reports/dispatch/621102201000/xlsx",
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = common::page(&state, None, "/reports/dispatch/621102000000/xlsx").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

async fn a_supervisor_reviews_a_visit_and_the_worker_sees_the_issue(db: TestDb) {
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    daohu::demo::load_visits(store, &["worker1".to_owned()], common::year(), 100, 3)
        .await
        .unwrap();
    let household = common::household_of(store, "worker1").await;
    let visit = store.visits_of_household(household).await.unwrap()[0]
        .visit
        .id
        .to_string();
    let state = db.state();
    let review = |cookie: String, state_: &'static str, comment: &'static str| {
        let state = state.clone();
        let visit = visit.clone();
        async move {
            call(
                &state,
                Some(&cookie),
                "/api/visits/review",
                &[
                    ("visit_id", visit.as_str()),
                    ("state", state_),
                    ("comment", comment),
                ],
            )
            .await
        }
    };
    let township1 = common::sign_in(&state, "township1").await;
    let worker1 = common::sign_in(&state, "worker1").await;
    let township2 = common::sign_in(&state, "township2").await;

    // "Has issues" must say what; unknown states are refused.
    let r = review(township1.clone(), "has_issues", "  ").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("请写明问题"), "{}", r.body);
    let r = review(township1.clone(), "fine", "").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Only a supervisor of the household's area may review.
    assert_eq!(
        review(worker1.clone(), "approved", "").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        review(township2.clone(), "approved", "").await.status,
        StatusCode::NOT_FOUND
    );
    assert!(
        store
            .reviews_of_household(household)
            .await
            .unwrap()
            .is_empty(),
        "nothing written"
    );

    let r = review(township1.clone(), "has_issues", "签名与户主不符，请核实").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // The worker sees the issue and who raised it on the household page.
    let id = household.to_string();
    let detail = call(
        &state,
        Some(&worker1),
        "/api/households/get",
        &[("id", id.as_str())],
    )
    .await;
    let v = &detail.json()["visits"];
    let seen = v
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == visit.as_str())
        .unwrap();
    assert_eq!(seen["review"], "HasIssues");
    assert_eq!(seen["reviews"][0]["comment"], "签名与户主不符，请核实");
    assert_eq!(detail.json()["may_review"], false);

    // Approved later: the state moves on, the history keeps both steps.
    assert_eq!(
        review(township1.clone(), "approved", "已核实").await.status,
        StatusCode::OK
    );
    let detail = call(
        &state,
        Some(&township1),
        "/api/households/get",
        &[("id", id.as_str())],
    )
    .await;
    let seen = detail.json()["visits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == visit.as_str())
        .cloned()
        .unwrap();
    assert_eq!(seen["review"], "Approved");
    let steps: Vec<_> = seen["reviews"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["state"].clone())
        .collect();
    assert_eq!(steps, ["HasIssues", "Approved"]);
    assert_eq!(detail.json()["may_review"], true);
}

async fn a_drill_down_from_the_dispatch_table_lists_the_cells_households(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let township = sign_in(&state, "township1").await;
    let list = |form: Vec<(&'static str, String)>| {
        let state = state.clone();
        let township = township.clone();
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            call(&state, Some(&township), "/api/households/list", &form).await
        }
    };
    let area = || ("village", "621102100000".to_owned());
    let due = list(vec![
        area(),
        ("item", "rural_dibao".into()),
        ("paid", "due".into()),
    ])
    .await;
    assert_eq!(due.status, StatusCode::OK, "{}", due.body);
    let due = due.json();
    assert!(due["total"].as_i64().unwrap() > 0);
    assert!(
        due["payment_note"]
            .as_str()
            .unwrap()
            .starts_with("农村低保 · 应发 · 截至")
    );
    let paid = list(vec![
        area(),
        ("item", "rural_dibao".into()),
        ("paid", "yes".into()),
    ])
    .await
    .json();
    let unpaid = list(vec![
        area(),
        ("item", "rural_dibao".into()),
        ("paid", "no".into()),
    ])
    .await
    .json();
    assert_eq!(
        paid["total"].as_i64().unwrap() + unpaid["total"].as_i64().unwrap(),
        due["total"].as_i64().unwrap()
    );

    let r = list(vec![area(), ("paid", "maybe".into())]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("paid"), "{}", r.body);
    let r = list(vec![
        area(),
        ("item", "no_such_item".into()),
        ("paid", "yes".into()),
    ])
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("no_such_item"), "{}", r.body);
    let r = list(vec![
        area(),
        ("paid", "yes".into()),
        ("as_of", "2999-01-01".into()),
    ])
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Out of the caller's area: refused as an unknown village.
    let r = list(vec![
        ("village", "621102200000".into()),
        ("paid", "yes".into()),
    ])
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
