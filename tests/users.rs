//! Creating users (`daohu user add`): every refusal names its field.

mod common;

use axum::http::StatusCode;
use common::{Reply, TestDb, call, page, post_json, sign_in};
use daohu::auth::Role;
use daohu::auth::service::{NewUser, create_user};
use daohu::error::AppError;

on_both_backends!(
    user_creation_validates_each_field,
    a_village_overview_counts_its_own_households,
    a_county_admin_lists_and_creates_users_below_them,
    a_township_supervisor_manages_only_field_workers_of_their_township,
    a_disabled_user_is_locked_out_at_once_everywhere,
    user_and_assignment_endpoints_need_a_session,
);

fn new_user(username: &str, role: Role, area: &str, password: &str) -> NewUser {
    NewUser {
        username: username.into(),
        display_name: "王芳".into(),
        role,
        area: area.into(),
        password: password.into(),
    }
}

async fn user_creation_validates_each_field(db: TestDb) {
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    let cases = [
        (
            new_user("w", Role::FieldWorker, "621102100201", "long-enough"),
            "用户名",
        ),
        (
            new_user(
                "wang fang",
                Role::FieldWorker,
                "621102100201",
                "long-enough",
            ),
            "用户名",
        ),
        (
            new_user("wangfang", Role::FieldWorker, "621102100201", "short"),
            "密码",
        ),
        (
            new_user("wangfang", Role::FieldWorker, "62110210020", "long-enough"),
            "区划代码",
        ),
        (
            new_user("wangfang", Role::CountyAdmin, "621102100201", "long-enough"),
            "区划代码",
        ),
        (
            new_user("wangfang", Role::FieldWorker, "621102100299", "long-enough"),
            "区划代码",
        ),
        (
            new_user("worker1", Role::FieldWorker, "621102100201", "long-enough"),
            "用户名",
        ),
    ];
    for (user, field) in cases {
        let name = user.username.clone();
        match create_user(store, user).await {
            Err(AppError::Validation { field: f, message }) => {
                assert_eq!(f, field, "{name}: {message}")
            }
            other => panic!("{name}: expected a refusal on {field}, got {other:?}"),
        }
    }
    let ok = create_user(
        store,
        new_user("wangfang", Role::FieldWorker, "621102100201", "long-enough"),
    )
    .await
    .unwrap();
    assert_eq!(
        store
            .user_by_username("wangfang")
            .await
            .unwrap()
            .unwrap()
            .id,
        ok.id
    );
}

async fn a_village_overview_counts_its_own_households(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let cookie = common::sign_in(&state, "township1").await;
    let r = common::call(
        &state,
        Some(&cookie),
        "/api/areas/overview",
        &[("code", "621102100201")],
    )
    .await;
    let json = r.json();
    let listed = common::call(
        &state,
        Some(&cookie),
        "/api/households/list",
        &[("village", "621102100201")],
    )
    .await
    .json();
    assert_eq!(json["total"]["households"], listed["total"]);
    assert!(listed["total"].as_i64().unwrap() > 0);
}

/// The field and message of a 422 answer.
fn refusal(r: &Reply) -> (String, String) {
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let v = &r.json()["Validation"];
    (
        v["field"].as_str().unwrap().to_owned(),
        v["message"].as_str().unwrap().to_owned(),
    )
}

async fn create(
    state: &daohu::server::AppState,
    cookie: &str,
    username: &str,
    role: &str,
    area: &str,
    password: &str,
) -> Reply {
    call(
        state,
        Some(cookie),
        "/api/users/create",
        &[
            ("username", username),
            ("display_name", "李梅"),
            ("role", role),
            ("area", area),
            ("password", password),
        ],
    )
    .await
}

