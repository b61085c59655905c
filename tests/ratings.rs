//! The week's rating (评估评定), both backends: each figure equal to the
//! page it comes from or an independent count, the order, the export, and
//! who may see it.

mod common;

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use common::{TestDb, call, page, sign_in};
use daohu::areas::AreaCode;
use daohu::ratings::RatingsView;
use daohu::reconciliation::ReconciliationView;
use daohu::reports::DispatchTable;
use daohu::server::db::DiscrepancyQuery;

const COUNTY: &str = "621102000000";
const CITY: &str = "621100000000";
/// A second county of the city, without households.
const COUNTY2: &str = "621121000000";

async fn ratings(state: &daohu::server::AppState, cookie: &str, code: &str) -> common::Reply {
    call(state, Some(cookie), "/api/ratings/view", &[("code", code)]).await
}

async fn the_rating_equals_its_sources_and_ranks_the_counties(db: TestDb) {
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    daohu::demo::load_visits(
        store,
        &["worker1".to_owned(), "worker2".to_owned()],
        common::year(),
        60,
        5,
    )
    .await
    .unwrap();
    common::second_county(store).await;
    let state = db.state();
    let city = sign_in(&state, "city").await;
    let county = sign_in(&state, "county").await;

    // A payout file paying a household an item it is not due: one mismatch.
    let h = common::household_of(store, "worker1").await;
    let number = store.household(h).await.unwrap().unwrap().number;
    let day = common::year().first_day();
    let csv = format!(
        "户编号,身份证号,补贴项目,发放金额（元）,发放日期,发放部门,收款账号\n{number},,农村优抚对象补助,100.00,{day},县退役军人事务局,\n"
    );
    let job = common::import(&state, &county, "payouts", "发放.csv", csv.as_bytes()).await;
    assert!(
        matches!(job.phase, daohu::roster::ImportPhase::Done(_)),
        "{job:?}"
    );

    let r = ratings(&state, &city, CITY).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v: RatingsView = serde_json::from_str(&r.body).unwrap();
    assert!(v.cities.is_empty(), "a city's page lists its counties");
    let names: Vec<(&str, u32)> = v
        .counties
        .iter()
        .map(|r| (r.area.code.as_str(), r.rank))
        .collect();
    assert_eq!(names, [(COUNTY, 1), (COUNTY2, 2)]);
    let row = &v.counties[0];

    // Progress in full: the city's dispatch table for the same day.
    let r = call(
        &state,
        Some(&city),
        "/api/reports/dispatch",
        &[("code", CITY), ("as_of", &v.as_of.to_string())],
    )
    .await;
    let table: DispatchTable = serde_json::from_str(&r.body).unwrap();
    let dispatch = table
        .rows
        .iter()
        .find(|r| r.area.code.as_str() == COUNTY)
        .unwrap();
    assert_eq!(row.full_percent, dispatch.all.percent_full());
    assert_eq!(
        row.full_percent_before,
        dispatch.all_week_before.percent_full()
    );
    // Money, not the whole-per-cent figure: early in a year little of the
    // year's due has been paid and the percentage rounds down to 0. In the
    // year's first weeks nothing the demo's visits met was due yet.
    let year = common::year();
    if (chrono::Local::now().date_naive() - year.first_day()).num_days() > 30 {
        assert!(
            dispatch.all.full_fen > 0,
            "the demo's visits received money"
        );
    }
    // Visited: the city's summaries.
    let summary = store
        .child_area_summaries(&AreaCode::parse(CITY).unwrap(), common::year().0)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.area.code.as_str() == COUNTY)
        .unwrap();
    assert_eq!(row.visited_percent, summary.percent_visited());
    // Old items: counted from the queue itself.
    let (items, _) = store
        .discrepancies(&DiscrepancyQuery {
            scope: AreaCode::parse(COUNTY).unwrap(),
            closed: false,
            assignee_id: None,
            limit: 100_000,
            offset: 0,
        })
        .await
        .unwrap();
    let old = items
        .iter()
        .filter(|d| d.reported_at < Utc::now() - Duration::days(14))
        .count() as i64;
    assert_eq!(row.open_old, old);
    // Mismatches: the county's reconciliation page.
    let r = call(
        &state,
        Some(&county),
        "/api/reconciliation/view",
        &[("code", COUNTY)],
    )
    .await;
    let recon: ReconciliationView = serde_json::from_str(&r.body).unwrap();
    assert_eq!(row.mismatches, recon.total.mismatches());
    assert_eq!(row.mismatches, 1);
    let empty = &v.counties[1];
    assert_eq!(
        (
            empty.full_percent,
            empty.visited_percent,
            empty.open_old,
            empty.mismatches
        ),
        (0, 0, 0, 0)
    );

    // The export holds the same rows.
    let x = page(
        &state,
        Some(&city),
        &format!("/reports/ratings/{CITY}/xlsx?as_of={}", v.as_of),
    )
    .await;
    assert_eq!(x.status, StatusCode::OK);
    let table = daohu::roster::table::read("r.xlsx", &x.bytes).unwrap();
    // A title row, the column headers, one row per county.
    assert!(
        table.headers[0].starts_with("定西市县区评估评定"),
        "{:?}",
        table.headers
    );
    assert_eq!(
        table.rows[0].cells[0],
        daohu::roster::table::Cell::Text("名次".into())
    );
    assert_eq!(table.rows.len(), 3);
    assert!(
        table.rows[1]
            .cells
            .iter()
            .any(|c| *c == daohu::roster::table::Cell::Text("安定区".into()))
    );
    // The page renders server-side.
    let p = page(&state, Some(&city), &format!("/reports/ratings/{CITY}")).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains("data-testid=\"ratings-counties\""));
}

async fn only_the_province_and_cities_have_a_rating_and_only_for_their_own(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let county = sign_in(&state, "county").await;
    let township = sign_in(&state, "township1").await;
    let city = sign_in(&state, "city").await;
    // A county is refused its city's rating as if it did not exist.
    let r = ratings(&state, &county, CITY).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = ratings(&state, &township, CITY).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    // Its own area is not rated: said in Chinese.
    let r = ratings(&state, &county, COUNTY).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("评估评定只有省、市两级"), "{}", r.body);
    // Another city, a malformed code or week.
    let r = ratings(&state, &city, "620100000000").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = ratings(&state, &city, "62").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = call(
        &state,
        Some(&city),
        "/api/ratings/view",
        &[("code", CITY), ("as_of", "2026-13-01")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = call(&state, None, "/api/ratings/view", &[("code", CITY)]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let x = page(
        &state,
        Some(&county),
        &format!("/reports/ratings/{CITY}/xlsx"),
    )
    .await;
    assert_eq!(x.status, StatusCode::NOT_FOUND);
}

on_both_backends!(
    the_rating_equals_its_sources_and_ranks_the_counties,
    only_the_province_and_cities_have_a_rating_and_only_for_their_own,
);
