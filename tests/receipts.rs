//! The household's receipt check (`/r`): the right code and last four ID
//! characters show exactly what was confirmed, masked; wrong ones say
//! nothing about what exists; tries are throttled per code and address and
//! all are logged; a dispute opens a discrepancy for the right township.

mod common;

use axum::http::StatusCode;
use common::{TestDb, call, page, sign_in, year};
use daohu::server::db::DiscrepancyQuery;
use uuid::Uuid;

on_both_backends!(
    the_right_digits_show_the_receipt_and_nothing_more,
    wrong_codes_and_digits_get_one_answer_and_are_throttled,
    a_dispute_opens_a_discrepancy_for_the_households_township,
    the_page_works_without_script,
);

/// A visited household's receipt code, its signer's last four ID
/// characters, the visit and the household.
struct Receipt {
    code: String,
    digits: String,
    visit: Uuid,
    household: daohu::server::db::HouseholdRecord,
}

async fn visited(db: TestDb) -> (TestDb, Vec<Receipt>) {
    let db = db.with_demo().await;
    let workers = ["worker1".to_owned(), "worker3".to_owned()];
    daohu::demo::load_visits(db.store.as_ref(), &workers, year(), 40, 5)
        .await
        .unwrap();
    let mut receipts = Vec::new();
    for worker in workers {
        let w = db.store.user_by_username(&worker).await.unwrap().unwrap();
        let q = daohu::server::db::HouseholdQuery {
            scope: w.area.clone(),
            worker_id: Some(w.id),
            village: None,
            search: None,
            payment: None,
            flags: None,
            limit: 100,
            offset: 0,
        };
        for h in db.store.list_households(&q).await.unwrap().0 {
            let household = db.store.household(h.id).await.unwrap().unwrap();
            for v in db.store.visits_of_household(h.id).await.unwrap() {
                let signer = &v.visit.signature.signer_name;
                let Some(m) = household.members.iter().find(|m| &m.name == signer) else {
                    continue;
                };
                receipts.push(Receipt {
                    code: daohu::visits::receipt_code(&v.visit.signature.content_hash),
                    digits: m.id_number[m.id_number.len() - 4..].to_owned(),
                    visit: v.visit.id,
                    household: household.clone(),
                });
            }
        }
    }
    assert!(receipts.len() >= 2, "visits with a listed signer");
    (db, receipts)
}

async fn open(state: &daohu::server::AppState, code: &str, digits: &str) -> common::Reply {
    call(
        state,
        None,
        "/api/receipts/open",
        &[("code", code), ("digits", digits)],
    )
    .await
}

async fn the_right_digits_show_the_receipt_and_nothing_more(db: TestDb) {
    let (db, receipts) = visited(db).await;
    let state = db.state();
    let r = &receipts[0];
    // Typed in small letters with a space: still the code.
    let typed = format!("{} {}", &r.code[..4].to_lowercase(), &r.code[5..]);
    let opened = open(&state, &typed, &r.digits).await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.body);
    let token: String = serde_json::from_str(&opened.body).unwrap();
    let shown = call(&state, None, "/api/receipts/view", &[("token", &token)]).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    let view: daohu::receipts::ReceiptView = serde_json::from_str(&shown.body).unwrap();
    let stored = db.store.visit(r.visit).await.unwrap().unwrap();
    assert_eq!(view.code, r.code);
    assert_eq!(view.lines.len(), stored.visit.lines.len());
    assert_eq!(
        view.head,
        daohu::receipts::mask_name(&r.household.head_name)
    );
    assert_ne!(view.head, r.household.head_name);
    assert!(matches!(
        view.seal,
        daohu::ledger::Seal::Waiting | daohu::ledger::Seal::Chained { .. }
    ));
    // Nothing else about the household: no ID number, no phone, no number.
    for secret in r
        .household
        .members
        .iter()
        .map(|m| m.id_number.as_str())
        .chain([
            r.household.phone.as_deref().unwrap_or("-"),
            r.household.number.as_str(),
        ])
        .chain(r.household.members.iter().map(|m| m.name.as_str()))
    {
        assert!(!shown.body.contains(secret), "{secret} in {}", shown.body);
    }
    // Chained, the receipt says so; edited behind the app, it says that.
    daohu::ledger::service::chain_until_idle(db.store.as_ref())
        .await
        .unwrap();
    let shown = call(&state, None, "/api/receipts/view", &[("token", &token)]).await;
    let view: daohu::receipts::ReceiptView = serde_json::from_str(&shown.body).unwrap();
    assert!(
        matches!(view.seal, daohu::ledger::Seal::Chained { .. }),
        "{:?}",
        view.seal
    );
    with_pool!(db, |pool| sqlx::query(
        "UPDATE verification_lines SET received_fen = 1 WHERE visit_id = $1"
    )
    .bind(r.visit)
    .execute(&pool)
    .await
    .unwrap()
    .rows_affected());
    let shown = call(&state, None, "/api/receipts/view", &[("token", &token)]).await;
    let view: daohu::receipts::ReceiptView = serde_json::from_str(&shown.body).unwrap();
    assert_eq!(view.seal, daohu::ledger::Seal::Altered);
    // A token is no key to anything else.
    let forged = call(&state, None, "/api/receipts/view", &[("token", "00")]).await;
    assert!(forged.status.is_client_error(), "{}", forged.status);
}

