//! The access rule as a matrix: every role × in scope / out of scope ×
//! every server function that reads household data, through the real HTTP
//! endpoints. A user sees their area node and everything below it; a field
//! worker sees only the households assigned to them.

mod common;

use axum::http::StatusCode;
use common::{TestDb, call, sign_in};
use daohu::areas::{Area, AreaCode};
use daohu::auth::Role;
use daohu::auth::service::{NewUser, create_user};
use daohu::households::{Category, HealthStatus, LabourStatus};
use daohu::server::db::{HouseholdRecord, MemberRecord, Store};
use serde_json::Value;
use uuid::Uuid;

on_both_backends!(access_matrix_holds_for_every_role_and_server_function);

fn code(s: &str) -> AreaCode {
    AreaCode::parse(s).unwrap()
}

/// One household in a village of its own, outside the demo county.
async fn lone_household(store: &dyn Store, areas: &[(&str, &str)], id_number: &str) -> Uuid {
    let areas: Vec<Area> = areas
        .iter()
        .map(|(c, n)| Area {
            code: code(c),
            name: (*n).into(),
        })
        .collect();
    store.upsert_areas(&areas).await.unwrap();
    let village = areas.last().unwrap().code.clone();
    let h = HouseholdRecord {
        id: Uuid::now_v7(),
        number: format!("{village}0001"),
        head_name: "界外户".into(),
        category: Category::Alleviated,
        relocated: false,
        village,
        worker_id: None,
        phone: None,
        members: vec![MemberRecord {
            id: Uuid::now_v7(),
            name: "界外户".into(),
            relation: "户主".into(),
            id_number: id_number.into(),
            labour: LabourStatus::Full,
            health: HealthStatus::Healthy,
        }],
    };
    store
        .insert_households(std::slice::from_ref(&h), &[])
        .await
        .unwrap();
    h.id
}

struct Case {
    user: &'static str,
    /// The area the user may open, if their role has area pages.
    own_area: Option<&'static str>,
    /// An area beside theirs.
    other_area: &'static str,
    /// A village in scope, and one out of scope.
    own_village: &'static str,
    other_village: &'static str,
    /// A household out of scope for this user.
    other_household: Uuid,
}

