//! What the phone downloads and what the service worker is built from:
//! the roster endpoint, the `/field` shell and `/sw.js`.

mod common;

use std::collections::HashSet;

use axum::http::{StatusCode, header};
use common::{TestDb, page, sign_in};
use daohu::field::Roster;
use daohu::server::db::HouseholdQuery;
use daohu::sync::ROSTER_PATH;

on_both_backends!(
    a_worker_downloads_exactly_their_households_masked,
    the_roster_carries_this_years_stored_visits_and_their_review,
    only_field_workers_have_a_roster,
    the_field_shell_is_the_same_for_everyone,
);

async fn a_worker_downloads_exactly_their_households_masked(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let cookie = sign_in(&state, "worker1").await;
    let reply = page(&state, Some(&cookie), ROSTER_PATH).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
    let roster: Roster = serde_json::from_str(&reply.body).unwrap();

    let worker = db.store.user_by_username("worker1").await.unwrap().unwrap();
    assert_eq!(roster.user_id, worker.id);
    let (assigned, total) = db
        .store
        .list_households(&HouseholdQuery {
            scope: worker.area.clone(),
            worker_id: Some(worker.id),
            village: None,
            search: None,
            payment: None,
            flags: None,
            limit: 10_000,
            offset: 0,
        })
        .await
        .unwrap();
    assert!(total > 10, "the demo assigns worker1 many households");
    let expected: HashSet<_> = assigned.iter().map(|h| h.id).collect();
    let got: HashSet<_> = roster.households.iter().map(|h| h.summary.id).collect();
    assert_eq!(
        got, expected,
        "exactly the assigned households, no one else's"
    );

    for h in &roster.households {
        assert!(
            !h.entitlements.is_empty(),
            "{} has expected payments",
            h.summary.number
        );
        assert_eq!(h.members.len() as i64, h.summary.size);
        for m in &h.members {
            assert!(
                m.id_number_masked.contains("********"),
                "{}",
                m.id_number_masked
            );
        }
        if let Some(phone) = &h.phone_masked {
            assert!(phone.contains("****"), "{phone}");
        }
    }
    assert!(
        !reply.body.contains(
            &db.store
                .household(assigned[0].id)
                .await
                .unwrap()
                .unwrap()
                .members[0]
                .id_number
        ),
        "no full ID number leaves the server"
    );
}

/// A phone that never made a household's visit still knows it is visited
/// (made earlier or on another phone), and what the supervisor said.
async fn the_roster_carries_this_years_stored_visits_and_their_review(db: TestDb) {
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    daohu::demo::load_visits(store, &["worker1".to_owned()], common::year(), 100, 7)
        .await
        .unwrap();
    let household = common::household_of(store, "worker1").await;
    let stored = store.visits_of_household(household).await.unwrap();
    assert!(!stored.is_empty());
    let state = db.state();
    let township = sign_in(&state, "township1").await;
    let visit = stored[0].visit.id.to_string();
    let r = common::call(
        &state,
        Some(&township),
        "/api/visits/review",
        &[
            ("visit_id", visit.as_str()),
            ("state", "has_issues"),
            ("comment", "签字人与户主不符"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let cookie = sign_in(&state, "worker1").await;
    let reply = page(&state, Some(&cookie), ROSTER_PATH).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let roster: Roster = serde_json::from_str(&reply.body).unwrap();
    let year = common::year().0;
    for h in &roster.households {
        let expected: Vec<_> = store
            .visits_of_household(h.summary.id)
            .await
            .unwrap()
            .into_iter()
            .filter(|v| v.visit.stat_year == year)
            .collect();
        assert_eq!(h.visits.len(), expected.len(), "{}", h.summary.number);
        assert!(
            h.visits
                .windows(2)
                .all(|w| w[0].started_at >= w[1].started_at),
            "newest first"
        );
        for v in &h.visits {
            assert_eq!(v.household_id, h.summary.id);
            assert!(!v.worker.is_empty());
            assert_eq!(v.receipt_code.len(), 9, "{}", v.receipt_code);
        }
    }
    let reviewed = roster
        .households
        .iter()
        .flat_map(|h| &h.visits)
        .find(|v| v.visit_id.to_string() == visit)
        .expect("the reviewed visit is on the phone");
    assert_eq!(reviewed.review, daohu::visits::ReviewState::HasIssues);
    assert_eq!(reviewed.review_comment.as_deref(), Some("签字人与户主不符"));
    assert!(reviewed.has_problem());
    let list = roster.list();
    assert_eq!(
        list.visited.len(),
        roster
            .households
            .iter()
            .filter(|h| !h.visits.is_empty())
            .count()
    );
}

async fn only_field_workers_have_a_roster(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    assert_eq!(
        page(&state, None, ROSTER_PATH).await.status,
        StatusCode::UNAUTHORIZED
    );
    let supervisor = sign_in(&state, "township1").await;
    let reply = page(&state, Some(&supervisor), ROSTER_PATH).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert!(reply.json()["error"].as_str().unwrap().contains("无权"));
}

async fn the_field_shell_is_the_same_for_everyone(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    // One cached copy serves every worker and every household, so what the
    // server renders for /field must not depend on who asks or for what.
    let anonymous = page(&state, None, "/field").await;
    assert_eq!(anonymous.status, StatusCode::OK);
    assert!(anonymous.body.contains("data-testid=\"field-opening\""));
    let w1 = sign_in(&state, "worker1").await;
    let w3 = sign_in(&state, "worker3").await;
    for (cookie, path) in [
        (&w1, "/field"),
        (&w3, "/field"),
        (&w1, "/field?h=x&visit=y"),
    ] {
        let reply = page(&state, Some(cookie), path).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(
            common::without_nonces(&reply.body),
            common::without_nonces(&anonymous.body),
            "{path} differs from the anonymous shell"
        );
    }
}

#[tokio::test]
async fn the_service_worker_lists_the_shell_and_bundle_and_never_caches_itself() {
    let db = TestDb::sqlite().await;
    let reply = page(&db.state(), None, "/sw.js").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-cache");
    let build_line = reply
        .body
        .lines()
        .find(|l| l.starts_with("const DAOHU_BUILD = "))
        .unwrap();
    let build: serde_json::Value = serde_json::from_str(
        build_line
            .trim_start_matches("const DAOHU_BUILD = ")
            .trim_end_matches(';'),
    )
    .unwrap();
    let precache: Vec<&str> = build["precache"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(precache[0], "/field");
    for kind in ["js", "wasm", "css"] {
        assert!(
            precache
                .iter()
                .any(|p| p.starts_with("/pkg/daohu") && p.ends_with(kind)),
            "{precache:?}"
        );
    }
    assert!(
        reply.body.contains("addEventListener('fetch'"),
        "the hand-written worker follows"
    );
}
