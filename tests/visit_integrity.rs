//! Who may record a visit of which household, what a visit id already
//! taken by someone else gets, the bounds on every field, and a signature
//! that covers everything stored: through the sync endpoint, on both
//! backends.

mod common;

use axum::http::StatusCode;
use chrono::{Duration, SubsecRound, Utc};
use common::{TestDb, household_of, post_json, sign_in, signed_visit};
use daohu::income::{IncomeKind, IncomeLine};
use daohu::server::db::{AssignTarget, DiscrepancyQuery, Store, VisitRecord};
use daohu::sync::VISITS_PATH;
use daohu::visits::{
    Confirmation, Location, MAX_MET_WITH_CHARS, MAX_NOTES_CHARS, MAX_PROXY_REASON_CHARS,
    MAX_REASON_TEXT_CHARS, MAX_SIGNATURE_PNG_BYTES, MAX_SIGNATURE_STROKES, MAX_SIGNER_NAME_CHARS,
    VisitSubmission, confirmation_hash, confirmation_hash_as, payload_hash,
};
use serde_json::{Value, json};
use uuid::Uuid;

on_both_backends!(
    visits_for_another_workers_or_an_unassigned_household_are_refused_like_unknown_ones,
    a_reassignment_keeps_what_the_old_worker_did_before_it_and_only_that,
    supervisors_and_officers_of_the_area_may_sync_and_no_one_else,
    a_visit_id_taken_by_another_caller_is_refused_and_touches_nothing,
    a_visit_in_the_future_is_refused_beyond_the_clock_skew,
    every_oversize_field_is_refused_with_its_name,
    a_v3_visit_edited_after_signing_is_refused_and_older_layouts_still_verify,
    stored_visits_reproduce_their_payload_hash,
    a_visit_stored_before_the_canonical_form_replays_as_stored,
);

const NO_SUCH_HOUSEHOLD: &str = "农户不存在或不在您的权限范围内";

