//! 一户一策 through the router, on both backends: one plan per household
//! (also when two creates race), measures and the history of their moves,
//! field-named refusals that write nothing, who may touch a plan, and the
//! responsible cadre's phone masked below township level.

mod common;

use axum::http::StatusCode;
use common::{TestDb, call, page, sign_in};
use daohu::areas::AreaCode;
use daohu::households::Category;
use daohu::plans::MeasureStatus;
use daohu::server::db::{HouseholdRecord, Store};
use serde_json::Value;
use uuid::Uuid;

on_both_backends!(
    a_second_plan_for_a_household_is_refused_and_one_remains,
    two_creates_at_once_leave_exactly_one_plan,
    measures_are_added_and_every_move_is_kept_with_who_and_where,
    bad_input_is_refused_naming_the_field_and_writes_nothing,
    only_the_households_worker_and_supervisors_of_its_area_may_touch_its_plan,
    the_cadres_phone_is_masked_below_township_level_and_kept_when_left_empty,
    a_demo_plan_reads_back_with_its_history,
    the_household_page_shows_the_plan_with_overdue_measures_marked,
);

/// A form as the browser posts it.
type Form<'a> = Vec<(&'a str, &'a str)>;

const PLAN_EXISTS: &str = "该户已有帮扶计划（一户一策），请在原计划上修改";

/// A household of the first demo village, assigned to worker1, with no
/// plan yet.
async fn fresh_household(store: &dyn Store) -> Uuid {
    let worker = store.user_by_username("worker1").await.unwrap().unwrap();
    let h = HouseholdRecord {
        id: Uuid::now_v7(),
        number: "6211021002019998".into(),
        head_name: "计划测试户".into(),
        category: Category::Alleviated,
        relocated: false,
        village: AreaCode::parse("621102100201").unwrap(),
        worker_id: Some(worker.id),
        phone: None,
        members: Vec::new(),
    };
    store
        .insert_households(std::slice::from_ref(&h), &[])
        .await
        .unwrap();
    h.id
}

fn plan_form<'a>(household: &'a str, name: &'a str) -> Form<'a> {
    vec![
        ("household_id", household),
        ("responsible_name", name),
        ("responsible_phone", "13812345678"),
        ("labour_situation", "普通劳动力2人，弱劳动力1人"),
        ("health_situation", "户主母亲患长期慢性病"),
    ]
}

/// A good measure form.
fn measure_form<'a>(household: &'a str, due_on: &'a str) -> Form<'a> {
    vec![
        ("household_id", household),
        ("category", "industry"),
        ("action", "养殖肉牛2头，申请见犊补母奖补"),
        ("funding_source", "财政衔接资金"),
        ("funding", "6,000.50"),
        ("due_on", due_on),
        ("expected_income", "5000"),
        ("note", ""),
    ]
}

fn in_three_months() -> String {
    (daohu::subsidies::china_date(chrono::Utc::now()) + chrono::Duration::days(90)).to_string()
}

/// How many plans the household has, counted in the database itself.
async fn plans_of(db: &TestDb, household: Uuid) -> i64 {
    let sql = "SELECT COUNT(*) FROM plans WHERE household_id = $1";
    if db.url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        sqlx::query_scalar(sql)
            .bind(household)
            .fetch_one(&pool)
            .await
            .unwrap()
    } else {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        sqlx::query_scalar(sql)
            .bind(household)
            .fetch_one(&pool)
            .await
            .unwrap()
    }
}

