//! Sync ingest through the real endpoint: exactly once, per-visit answers,
//! nothing partial, clear 4xx.

mod common;

use axum::http::StatusCode;
use common::{TestDb, household_of, post_json, sign_in, signed_visit};
use daohu::sync::VISITS_PATH;
use daohu::visits::{PaymentStatus, ShortfallReason, VisitSubmission, confirmation_hash};
use serde_json::{Value, json};

on_both_backends!(
    a_visit_is_stored_once_and_replays_are_acknowledged,
    same_id_with_other_content_is_a_conflict_kept_for_review,
    one_bad_visit_never_blocks_the_rest_of_its_batch,
    malformed_and_oversized_batches_are_refused_whole,
    the_households_worker_and_its_supervisor_visiting_are_both_stored,
    visit_rules_are_checked_field_by_field,
    the_household_page_shows_its_visits_with_signature_and_receipt,
);

fn batch(visits: &[&VisitSubmission]) -> String {
    json!({ "visits": visits }).to_string()
}

fn outcomes(reply: &common::Reply) -> Vec<Value> {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json()["results"].as_array().unwrap().clone()
}

async fn a_visit_is_stored_once_and_replays_are_acknowledged(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let cookie = sign_in(&state, "worker1").await;
    let household = household_of(db.store.as_ref(), "worker1").await;
    let mut visit = signed_visit(db.store.as_ref(), household).await;
    visit.lines.reverse(); // the server stores one canonical order
    let first = outcomes(&post_json(&state, Some(&cookie), VISITS_PATH, batch(&[&visit])).await);
    assert_eq!(first[0]["outcome"], "stored", "{first:?}");
    assert_eq!(first[0]["id"], visit.id.to_string());
    let code = first[0]["receipt_code"].as_str().unwrap().to_owned();
    assert_eq!(
        code,
        daohu::visits::receipt_code(&visit.signature.content_hash)
    );

    for _ in 0..3 {
        let again =
            outcomes(&post_json(&state, Some(&cookie), VISITS_PATH, batch(&[&visit])).await);
        assert_eq!(again[0]["outcome"], "already_stored");
        assert_eq!(again[0]["receipt_code"], code);
    }
    assert_eq!(db.store.count_visits().await.unwrap(), 1);
    let stored = db.store.visit(visit.id).await.unwrap().unwrap();
    visit.lines.sort_by_key(|l| l.entitlement_id);
    assert_eq!(
        serde_json::to_vec(&stored.visit).unwrap(),
        serde_json::to_vec(&visit).unwrap(),
        "what is stored reads back byte for byte"
    );
    assert_eq!(stored.visit.lines.len(), visit.lines.len());
    assert!(!stored.visit.lines.is_empty());
}

async fn same_id_with_other_content_is_a_conflict_kept_for_review(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let cookie = sign_in(&state, "worker1").await;
    let household = household_of(db.store.as_ref(), "worker1").await;
    let visit = signed_visit(db.store.as_ref(), household).await;
    outcomes(&post_json(&state, Some(&cookie), VISITS_PATH, batch(&[&visit])).await);
    let mut other = visit.clone();
    other.notes = "另一个版本".into();
    other.signature.content_hash = confirmation_hash(&other);
    let r = outcomes(&post_json(&state, Some(&cookie), VISITS_PATH, batch(&[&other])).await);
    assert_eq!(r[0]["outcome"], "conflict", "{r:?}");
    // Replaying the conflicting copy keeps one copy of it.
    outcomes(&post_json(&state, Some(&cookie), VISITS_PATH, batch(&[&other])).await);
    let stored = db.store.visit(visit.id).await.unwrap().unwrap();
    assert_eq!(
        stored.visit.notes, "一切正常",
        "the stored visit is never overwritten"
    );
    assert_eq!(db.store.visit_conflicts(visit.id).await.unwrap().len(), 1);
    assert_eq!(db.store.count_visits().await.unwrap(), 1);
    // One item in the queue of the household's own township.
    let township = db
        .store
        .user_by_username("township1")
        .await
        .unwrap()
        .unwrap();
    let (items, _) = db
        .store
        .discrepancies(&daohu::server::db::DiscrepancyQuery {
            scope: township.area,
            closed: false,
            assignee_id: None,
            limit: 1000,
            offset: 0,
        })
        .await
        .unwrap();
    let conflicts: Vec<_> = items
        .iter()
        .filter(|d| d.visit_id == Some(visit.id) && d.conflict.is_some())
        .collect();
    assert_eq!(conflicts.len(), 1, "{items:?}");
}

