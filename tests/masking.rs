//! Nothing a role that sees masked ID numbers receives lets the whole number
//! be rebuilt: for every member of the households a user can open, neither
//! the full number nor its birth date (the eight digits the mask hides, in
//! any common spelling) appears in any page, JSON answer or roster.

mod common;

use axum::http::StatusCode;
use common::{TestDb, call, page, sign_in};
use daohu::households::id_number::IdNumber;
use daohu::server::db::{HouseholdQuery, Store};
use uuid::Uuid;

on_both_backends!(no_answer_lets_a_masked_id_number_be_rebuilt);

/// The households `username` may open (all of them for a field worker, the
/// first 25 of the area otherwise).
async fn households_of(store: &dyn Store, username: &str) -> Vec<Uuid> {
    let user = store.user_by_username(username).await.unwrap().unwrap();
    let worker_only = user.role == daohu::auth::Role::FieldWorker;
    let q = HouseholdQuery {
        scope: user.area.clone(),
        worker_id: worker_only.then_some(user.id),
        village: None,
        search: None,
        payment: None,
        flags: None,
        limit: 25,
        offset: 0,
    };
    store
        .list_households(&q)
        .await
        .unwrap()
        .0
        .into_iter()
        .map(|r| r.id)
        .collect()
}

/// Every way a birth date could be written next to the masked number.
fn spellings(id: &IdNumber) -> Vec<String> {
    let d = id.birth_date();
    vec![
        d.format("%Y%m%d").to_string(),
        d.format("%Y-%m-%d").to_string(),
        d.format("%Y/%m/%d").to_string(),
        d.format("%Y年%m月%d日").to_string(),
        d.format("%Y年%-m月%-d日").to_string(),
        d.format("%Y.%m.%d").to_string(),
    ]
}

async fn no_answer_lets_a_masked_id_number_be_rebuilt(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let mut checked_members = 0;
    for username in ["worker1", "township1", "county"] {
        let cookie = sign_in(&state, username).await;
        let ids = households_of(db.store.as_ref(), username).await;
        assert!(!ids.is_empty(), "{username} has households");
        let mut answers: Vec<(String, String)> = Vec::new();
        if username == "worker1" {
            let r = page(&state, Some(&cookie), daohu::sync::ROSTER_PATH).await;
            assert_eq!(r.status, StatusCode::OK, "roster: {}", r.body);
            answers.push(("roster".into(), r.body));
        }
        let r = page(&state, Some(&cookie), "/households").await;
        answers.push(("/households".into(), r.body));
        let r = call(&state, Some(&cookie), "/api/households/list", &[]).await;
        answers.push(("households/list".into(), r.body));
        for id in &ids {
            let path = format!("/households/{id}");
            let r = page(&state, Some(&cookie), &path).await;
            assert_eq!(r.status, StatusCode::OK, "{path}");
            answers.push((path, r.body));
            let r = call(
                &state,
                Some(&cookie),
                "/api/households/get",
                &[("id", &id.to_string())],
            )
            .await;
            assert_eq!(r.status, StatusCode::OK, "households/get {id}: {}", r.body);
            answers.push((format!("households/get {id}"), r.body));
        }
        for id in &ids {
            let household = db.store.household(*id).await.unwrap().unwrap();
            for m in &household.members {
                let parsed = IdNumber::parse(&m.id_number).expect("demo numbers are valid");
                let masked = daohu::households::id_number::mask_id_number(&m.id_number);
                let page = &answers
                    .iter()
                    .find(|(p, _)| p == &format!("/households/{id}"))
                    .unwrap()
                    .1;
                assert!(page.contains(&masked), "the page shows {masked}");
                for (source, body) in &answers {
                    assert!(
                        !body.contains(&m.id_number),
                        "{source} holds the full number of {}",
                        m.name
                    );
                    for s in spellings(&parsed) {
                        assert!(
                            !(body.contains(&masked) && body.contains(&s)),
                            "{source} shows {masked} beside the birth date {s}"
                        );
                    }
                }
                checked_members += 1;
            }
        }
    }
    assert!(checked_members > 50, "checked {checked_members} members");
}