async fn get_plan(state: &daohu::server::AppState, cookie: &str, household: &str) -> Value {
    let r = call(
        state,
        Some(cookie),
        "/api/plans/get",
        &[("household_id", household)],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

async fn a_second_plan_for_a_household_is_refused_and_one_remains(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let household = fresh_household(db.store.as_ref()).await;
    let id = household.to_string();
    let worker = sign_in(&state, "worker1").await;

    let page = get_plan(&state, &worker, &id).await;
    assert!(page["plan"].is_null());

    let r = call(
        &state,
        Some(&worker),
        "/api/plans/create",
        &plan_form(&id, "张建国"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let boss = sign_in(&state, "township1").await;
    let r = call(
        &state,
        Some(&boss),
        "/api/plans/create",
        &plan_form(&id, "李卫东"),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(r.json()["Conflict"], PLAN_EXISTS);

    assert_eq!(plans_of(&db, household).await, 1);
    let plan = db
        .store
        .plan_of_household(household)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(plan.responsible_name, "张建国");
    assert_eq!(plan.labour_situation, "普通劳动力2人，弱劳动力1人");

    // Editing the one plan is the way to change it.
    let mut form = plan_form(&id, "李卫东");
    form[4].1 = "户主母亲已康复";
    let r = call(&state, Some(&boss), "/api/plans/update", &form).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let page = get_plan(&state, &boss, &id).await;
    assert_eq!(page["plan"]["responsible_name"], "李卫东");
    assert_eq!(page["plan"]["health_situation"], "户主母亲已康复");
    assert_eq!(plans_of(&db, household).await, 1);
}

async fn two_creates_at_once_leave_exactly_one_plan(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let household = fresh_household(db.store.as_ref()).await;
    let id = household.to_string();
    let worker = sign_in(&state, "worker1").await;
    let boss = sign_in(&state, "township1").await;
    let (a, b) = (plan_form(&id, "张建国"), plan_form(&id, "李卫东"));
    let (ra, rb) = tokio::join!(
        call(&state, Some(&worker), "/api/plans/create", &a),
        call(&state, Some(&boss), "/api/plans/create", &b),
    );
    let mut statuses = [ra.status, rb.status];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::CONFLICT],
        "{} / {}",
        ra.body,
        rb.body
    );
    let loser = if ra.status == StatusCode::CONFLICT {
        &ra
    } else {
        &rb
    };
    assert_eq!(loser.json()["Conflict"], PLAN_EXISTS);
    assert_eq!(plans_of(&db, household).await, 1);
}

async fn measures_are_added_and_every_move_is_kept_with_who_and_where(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let household = fresh_household(db.store.as_ref()).await;
    let id = household.to_string();
    let due = in_three_months();
    let worker = sign_in(&state, "worker1").await;
    let boss = sign_in(&state, "township1").await;
    let r = call(
        &state,
        Some(&worker),
        "/api/plans/create",
        &plan_form(&id, "张建国"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let r = call(
        &state,
        Some(&worker),
        "/api/plans/add_measure",
        &measure_form(&id, &due),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let measure: Uuid = serde_json::from_value(r.json()).unwrap();
    let m = measure.to_string();
    let moves: [(&str, Form); 3] = [
        (
            worker.as_str(),
            vec![("status", "in_progress"), ("note", "已购入1头")],
        ),
        (
            boss.as_str(),
            vec![
                ("status", "done"),
                ("done_on", "2024-05-06"),
                ("note", "2头均已购入"),
            ],
        ),
        (
            worker.as_str(),
            vec![("status", "dropped"), ("drop_reason", "牛病死，改为务工")],
        ),
    ];
    for (cookie, mut form) in moves {
        form.extend([("household_id", id.as_str()), ("measure_id", m.as_str())]);
        let r = call(&state, Some(cookie), "/api/plans/set_measure_status", &form).await;
        assert_eq!(r.status, StatusCode::OK, "{form:?}: {}", r.body);
    }

    let plan = db
        .store
        .plan_of_household(household)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(plan.measures.len(), 1);
    let stored = &plan.measures[0];
    assert_eq!(stored.funding.0, 600_050);
    assert_eq!(stored.expected_income.0, 500_000);
    assert_eq!(stored.status, MeasureStatus::Dropped);
    assert_eq!(stored.drop_reason.as_deref(), Some("牛病死，改为务工"));
    assert_eq!(stored.done_on, None);

    let history = db.store.measure_history(household).await.unwrap();
    let w1 = db.store.user_by_username("worker1").await.unwrap().unwrap();
    let t1 = db
        .store
        .user_by_username("township1")
        .await
        .unwrap()
        .unwrap();
    let steps: Vec<_> = history
        .iter()
        .map(|h| (h.event.status, h.event.user_id, h.event.visit_id))
        .collect();
    assert_eq!(
        steps,
        [
            (MeasureStatus::Planned, w1.id, None),
            (MeasureStatus::InProgress, w1.id, None),
            (MeasureStatus::Done, t1.id, None),
            (MeasureStatus::Dropped, w1.id, None),
        ]
    );
    assert_eq!(
        history[2].event.done_on,
        chrono::NaiveDate::from_ymd_opt(2024, 5, 6)
    );

    // The page shows the history with names and where each move was made.
    let page = get_plan(&state, &worker, &id).await;
    let view = &page["plan"]["measures"][0];
    assert_eq!(view["measure"]["status"], "Dropped");
    let entries = view["history"].as_array().unwrap();
    assert_eq!(entries.len(), 4);
    assert_eq!(entries[2]["user_name"], Value::String(t1.display_name));
    assert!(entries.iter().all(|e| e["visit_local"].is_null()));
}

async fn bad_input_is_refused_naming_the_field_and_writes_nothing(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let household = fresh_household(db.store.as_ref()).await;
    let id = household.to_string();
    let due = in_three_months();
    let worker = sign_in(&state, "worker1").await;

    // (server function, fields replaced in its good form, field at fault, message)
    type Case<'a> = (&'a str, Form<'a>, &'a str, &'a str);
    let too_long = "病".repeat(501);
    let create_cases: Vec<Case> = vec![
        (
            "/api/plans/create",
            vec![("responsible_name", "  ")],
            "responsible_name",
            "请填写帮扶责任人姓名",
        ),
        (
            "/api/plans/create",
            vec![("responsible_phone", "")],
            "responsible_phone",
            "请填写",
        ),
        (
            "/api/plans/create",
            vec![("responsible_phone", "12345")],
            "responsible_phone",
            "11位手机号",
        ),
        (
            "/api/plans/create",
            vec![("labour_situation", "")],
            "labour_situation",
            "劳动力",
        ),
        (
            "/api/plans/create",
            vec![("health_situation", &too_long)],
            "health_situation",
            "文字过长",
        ),
        (
            "/api/plans/create",
            vec![("household_id", "not-an-id")],
            "household_id",
            "编号格式错误",
        ),
    ];
    for (path, changes, field, message) in create_cases {
        let form = with(plan_form(&id, "张建国"), &changes);
        refused(&state, &worker, path, &form, field, message).await;
    }
    assert_eq!(plans_of(&db, household).await, 0, "no plan written");

    let r = call(
        &state,
        Some(&worker),
        "/api/plans/add_measure",
        &measure_form(&id, &due),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "no plan yet: {}", r.body);
    let r = call(
        &state,
        Some(&worker),
        "/api/plans/create",
        &plan_form(&id, "张建国"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let today = daohu::subsidies::china_date(chrono::Utc::now());
    let long_ago = (today - chrono::Duration::days(400)).to_string();
    let measure_cases: Vec<Case> = vec![
        (
            "/api/plans/add_measure",
            vec![("category", "charity")],
            "category",
            "请选择措施类别",
        ),
        (
            "/api/plans/add_measure",
            vec![("action", "")],
            "action",
            "请填写具体措施",
        ),
        (
            "/api/plans/add_measure",
            vec![("funding", "12.345")],
            "funding",
            "两位小数",
        ),
        (
            "/api/plans/add_measure",
            vec![("funding", "一千")],
            "funding",
            "数字",
        ),
        (
            "/api/plans/add_measure",
            vec![("funding_source", "")],
            "funding_source",
            "资金来源",
        ),
        (
            "/api/plans/add_measure",
            vec![("due_on", "2027-13-01")],
            "due_on",
            "日期格式",
        ),
        (
            "/api/plans/add_measure",
            vec![("due_on", &long_ago)],
            "due_on",
            "一年前",
        ),
        (
            "/api/plans/add_measure",
            vec![("expected_income", "")],
            "expected_income",
            "请填写金额",
        ),
    ];
    for (path, changes, field, message) in measure_cases {
        let form = with(measure_form(&id, &due), &changes);
        refused(&state, &worker, path, &form, field, message).await;
    }
    let plan = db
        .store
        .plan_of_household(household)
        .await
        .unwrap()
        .unwrap();
    assert!(plan.measures.is_empty(), "no measure written");

    let r = call(
        &state,
        Some(&worker),
        "/api/plans/add_measure",
        &measure_form(&id, &due),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let m: Uuid = serde_json::from_value(r.json()).unwrap();
    let m = m.to_string();
    let tomorrow = (today + chrono::Duration::days(1)).to_string();
    let status_cases: Vec<Case> = vec![
        (
            "/api/plans/set_measure_status",
            vec![("status", "finished")],
            "status",
            "请选择措施状态",
        ),
        (
            "/api/plans/set_measure_status",
            vec![("status", "done")],
            "done_on",
            "请填写完成日期",
        ),
        (
            "/api/plans/set_measure_status",
            vec![("status", "done"), ("done_on", &tomorrow)],
            "done_on",
            "不能晚于今天",
        ),
        (
            "/api/plans/set_measure_status",
            vec![("status", "done"), ("done_on", "5/6/2024")],
            "done_on",
            "日期格式",
        ),
        (
            "/api/plans/set_measure_status",
            vec![("status", "dropped"), ("drop_reason", " ")],
            "drop_reason",
            "须说明原因",
        ),
        (
            "/api/plans/set_measure_status",
            vec![("status", "in_progress"), ("done_on", "2024-05-06")],
            "done_on",
            "不应填写完成日期",
        ),
        (
            "/api/plans/set_measure_status",
            vec![("measure_id", "x")],
            "measure_id",
            "编号格式错误",
        ),
    ];
    for (path, changes, field, message) in status_cases {
        let base = vec![
            ("household_id", id.as_str()),
            ("measure_id", m.as_str()),
            ("status", "in_progress"),
            ("done_on", ""),
            ("drop_reason", ""),
            ("note", ""),
        ];
        refused(&state, &worker, path, &with(base, &changes), field, message).await;
    }
    let history = db.store.measure_history(household).await.unwrap();
    assert_eq!(history.len(), 1, "only the measure's creation is recorded");
    let plan = db
        .store
        .plan_of_household(household)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(plan.measures[0].status, MeasureStatus::Planned);
}

fn with<'a>(mut form: Form<'a>, changes: &[(&'a str, &'a str)]) -> Form<'a> {
    for (key, value) in changes {
        match form.iter_mut().find(|(k, _)| k == key) {
            Some(pair) => pair.1 = value,
            None => form.push((key, value)),
        }
    }
    form
}

async fn refused(
    state: &daohu::server::AppState,
    cookie: &str,
    path: &str,
    form: &[(&str, &str)],
    field: &str,
    message: &str,
) {
    let r = call(state, Some(cookie), path, form).await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{path} {form:?}: {}",
        r.body
    );
    let body = r.json();
    assert_eq!(
        body["Validation"]["field"], field,
        "{path} {form:?}: {}",
        r.body
    );
    assert!(
        body["Validation"]["message"]
            .as_str()
            .unwrap()
            .contains(message),
        "{path} {form:?}: {}",
        r.body
    );
}

async fn only_the_households_worker_and_supervisors_of_its_area_may_touch_its_plan(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let household = fresh_household(db.store.as_ref()).await;
    let id = household.to_string();
    let due = in_three_months();
    let worker = sign_in(&state, "worker1").await;
    let r = call(
        &state,
        Some(&worker),
        "/api/plans/create",
        &plan_form(&id, "张建国"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = call(
        &state,
        Some(&worker),
        "/api/plans/add_measure",
        &measure_form(&id, &due),
    )
    .await;
    let m: Uuid = serde_json::from_value(r.json()).unwrap();
    let m = m.to_string();

    let r = call(&state, None, "/api/plans/get", &[("household_id", &id)]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    let status = [
        ("household_id", id.as_str()),
        ("measure_id", m.as_str()),
        ("status", "in_progress"),
    ];
    let attempts: [(&str, &str, Form); 5] = [
        (
            "get_plan",
            "/api/plans/get",
            vec![("household_id", id.as_str())],
        ),
        ("create_plan", "/api/plans/create", plan_form(&id, "越权者")),
        ("update_plan", "/api/plans/update", plan_form(&id, "越权者")),
        (
            "add_measure",
            "/api/plans/add_measure",
            measure_form(&id, &due),
        ),
        (
            "set_measure_status",
            "/api/plans/set_measure_status",
            status.to_vec(),
        ),
    ];
    // worker2 works in the same township but not for this household;
    // township2 supervises another township.
    for outsider in ["worker2", "township2"] {
        let cookie = sign_in(&state, outsider).await;
        let user = db.store.user_by_username(outsider).await.unwrap().unwrap();
        for (action, path, form) in &attempts {
            let before = db.store.audit_events(action).await.unwrap().len();
            let r = call(&state, Some(&cookie), path, form).await;
            assert_eq!(
                r.status,
                StatusCode::NOT_FOUND,
                "{outsider} {path}: {}",
                r.body
            );
            let audit = db.store.audit_events(action).await.unwrap();
            assert_eq!(audit.len(), before + 1, "{outsider} {path} audited");
            let last = audit.last().unwrap();
            assert_eq!(last.target, id);
            assert_eq!(last.user_id, Some(user.id));
            assert_eq!(last.outcome, "forbidden");
        }
    }
    let plan = db
        .store
        .plan_of_household(household)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(plan.responsible_name, "张建国");
    assert_eq!(plan.measures[0].status, MeasureStatus::Planned);

    // The township's supervisor and the county may.
    for boss in ["township1", "county"] {
        let cookie = sign_in(&state, boss).await;
        let r = call(
            &state,
            Some(&cookie),
            "/api/plans/set_measure_status",
            &status,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{boss}: {}", r.body);
    }
}

async fn the_cadres_phone_is_masked_below_township_level_and_kept_when_left_empty(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let household = fresh_household(db.store.as_ref()).await;
    let id = household.to_string();
    let worker = sign_in(&state, "worker1").await;
    let boss = sign_in(&state, "township1").await;
    let r = call(
        &state,
        Some(&boss),
        "/api/plans/create",
        &plan_form(&id, "张建国"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let seen = get_plan(&state, &worker, &id).await;
    assert_eq!(seen["plan"]["responsible_phone"], "138****5678");
    assert_eq!(seen["plan"]["phone_masked"], true);
    assert!(!seen.to_string().contains("13812345678"));
    let seen = get_plan(&state, &boss, &id).await;
    assert_eq!(seen["plan"]["responsible_phone"], "13812345678");
    assert_eq!(seen["plan"]["phone_masked"], false);

    // The worker cannot see the number, so leaving it empty keeps it.
    let form = with(plan_form(&id, "张建国"), &[("responsible_phone", "")]);
    let r = call(&state, Some(&worker), "/api/plans/update", &form).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let plan = db
        .store
        .plan_of_household(household)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(plan.responsible_phone, "13812345678");
}

async fn a_demo_plan_reads_back_with_its_history(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let worker = sign_in(&state, "worker1").await;
    let w1 = db.store.user_by_username("worker1").await.unwrap().unwrap();
    let query = daohu::server::db::HouseholdQuery {
        scope: w1.area.clone(),
        worker_id: Some(w1.id),
        village: None,
        search: None,
        payment: None,
        flags: None,
        limit: 1000,
        offset: 0,
    };
    let (rows, _) = db.store.list_households(&query).await.unwrap();
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let measures = db.store.measures_of_households(&ids).await.unwrap();
    assert!(!measures.is_empty());
    let with_plan = rows
        .iter()
        .find(|r| measures.iter().any(|(h, _)| *h == r.id))
        .unwrap();
    // The page of a demo plan reads back whole, history included.
    let page = get_plan(&state, &worker, &with_plan.id.to_string()).await;
    let shown = page["plan"]["measures"].as_array().unwrap();
    assert!(!shown.is_empty());
    assert!(
        shown
            .iter()
            .all(|m| !m["history"].as_array().unwrap().is_empty())
    );
}

async fn the_household_page_shows_the_plan_with_overdue_measures_marked(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let household = fresh_household(db.store.as_ref()).await;
    let id = household.to_string();
    let boss = sign_in(&state, "township1").await;
    let r = call(
        &state,
        Some(&boss),
        "/api/plans/create",
        &plan_form(&id, "张建国"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let ten_days_ago =
        (daohu::subsidies::china_date(chrono::Utc::now()) - chrono::Duration::days(10)).to_string();
    let r = call(
        &state,
        Some(&boss),
        "/api/plans/add_measure",
        &measure_form(&id, &ten_days_ago),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let worker = sign_in(&state, "worker1").await;
    let r = page(&state, Some(&worker), &format!("/households/{id}")).await;
    assert_eq!(r.status, StatusCode::OK);
    for shown in [
        "帮扶计划（一户一策）",
        "张建国",
        "138****5678",
        "养殖肉牛2头，申请见犊补母奖补",
        "6,000.50",
        "data-testid=\"overdue\"",
        "线上修改",
    ] {
        assert!(r.body.contains(shown), "{shown} shown");
    }
    assert!(
        !r.body.contains("13812345678"),
        "the cadre's full phone leaked"
    );
}
