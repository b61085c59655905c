//! The access rule as a matrix: every role × in scope / out of scope ×
//! every server function that reads household data, through the real HTTP
//! endpoints. A user sees their area node and everything below it; a field
//! worker sees only the households assigned to them. What is out of scope
//! is answered exactly as what does not exist (404, same body), so ids and
//! codes outside one's area cannot be probed; only what a role may never
//! do is answered 403.

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

on_both_backends!(
    access_matrix_holds_for_every_role_and_server_function,
    an_out_of_scope_id_is_answered_byte_for_byte_as_an_unknown_one,
);

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
    // The demo has the city's officer (`city`); the province's is added.
    for (username, role, area) in [("province", Role::ProvinceAdmin, "620000000000")] {
        create_user(
            store,
            NewUser {
                username: username.into(),
                display_name: username.into(),
                role,
                area: area.into(),
                password: daohu::demo::DEMO_PASSWORD.into(),
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
        expect(&r, StatusCode::NOT_FOUND, "get_household out of scope");
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
                StatusCode::NOT_FOUND,
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
        expect(&r, StatusCode::NOT_FOUND, "get_plan out of scope");

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
            StatusCode::NOT_FOUND,
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
        expect(&r, StatusCode::NOT_FOUND, "list_households other village");

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
        // Another area: a field worker is refused for the role whatever the
        // code, anyone else as if it did not exist.
        let elsewhere = match case.own_area {
            Some(_) => StatusCode::NOT_FOUND,
            None => StatusCode::FORBIDDEN,
        };
        let r = call(
            &state,
            c,
            "/api/areas/overview",
            &[("code", case.other_area)],
        )
        .await;
        expect(&r, elsewhere, "area overview other");

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
        expect(&r, elsewhere, "income table other");
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

/// One request naming a record by id or code, `{}` standing for it.
struct Probe {
    /// The action its refusal is audited under.
    what: &'static str,
    /// A server function (`/api/…`, a form) or a page (`GET`).
    path: &'static str,
    form: Vec<(&'static str, String)>,
}

fn probe(what: &'static str, path: &'static str, form: &[(&'static str, &str)]) -> Probe {
    Probe {
        what,
        path,
        form: form.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
    }
}

impl Probe {
    async fn send(
        &self,
        state: &daohu::server::AppState,
        cookie: &str,
        id: &str,
    ) -> (StatusCode, String) {
        let r = if self.path.starts_with("/api/") {
            let form: Vec<(&str, String)> = self
                .form
                .iter()
                .map(|(k, v)| (*k, v.replace("{}", id)))
                .collect();
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            call(state, Some(cookie), self.path, &form).await
        } else {
            common::page(state, Some(cookie), &self.path.replace("{}", id)).await
        };
        // A page may show its own address; blank the id (and any nonce) so
        // that only what the answer says about the record is compared.
        (r.status, common::without_nonces(&r.body.replace(id, "{}")))
    }
}

/// For every endpoint and page that takes an id or an area code: a record
/// outside the caller's scope gets the very answer (status and body) that a
/// record that does not exist gets, and the attempt is still audited.
async fn an_out_of_scope_id_is_answered_byte_for_byte_as_an_unknown_one(db: TestDb) {
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    let state = db.state();
    // Township 2's records, outside township1's area; worker2's household,
    // outside worker1's caseload.
    let theirs = common::household_of(store, "worker3").await.to_string();
    let colleagues = common::household_of(store, "worker2").await.to_string();
    let worker1 = store
        .user_by_username("worker1")
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string();
    let worker3 = store
        .user_by_username("worker3")
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string();
    let w3 = sign_in(&state, "worker3").await;
    let visit = common::signed_visit(store, theirs.parse().unwrap()).await;
    let visit_id = visit.id.to_string();
    let r = common::post_json(
        &state,
        Some(&w3),
        daohu::sync::VISITS_PATH,
        serde_json::json!({ "visits": [visit] }).to_string(),
    )
    .await;
    assert!(r.body.contains("\"stored\""), "{}", r.body);

    let unknown = Uuid::now_v7().to_string();
    let by_household = [
        probe("get_household", "/api/households/get", &[("id", "{}")]),
        probe("get_plan", "/api/plans/get", &[("household_id", "{}")]),
        probe(
            "get_household_income",
            "/api/income/household",
            &[("household_id", "{}")],
        ),
        probe(
            "create_plan",
            "/api/plans/create",
            &[("household_id", "{}"), ("responsible_name", "王")],
        ),
        probe(
            "update_plan",
            "/api/plans/update",
            &[("household_id", "{}"), ("responsible_name", "王")],
        ),
        probe(
            "add_measure",
            "/api/plans/add_measure",
            &[("household_id", "{}")],
        ),
        probe(
            "set_measure_status",
            "/api/plans/set_measure_status",
            &[
                ("household_id", "{}"),
                ("measure_id", &unknown),
                ("status", "done"),
            ],
        ),
        probe("get_household", "/households/{}", &[]),
    ];
    let supervisor_only = [probe(
        "assign_household",
        "/api/households/assign",
        &[("household_id", "{}"), ("worker_id", &worker1)],
    )];
    let by_visit = [probe(
        "review_visit",
        "/api/visits/review",
        &[("visit_id", "{}"), ("state", "approved"), ("comment", "")],
    )];
    let by_user = [probe(
        "disable_user",
        "/api/users/set_active",
        &[("user_id", "{}"), ("active", "false")],
    )];
    let by_area = [
        probe("area_overview", "/api/areas/overview", &[("code", "{}")]),
        probe("income_table", "/api/income/table", &[("code", "{}")]),
        probe("dispatch_table", "/api/reports/dispatch", &[("code", "{}")]),
        probe(
            "discrepancy_queue",
            "/api/discrepancies/list",
            &[("code", "{}")],
        ),
        probe(
            "discrepancy_queue",
            "/api/discrepancies/open_count",
            &[("code", "{}")],
        ),
        probe("list_users", "/api/users/list", &[("code", "{}")]),
        probe("list_workers", "/api/users/workers", &[("area", "{}")]),
        probe("area_overview", "/areas/{}", &[]),
        probe("list_users", "/areas/{}/users", &[]),
        probe("income_table", "/areas/{}/income", &[]),
        probe("discrepancy_queue", "/areas/{}/discrepancies", &[]),
        probe("dispatch_table", "/reports/dispatch/{}", &[]),
        probe("dispatch_table", "/reports/dispatch/{}/xlsx", &[]),
        probe("weekly_report", "/api/weekly/view", &[("code", "{}")]),
        probe("weekly_report", "/reports/weekly/{}", &[]),
        probe(
            "reconciliation",
            "/api/reconciliation/view",
            &[("code", "{}")],
        ),
        probe("reconciliation", "/reconciliation/{}", &[]),
    ];
    let by_village = [
        probe(
            "list_households",
            "/api/households/list",
            &[("village", "{}")],
        ),
        probe(
            "assign_village",
            "/api/households/assign_village",
            &[
                ("village", "{}"),
                ("worker_id", &worker1),
                ("only_unassigned", "false"),
            ],
        ),
    ];

    let township1 = sign_in(&state, "township1").await;
    let worker1_cookie = sign_in(&state, "worker1").await;
    // (caller, probes, out-of-scope id, unknown id)
    let rounds: [(&str, &[Probe], &str, &str); 7] = [
        (&township1, &by_household, &theirs, &unknown),
        (&township1, &supervisor_only, &theirs, &unknown),
        (&township1, &by_visit, &visit_id, &unknown),
        (&township1, &by_user, &worker3, &unknown),
        // A township beside theirs, and one that does not exist.
        (&township1, &by_area, "621102201000", "621102299000"),
        (&township1, &by_village, "621102201201", "621102201299"),
        // A colleague's household in worker1's own township.
        (&worker1_cookie, &by_household, &colleagues, &unknown),
    ];
    let mut compared = 0;
    for (cookie, probes, outside, missing) in rounds {
        for p in probes {
            let audited = || async { store.audit_events(p.what).await.unwrap().len() };
            let before = audited().await;
            let out = p.send(&state, cookie, outside).await;
            let after = audited().await;
            let none = p.send(&state, cookie, missing).await;
            assert_eq!(
                out.0,
                StatusCode::NOT_FOUND,
                "{} out of scope: {}",
                p.path,
                out.1
            );
            assert_eq!(out, none, "{}: out of scope and unknown differ", p.path);
            assert!(after > before, "{} {}: not audited", p.what, p.path);
            compared += 1;
        }
    }
    assert_eq!(compared, 8 + 1 + 1 + 1 + 17 + 2 + 8);
}