async fn one_bad_visit_never_blocks_the_rest_of_its_batch(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let cookie = sign_in(&state, "worker1").await;
    let store = db.store.as_ref();
    let mine = household_of(store, "worker1").await;
    let good1 = signed_visit(store, mine).await;
    let good2 = signed_visit(store, mine).await;
    let out_of_scope = signed_visit(store, household_of(store, "worker3").await).await;
    let mut edited_after_signing = signed_visit(store, mine).await;
    edited_after_signing.lines[0].received_fen = Some(1);
    let mut wrong_types = serde_json::to_value(signed_visit(store, mine).await).unwrap();
    wrong_types["lines"] = json!("不是数组");
    let body = json!({ "visits": [good1, wrong_types, out_of_scope, edited_after_signing, good2] });
    let r = outcomes(&post_json(&state, Some(&cookie), VISITS_PATH, body.to_string()).await);
    let kinds: Vec<(&str, Option<u64>)> = r
        .iter()
        .map(|o| (o["outcome"].as_str().unwrap(), o["status"].as_u64()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("stored", None),
            ("rejected", Some(422)),
            ("rejected", Some(404)),
            ("rejected", Some(422)),
            ("stored", None)
        ]
    );
    assert!(
        r[3]["message"].as_str().unwrap().contains("重新签字"),
        "{:?}",
        r[3]
    );
    assert_eq!(r[1]["id"], wrong_types_id(&body));
    assert_eq!(db.store.count_visits().await.unwrap(), 2);
    assert_eq!(db.store.audit_events("sync_visit").await.unwrap().len(), 1);
}

fn wrong_types_id(body: &Value) -> Value {
    body["visits"][1]["id"].clone()
}

