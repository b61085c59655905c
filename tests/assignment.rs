//! Assigning households to field workers, one at a time and by village:
//! who may, to whom, what the trail records, and that the worker's roster
//! follows.

mod common;

use std::collections::HashSet;

use axum::http::StatusCode;
use common::{Reply, TestDb, call, page, sign_in};
use daohu::auth::Role;
use daohu::auth::service::{NewUser, create_user};
use daohu::field::Roster;
use daohu::server::AppState;
use daohu::server::db::{HouseholdQuery, Store};
use daohu::sync::ROSTER_PATH;
use uuid::Uuid;

on_both_backends!(
    a_supervisor_assigns_one_household_and_the_rosters_follow,
    bulk_assignment_by_village_counts_what_changed,
    assignment_refusals_write_nothing,
    the_worker_choice_is_the_active_field_workers_who_may_take_the_village,
);

const VILLAGE: &str = "621102100201";

async fn user_id(store: &dyn Store, username: &str) -> Uuid {
    store.user_by_username(username).await.unwrap().unwrap().id
}

/// A user created the way an admin would, returned by id.
async fn new_user(store: &dyn Store, username: &str, role: Role, area: &str) -> Uuid {
    create_user(
        store,
        NewUser {
            username: username.into(),
            display_name: format!("{username}姓名"),
            role,
            area: area.into(),
            password: daohu::demo::DEMO_PASSWORD.into(),
        },
    )
    .await
    .unwrap()
    .id
}

async fn roster_ids(state: &AppState, username: &str) -> HashSet<Uuid> {
    let cookie = sign_in(state, username).await;
    let r = page(state, Some(&cookie), ROSTER_PATH).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // The phone's progress bar measures against this.
    assert_eq!(
        r.headers[daohu::sync::ROSTER_LENGTH_HEADER]
            .to_str()
            .unwrap(),
        r.bytes.len().to_string()
    );
    let roster: Roster = serde_json::from_str(&r.body).unwrap();
    roster.households.iter().map(|h| h.summary.id).collect()
}

/// Households of `village`, with their worker.
async fn village_households(store: &dyn Store, village: &str) -> Vec<(Uuid, Option<Uuid>)> {
    let code = daohu::areas::AreaCode::parse(village).unwrap();
    let (rows, _) = store
        .list_households(&HouseholdQuery {
            scope: code.clone(),
            worker_id: None,
            village: Some(code),
            search: None,
            payment: None,
            flags: None,
            limit: 10_000,
            offset: 0,
        })
        .await
        .unwrap();
    rows.into_iter().map(|r| (r.id, r.worker_id)).collect()
}

async fn assign(state: &AppState, cookie: &str, household: Uuid, worker: &str) -> Reply {
    let household = household.to_string();
    call(
        state,
        Some(cookie),
        "/api/households/assign",
        &[("household_id", household.as_str()), ("worker_id", worker)],
    )
    .await
}

async fn assign_village(
    state: &AppState,
    cookie: &str,
    village: &str,
    worker: &str,
    only_unassigned: bool,
) -> Reply {
    call(
        state,
        Some(cookie),
        "/api/households/assign_village",
        &[
            ("village", village),
            ("worker_id", worker),
            (
                "only_unassigned",
                if only_unassigned { "true" } else { "false" },
            ),
        ],
    )
    .await
}

fn changed(r: &Reply) -> u64 {
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["changed"].as_u64().unwrap()
}

