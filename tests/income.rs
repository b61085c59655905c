//! Household income and risk signals end to end: visits delivered through
//! sync, the account computed by hand, the stored signals behind the
//! drill-down lists and the area roll-up, on both backends.

mod common;

use axum::http::StatusCode;
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use common::{TestDb, call, post_json, sign_in, year};
use daohu::auth::Role;
use daohu::auth::service::{NewUser, create_user};
use daohu::households::{Category, HealthStatus, LabourStatus};
use daohu::income::{IncomeKind, IncomeLine};
use daohu::server::db::{EntitlementRecord, HouseholdRecord, IncomeScope, MemberRecord, Store};
use daohu::subsidies::{Channel, china_date};
use daohu::sync::VISITS_PATH;
use daohu::visits::{
    PaymentStatus, ShortfallReason, VerificationLine, VisitSubmission, confirmation_hash,
};
use serde_json::{Value, json};
use uuid::Uuid;

on_both_backends!(
    the_account_matches_the_hand_worked_example,
    a_visit_after_midnight_on_1_october_belongs_to_the_new_year,
    the_roll_up_agrees_with_the_flagged_lists,
    only_supervisors_see_the_table_and_only_the_province_sets_thresholds,
    a_measure_added_online_moves_the_signals_and_the_roll_up,
    an_account_from_older_facts_never_replaces_a_newer_one,
);

const VILLAGE: &str = "621102100201";

/// Payments due: (item code, fen) last year and this year.
const LAST_YEAR_DUE: [(&str, i64); 1] = [("rural_dibao", 300_000)];
const THIS_YEAR_DUE: [(&str, i64); 5] = [
    ("cropland_protection", 50_000),
    ("toilet_renovation", 150_000),
    ("farm_machinery", 100_000),
    ("project_dividend", 60_000),
    ("rural_dibao", 300_000),
];