async fn malformed_and_oversized_batches_are_refused_whole(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let cookie = sign_in(&state, "worker1").await;
    let visit = signed_visit(
        db.store.as_ref(),
        household_of(db.store.as_ref(), "worker1").await,
    )
    .await;
    let c = Some(cookie.as_str());
    assert_eq!(
        post_json(&state, None, VISITS_PATH, batch(&[&visit]))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    for bad in ["not json", "{\"visits\": 3}", "[]", "{}"] {
        let r = post_json(&state, c, VISITS_PATH, bad).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.body);
        assert!(
            r.json()["error"].as_str().unwrap().contains("visits"),
            "{}",
            r.body
        );
    }
    let too_many: Vec<&VisitSubmission> = std::iter::repeat_n(&visit, 101).collect();
    let r = post_json(&state, c, VISITS_PATH, batch(&too_many)).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert!(r.body.contains("收到 101 条"), "{}", r.body);
    let huge = format!(
        "{{\"visits\": [\"{}\"]}}",
        "x".repeat(daohu::sync::http::MAX_BATCH_BYTES)
    );
    assert_eq!(
        post_json(&state, c, VISITS_PATH, huge).await.status,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let mut big_photo = visit.clone();
    big_photo.photo_base64 = Some("/9j/".to_string() + &"A".repeat(420 * 1024));
    let r = outcomes(&post_json(&state, c, VISITS_PATH, batch(&[&big_photo])).await);
    assert_eq!(r[0]["status"], 422, "{r:?}");
    assert_eq!(db.store.count_visits().await.unwrap(), 0, "nothing written");
}

async fn the_households_worker_and_its_supervisor_visiting_are_both_stored(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let household = household_of(db.store.as_ref(), "worker1").await;
    for worker in ["worker1", "township1"] {
        let cookie = sign_in(&state, worker).await;
        let visit = signed_visit(db.store.as_ref(), household).await;
        let r = outcomes(&post_json(&state, Some(&cookie), VISITS_PATH, batch(&[&visit])).await);
        assert_eq!(r[0]["outcome"], "stored", "{worker}: {r:?}");
    }
    let visits = db.store.visits_of_household(household).await.unwrap();
    assert_eq!(visits.len(), 2);
    assert_ne!(visits[0].worker_id, visits[1].worker_id);
}

async fn visit_rules_are_checked_field_by_field(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let cookie = sign_in(&state, "worker1").await;
    let base = signed_visit(
        db.store.as_ref(),
        household_of(db.store.as_ref(), "worker1").await,
    )
    .await;
    let resign = |mut v: VisitSubmission| {
        v.signature.content_hash = confirmation_hash(&v);
        v
    };
    let mut partial_without_reason = base.clone();
    partial_without_reason.lines[0].status = PaymentStatus::ReceivedInPart;
    partial_without_reason.lines[0].received_fen = Some(1);
    let mut proxy_without_reason = base.clone();
    proxy_without_reason.signature.signer_relation = "之子".into();
    let mut full_but_short = base.clone();
    full_but_short.lines[0].received_fen = Some(1);
    let mut not_received_ok = base.clone();
    not_received_ok.lines[0].status = PaymentStatus::NotReceived;
    not_received_ok.lines[0].received_fen = None;
    not_received_ok.lines[0].reason = Some(ShortfallReason::NotYetPaidOut);
    not_received_ok.id = uuid::Uuid::now_v7();
    let cases = [
        (resign(partial_without_reason), "笔补贴·未足额原因"),
        (resign(proxy_without_reason), "代签或按手印的原因"),
        (resign(full_but_short), "部分到账"),
    ];
    for (visit, expect) in cases {
        let r = outcomes(&post_json(&state, Some(&cookie), VISITS_PATH, batch(&[&visit])).await);
        assert_eq!(r[0]["status"], 422, "{expect}: {r:?}");
        assert!(
            r[0]["message"].as_str().unwrap().contains(expect),
            "{expect}: {r:?}"
        );
    }
    let r = outcomes(
        &post_json(
            &state,
            Some(&cookie),
            VISITS_PATH,
            batch(&[&resign(not_received_ok)]),
        )
        .await,
    );
    assert_eq!(r[0]["outcome"], "stored", "{r:?}");
}

async fn the_household_page_shows_its_visits_with_signature_and_receipt(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let household = household_of(db.store.as_ref(), "worker1").await;
    let cookie = sign_in(&state, "worker1").await;
    let path = format!("/households/{household}");
    let before = common::page(&state, Some(&cookie), &path).await;
    assert!(before.body.contains("本户尚无走访记录"));

    let mut first = signed_visit(db.store.as_ref(), household).await;
    first.location = daohu::visits::Location::Refused;
    first.signature.content_hash = confirmation_hash(&first);
    outcomes(&post_json(&state, Some(&cookie), VISITS_PATH, batch(&[&first])).await);
    let page = common::page(&state, Some(&cookie), &path).await;
    assert_eq!(page.status, StatusCode::OK);
    let code = daohu::visits::receipt_code(&first.signature.content_hash);
    assert!(page.body.contains(&code), "receipt code {code} shown");
    assert!(page.body.contains("足额到账"));
    assert!(page.body.contains("data:image/png;base64,"));
    assert!(page.body.contains("20分钟"));
    assert!(
        page.body.contains("拒绝授权"),
        "a refused location is recorded, not fatal"
    );
    assert!(!page.body.contains("多名干部"));

    // The township supervisor's visit too: both kept, and the household
    // shows the disagreement.
    let other = sign_in(&state, "township1").await;
    let second = signed_visit(db.store.as_ref(), household).await;
    outcomes(&post_json(&state, Some(&other), VISITS_PATH, batch(&[&second])).await);
    let page = common::page(&state, Some(&cookie), &path).await;
    assert!(
        page.body.contains("多名干部"),
        "the conflict is shown on the household"
    );
    let json = common::call(
        &state,
        Some(&cookie),
        "/api/households/get",
        &[("id", &household.to_string())],
    )
    .await
    .json();
    assert_eq!(json["visits"].as_array().unwrap().len(), 2);
    assert_eq!(json["visits_disagree"], true);
}
