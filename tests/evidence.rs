//! Evidence per payment line (migration 0016): a photo of the record that
//! backs a line travels with the signed visit, is stored once, served only
//! to those who may see the household, chained with the visit, counted as
//! "backed" income (a tick no longer is), and a photo shown for two
//! households is a signal; bad evidence is refused with its field named.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine;
use common::{TestDb, page, post_json, sign_in, signed_visit};
use daohu::income::{IncomeKind, IncomeLine};
use daohu::ledger::ProblemKind;
use daohu::sync::VISITS_PATH;
use daohu::visits::{EvidenceFor, LineEvidence, VisitSubmission, confirmation_hash, evidence_href};
use serde_json::{Value, json};
use uuid::Uuid;

on_both_backends!(
    evidence_is_stored_served_to_those_who_may_see_it_and_chained,
    only_a_photo_backs_declared_income,
    bad_evidence_is_refused_with_the_field_named_and_nothing_stored,
    the_same_evidence_photo_on_two_households_is_a_signal,
);

/// A JPEG's first bytes and a body of its own: the server checks the
/// marker, the browser is never shown these.
fn jpeg(tag: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xFE];
    bytes.extend_from_slice(&(tag.len() as u16 + 2).to_be_bytes());
    bytes.extend_from_slice(tag.as_bytes());
    bytes.extend_from_slice(&[0xFF, 0xD9]);
    bytes
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn evidence(line: EvidenceFor, tag: &str) -> LineEvidence {
    LineEvidence {
        line,
        photo_base64: b64(&jpeg(tag)),
    }
}

fn wage(evidence: bool) -> IncomeLine {
    IncomeLine {
        kind: IncomeKind::WageMigrant,
        amount_fen: 3_000_000,
        evidence,
        note: "工资条".into(),
    }
}

fn resigned(mut v: VisitSubmission) -> VisitSubmission {
    v.signature.content_hash = confirmation_hash(&v);
    v
}

