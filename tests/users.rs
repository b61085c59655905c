//! Creating users (`daohu user add`): every refusal names its field.

mod common;

use common::TestDb;
use daohu::auth::Role;
use daohu::auth::service::{NewUser, create_user};
use daohu::error::AppError;

on_both_backends!(
    user_creation_validates_each_field,
    a_village_overview_counts_its_own_households
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