async fn wrong_codes_and_digits_get_one_answer_and_are_throttled(db: TestDb) {
    let (db, receipts) = visited(db).await;
    let state = db.state();
    let r = &receipts[0];
    let wrong = if r.digits == "0000" { "1111" } else { "0000" };
    let unknown = if r.code.starts_with("FFFF") {
        "0000-0000"
    } else {
        "FFFF-FFFF"
    };
    let a = open(&state, &r.code, wrong).await;
    let b = open(&state, unknown, &r.digits).await;
    assert!(a.status.is_client_error() && a.status != StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        (a.status, &a.body),
        (b.status, &b.body),
        "one answer for both"
    );
    for bad in [("A1B2", "1234"), ("A1B2-C3D4", "12"), ("<script>", "abcd")] {
        let refused = open(&state, bad.0, bad.1).await;
        assert!(
            refused.status.is_client_error(),
            "{bad:?}: {}",
            refused.status
        );
    }
    // Five wrong tries of one code, then even the right digits wait.
    for _ in 0..4 {
        open(&state, &r.code, wrong).await;
    }
    let held = open(&state, &r.code, &r.digits).await;
    assert_eq!(held.status, StatusCode::TOO_MANY_REQUESTS, "{}", held.body);
    assert!(held.body.contains("查询次数过多"), "{}", held.body);
    // Another code from the same address still goes, until the address has
    // had its twenty wrong tries.
    let other = receipts.iter().find(|o| o.code != r.code).unwrap();
    assert_eq!(
        open(&state, &other.code, &other.digits).await.status,
        StatusCode::OK
    );
    for n in 0..20 {
        let code = format!("{:08X}", 0xABCD_0000u32 + n);
        open(&state, &code, "9999").await;
    }
    let walked = open(&state, &other.code, &other.digits).await;
    assert_eq!(
        walked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        walked.body
    );
    // Every try is logged, with what came of it.
    let log = db
        .store
        .receipt_lookups_since(chrono::Utc::now() - chrono::Duration::hours(1))
        .await
        .unwrap();
    let outcomes: Vec<&str> = log.iter().map(|l| l.outcome).collect();
    for o in ["found", "wrong_digits", "unknown_code", "throttled"] {
        assert!(outcomes.contains(&o), "{o} in {outcomes:?}");
    }
    // 2 + 4 wrong, 1 held, 1 found, 20 walking, 1 held (malformed input is
    // refused before it is a lookup).
    assert_eq!(log.len(), 29);
    assert!(
        log.iter()
            .filter(|l| l.outcome == "found")
            .all(|l| l.token_hash.is_some())
    );
}