struct Fixture {
    household: Uuid,
    /// Entitlement ids by (year, item code).
    due: Vec<(i32, &'static str, Uuid, i64)>,
}

impl Fixture {
    fn entitlement(&self, year: i32, item: &str) -> (Uuid, i64) {
        self.due
            .iter()
            .find(|(y, i, _, _)| *y == year && *i == item)
            .map(|(_, _, id, fen)| (*id, *fen))
            .unwrap()
    }
}

/// A household of four in the first demo village, assigned to worker1,
/// with payments due last year and this year.
async fn household(store: &dyn Store) -> Fixture {
    let worker = store.user_by_username("worker1").await.unwrap().unwrap();
    let id = Uuid::now_v7();
    let members = (0..4)
        .map(|i| MemberRecord {
            id: Uuid::now_v7(),
            name: format!("收入测试{i}"),
            relation: if i == 0 { "户主" } else { "子女" }.into(),
            id_number: format!("62110219800101{:04}", 9000 + i),
            labour: LabourStatus::Full,
            health: HealthStatus::Healthy,
        })
        .collect();
    let h = HouseholdRecord {
        id,
        number: "6211021002019998".into(),
        head_name: "收入测试户".into(),
        category: Category::Alleviated,
        relocated: false,
        village: daohu::areas::AreaCode::parse(VILLAGE).unwrap(),
        worker_id: Some(worker.id),
        phone: None,
        members,
    };
    let y = year().0;
    let mut due = Vec::new();
    let mut rows = Vec::new();
    for (stat_year, items) in [(y - 1, &LAST_YEAR_DUE[..]), (y, &THIS_YEAR_DUE[..])] {
        for &(item, fen) in items {
            let e = EntitlementRecord {
                id: Uuid::now_v7(),
                household_id: id,
                item_code: item.into(),
                stat_year,
                expected_fen: fen,
                expected_date: NaiveDate::from_ymd_opt(stat_year, 3, 1).unwrap(),
                department: "区农业农村局".into(),
                channel: Channel::OneCard,
            };
            due.push((stat_year, item, e.id, fen));
            rows.push(e);
        }
    }
    store
        .insert_households(std::slice::from_ref(&h), &rows)
        .await
        .unwrap();
    Fixture { household: id, due }
}

fn line(entitlement: (Uuid, i64), status: PaymentStatus, fen: Option<i64>) -> VerificationLine {
    VerificationLine {
        entitlement_id: entitlement.0,
        status,
        received_fen: fen,
        received_on: status
            .has_receipt()
            .then(|| NaiveDate::from_ymd_opt(2020, 1, 1).unwrap()),
        channel: status.has_receipt().then_some(Channel::OneCard),
        reason: status.is_short().then_some(ShortfallReason::NotYetPaidOut),
        reason_text: String::new(),
    }
}

fn declared(kind: IncomeKind, fen: i64, evidence: bool) -> IncomeLine {
    IncomeLine {
        kind,
        amount_fen: fen,
        evidence,
        note: String::new(),
    }
}

/// A signed visit at `at_china` (China time) for `stat_year`.
async fn visit(
    store: &dyn Store,
    f: &Fixture,
    stat_year: i32,
    at_china: chrono::NaiveDateTime,
    lines: Vec<VerificationLine>,
    income: Vec<IncomeLine>,
    size: Option<i32>,
) -> VisitSubmission {
    let mut v = common::signed_visit(store, f.household).await;
    let china = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    v.started_at = china
        .from_local_datetime(&at_china)
        .unwrap()
        .with_timezone(&Utc);
    v.ended_at = v.started_at + Duration::minutes(20);
    v.stat_year = stat_year;
    v.lines = lines;
    // A figure marked as backed has its record photographed: what backs it.
    v.evidence = income
        .iter()
        .filter(|l| l.evidence)
        .map(|l| daohu::visits::LineEvidence {
            line: daohu::visits::EvidenceFor::Income(l.kind),
            photo_base64: "/9j/4AAQ".into(),
        })
        .collect();
    v.income = income;
    v.household_size = size;
    v.signature.content_hash = confirmation_hash(&v);
    v
}

async fn deliver(
    state: &daohu::server::AppState,
    cookie: &str,
    visits: &[&VisitSubmission],
) -> Vec<Value> {
    let r = post_json(
        state,
        Some(cookie),
        VISITS_PATH,
        json!({ "visits": visits }).to_string(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["results"].as_array().unwrap().clone()
}

/// The three visits of the worked example, delivered: last year's on
/// 30 September 23:00, this year's at 00:30 on 1 October and in November.
async fn worked_example(db: &TestDb) -> (daohu::server::AppState, String, Fixture) {
    let state = db.state();
    let store = db.store.as_ref();
    let f = household(store).await;
    let cookie = sign_in(&state, "worker1").await;
    let y = year().0;
    let at = |d: NaiveDate, h, m| d.and_hms_opt(h, m, 0).unwrap();
    let last_day = NaiveDate::from_ymd_opt(y - 1, 9, 30).unwrap();
    let first_day = NaiveDate::from_ymd_opt(y - 1, 10, 1).unwrap();
    let v0 = visit(
        store,
        &f,
        y - 1,
        at(last_day, 23, 0),
        vec![line(
            f.entitlement(y - 1, "rural_dibao"),
            PaymentStatus::ReceivedInFull,
            Some(300_000),
        )],
        vec![declared(IncomeKind::WageMigrant, 2_000_000, true)],
        Some(4),
    )
    .await;
    let v1 = visit(
        store,
        &f,
        y,
        at(first_day, 0, 30),
        vec![
            line(
                f.entitlement(y, "cropland_protection"),
                PaymentStatus::ReceivedInFull,
                Some(50_000),
            ),
            line(
                f.entitlement(y, "toilet_renovation"),
                PaymentStatus::ReceivedInFull,
                Some(150_000),
            ),
            line(
                f.entitlement(y, "farm_machinery"),
                PaymentStatus::ReceivedInFull,
                Some(100_000),
            ),
            line(
                f.entitlement(y, "project_dividend"),
                PaymentStatus::ReceivedInFull,
                Some(60_000),
            ),
            line(
                f.entitlement(y, "rural_dibao"),
                PaymentStatus::NotReceived,
                None,
            ),
        ],
        vec![
            declared(IncomeKind::WageMigrant, 1_000_000, false),
            declared(IncomeKind::BusinessIncome, 800_000, false),
            declared(IncomeKind::BusinessCost, 300_000, false),
        ],
        None,
    )
    .await;
    let v2 = visit(
        store,
        &f,
        y,
        // Or an hour ago while the year is younger: never in the future.
        at(first_day + Duration::days(40), 10, 0).min(
            chrono::SubsecRound::trunc_subsecs(daohu::subsidies::china_time(Utc::now()), 0)
                .naive_local()
                - Duration::hours(1),
        ),
        vec![line(
            f.entitlement(y, "rural_dibao"),
            PaymentStatus::ReceivedInPart,
            Some(240_000),
        )],
        vec![declared(IncomeKind::WageMigrant, 1_200_000, true)],
        Some(3),
    )
    .await;
    let results = deliver(&state, &cookie, &[&v0, &v1, &v2]).await;
    for r in &results {
        assert_eq!(r["outcome"], "stored", "{r}");
    }
    (state, cookie, f)
}

async fn income_json(
    state: &daohu::server::AppState,
    cookie: &str,
    household: Uuid,
    stat_year: Option<i32>,
) -> Value {
    let id = household.to_string();
    let y = stat_year.map(|y| y.to_string());
    let mut form = vec![("household_id", id.as_str())];
    if let Some(y) = &y {
        form.push(("stat_year", y.as_str()));
    }
    let r = call(state, Some(cookie), "/api/income/household", &form).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

async fn the_account_matches_the_hand_worked_example(db: TestDb) {
    let db = db.with_demo().await;
    let (state, cookie, f) = worked_example(&db).await;
    let v = income_json(&state, &cookie, f.household, None).await;
    let a = &v["status"]["account"];
    // Wages: the latest declared migrant wage (12,000.00) replaces the first.
    assert_eq!(a["wage"], 1_200_000);
    assert_eq!(a["business"], 800_000);
    // Property: the dividend. Transfers: cropland protection and the part
    // of the dibao the later visit verified; the toilet grant is not income.
    assert_eq!(a["property"], 60_000);
    assert_eq!(a["transfer"], 50_000 + 240_000);
    // Costs 3,000.00 less the 1,000.00 machinery subsidy.
    assert_eq!(a["cost"], 200_000);
    assert_eq!(a["net"], 2_150_000);
    // Four people last year, three confirmed this year: 21,500 ÷ 3 =
    // 7,166.666… → 7,166.67.
    assert_eq!(a["size"]["people"], 3);
    assert_eq!(a["per_capita"], 716_667);
    assert_eq!(a["backed"], 1_200_000 + 50_000 + 60_000 + 240_000);
    assert_eq!(
        a["sources"].as_array().unwrap().len(),
        3 + 5,
        "three declared figures and five payments (the dibao by its later, partial line)"
    );
    let last = &v["status"]["last_year"];
    assert_eq!(last["net"], 2_300_000);
    assert_eq!(last["size"]["people"], 4);
    assert_eq!(last["per_capita"], 575_000);
    // The threshold falls back to 2024's 7,800.00; 7,166.67 is below it.
    assert_eq!(v["status"]["threshold"], 780_000);
    assert_eq!(v["status"]["flags"], 1, "below the threshold only");

    // The stored account (computed when the visits arrived) says the same,
    // and puts the household in the drill-down list of its signal.
    let listed = call(
        &state,
        Some(&cookie),
        "/api/households/list",
        &[("village", VILLAGE), ("flag", "below_threshold")],
    )
    .await
    .json();
    let names: Vec<&str> = listed["households"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["head_name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"收入测试户"), "{names:?}");
    let row = listed["households"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["head_name"] == "收入测试户")
        .unwrap();
    assert_eq!(row["flags"], 1);
    let fell = call(
        &state,
        Some(&cookie),
        "/api/households/list",
        &[("village", VILLAGE), ("flag", "fell")],
    )
    .await
    .json();
    assert!(
        !fell["households"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["head_name"] == "收入测试户")
    );
}

async fn a_visit_after_midnight_on_1_october_belongs_to_the_new_year(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let store = db.store.as_ref();
    let f = household(store).await;
    let cookie = sign_in(&state, "worker1").await;
    let y = year().0;
    let first_day = NaiveDate::from_ymd_opt(y - 1, 10, 1).unwrap();
    // Claiming last year for a visit 30 minutes into 1 October is refused.
    let late = visit(
        store,
        &f,
        y - 1,
        first_day.and_hms_opt(0, 30, 0).unwrap(),
        vec![line(
            f.entitlement(y - 1, "rural_dibao"),
            PaymentStatus::ReceivedInFull,
            Some(300_000),
        )],
        vec![declared(IncomeKind::WageLocal, 500_000, false)],
        None,
    )
    .await;
    let r = deliver(&state, &cookie, &[&late]).await;
    assert_eq!(r[0]["outcome"], "rejected", "{}", r[0]);
    assert_eq!(r[0]["status"], 422);
    // Nothing of it counts anywhere.
    let last = income_json(&state, &cookie, f.household, Some(y - 1)).await;
    assert_eq!(last["status"]["account"]["wage"], 0);
    assert_eq!(last["status"]["account"]["has_records"], false);
}

async fn the_roll_up_agrees_with_the_flagged_lists(db: TestDb) {
    let db = db.with_demo().await;
    let (state, _, _) = worked_example(&db).await;
    let store = db.store.as_ref();
    let county = daohu::areas::AreaCode::parse("621102000000").unwrap();
    let today = china_date(Utc::now());
    let computed =
        daohu::income::service::recompute(store, &IncomeScope::Area(county), year().0, today, &[])
            .await
            .unwrap();
    assert_eq!(computed, 201);
    let cookie = sign_in(&state, "county").await;
    let table = call(
        &state,
        Some(&cookie),
        "/api/income/table",
        &[("code", "621102000000")],
    )
    .await
    .json();
    assert_eq!(table["total"]["households"], 201);
    let rows = table["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "one row per township");
    let sum = |key: &str| rows.iter().map(|r| r[key].as_i64().unwrap()).sum::<i64>();
    assert_eq!(sum("households"), 201);
    assert_eq!(sum("flagged"), table["total"]["flagged"].as_i64().unwrap());
    assert!(table["total"]["by_flag"][0].as_i64().unwrap() >= 1);
    // Every figure is the length of the list it links to.
    let flags = [
        "below_threshold",
        "fell",
        "unbacked_jump",
        "overdue_measure",
        "no_measure",
    ];
    for (i, flag) in flags.iter().enumerate() {
        let listed = call(
            &state,
            Some(&cookie),
            "/api/households/list",
            &[("village", "621102000000"), ("flag", flag)],
        )
        .await
        .json();
        assert_eq!(listed["total"], table["total"]["by_flag"][i], "{flag}");
    }
    let any = call(
        &state,
        Some(&cookie),
        "/api/households/list",
        &[("village", "621102000000"), ("flag", "any")],
    )
    .await
    .json();
    assert_eq!(any["total"], table["total"]["flagged"]);
    assert!(
        any["payment_note"]
            .as_str()
            .unwrap()
            .contains("任一风险提示")
    );

    // The Monday workbook carries the table on its second sheet.
    let r = common::page(&state, Some(&cookie), "/reports/dispatch/621102000000/xlsx").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(r.bytes)).unwrap();
    assert_eq!(book.sheet_names()[1], "一户一策与收入监测");
    let sheet = book.worksheet_range("一户一策与收入监测").unwrap();
    let total_row = sheet
        .rows()
        .find(|row| row[0] == "合计")
        .expect("a total row");
    assert_eq!(total_row[1].to_string(), "201");
    assert_eq!(
        total_row[2].to_string(),
        table["total"]["flagged"].as_i64().unwrap().to_string()
    );
}

async fn only_supervisors_see_the_table_and_only_the_province_sets_thresholds(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let worker = sign_in(&state, "worker1").await;
    let r = call(
        &state,
        Some(&worker),
        "/api/income/table",
        &[("code", "621102000000")],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let township = sign_in(&state, "township1").await;
    let r = call(
        &state,
        Some(&township),
        "/api/income/table",
        &[("code", "621102000000")],
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "outside one's area");
    let county = sign_in(&state, "county").await;
    let r = call(
        &state,
        Some(&county),
        "/api/income/set_threshold",
        &[("stat_year", "2027"), ("threshold", "8000")],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let refused = db.store.audit_events("set_income_threshold").await.unwrap();
    assert!(refused.iter().any(|e| e.outcome == "forbidden"));

    create_user(
        db.store.as_ref(),
        NewUser {
            username: "province".into(),
            display_name: "省农业农村厅".into(),
            role: Role::ProvinceAdmin,
            area: "620000000000".into(),
            password: daohu::demo::DEMO_PASSWORD.into(),
        },
    )
    .await
    .unwrap();
    let province = sign_in(&state, "province").await;
    let r = call(
        &state,
        Some(&province),
        "/api/income/set_threshold",
        &[("stat_year", "2027"), ("threshold", "八千")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("监测标准"), "{}", r.body);
    let r = call(
        &state,
        Some(&province),
        "/api/income/set_threshold",
        &[("stat_year", "2027"), ("threshold", "8,100.50")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let list = r.json();
    let set = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["stat_year"] == 2027)
        .unwrap();
    assert_eq!(set["threshold"], 810_050);
}

/// The households a list of `flag` holds in the county, by id.
async fn flagged(state: &daohu::server::AppState, cookie: &str, flag: &str) -> Vec<String> {
    let listed = call(
        state,
        Some(cookie),
        "/api/households/list",
        &[("village", "621102000000"), ("flag", flag)],
    )
    .await
    .json();
    listed["households"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn a_measure_added_online_moves_the_signals_and_the_roll_up(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let store = db.store.as_ref();
    let county = daohu::areas::AreaCode::parse("621102000000").unwrap();
    let today = china_date(Utc::now());
    daohu::income::service::recompute(store, &IncomeScope::Area(county), year().0, today, &[])
        .await
        .unwrap();
    let cookie = sign_in(&state, "county").await;
    let without = flagged(&state, &cookie, "no_measure").await;
    let household = without
        .first()
        .expect("the demo has a monitored household without a measure");
    let rolled = |t: &Value, i: usize| t["total"]["by_flag"][i].as_i64().unwrap();
    let table = |cookie: String| {
        let state = state.clone();
        async move {
            call(
                &state,
                Some(&cookie),
                "/api/income/table",
                &[("code", "621102000000")],
            )
            .await
            .json()
        }
    };
    let before = table(cookie.clone()).await;
    assert_eq!(rolled(&before, 4), without.len() as i64);

    // Give it a plan and a measure already past its due day: no longer
    // without a measure, but now overdue.
    let plan = call(
        &state,
        Some(&cookie),
        "/api/plans/create",
        &[
            ("household_id", household),
            ("responsible_name", "李干部"),
            ("responsible_phone", "13900001111"),
            ("labour_situation", "两个劳动力"),
            ("health_situation", "健康"),
        ],
    )
    .await;
    assert!(
        plan.status == StatusCode::OK || plan.status == StatusCode::CONFLICT,
        "{}",
        plan.body
    );
    let due = (today - Duration::days(3)).to_string();
    let added = call(
        &state,
        Some(&cookie),
        "/api/plans/add_measure",
        &[
            ("household_id", household),
            ("category", "employment"),
            ("action", "推荐到县城帮扶车间就业"),
            ("funding_source", ""),
            ("funding", "0"),
            ("due_on", due.as_str()),
            ("expected_income", "12000"),
            ("note", ""),
        ],
    )
    .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    assert!(
        !flagged(&state, &cookie, "no_measure")
            .await
            .contains(household)
    );
    assert!(
        flagged(&state, &cookie, "overdue_measure")
            .await
            .contains(household)
    );
    let after = table(cookie.clone()).await;
    assert_eq!(rolled(&after, 4), rolled(&before, 4) - 1);
    assert_eq!(
        after["total"]["measures_due"].as_i64().unwrap(),
        before["total"]["measures_due"].as_i64().unwrap() + 1,
        "a measure past its day is due, and not done on time"
    );
}

async fn an_account_from_older_facts_never_replaces_a_newer_one(db: TestDb) {
    use daohu::server::db::{FlagQuery, HouseholdIncomeRow, HouseholdQuery};
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    let f = household(store).await;
    let today = china_date(Utc::now());
    let y = year().0;
    let row = |flags: i32| HouseholdIncomeRow {
        household_id: f.household,
        village_code: VILLAGE.into(),
        wage: daohu::subsidies::Fen(0),
        business: daohu::subsidies::Fen(0),
        property: daohu::subsidies::Fen(0),
        transfer: daohu::subsidies::Fen(0),
        cost: daohu::subsidies::Fen(0),
        net: daohu::subsidies::Fen(0),
        backed: daohu::subsidies::Fen(0),
        size: 4,
        per_capita: Some(daohu::subsidies::Fen(0)),
        flags,
        measures_due: 0,
        measures_on_time: 0,
    };
    let flagged = || async {
        let q = HouseholdQuery {
            scope: daohu::areas::AreaCode::parse(VILLAGE).unwrap(),
            worker_id: None,
            village: None,
            search: Some("收入测试户".into()),
            payment: None,
            flags: Some(FlagQuery {
                stat_year: y,
                bits: 1,
            }),
            limit: 10,
            offset: 0,
        };
        store.list_households(&q).await.unwrap().1
    };
    // A visit's recomputation read its facts at 10:00:01 and flagged it ...
    let newer = Utc::now();
    store
        .save_income(y, today, newer, &[row(1)], &[])
        .await
        .unwrap();
    assert_eq!(flagged().await, 1);
    // ... a county refresh that read at 10:00:00 saves later: it is ignored.
    let older = newer - Duration::seconds(1);
    store
        .save_income(y, today, older, &[row(0)], &[])
        .await
        .unwrap();
    assert_eq!(flagged().await, 1, "the newer account stands");
    store
        .save_income(y, today, newer + Duration::seconds(1), &[row(0)], &[])
        .await
        .unwrap();
    assert_eq!(flagged().await, 0, "a later computation replaces it");
}