/// The 待分配 count of a village as its area page shows it.
async fn waiting_on_page(state: &AppState, cookie: &str, village: &str) -> i64 {
    let r = call(
        state,
        Some(cookie),
        "/api/areas/overview",
        &[("code", village)],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["total"]["unassigned"].as_i64().unwrap()
}

async fn a_supervisor_assigns_one_household_and_the_rosters_follow(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let store = db.store.as_ref();
    let household = common::household_of(store, "worker2").await;
    let (worker1, worker2) = (
        user_id(store, "worker1").await,
        user_id(store, "worker2").await,
    );
    assert!(roster_ids(&state, "worker2").await.contains(&household));
    assert!(!roster_ids(&state, "worker1").await.contains(&household));

    let township1 = sign_in(&state, "township1").await;
    let r = assign(&state, &township1, household, &worker1.to_string()).await;
    assert_eq!(changed(&r), 1);
    // The phones pick it up on their next download.
    assert!(roster_ids(&state, "worker1").await.contains(&household));
    assert!(!roster_ids(&state, "worker2").await.contains(&household));
    let trail = store.assignments_of_household(household).await.unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(
        (
            trail[0].old_worker_id,
            trail[0].new_worker_id,
            trail[0].assigned_by
        ),
        (Some(worker2), worker1, user_id(store, "township1").await)
    );
    // Already theirs: nothing changes, nothing is recorded.
    assert_eq!(
        changed(&assign(&state, &township1, household, &worker1.to_string()).await),
        0
    );
    assert_eq!(
        store
            .assignments_of_household(household)
            .await
            .unwrap()
            .len(),
        1
    );
    // The household page names the new worker.
    let id = household.to_string();
    let detail = call(
        &state,
        Some(&township1),
        "/api/households/get",
        &[("id", id.as_str())],
    )
    .await;
    let name = store
        .user_by_id(worker1)
        .await
        .unwrap()
        .unwrap()
        .display_name;
    assert_eq!(detail.json()["worker_name"], name.as_str());
}

async fn bulk_assignment_by_village_counts_what_changed(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let store = db.store.as_ref();
    let newcomer = new_user(store, "xinren", Role::FieldWorker, VILLAGE).await;
    let worker2 = user_id(store, "worker2").await;
    let township1 = sign_in(&state, "township1").await;
    // worker2 leaves: their households wait for a worker (待分配), like
    // those never assigned.
    store.set_user_active(worker2, false).await.unwrap();
    let before = village_households(store, VILLAGE).await;
    let waiting = before
        .iter()
        .filter(|(_, w)| w.is_none() || *w == Some(worker2))
        .count();
    assert!(waiting > 0);
    assert_eq!(
        waiting_on_page(&state, &township1, VILLAGE).await,
        waiting as i64
    );
    let township_waiting = waiting_on_page(&state, &township1, "621102100000").await;
    assert!(township_waiting >= waiting as i64);

    let r = assign_village(&state, &township1, VILLAGE, &newcomer.to_string(), true).await;
    assert_eq!(changed(&r), waiting as u64);
    assert_eq!(waiting_on_page(&state, &township1, VILLAGE).await, 0);
    assert_eq!(
        waiting_on_page(&state, &township1, "621102100000").await,
        township_waiting - waiting as i64
    );
    let after = village_households(store, VILLAGE).await;
    for ((id, old), (_, new)) in before.iter().zip(&after) {
        if old.is_none() || *old == Some(worker2) {
            assert_eq!(*new, Some(newcomer));
            let trail = store.assignments_of_household(*id).await.unwrap();
            assert_eq!(
                (trail[0].old_worker_id, trail[0].new_worker_id),
                (*old, newcomer)
            );
        } else {
            assert_eq!(new, old, "a household with an active worker keeps them");
        }
    }

    // The whole village: the rest changes hands, and the roster is the village.
    let r = assign_village(&state, &township1, VILLAGE, &newcomer.to_string(), false).await;
    assert_eq!(changed(&r), (before.len() - waiting) as u64);
    assert_eq!(
        changed(&assign_village(&state, &township1, VILLAGE, &newcomer.to_string(), false).await),
        0
    );
    let everyone: HashSet<Uuid> = before.iter().map(|(id, _)| *id).collect();
    assert_eq!(roster_ids(&state, "xinren").await, everyone);
}

async fn assignment_refusals_write_nothing(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let store = db.store.as_ref();
    let household = common::household_of(store, "worker1").await;
    let worker1 = user_id(store, "worker1").await;
    let worker3 = user_id(store, "worker3").await.to_string();
    let township2_id = user_id(store, "township2").await.to_string();
    let neighbour = new_user(store, "linCun", Role::FieldWorker, "621102100202")
        .await
        .to_string();
    let gone = new_user(store, "likai", Role::FieldWorker, "621102100000").await;
    store.set_user_active(gone, false).await.unwrap();
    let gone = gone.to_string();
    let village = store
        .household(household)
        .await
        .unwrap()
        .unwrap()
        .village
        .to_string();

    let cookie1 = sign_in(&state, "worker1").await;
    let township1 = sign_in(&state, "township1").await;
    let township2 = sign_in(&state, "township2").await;
    // Field workers assign nothing; another township's supervisor neither.
    let w1 = worker1.to_string();
    // The worker is refused for the role (403), the other supervisor as if
    // the household and village did not exist (404).
    for (cookie, who, status) in [
        (&cookie1, "worker1", StatusCode::FORBIDDEN),
        (&township2, "township2", StatusCode::NOT_FOUND),
    ] {
        let r = assign(&state, cookie, household, &w1).await;
        assert_eq!(r.status, status, "{who}: {}", r.body);
        let r = assign_village(&state, cookie, &village, &w1, false).await;
        assert_eq!(r.status, status, "{who}: {}", r.body);
    }
    assert_eq!(
        store.audit_events("assign_household").await.unwrap().len(),
        2
    );
    assert_eq!(store.audit_events("assign_village").await.unwrap().len(), 2);

    // Workers who cannot take the household: each refusal names the field.
    let cases = [
        (worker3.as_str(), "不在本乡镇"),
        (gone.as_str(), "已停用"),
        (township2_id.as_str(), "不是帮扶干部"),
        (neighbour.as_str(), "另一个村"),
        ("0190f000-0000-7000-8000-000000000000", "不存在"),
        ("", "请选择"),
    ];
    for (worker, why) in cases {
        for r in [
            assign(&state, &township1, household, worker).await,
            assign_village(&state, &township1, &village, worker, false).await,
        ] {
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{worker}: {}",
                r.body
            );
            let v = &r.json()["Validation"];
            assert_eq!(v["field"], "帮扶干部");
            assert!(
                v["message"].as_str().unwrap().contains(why),
                "{why}: {}",
                r.body
            );
        }
    }
    // Not a village: named too.
    let r = assign_village(&state, &township1, "621102100000", &w1, false).await;
    assert_eq!(r.json()["Validation"]["field"], "村", "{}", r.body);

    for (id, worker) in village_households(store, &village).await {
        assert!(store.assignments_of_household(id).await.unwrap().is_empty());
        if id == household {
            assert_eq!(worker, Some(worker1));
        }
    }
}

async fn the_worker_choice_is_the_active_field_workers_who_may_take_the_village(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let store = db.store.as_ref();
    new_user(store, "bencun", Role::FieldWorker, VILLAGE).await;
    new_user(store, "linCun", Role::FieldWorker, "621102100202").await;
    let gone = new_user(store, "likai", Role::FieldWorker, "621102100000").await;
    store.set_user_active(gone, false).await.unwrap();
    let township1 = sign_in(&state, "township1").await;
    let names = |r: Reply| {
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let mut v: Vec<String> = r
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["username"].as_str().unwrap().to_owned())
            .collect();
        v.sort();
        v
    };
    let r = call(
        &state,
        Some(&township1),
        "/api/users/workers",
        &[("area", VILLAGE)],
    )
    .await;
    assert_eq!(names(r), ["bencun", "worker1", "worker2"]);
    let r = call(
        &state,
        Some(&township1),
        "/api/users/workers",
        &[("area", "621102100000")],
    )
    .await;
    assert_eq!(names(r), ["bencun", "linCun", "worker1", "worker2"]);
    let township2 = sign_in(&state, "township2").await;
    let r = call(
        &state,
        Some(&township2),
        "/api/users/workers",
        &[("area", VILLAGE)],
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