async fn deliver(db: &TestDb, cookie: &str, visit: &VisitSubmission) -> Value {
    let body = json!({ "visits": [visit] }).to_string();
    let reply = post_json(&db.state(), Some(cookie), VISITS_PATH, body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json()["results"][0].clone()
}

fn resigned(mut visit: VisitSubmission) -> VisitSubmission {
    visit.signature.content_hash = confirmation_hash(&visit);
    visit
}

async fn user_id(store: &dyn Store, username: &str) -> Uuid {
    store.user_by_username(username).await.unwrap().unwrap().id
}

/// A household of `township`'s area that has no worker.
async fn unassigned_household(store: &dyn Store, township: &str) -> Uuid {
    let area = store
        .user_by_username(township)
        .await
        .unwrap()
        .unwrap()
        .area;
    let q = daohu::server::db::HouseholdQuery {
        scope: area,
        worker_id: None,
        village: None,
        search: None,
        payment: None,
        flags: None,
        limit: u32::MAX,
        offset: 0,
    };
    for h in store.list_households(&q).await.unwrap().0 {
        if store
            .household(h.id)
            .await
            .unwrap()
            .unwrap()
            .worker_id
            .is_none()
        {
            return h.id;
        }
    }
    panic!("the demo has no unassigned household in {township}");
}

/// Every open item in every queue of the demo county.
async fn all_discrepancies(store: &dyn Store) -> i64 {
    let county = store.user_by_username("county").await.unwrap().unwrap();
    store
        .discrepancies(&DiscrepancyQuery {
            scope: county.area,
            closed: false,
            assignee_id: None,
            limit: 1,
            offset: 0,
        })
        .await
        .unwrap()
        .1
}

fn assert_no_such_household(outcome: &Value) {
    assert_eq!(outcome["outcome"], "rejected", "{outcome}");
    assert_eq!(outcome["status"], 404, "{outcome}");
    assert_eq!(outcome["message"], NO_SUCH_HOUSEHOLD, "{outcome}");
}

async fn visits_for_another_workers_or_an_unassigned_household_are_refused_like_unknown_ones(
    db: TestDb,
) {
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    let cookie = sign_in(&db.state(), "worker1").await;
    let before = all_discrepancies(store).await;
    // worker2 works in worker1's township: the area alone no longer decides.
    let theirs = household_of(store, "worker2").await;
    let waiting = unassigned_household(store, "township1").await;
    let mut unknown = signed_visit(store, household_of(store, "worker1").await).await;
    unknown.household_id = Uuid::now_v7();
    let unknown = resigned(unknown);
    let unknown_id = unknown.household_id;
    let mut answers = Vec::new();
    for visit in [
        signed_visit(store, theirs).await,
        signed_visit(store, waiting).await,
        unknown,
    ] {
        let outcome = deliver(&db, &cookie, &visit).await;
        assert_no_such_household(&outcome);
        answers.push((outcome["status"].clone(), outcome["message"].clone()));
    }
    answers.dedup();
    assert_eq!(answers.len(), 1, "one answer for all three: {answers:?}");
    assert_eq!(store.count_visits().await.unwrap(), 0, "nothing written");
    assert_eq!(all_discrepancies(store).await, before);
    // All three are audited alike, server side.
    let audited = store.audit_events("sync_visit").await.unwrap();
    let targets: Vec<&str> = audited.iter().map(|e| e.target.as_str()).collect();
    assert_eq!(
        targets,
        [
            theirs.to_string(),
            waiting.to_string(),
            unknown_id.to_string()
        ],
        "{audited:?}"
    );
    assert!(audited.iter().all(|e| e.outcome == "forbidden"));
}

async fn a_reassignment_keeps_what_the_old_worker_did_before_it_and_only_that(db: TestDb) {
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    let household = household_of(store, "worker1").await;
    let (worker1, worker2) = (
        user_id(store, "worker1").await,
        user_id(store, "worker2").await,
    );
    // Made on worker1's phone while the household was still theirs ...
    let made_before = signed_visit(store, household).await;
    // ... then the supervisor hands the household to worker2.
    let changed = store
        .assign_households(
            &AssignTarget::Household(household),
            worker2,
            user_id(store, "township1").await,
        )
        .await
        .unwrap();
    assert_eq!(changed, 1);
    let reassigned_at = store
        .assignments_of_household(household)
        .await
        .unwrap()
        .last()
        .unwrap()
        .at;
    let after = |mut v: VisitSubmission| {
        v.started_at = reassigned_at.trunc_subsecs(3) + Duration::seconds(1);
        v.ended_at = v.started_at + Duration::seconds(30);
        resigned(v)
    };
    let old = sign_in(&db.state(), "worker1").await;
    let new = sign_in(&db.state(), "worker2").await;

    let outcome = deliver(&db, &old, &made_before).await;
    assert_eq!(outcome["outcome"], "stored", "delivered late: {outcome}");
    let outcome = deliver(&db, &old, &after(signed_visit(store, household).await)).await;
    assert_no_such_household(&outcome);
    // worker2 did not have it before, has it now.
    let outcome = deliver(&db, &new, &signed_visit(store, household).await).await;
    assert_no_such_household(&outcome);
    let outcome = deliver(&db, &new, &after(signed_visit(store, household).await)).await;
    assert_eq!(outcome["outcome"], "stored", "{outcome}");

    let stored = store.visits_of_household(household).await.unwrap();
    let by: Vec<Uuid> = stored.iter().map(|s| s.worker_id).collect();
    assert_eq!(by, [worker1, worker2]);
}

async fn supervisors_and_officers_of_the_area_may_sync_and_no_one_else(db: TestDb) {
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    let household = household_of(store, "worker1").await;
    let waiting = unassigned_household(store, "township1").await;
    for user in ["township1", "county"] {
        let cookie = sign_in(&db.state(), user).await;
        for h in [household, waiting] {
            let outcome = deliver(&db, &cookie, &signed_visit(store, h).await).await;
            assert_eq!(outcome["outcome"], "stored", "{user}: {outcome}");
        }
    }
    // The other township's supervisor holds neither.
    let cookie = sign_in(&db.state(), "township2").await;
    let outcome = deliver(&db, &cookie, &signed_visit(store, household).await).await;
    assert_no_such_household(&outcome);
    assert_eq!(store.count_visits().await.unwrap(), 4);
}

async fn a_visit_id_taken_by_another_caller_is_refused_and_touches_nothing(db: TestDb) {
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    let worker1 = sign_in(&db.state(), "worker1").await;
    let mine = household_of(store, "worker1").await;
    let visit = signed_visit(store, mine).await;
    assert_eq!(deliver(&db, &worker1, &visit).await["outcome"], "stored");
    let stored = store.visit(visit.id).await.unwrap().unwrap();
    let before = all_discrepancies(store).await;

    // Another township's worker, their own household, worker1's visit id.
    let worker3 = sign_in(&db.state(), "worker3").await;
    let mut foreign = signed_visit(store, household_of(store, "worker3").await).await;
    foreign.id = visit.id;
    let foreign = resigned(foreign);
    // worker1's supervisor, worker1's household, other content; and the
    // identical copy from someone else.
    let township1 = sign_in(&db.state(), "township1").await;
    let mut edited = visit.clone();
    edited.notes = "督导改写".into();
    let edited = resigned(edited);
    for (cookie, copy) in [
        (&worker3, &foreign),
        (&township1, &edited),
        (&township1, &visit),
    ] {
        let outcome = deliver(&db, cookie, copy).await;
        assert_eq!(outcome["outcome"], "rejected", "{outcome}");
        assert_eq!(outcome["status"], 409, "{outcome}");
        let message = outcome["message"].as_str().unwrap();
        assert_eq!(message, "该走访编号已被占用，无法保存，请重新开始一次走访");
    }
    assert!(store.visit_conflicts(visit.id).await.unwrap().is_empty());
    assert_eq!(all_discrepancies(store).await, before, "no item anywhere");
    assert_eq!(store.count_visits().await.unwrap(), 1);
    let after = store.visit(visit.id).await.unwrap().unwrap();
    assert_eq!(after.payload_hash, stored.payload_hash, "untouched");
    assert_eq!(after.worker_id, stored.worker_id);
    assert_eq!(
        store
            .audit_events("sync_visit_id_taken")
            .await
            .unwrap()
            .len(),
        3
    );

    // worker1 sending other content under their own id is still a conflict.
    let mut own_edit = visit.clone();
    own_edit.notes = "另一个版本".into();
    let outcome = deliver(&db, &worker1, &resigned(own_edit)).await;
    assert_eq!(outcome["outcome"], "conflict", "{outcome}");
    assert_eq!(store.visit_conflicts(visit.id).await.unwrap().len(), 1);
    assert_eq!(all_discrepancies(store).await, before + 1);
}

async fn a_visit_in_the_future_is_refused_beyond_the_clock_skew(db: TestDb) {
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    let cookie = sign_in(&db.state(), "worker1").await;
    let household = household_of(store, "worker1").await;
    let at = |start: Duration, length: Duration| async move {
        let mut v = signed_visit(store, household).await;
        v.started_at = Utc::now().trunc_subsecs(0) + start;
        v.ended_at = v.started_at + length;
        resigned(v)
    };
    let tomorrow = at(Duration::days(1), Duration::minutes(20)).await;
    let outcome = deliver(&db, &cookie, &tomorrow).await;
    assert_eq!(outcome["status"], 422, "{outcome}");
    assert!(
        outcome["message"]
            .as_str()
            .unwrap()
            .starts_with("走访时间："),
        "{outcome}"
    );
    // Ending 20 minutes from now: past the 10 minutes a phone's clock may be fast.
    let ends_late = at(Duration::minutes(-5), Duration::minutes(25)).await;
    let outcome = deliver(&db, &cookie, &ends_late).await;
    assert!(
        outcome["message"]
            .as_str()
            .unwrap()
            .starts_with("结束时间："),
        "{outcome}"
    );
    assert_eq!(store.count_visits().await.unwrap(), 0);
    // A phone 8 minutes fast: its visit, signed "now", is taken.
    let fast_clock = at(Duration::minutes(-12), Duration::minutes(20)).await;
    assert_eq!(
        deliver(&db, &cookie, &fast_clock).await["outcome"],
        "stored"
    );
}

async fn every_oversize_field_is_refused_with_its_name(db: TestDb) {
    use base64::Engine;
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    let cookie = sign_in(&db.state(), "worker1").await;
    let base = signed_visit(store, household_of(store, "worker1").await).await;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut big_png = b"\x89PNG\r\n\x1a\n".to_vec();
    big_png.resize(MAX_SIGNATURE_PNG_BYTES + 1, 7);
    let strokes = serde_json::to_string(&vec![vec![[1, 2, 3]]; MAX_SIGNATURE_STROKES + 1]).unwrap();
    let mut photo = vec![0xFF, 0xD8];
    photo.resize(daohu::visits::MAX_PHOTO_BYTES + 1, 1);
    type Edit = Box<dyn Fn(&mut VisitSubmission)>;
    let cases: Vec<(&str, Edit)> = vec![
        (
            "notes",
            Box::new(|v| v.notes = "记".repeat(MAX_NOTES_CHARS + 1)),
        ),
        ("notes", Box::new(|v| v.notes = "一切\u{0}正常".into())),
        (
            "met_with",
            Box::new(|v| v.met_with = "人".repeat(MAX_MET_WITH_CHARS + 1)),
        ),
        (
            "lines[0].reason_text",
            // Named by its place in the stored (entitlement) order: every
            // line gets it, so the first is at fault.
            Box::new(|v| {
                for l in &mut v.lines {
                    l.reason_text = "因".repeat(MAX_REASON_TEXT_CHARS + 1);
                }
            }),
        ),
        (
            "signature.signer_name",
            Box::new(|v| v.signature.signer_name = "名".repeat(MAX_SIGNER_NAME_CHARS + 1)),
        ),
        (
            "signature.proxy_reason",
            Box::new(|v| {
                v.signature.thumbprint = true;
                v.signature.proxy_reason = Some("由".repeat(MAX_PROXY_REASON_CHARS + 1));
            }),
        ),
        (
            "location",
            Box::new(|v| {
                v.location = Location::Fix {
                    lat_e6: 35_000_000,
                    lon_e6: 104_000_000,
                    accuracy_m: -1,
                }
            }),
        ),
        (
            "signature.strokes_json",
            Box::new(move |v| v.signature.strokes_json = strokes.clone()),
        ),
        (
            "signature.png_base64",
            Box::new(move |v| v.signature.png_base64 = b64(&big_png)),
        ),
        (
            "photo_base64",
            Box::new(move |v| v.photo_base64 = Some(b64(&photo))),
        ),
    ];
    for (field, edit) in cases {
        let mut visit = base.clone();
        edit(&mut visit);
        let outcome = deliver(&db, &cookie, &resigned(visit)).await;
        assert_eq!(outcome["status"], 422, "{field}: {outcome}");
        // The field to point at travels beside the words, which never
        // show its internal name.
        assert_eq!(outcome["field"], field, "{outcome}");
        let message = outcome["message"].as_str().unwrap();
        assert!(!message.contains(field), "{field} not shown in {message}");
    }
    assert_eq!(store.count_visits().await.unwrap(), 0);
    // Up to the bounds, the same visit is taken.
    let mut full = base.clone();
    full.notes = "记".repeat(MAX_NOTES_CHARS);
    assert_eq!(
        deliver(&db, &cookie, &resigned(full)).await["outcome"],
        "stored"
    );
}

async fn a_v3_visit_edited_after_signing_is_refused_and_older_layouts_still_verify(db: TestDb) {
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    let cookie = sign_in(&db.state(), "worker1").await;
    let household = household_of(store, "worker1").await;

    let mut edited = signed_visit(store, household).await;
    edited.notes = "签字后改写的备注".into();
    let outcome = deliver(&db, &cookie, &edited).await;
    assert_eq!(outcome["status"], 422, "{outcome}");
    assert!(
        outcome["message"].as_str().unwrap().contains("重新签字"),
        "{outcome}"
    );
    let mut moved = signed_visit(store, household).await;
    moved.location = Location::Refused;
    assert_eq!(deliver(&db, &cookie, &moved).await["status"], 422);
    assert_eq!(store.count_visits().await.unwrap(), 0);

    // A visit signed by an app of the v1 era, and one of the v2 era.
    let mut v1 = signed_visit(store, household).await;
    v1.signature.content_hash = confirmation_hash_as(&v1, Confirmation::V1);
    let mut v2 = signed_visit(store, household).await;
    v2.income = vec![IncomeLine {
        kind: IncomeKind::WageLocal,
        amount_fen: 500_000,
        evidence: false,
        note: String::new(),
    }];
    v2.signature.content_hash = confirmation_hash_as(&v2, Confirmation::V2);
    for old in [&v1, &v2] {
        assert_eq!(deliver(&db, &cookie, old).await["outcome"], "stored");
        assert_eq!(
            deliver(&db, &cookie, old).await["outcome"],
            "already_stored"
        );
        let stored = store.visit(old.id).await.unwrap().unwrap();
        assert_eq!(
            stored.visit.signature.content_hash,
            old.signature.content_hash
        );
    }
    // A v2 layout for content without plan or income was never made.
    let mut forged = signed_visit(store, household).await;
    forged.signature.content_hash = confirmation_hash_as(&forged, Confirmation::V2);
    assert_eq!(deliver(&db, &cookie, &forged).await["status"], 422);
}

async fn stored_visits_reproduce_their_payload_hash(db: TestDb) {
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    let cookie = sign_in(&db.state(), "worker1").await;
    let household = household_of(store, "worker1").await;
    // Sent in no particular order, with a phone's sub-millisecond clock.
    let mut visit = signed_visit(store, household).await;
    visit.lines.reverse();
    visit.income = [
        IncomeKind::Property,
        IncomeKind::WageMigrant,
        IncomeKind::BusinessCost,
        IncomeKind::WageLocal,
    ]
    .into_iter()
    .map(|kind| IncomeLine {
        kind,
        amount_fen: 10_000,
        evidence: true,
        note: kind.as_str().into(),
    })
    .collect();
    visit.started_at += Duration::nanoseconds(123_456_789);
    let visit = resigned(visit);
    assert_eq!(deliver(&db, &cookie, &visit).await["outcome"], "stored");
    assert_eq!(
        deliver(&db, &cookie, &visit).await["outcome"],
        "already_stored"
    );

    // The demo's visits, made the way a phone makes them (their income is
    // not in kind order either).
    let loaded = daohu::demo::load_visits(
        store,
        &["worker1".into(), "worker3".into()],
        common::year(),
        50,
        7,
    )
    .await
    .unwrap();
    assert!(loaded > 10, "{loaded} demo visits");

    // All of them, read back one by one and per household.
    let mut checked = 0;
    let county = store.user_by_username("county").await.unwrap().unwrap();
    let q = daohu::server::db::HouseholdQuery {
        scope: county.area,
        worker_id: None,
        village: None,
        search: None,
        payment: None,
        flags: None,
        limit: u32::MAX,
        offset: 0,
    };
    for h in store.list_households(&q).await.unwrap().0 {
        for stored in store.visits_of_household(h.id).await.unwrap() {
            assert_eq!(
                payload_hash(&stored.visit),
                stored.payload_hash,
                "visit {} read back as stored",
                stored.visit.id
            );
            assert!(Confirmation::of_signed(&stored.visit).is_some());
            let again = store.visit(stored.visit.id).await.unwrap().unwrap();
            assert_eq!(payload_hash(&again.visit), stored.payload_hash);
            checked += 1;
        }
    }
    assert_eq!(checked, loaded + 1, "every visit checked");
}

async fn a_visit_stored_before_the_canonical_form_replays_as_stored(db: TestDb) {
    use base64::Engine;
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    let cookie = sign_in(&db.state(), "worker1").await;
    let household = household_of(store, "worker1").await;
    // As a v2 phone sent it: income not in kind order, a sub-ms time.
    let mut visit = signed_visit(store, household).await;
    visit.income = [IncomeKind::Property, IncomeKind::WageLocal]
        .into_iter()
        .map(|kind| IncomeLine {
            kind,
            amount_fen: 10_000,
            evidence: false,
            note: String::new(),
        })
        .collect();
    visit.started_at += Duration::microseconds(1_500);
    visit.signature.content_hash = confirmation_hash_as(&visit, Confirmation::V2);
    // As the server before the canonical form stored it: hashed as sent.
    let mut as_sent = visit.clone();
    as_sent.lines.sort_by_key(|l| l.entitlement_id);
    let record = VisitRecord {
        payload_hash: payload_hash(&as_sent),
        signature_png: base64::engine::general_purpose::STANDARD
            .decode(&visit.signature.png_base64)
            .unwrap(),
        photo_jpeg: None,
        evidence_jpeg: Vec::new(),
        worker_id: user_id(store, "worker1").await,
        earlier_payload_hash: None,
        income_work: Vec::new(),
        visit: as_sent,
    };
    store.insert_visit(&record).await.unwrap();
    // The phone never heard back and sends it again, to the new server.
    let outcome = deliver(&db, &cookie, &visit).await;
    assert_eq!(outcome["outcome"], "already_stored", "{outcome}");
    assert!(store.visit_conflicts(visit.id).await.unwrap().is_empty());
}