async fn deliver(db: &TestDb, cookie: &str, visit: &VisitSubmission) -> Value {
    let body = json!({ "visits": [visit] }).to_string();
    let reply = post_json(&db.state(), Some(cookie), VISITS_PATH, body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json()["results"][0].clone()
}

async fn get(db: &TestDb, cookie: Option<&str>, path: &str) -> (StatusCode, String, Vec<u8>) {
    let mut req = Request::get(path);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    let reply = common::send(&db.state(), req.body(Body::empty()).unwrap()).await;
    let kind = reply
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (reply.status, kind, reply.bytes.clone())
}

/// A visit with a photo for its first payment line and its declared wage.
async fn visit_with_evidence(db: &TestDb, household: Uuid, tag: &str) -> VisitSubmission {
    let mut v = signed_visit(db.store.as_ref(), household).await;
    let first = v.lines[0].entitlement_id;
    v.income = vec![wage(true)];
    v.evidence = vec![
        evidence(EvidenceFor::Payment(first), &format!("{tag} passbook")),
        evidence(
            EvidenceFor::Income(IncomeKind::WageMigrant),
            &format!("{tag} slip"),
        ),
    ];
    resigned(v)
}

async fn evidence_is_stored_served_to_those_who_may_see_it_and_chained(db: TestDb) {
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    let household = common::households_of(store, "worker1", 1).await[0];
    let cookie = sign_in(&db.state(), "worker1").await;
    let v = visit_with_evidence(&db, household, "a").await;
    assert_eq!(deliver(&db, &cookie, &v).await["outcome"], "stored");
    // Reads back as sent: a resend is a replay, not a conflict.
    let stored = store.visit(v.id).await.unwrap().unwrap();
    let mut sent = v.clone();
    sent.canonicalize();
    assert_eq!(stored.visit, sent);
    assert_eq!(deliver(&db, &cookie, &v).await["outcome"], "already_stored");

    // The household page shows each photo beside its line.
    let first = EvidenceFor::Payment(v.lines[0].entitlement_id);
    let slip = EvidenceFor::Income(IncomeKind::WageMigrant);
    let township = sign_in(&db.state(), "township1").await;
    let html = page(
        &db.state(),
        Some(&township),
        &format!("/households/{household}"),
    )
    .await
    .body;
    for line in [first, slip] {
        assert!(html.contains(&evidence_href(v.id, line)), "{line:?} shown");
    }
    assert!(
        html.contains(daohu::text::zh::NO_EVIDENCE),
        "the other lines have none"
    );

    // Served as sent to the worker and the township; to nobody else.
    for who in [&cookie, &township] {
        let (status, kind, bytes) = get(&db, Some(who), &evidence_href(v.id, first)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(kind, "image/jpeg");
        assert_eq!(bytes, jpeg("a passbook"));
    }
    let other = sign_in(&db.state(), "township2").await;
    // Outside one's area a photo is as unknown as one that does not exist.
    let (status, _, bytes) = get(&db, Some(&other), &evidence_href(v.id, first)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!bytes.starts_with(&[0xFF, 0xD8]));
    let (status, _, _) = get(&db, None, &evidence_href(v.id, first)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A line without a photo, another visit, a made-up line: one answer.
    let unknown = [
        evidence_href(v.id, EvidenceFor::Payment(v.lines[1].entitlement_id)),
        evidence_href(Uuid::now_v7(), first),
        format!("/visits/{}/evidence/payment-not-an-id", v.id),
        format!("/visits/{}/evidence/%3Cscript%3E", v.id),
    ];
    for path in unknown {
        let (status, kind, _) = get(&db, Some(&township), &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(kind.starts_with("text/plain"), "{path}: {kind}");
    }
    let (status, _, _) = get(&db, Some(&township), "/visits/x/evidence/payment-1").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Chained with the visit: a swapped photo is a changed visit.
    daohu::ledger::service::chain_until_idle(store)
        .await
        .unwrap();
    let clean = daohu::ledger::service::verify_area(store, None, "test")
        .await
        .unwrap();
    assert!(clean.iter().all(|(_, w)| w.problems.is_empty()));
    let swapped = with_pool!(db, |pool| sqlx::query(
        "UPDATE line_evidence SET photo_jpeg = $1 WHERE visit_id = $2 AND line_kind = 'income'"
    )
    .bind(jpeg("another slip"))
    .bind(v.id)
    .execute(&pool)
    .await
    .unwrap()
    .rows_affected());
    assert_eq!(swapped, 1);
    let found: Vec<_> = daohu::ledger::service::verify_area(store, None, "test")
        .await
        .unwrap()
        .into_iter()
        .flat_map(|(_, w)| w.problems)
        .collect();
    assert!(
        found.iter().any(|p| p.kind == ProblemKind::Changed
            && p.record == Some((daohu::ledger::RecordKind::Visit, v.id))),
        "{found:?}"
    );
}

async fn only_a_photo_backs_declared_income(db: TestDb) {
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    let household = common::households_of(store, "worker1", 1).await[0];
    let cookie = sign_in(&db.state(), "worker1").await;
    let account = || {
        let state = db.state();
        let cookie = cookie.clone();
        async move {
            let r = common::call(
                &state,
                Some(&cookie),
                "/api/income/household",
                &[("household_id", household.to_string().as_str())],
            )
            .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            r.json()["status"]["account"].clone()
        }
    };
    let roster_says = || async {
        let roster = page(&db.state(), Some(&cookie), daohu::sync::ROSTER_PATH)
            .await
            .json();
        roster["households"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["summary"]["id"] == household.to_string())
            .map(|r| r["income"][0]["evidence"].clone())
    };
    // An older app's tick, signed, without a photo: kept, backs nothing.
    let mut ticked = signed_visit(store, household).await;
    ticked.income = vec![wage(true)];
    let ticked = resigned(ticked);
    assert_eq!(deliver(&db, &cookie, &ticked).await["outcome"], "stored");
    let before = account().await;
    assert_eq!(roster_says().await, Some(json!(false)));
    // The same figure at the next visit, its slip photographed.
    let mut photographed = visit_with_evidence(&db, household, "b").await;
    photographed.started_at = ticked.started_at + chrono::Duration::days(1);
    photographed.ended_at = ticked.ended_at + chrono::Duration::days(1);
    let photographed = resigned(photographed);
    assert_eq!(
        deliver(&db, &cookie, &photographed).await["outcome"],
        "stored"
    );
    let after = account().await;
    assert_eq!(before["wage"], after["wage"], "the same wage");
    assert_eq!(
        after["backed"].as_i64().unwrap() - before["backed"].as_i64().unwrap(),
        3_000_000,
        "{before}\n{after}"
    );
    let wage_source = |a: &Value| {
        a["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["line"] == IncomeKind::WageMigrant.label())
            .map(|s| s["backed"].clone())
    };
    assert_eq!(wage_source(&before), Some(json!(false)));
    assert_eq!(wage_source(&after), Some(json!(true)));
    // The roster tells the worker the same.
    assert_eq!(roster_says().await, Some(json!(true)));
}

async fn bad_evidence_is_refused_with_the_field_named_and_nothing_stored(db: TestDb) {
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    let household = common::households_of(store, "worker1", 1).await[0];
    let cookie = sign_in(&db.state(), "worker1").await;
    let base = signed_visit(store, household).await;
    let first = EvidenceFor::Payment(base.lines[0].entitlement_id);
    type Edit = Box<dyn Fn(&mut VisitSubmission)>;
    let cases: Vec<(&str, &str, Edit)> = vec![
        (
            "a line the visit does not have",
            "evidence[0]",
            Box::new(|v| v.evidence = vec![evidence(EvidenceFor::Payment(Uuid::now_v7()), "x")]),
        ),
        (
            "income that was not declared",
            "evidence[0]",
            Box::new(|v| {
                v.evidence = vec![evidence(EvidenceFor::Income(IncomeKind::Property), "x")]
            }),
        ),
        (
            "two photos for one line",
            "evidence[1]",
            Box::new(move |v| v.evidence = vec![evidence(first, "x"), evidence(first, "y")]),
        ),
        (
            "not a JPEG",
            "evidence[0]",
            Box::new(move |v| {
                v.evidence = vec![LineEvidence {
                    line: first,
                    photo_base64: b64(b"\x89PNG\r\n\x1a\nnot a photo"),
                }]
            }),
        ),
        (
            "not base64",
            "evidence[0]",
            Box::new(move |v| {
                v.evidence = vec![LineEvidence {
                    line: first,
                    photo_base64: "/9j/<script>".into(),
                }]
            }),
        ),
        (
            "empty",
            "evidence[0]",
            Box::new(move |v| {
                v.evidence = vec![LineEvidence {
                    line: first,
                    photo_base64: String::new(),
                }]
            }),
        ),
        (
            "over 300 KB",
            "evidence[0]",
            Box::new(move |v| {
                let mut big = jpeg("big");
                big.resize(301 * 1024, 0);
                v.evidence = vec![LineEvidence {
                    line: first,
                    photo_base64: b64(&big),
                }]
            }),
        ),
        (
            "more than twelve",
            "evidence",
            Box::new(|v| {
                v.evidence = (0..13)
                    .map(|i| evidence(EvidenceFor::Payment(Uuid::from_u128(i)), "x"))
                    .collect()
            }),
        ),
    ];
    for (what, field, edit) in &cases {
        let mut v = base.clone();
        v.id = Uuid::now_v7();
        edit(&mut v);
        let outcome = deliver(&db, &cookie, &resigned(v)).await;
        assert_eq!(outcome["outcome"], "rejected", "{what}: {outcome}");
        assert_eq!(outcome["status"], 422, "{what}: {outcome}");
        assert_eq!(outcome["field"], *field, "{what}: {outcome}");
    }
    // A photo swapped after the household signed voids the signature.
    let mut v = base.clone();
    v.id = Uuid::now_v7();
    v.evidence = vec![evidence(first, "signed")];
    let mut v = resigned(v);
    v.evidence = vec![evidence(first, "swapped")];
    let outcome = deliver(&db, &cookie, &v).await;
    assert_eq!(outcome["field"], "signature.content_hash", "{outcome}");
    assert_eq!(store.count_visits().await.unwrap(), 0);
    let rows = with_pool!(db, |pool| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM line_evidence"
    )
    .fetch_one(&pool)
    .await
    .unwrap());
    assert_eq!(rows, 0);
}

async fn the_same_evidence_photo_on_two_households_is_a_signal(db: TestDb) {
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    let hs = common::households_of(store, "worker1", 3).await;
    let cookie = sign_in(&db.state(), "worker1").await;
    // One passbook page shown for the first two households, another for the third.
    for (h, tag) in [(hs[0], "same"), (hs[1], "same"), (hs[2], "own")] {
        let mut v = signed_visit(store, h).await;
        v.evidence = vec![evidence(
            EvidenceFor::Payment(v.lines[0].entitlement_id),
            tag,
        )];
        let v = resigned(v);
        assert_eq!(deliver(&db, &cookie, &v).await["outcome"], "stored");
    }
    daohu::signals::service::compute_until_idle(store)
        .await
        .unwrap();
    let same_photo = |h: Uuid| async move {
        store
            .signals_of_household(h)
            .await
            .unwrap()
            .iter()
            .any(|(_, kind, ..)| kind == "same_photo")
    };
    assert!(same_photo(hs[0]).await, "the earlier visit is flagged too");
    assert!(same_photo(hs[1]).await);
    assert!(!same_photo(hs[2]).await);
}