async fn a_dispute_opens_a_discrepancy_for_the_households_township(db: TestDb) {
    let (db, receipts) = visited(db).await;
    let state = db.state();
    let r = &receipts[0];
    let token: String = serde_json::from_str(&open(&state, &r.code, &r.digits).await.body).unwrap();
    let refused = call(
        &state,
        None,
        "/api/receipts/dispute",
        &[
            ("token", &token),
            ("reason", "other"),
            ("details", ""),
            ("phone", ""),
        ],
    )
    .await;
    assert!(refused.status.is_client_error(), "{}", refused.body);
    let sent = call(
        &state,
        None,
        "/api/receipts/dispute",
        &[
            ("token", &token),
            ("reason", "amount_wrong"),
            ("details", "只收到<b>一半</b>"),
            ("phone", "13800001111"),
        ],
    )
    .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);

    // In the queue of the household's township, with the household's words.
    let township = r.household.village.parent().unwrap();
    let (items, _) = db
        .store
        .discrepancies(&DiscrepancyQuery {
            scope: township.clone(),
            closed: false,
            assignee_id: None,
            limit: 500,
            offset: 0,
        })
        .await
        .unwrap();
    let disputes: Vec<_> = items
        .iter()
        .filter(|d| d.kind == daohu::discrepancies::DiscrepancyKind::Dispute)
        .collect();
    assert_eq!(disputes.len(), 1, "{disputes:?}");
    assert_eq!(disputes[0].visit_id, Some(r.visit));
    assert_eq!(disputes[0].village.code, r.household.village);
    let supervisor = if db
        .store
        .user_by_username("township1")
        .await
        .unwrap()
        .unwrap()
        .area
        == township
    {
        "township1"
    } else {
        "township2"
    };
    let cookie = sign_in(&state, supervisor).await;
    let queue = page(
        &state,
        Some(&cookie),
        &format!("/areas/{township}/discrepancies"),
    )
    .await;
    assert!(queue.body.contains("群众异议"), "{}", queue.body);
    assert!(
        queue.body.contains("只收到&lt;b&gt;一半&lt;/b&gt;"),
        "the words, escaped"
    );
    // The other township sees nothing of it.
    let other = if supervisor == "township1" {
        "township2"
    } else {
        "township1"
    };
    let other_cookie = sign_in(&state, other).await;
    let other_township = db
        .store
        .user_by_username(other)
        .await
        .unwrap()
        .unwrap()
        .area;
    let theirs = page(
        &state,
        Some(&other_cookie),
        &format!("/areas/{other_township}/discrepancies"),
    )
    .await;
    assert!(!theirs.body.contains("只收到"), "{}", theirs.body);
    // The receipt shows it; the chain holds it.
    let shown = call(&state, None, "/api/receipts/view", &[("token", &token)]).await;
    let view: daohu::receipts::ReceiptView = serde_json::from_str(&shown.body).unwrap();
    assert_eq!(view.disputes.len(), 1);
    daohu::ledger::service::chain_until_idle(db.store.as_ref())
        .await
        .unwrap();
    let walks = daohu::ledger::service::verify_area(db.store.as_ref(), None, "test")
        .await
        .unwrap();
    assert!(walks.iter().all(|(_, w)| w.problems.is_empty()));
    // A receipt takes a few disputes, not a flood.
    for _ in 0..2 {
        call(
            &state,
            None,
            "/api/receipts/dispute",
            &[
                ("token", &token),
                ("reason", "not_signed"),
                ("details", ""),
                ("phone", ""),
            ],
        )
        .await;
    }
    let flood = call(
        &state,
        None,
        "/api/receipts/dispute",
        &[
            ("token", &token),
            ("reason", "not_signed"),
            ("details", ""),
            ("phone", ""),
        ],
    )
    .await;
    assert!(flood.status.is_client_error(), "{}", flood.status);
}

async fn the_page_works_without_script(db: TestDb) {
    use axum::body::Body;
    use axum::http::{Request, header};
    let (db, receipts) = visited(db).await;
    let state = db.state();
    let r = &receipts[0];
    let plain = r.code.replace('-', "");
    let form = page(&state, None, &format!("/r?c={plain}")).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.body.contains(&format!("value=\"{}\"", r.code)),
        "{}",
        form.body
    );
    assert!(
        !form.body.contains(".wasm"),
        "the receipt page ships no wasm"
    );
    assert!(form.bytes.len() < 30 * 1024, "{} bytes", form.bytes.len());
    let post = Request::post("/api/receipts/open")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "text/html")
        .header(header::REFERER, format!("http://localhost/r?c={plain}"))
        .body(Body::from(format!("code={plain}&digits={}", r.digits)))
        .unwrap();
    let answered = common::send(&state, post).await;
    assert_eq!(answered.status, StatusCode::SEE_OTHER, "{}", answered.body);
    let cookie = answered
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("daohu_outcome="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let shown = page(&state, Some(&cookie), &format!("/r?c={plain}")).await;
    assert!(
        shown.body.contains("data-testid=\"receipt\""),
        "{}",
        shown.body
    );
    assert!(shown.body.contains("data-testid=\"dispute\""));
}