async fn access_matrix_holds_for_every_role_and_server_function(db: TestDb) {
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    let other_county = lone_household(
        store,
        &[
            ("621121000000", "通渭县"),
            ("621121100000", "平襄镇"),
            ("621121100201", "界外村"),
        ],
        "440524188001010014",
    )
    .await;
    let other_city = lone_household(
        store,
        &[
            ("620100000000", "兰州市"),
            ("620102000000", "城关区"),
            ("620102001000", "街道"),
            ("620102001001", "社区"),
        ],
        "110101199003074477",
    )
    .await;
    let other_province = lone_household(
        store,
        &[
            ("610000000000", "陕西省"),
            ("610100000000", "西安市"),
            ("610102000000", "新城区"),
            ("610102001000", "街道"),
            ("610102001001", "社区"),
        ],
        "11010519491231002X",
    )
    .await;
    for (username, role, area) in [
        ("city", Role::CityAdmin, "621100000000"),
        ("province", Role::ProvinceAdmin, "620000000000"),
    ] {
        create_user(
            store,
            NewUser {
                username: username.into(),
                display_name: username.into(),
                role,
                area: area.into(),
                password: "daohu2026".into(),
            },
        )
        .await
        .unwrap();
    }
    // worker1's own household is in scope for everyone up its chain.
    let mine = common::household_of(store, "worker1").await;
    // Same township, assigned to a colleague: outside worker1's scope only.
    let colleagues = common::household_of(store, "worker2").await;
    let township2s = common::household_of(store, "worker3").await;

    let cases = [
        Case {
            user: "worker1",
            own_area: None,
            other_area: "621102201000",
            own_village: "621102100201",
            other_village: "621102201201",
            other_household: colleagues,
        },
        Case {
            user: "township1",
            own_area: Some("621102100000"),
            other_area: "621102201000",
            own_village: "621102100201",
            other_village: "621102201201",
            other_household: township2s,
        },
        Case {
            user: "county",
            own_area: Some("621102000000"),
            other_area: "621121000000",
            own_village: "621102100201",
            other_village: "621121100201",
            other_household: other_county,
        },
        Case {
            user: "city",
            own_area: Some("621100000000"),
            other_area: "620100000000",
            own_village: "621102100201",
            other_village: "620102001001",
            other_household: other_city,
        },
        Case {
            user: "province",
            own_area: Some("620000000000"),
            other_area: "610000000000",
            own_village: "621102100201",
            other_village: "610102001001",
            other_household: other_province,
        },
    ];
    let state = db.state();
    let mut checked = 0;
    for case in &cases {
        let cookie = sign_in(&state, case.user).await;
        let me = store.user_by_username(case.user).await.unwrap().unwrap();
        let c = Some(cookie.as_str());
        let expect = |r: &common::Reply, status: StatusCode, what: &str| {
            assert_eq!(r.status, status, "{} / {what}: {}", case.user, r.body);
        };

        // get_household
        let r = call(
            &state,
            c,
            "/api/households/get",
            &[("id", &mine.to_string())],
        )
        .await;
        expect(&r, StatusCode::OK, "get_household in scope");
        let r = call(
            &state,
            c,
            "/api/households/get",
            &[("id", &case.other_household.to_string())],
        )
        .await;
        expect(&r, StatusCode::FORBIDDEN, "get_household out of scope");
        if case.user == "worker1" {
            let r = call(
                &state,
                c,
                "/api/households/get",
                &[("id", &township2s.to_string())],
            )
            .await;
            expect(
                &r,
                StatusCode::FORBIDDEN,
                "get_household in another township",
            );
        }

        // get_plan: the household's plan part, same reach as its page
        let r = call(
            &state,
            c,
            "/api/plans/get",
            &[("household_id", &mine.to_string())],
        )
        .await;
        expect(&r, StatusCode::OK, "get_plan in scope");
        let r = call(
            &state,
            c,
            "/api/plans/get",
            &[("household_id", &case.other_household.to_string())],
        )
        .await;
        expect(&r, StatusCode::FORBIDDEN, "get_plan out of scope");

        // get_household_income: the household's account, same reach
        let r = call(
            &state,
            c,
            "/api/income/household",
            &[("household_id", &mine.to_string())],
        )
        .await;
        expect(&r, StatusCode::OK, "get_household_income in scope");
        let r = call(
            &state,
            c,
            "/api/income/household",
            &[("household_id", &case.other_household.to_string())],
        )
        .await;
        expect(
            &r,
            StatusCode::FORBIDDEN,
            "get_household_income out of scope",
        );

        // list_households: unfiltered, in-scope village, out-of-scope village
        let r = call(&state, c, "/api/households/list", &[]).await;
        expect(&r, StatusCode::OK, "list_households");
        let listed = r.json();
        assert!(listed["total"].as_i64().unwrap() > 0);
        for h in listed["households"].as_array().unwrap() {
            let village = code(h["village"]["code"].as_str().unwrap());
            assert!(me.area.contains(&village), "{} sees {village}", case.user);
            if me.role == Role::FieldWorker {
                let id: Uuid = h["id"].as_str().unwrap().parse().unwrap();
                let rec = store.household(id).await.unwrap().unwrap();
                assert_eq!(
                    rec.worker_id,
                    Some(me.id),
                    "worker sees only assigned households"
                );
            }
        }
        let r = call(
            &state,
            c,
            "/api/households/list",
            &[("village", case.own_village)],
        )
        .await;
        expect(&r, StatusCode::OK, "list_households own village");
        assert!(
            r.json()["households"]
                .as_array()
                .unwrap()
                .iter()
                .all(|h: &Value| h["village"]["code"] == case.own_village)
        );
        let r = call(
            &state,
            c,
            "/api/households/list",
            &[("village", case.other_village)],
        )
        .await;
        expect(&r, StatusCode::FORBIDDEN, "list_households other village");

        // list_my_villages: only villages in scope
        let r = call(&state, c, "/api/households/villages", &[]).await;
        expect(&r, StatusCode::OK, "list_my_villages");
        for v in r.json().as_array().unwrap() {
            assert!(me.area.contains(&code(v["code"].as_str().unwrap())));
        }

        // get_area_overview
        match case.own_area {
            Some(own) => {
                let r = call(&state, c, "/api/areas/overview", &[("code", own)]).await;
                expect(&r, StatusCode::OK, "area overview own");
                assert!(r.json()["total"]["households"].as_i64().unwrap() > 0);
            }
            None => {
                let r = call(
                    &state,
                    c,
                    "/api/areas/overview",
                    &[("code", me.area.as_str())],
                )
                .await;
                expect(
                    &r,
                    StatusCode::FORBIDDEN,
                    "field workers have no area pages",
                );
            }
        }
        let r = call(
            &state,
            c,
            "/api/areas/overview",
            &[("code", case.other_area)],
        )
        .await;
        expect(&r, StatusCode::FORBIDDEN, "area overview other");

        // get_income_table: like the area pages
        match case.own_area {
            Some(own) => {
                let r = call(&state, c, "/api/income/table", &[("code", own)]).await;
                expect(&r, StatusCode::OK, "income table own");
                assert!(
                    r.json()["rows"]
                        .as_array()
                        .is_some_and(|rows| !rows.is_empty())
                );
            }
            None => {
                let r = call(
                    &state,
                    c,
                    "/api/income/table",
                    &[("code", me.area.as_str())],
                )
                .await;
                expect(
                    &r,
                    StatusCode::FORBIDDEN,
                    "field workers have no income table",
                );
            }
        }
        let r = call(&state, c, "/api/income/table", &[("code", case.other_area)]).await;
        expect(&r, StatusCode::FORBIDDEN, "income table other");
        checked += 1;
    }
    assert_eq!(checked, 5);

    // Every refusal above was logged with the user and what they tried.
    let logged = store.audit_events("get_household").await.unwrap();
    assert_eq!(logged.len(), 6);
    assert!(
        logged
            .iter()
            .all(|e| e.outcome == "forbidden" && e.user_id.is_some())
    );
    assert_eq!(
        store.audit_events("list_households").await.unwrap().len(),
        5
    );
    assert_eq!(store.audit_events("area_overview").await.unwrap().len(), 6);
    assert_eq!(store.audit_events("get_plan").await.unwrap().len(), 5);
    assert_eq!(
        store
            .audit_events("get_household_income")
            .await
            .unwrap()
            .len(),
        5
    );
    assert_eq!(store.audit_events("income_table").await.unwrap().len(), 6);
}