fn usernames(list: &serde_json::Value) -> Vec<String> {
    let mut names: Vec<String> = list["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

async fn a_county_admin_lists_and_creates_users_below_them(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let store = db.store.as_ref();
    let county = sign_in(&state, "county").await;
    let r = call(
        &state,
        Some(&county),
        "/api/users/list",
        &[("code", "621102000000")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let list = r.json();
    assert_eq!(
        usernames(&list),
        [
            "township1",
            "township2",
            "worker1",
            "worker2",
            "worker3",
            "worker4"
        ],
        "everyone below the county admin, not the admin"
    );
    assert_eq!(
        list["roles"],
        serde_json::json!(["TownshipSupervisor", "FieldWorker"])
    );
    let areas: Vec<_> = list["areas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        areas,
        ["621102100000", "621102201000"],
        "nobody is bound to the county itself from here"
    );
    // Caseload: the households assigned, as the store counts them.
    let worker1 = store.user_by_username("worker1").await.unwrap().unwrap();
    let (_, held) = store
        .list_households(&daohu::server::db::HouseholdQuery {
            scope: worker1.area.clone(),
            worker_id: Some(worker1.id),
            village: None,
            search: None,
            payment: None,
            flags: None,
            limit: 1,
            offset: 0,
        })
        .await
        .unwrap();
    let row = list["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "worker1")
        .unwrap();
    assert_eq!(row["caseload"], held);
    assert!(held > 0);

    let r = create(
        &state,
        &county,
        "limei",
        "field_worker",
        "621102100000",
        "chushi-mima",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["username"], "limei");
    assert_eq!(r.json()["active"], true);
    let ok = call(
        &state,
        None,
        "/api/auth/sign_in",
        &[("username", "limei"), ("password", "chushi-mima")],
    )
    .await;
    assert_eq!(
        ok.status,
        StatusCode::OK,
        "the new worker signs in: {}",
        ok.body
    );

    let (field, message) = refusal(
        &create(
            &state,
            &county,
            "limei",
            "field_worker",
            "621102100000",
            "chushi-mima",
        )
        .await,
    );
    assert_eq!(
        (field.as_str(), message.as_str()),
        ("用户名", "“limei”已被使用")
    );
    let (field, _) = refusal(
        &create(
            &state,
            &county,
            "lilei",
            "field_worker",
            "621102100000",
            "short",
        )
        .await,
    );
    assert_eq!(field, "密码");
    let (field, message) = refusal(
        &create(
            &state,
            &county,
            "lilei",
            "field_worker",
            "621102000000",
            "chushi-mima",
        )
        .await,
    );
    assert_eq!(field, "区划代码");
    assert!(message.contains("不能绑定到县区级区域"), "{message}");
    let (field, _) = refusal(
        &create(
            &state,
            &county,
            "lilei",
            "chief",
            "621102100000",
            "chushi-mima",
        )
        .await,
    );
    assert_eq!(field, "角色");
    let created = store.audit_events("create_user").await.unwrap();
    assert_eq!(created.len(), 1);
    assert_eq!(
        (created[0].target.as_str(), created[0].outcome.as_str()),
        ("limei", "ok")
    );
}

async fn a_township_supervisor_manages_only_field_workers_of_their_township(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let store = db.store.as_ref();
    let township1 = sign_in(&state, "township1").await;
    let list = call(
        &state,
        Some(&township1),
        "/api/users/list",
        &[("code", "621102100000")],
    )
    .await
    .json();
    assert_eq!(usernames(&list), ["worker1", "worker2"]);
    assert_eq!(list["roles"], serde_json::json!(["FieldWorker"]));
    assert_eq!(
        list["areas"].as_array().unwrap().len(),
        4,
        "the township and its 3 villages"
    );

    // Beside their township, above or at their rank: refused and recorded,
    // nothing written.
    let r = call(
        &state,
        Some(&township1),
        "/api/users/list",
        &[("code", "621102201000")],
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    // Another area is answered as unknown; a rank at or above theirs is
    // refused for the role.
    for (username, role, area, status) in [
        (
            "elsewhere",
            "field_worker",
            "621102201201",
            StatusCode::NOT_FOUND,
        ),
        (
            "peer",
            "township_supervisor",
            "621102100000",
            StatusCode::FORBIDDEN,
        ),
        (
            "boss",
            "county_admin",
            "621102000000",
            StatusCode::FORBIDDEN,
        ),
    ] {
        let r = create(&state, &township1, username, role, area, "chushi-mima").await;
        assert_eq!(r.status, status, "{username}: {}", r.body);
        assert!(store.user_by_username(username).await.unwrap().is_none());
    }
    let refused = store.audit_events("create_user").await.unwrap();
    assert_eq!(refused.len(), 3);
    assert!(refused.iter().all(|e| e.outcome == "forbidden"));
    assert_eq!(store.audit_events("list_users").await.unwrap().len(), 1);

    // Inside: a worker of one of their villages.
    let r = create(
        &state,
        &township1,
        "cunganbu",
        "field_worker",
        "621102100202",
        "chushi-mima",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["area"]["code"], "621102100202");

    // Field workers manage nobody.
    let worker1 = sign_in(&state, "worker1").await;
    let r = call(
        &state,
        Some(&worker1),
        "/api/users/list",
        &[("code", "621102100000")],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = create(
        &state,
        &worker1,
        "helper",
        "field_worker",
        "621102100201",
        "chushi-mima",
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(store.user_by_username("helper").await.unwrap().is_none());
}

async fn a_disabled_user_is_locked_out_at_once_everywhere(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let store = db.store.as_ref();
    let worker1_id = store
        .user_by_username("worker1")
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string();
    let township1_id = store
        .user_by_username("township1")
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string();
    let worker2_id = store
        .user_by_username("worker2")
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string();
    let township1 = sign_in(&state, "township1").await;
    let township2 = sign_in(&state, "township2").await;
    let worker1 = sign_in(&state, "worker1").await;
    assert_eq!(
        page(&state, Some(&worker1), daohu::sync::ROSTER_PATH)
            .await
            .status,
        StatusCode::OK
    );
    let set_active = |cookie: String, id: String, active: &'static str| {
        let state = state.clone();
        async move {
            call(
                &state,
                Some(&cookie),
                "/api/users/set_active",
                &[("user_id", id.as_str()), ("active", active)],
            )
            .await
        }
    };

    // Nobody disables themselves, or someone they do not manage.
    let (field, _) = refusal(&set_active(township1.clone(), township1_id.clone(), "false").await);
    assert_eq!(field, "用户");
    let r = set_active(township2.clone(), worker1_id.clone(), "false").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = set_active(township1.clone(), township1_id.clone(), "true").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = set_active(worker1.clone(), worker2_id.clone(), "false").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        store
            .user_by_username("worker2")
            .await
            .unwrap()
            .unwrap()
            .active
    );
    assert!(
        store
            .user_by_username("worker1")
            .await
            .unwrap()
            .unwrap()
            .active
    );
    assert_eq!(store.audit_events("disable_user").await.unwrap().len(), 2);

    let r = set_active(township1.clone(), worker1_id.clone(), "false").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // The open session is dead on every path: pages' server functions, the
    // roster download and the phone's sync.
    let r = call(&state, Some(&worker1), "/api/households/list", &[]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = page(&state, Some(&worker1), daohu::sync::ROSTER_PATH).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let household = common::household_of(store, "worker2").await;
    let visit = common::signed_visit(store, household).await;
    let body = serde_json::json!({ "visits": [visit] }).to_string();
    let r = post_json(&state, Some(&worker1), daohu::sync::VISITS_PATH, body).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    assert!(
        store.visit(visit.id).await.unwrap().is_none(),
        "nothing stored"
    );
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
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "a disabled user cannot sign in"
    );
    // The list shows the account as disabled.
    let list = call(
        &state,
        Some(&township1),
        "/api/users/list",
        &[("code", "621102100000")],
    )
    .await
    .json();
    let row = list["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "worker1")
        .cloned()
        .unwrap();
    assert_eq!(row["active"], false);

    // Re-enabled: a fresh sign-in works, the old session stays dead.
    let r = set_active(township1.clone(), worker1_id.clone(), "true").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = call(&state, Some(&worker1), "/api/households/list", &[]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let again = sign_in(&state, "worker1").await;
    let r = call(&state, Some(&again), "/api/households/list", &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    let steps: Vec<_> = [
        store.audit_events("disable_user").await.unwrap(),
        store.audit_events("enable_user").await.unwrap(),
    ]
    .concat()
    .into_iter()
    .filter(|e| e.outcome == "ok")
    .map(|e| e.target)
    .collect();
    assert_eq!(steps, ["worker1", "worker1"]);
}

async fn user_and_assignment_endpoints_need_a_session(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    for path in [
        "/api/users/list",
        "/api/users/create",
        "/api/users/set_active",
        "/api/users/workers",
        "/api/households/assign",
        "/api/households/assign_village",
    ] {
        let r = call(
            &state,
            None,
            path,
            &[
                ("code", "621102100000"),
                ("area", "621102100000"),
                ("username", "x"),
                ("display_name", "x"),
                ("role", "field_worker"),
                ("password", "long-enough"),
                ("user_id", "0190f000-0000-7000-8000-000000000000"),
                ("active", "false"),
                ("household_id", "0190f000-0000-7000-8000-000000000000"),
                ("village", "621102100201"),
                ("worker_id", "0190f000-0000-7000-8000-000000000000"),
                ("only_unassigned", "true"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}: {}", r.body);
        assert!(
            db.store
                .audit_events("create_user")
                .await
                .unwrap()
                .is_empty()
        );
    }
}
