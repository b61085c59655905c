//! Money is bounded and every report adds up, on both backends: amounts
//! beyond `Fen::MAX` (1 亿元 a line) are refused by sync and by the plan
//! and threshold server functions with nothing written; the largest allowed
//! amounts on many households add up exactly at every level and in the
//! .xlsx; and an amount stored before the bound (here written straight
//! into the database) breaks no report, no page and no later sync.

mod common;

use std::collections::BTreeMap;

use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use common::{TestDb, call, page, post_json, sign_in, year};
use daohu::areas::AreaCode;
use daohu::households::{Category, HealthStatus, LabourStatus};
use daohu::income::{IncomeKind, IncomeLine};
use daohu::reports::{DispatchTable, Progress};
use daohu::server::db::{EntitlementRecord, HouseholdRecord, MemberRecord, Store};
use daohu::subsidies::{Channel, Fen};
use daohu::sync::VISITS_PATH;
use daohu::visits::{VisitSubmission, confirmation_hash};
use serde_json::{Value, json};
use uuid::Uuid;

on_both_backends!(
    amounts_beyond_the_bound_are_refused_by_sync_and_nothing_is_written,
    plan_and_threshold_amounts_beyond_the_bound_are_refused_and_nothing_is_written,
    the_largest_allowed_amounts_add_up_exactly_at_every_level,
    a_stored_amount_beyond_the_bound_breaks_no_report_page_or_sync,
);

const COUNTY: &str = "621102000000";
const ITEMS: [&str; 3] = ["rural_dibao", "cropland_protection", "project_dividend"];

/// Runs statements straight against the database, around the services, as
/// an old build or a hand edit would have written.
async fn write_around_the_services(db: &TestDb, statements: &[(&str, Option<Uuid>)]) {
    for (sql, id) in statements {
        with_pool!(db, |pool| {
            let q = sqlx::query(sql).bind(i64::MAX);
            let q = match id {
                Some(id) => q.bind(*id),
                None => q,
            };
            q.execute(&pool).await.unwrap();
        });
    }
}

async fn deliver(
    state: &daohu::server::AppState,
    cookie: &str,
    visits: &[VisitSubmission],
) -> Vec<Value> {
    let mut out = Vec::new();
    for batch in visits.chunks(50) {
        let r = post_json(
            state,
            Some(cookie),
            VISITS_PATH,
            json!({ "visits": batch }).to_string(),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        out.extend(r.json()["results"].as_array().unwrap().clone());
    }
    out
}

fn resigned(mut v: VisitSubmission) -> VisitSubmission {
    v.signature.content_hash = confirmation_hash(&v);
    v
}

async fn visits_stored(db: &TestDb) -> i64 {
    with_pool!(db, |pool| sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM visits"
    )
    .fetch_one(&pool)
    .await
    .unwrap())
}

async fn amounts_beyond_the_bound_are_refused_by_sync_and_nothing_is_written(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let store = db.store.as_ref();
    let household = common::household_of(store, "worker1").await;
    let cookie = sign_in(&state, "worker1").await;
    let before = visits_stored(&db).await;
    let dispatch_before = dispatch(&state, &sign_in(&state, "county").await, COUNTY).await;

    let good = common::signed_visit(store, household).await;
    let mut bad = Vec::new();
    for fen in [i64::MAX, Fen::MAX.0 + 1, -1, i64::MIN] {
        let mut v = good.clone();
        v.id = Uuid::now_v7();
        v.lines[0].received_fen = Some(fen);
        bad.push(resigned(v));
        let mut v = good.clone();
        v.id = Uuid::now_v7();
        v.income = vec![IncomeLine {
            kind: IncomeKind::WageMigrant,
            amount_fen: fen,
            evidence: false,
            note: String::new(),
        }];
        bad.push(resigned(v));
    }
    let results = deliver(&state, &cookie, &bad).await;
    for (r, v) in results.iter().zip(&bad) {
        assert_eq!(r["outcome"], "rejected", "{r}");
        assert_eq!(r["status"], 422, "{r}");
        let message = r["message"].as_str().unwrap();
        // (The server names a line by its place in entitlement order.)
        // In words: which line, which field (never the internal name).
        let field = if v.income.is_empty() {
            "笔补贴·实收金额：实际到账金额"
        } else {
            "第1项收入·金额：金额"
        };
        assert!(message.contains(field), "{message}");
    }
    assert_eq!(visits_stored(&db).await, before, "nothing written");
    let dispatch_after = dispatch(&state, &sign_in(&state, "county").await, COUNTY).await;
    assert_eq!(dispatch_after.total, dispatch_before.total);

    // The bound itself is an amount like any other.
    let mut v = good.clone();
    v.income = vec![IncomeLine {
        kind: IncomeKind::WageMigrant,
        amount_fen: Fen::MAX.0,
        evidence: true,
        note: String::new(),
    }];
    let results = deliver(&state, &cookie, &[resigned(v)]).await;
    assert_eq!(results[0]["outcome"], "stored", "{}", results[0]);
}

async fn plan_and_threshold_amounts_beyond_the_bound_are_refused_and_nothing_is_written(
    db: TestDb,
) {
    let db = db.with_demo().await;
    let state = db.state();
    let store = db.store.as_ref();
    let household = common::household_of(store, "worker1").await;
    let id = household.to_string();
    let worker = sign_in(&state, "worker1").await;
    if store.plan_of_household(household).await.unwrap().is_none() {
        let r = call(
            &state,
            Some(&worker),
            "/api/plans/create",
            &[
                ("household_id", id.as_str()),
                ("responsible_name", "张建国"),
                ("responsible_phone", "13812345678"),
                ("labour_situation", "普通劳动力2人"),
                ("health_situation", "健康"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    let measures = || async {
        store
            .measures_of_households(&[household])
            .await
            .unwrap()
            .len()
    };
    let before = measures().await;
    let due = (daohu::subsidies::china_date(Utc::now()) + chrono::Duration::days(90)).to_string();
    let measure = |funding: &'static str, expected: &'static str| {
        vec![
            ("household_id", id.clone()),
            ("category", "industry".to_owned()),
            ("action", "养殖肉牛2头".to_owned()),
            ("funding_source", "财政衔接资金".to_owned()),
            ("funding", funding.to_owned()),
            ("due_on", due.clone()),
            ("expected_income", expected.to_owned()),
            ("note", String::new()),
        ]
    };
    for (funding, expected, field) in [
        ("100000000.01", "5000", "funding"),
        ("92233720368547758.07", "5000", "funding"),
        ("-1", "5000", "funding"),
        ("6000", "100000000.01", "expected_income"),
        ("6000", "9223372036854775807", "expected_income"),
    ] {
        let form = measure(funding, expected);
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = call(&state, Some(&worker), "/api/plans/add_measure", &form).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{funding}/{expected}: {}",
            r.body
        );
        assert_eq!(r.json()["Validation"]["field"], field, "{}", r.body);
    }
    assert_eq!(measures().await, before, "nothing written");
    let form = measure("100,000,000.00", "100000000");
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = call(&state, Some(&worker), "/api/plans/add_measure", &form).await;
    assert_eq!(r.status, StatusCode::OK, "the bound itself: {}", r.body);
    let stored = store.measures_of_households(&[household]).await.unwrap();
    assert!(
        stored
            .iter()
            .any(|(_, m)| m.funding == Fen::MAX && m.expected_income == Fen::MAX)
    );

    daohu::auth::service::create_user(
        store,
        daohu::auth::service::NewUser {
            username: "province".into(),
            display_name: "省农业农村厅".into(),
            role: daohu::auth::Role::ProvinceAdmin,
            area: "620000000000".into(),
            password: daohu::demo::DEMO_PASSWORD.into(),
        },
    )
    .await
    .unwrap();
    let province = sign_in(&state, "province").await;
    let thresholds = store.income_thresholds().await.unwrap();
    for typed in ["100000000.01", "92233720368547758.07", "-7800"] {
        let r = call(
            &state,
            Some(&province),
            "/api/income/set_threshold",
            &[("stat_year", "2027"), ("threshold", typed)],
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{typed}: {}",
            r.body
        );
        assert!(r.body.contains("监测标准"), "{}", r.body);
    }
    assert_eq!(
        store.income_thresholds().await.unwrap(),
        thresholds,
        "nothing written"
    );
}

/// A payment due: village, item, entitlement, expected fen.
type DueRow = (String, String, Uuid, i64);
/// A verification: entitlement, status, received fen, visit start, visit.
type LineRow = (Uuid, String, Option<i64>, DateTime<Utc>, Uuid);

/// The raw rows a dispatch table is made of, read straight from the tables.
struct Raw {
    due: Vec<DueRow>,
    lines: Vec<LineRow>,
}

async fn raw_rows(db: &TestDb, stat_year: i32) -> Raw {
    let due_sql = "SELECT h.village_code, e.item_code, e.id, e.expected_fen \
                   FROM entitlements e JOIN households h ON h.id = e.household_id \
                   WHERE e.stat_year = $1";
    let line_sql = "SELECT l.entitlement_id, l.status, l.received_fen, v.started_at, v.id \
                    FROM verification_lines l JOIN visits v ON v.id = l.visit_id";
    with_pool!(db, |pool| Raw {
        due: sqlx::query_as(due_sql)
            .bind(stat_year)
            .fetch_all(&pool)
            .await
            .unwrap(),
        lines: sqlx::query_as(line_sql).fetch_all(&pool).await.unwrap(),
    })
}

/// Due count, paid count, due fen, paid fen, paid-in-full count and fen.
type Wide = [i128; 6];

/// The table's rule over the raw rows, added up in i128: per child area of
/// `area` and item, every payment due, and those whose latest verification
/// found money; each stored amount counted within 0 ..= 1 亿元.
fn by_hand(raw: &Raw, area: &AreaCode) -> BTreeMap<(String, String), Wide> {
    let child_len = area.level().child().unwrap_or(area.level()).prefix_len();
    let bounded = |fen: i64| i128::from(fen.clamp(0, 10_000_000_000));
    let mut out: BTreeMap<(String, String), Wide> = BTreeMap::new();
    for (village, item, id, expected) in &raw.due {
        if !area.contains(&AreaCode::parse(village).unwrap()) {
            continue;
        }
        let child = format!("{:0<12}", &village[..child_len]);
        let cell = out.entry((child, item.clone())).or_default();
        cell[0] += 1;
        cell[2] += bounded(*expected);
        let latest = raw
            .lines
            .iter()
            .filter(|l| l.0 == *id)
            .max_by_key(|l| (l.3, l.4));
        if let Some((_, status, fen, _, _)) = latest
            && status.starts_with("received_in_")
        {
            cell[1] += 1;
            cell[3] += bounded(fen.unwrap_or(0));
            if status == "received_in_full" {
                cell[4] += 1;
                cell[5] += bounded(fen.unwrap_or(0));
            }
        }
    }
    out
}

fn wide(p: &Progress) -> Wide {
    [p.due, p.paid, p.due_fen, p.paid_fen, p.full, p.full_fen].map(i128::from)
}

fn add(a: &mut Wide, b: &Wide) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}

async fn dispatch(state: &daohu::server::AppState, cookie: &str, code: &str) -> DispatchTable {
    let r = call(
        state,
        Some(cookie),
        "/api/reports/dispatch",
        &[("code", code)],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{code}: {}", r.body);
    serde_json::from_str(&r.body).expect("the table")
}

/// Every cell, row total and the grand total of `table` against the sums
/// over the raw rows.
fn assert_table_matches(table: &DispatchTable, want: &BTreeMap<(String, String), Wide>) {
    let mut grand = Wide::default();
    for row in &table.rows {
        let mut all = Wide::default();
        for (i, item) in table.items.iter().enumerate() {
            let key = (row.area.code.to_string(), item.code.clone());
            let cell = want.get(&key).copied().unwrap_or_default();
            assert_eq!(wide(&row.items[i]), cell, "{} {}", table.area.code, key.0);
            add(&mut all, &cell);
        }
        assert_eq!(wide(&row.all), all, "{} all items", row.area.code);
        add(&mut grand, &all);
    }
    let everything = want.values().fold(Wide::default(), |mut a, c| {
        add(&mut a, c);
        a
    });
    assert_eq!(grand, everything, "every due item is a column");
    assert_eq!(wide(&table.total.all), grand, "{} total", table.area.code);
}

/// `n` households in `village`, assigned to `worker`, each due the largest
/// allowed amount for every item of [`ITEMS`] this year.
async fn households_due_the_most(
    store: &dyn Store,
    village: &AreaCode,
    worker: Uuid,
    n: usize,
) -> Vec<Uuid> {
    let y = year();
    let mut households = Vec::new();
    let mut due = Vec::new();
    for k in 0..n {
        let id = Uuid::now_v7();
        households.push(HouseholdRecord {
            id,
            number: format!("{}{:04}", village.as_str(), 9000 + k),
            head_name: format!("上限户{k}"),
            category: Category::Alleviated,
            relocated: false,
            village: village.clone(),
            worker_id: Some(worker),
            phone: None,
            members: vec![MemberRecord {
                id: Uuid::now_v7(),
                name: format!("上限户{k}"),
                relation: "户主".into(),
                // Unique across villages: the village code and the serial.
                id_number: format!("{}{k:05}X", village.as_str()),
                labour: LabourStatus::Full,
                health: HealthStatus::Healthy,
            }],
        });
        for item in ITEMS {
            due.push(EntitlementRecord {
                id: Uuid::now_v7(),
                household_id: id,
                item_code: item.into(),
                stat_year: y.0,
                expected_fen: Fen::MAX.0,
                expected_date: NaiveDate::from_ymd_opt(y.0, 3, 1).unwrap(),
                department: "区民政局".into(),
                channel: Channel::OneCard,
            });
        }
    }
    store.insert_households(&households, &due).await.unwrap();
    households.iter().map(|h| h.id).collect()
}

/// The field worker whose area holds `village`.
async fn worker_of(store: &dyn Store, village: &AreaCode) -> (String, Uuid) {
    for n in 1..=4 {
        let name = format!("worker{n}");
        let u = store.user_by_username(&name).await.unwrap().unwrap();
        if u.area.contains(village) {
            return (name, u.id);
        }
    }
    panic!("no worker for {village}");
}

async fn the_largest_allowed_amounts_add_up_exactly_at_every_level(db: TestDb) {
    use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
    let db = db.with_demo().await;
    let state = db.state();
    let store = db.store.as_ref();
    let county = AreaCode::parse(COUNTY).unwrap();
    let mut villages = Vec::new();
    for township in store.child_areas(&county).await.unwrap() {
        villages.extend(store.child_areas(&township.code).await.unwrap());
    }
    assert!(villages.len() >= 3, "{} villages", villages.len());
    for v in &villages {
        let (name, worker) = worker_of(store, &v.code).await;
        let households = households_due_the_most(store, &v.code, worker, 12).await;
        let mut visits = Vec::new();
        for h in households {
            let visit = common::signed_visit(store, h).await;
            assert!(
                visit
                    .lines
                    .iter()
                    .all(|l| l.received_fen == Some(Fen::MAX.0))
            );
            visits.push(visit);
        }
        let cookie = sign_in(&state, &name).await;
        for r in deliver(&state, &cookie, &visits).await {
            assert_eq!(r["outcome"], "stored", "{r}");
        }
    }

    let raw = raw_rows(&db, year().0).await;
    let cookie = sign_in(&state, "county").await;
    let township = villages[0].code.as_str()[..9].to_owned() + "000";
    let mut levels = vec![COUNTY.to_owned(), township];
    levels.extend(villages.iter().map(|v| v.code.to_string()));
    for code in &levels {
        let table = dispatch(&state, &cookie, code).await;
        let want = by_hand(&raw, &AreaCode::parse(code).unwrap());
        assert_table_matches(&table, &want);
        let page = page(&state, Some(&cookie), &format!("/reports/dispatch/{code}")).await;
        assert_eq!(page.status, StatusCode::OK, "{code}");
        assert!(
            page.body.contains(&table.total.all.due_yuan().to_string()),
            "{code}"
        );
    }
    let table = dispatch(&state, &cookie, COUNTY).await;
    // 12 households × 3 items × 1 亿元 in every village, on top of the demo.
    let most = (villages.len() * 12 * ITEMS.len()) as i64 * Fen::MAX.0;
    assert!(table.total.all.due_fen > most && table.total.all.paid_fen >= most);

    let path = format!("/reports/dispatch/{COUNTY}/xlsx?as_of={}", table.as_of);
    let x = page(&state, Some(&cookie), &path).await;
    assert_eq!(x.status, StatusCode::OK, "{}", x.body);
    let mut book: Xlsx<_> = open_workbook_from_rs(std::io::Cursor::new(x.bytes)).unwrap();
    let sheet = book.worksheet_range("调度表").unwrap();
    let total_row = daohu::reports::xlsx::HEADER_ROWS + table.rows.len() as u32;
    let number = |c: u32| match sheet.get_value((total_row, c)) {
        Some(Data::Float(f)) => *f,
        Some(Data::Int(i)) => *i as f64,
        other => panic!("({total_row}, {c}) is {other:?}"),
    };
    let all = &table.total.all;
    assert_eq!(number(1), all.due as f64);
    assert_eq!(number(2), all.full as f64);
    assert_eq!(number(3), all.part() as f64);
    assert_eq!(number(4), all.none() as f64);
    assert_eq!(number(5), all.due_fen as f64 / 100.0);
    assert_eq!(number(6), all.full_fen as f64 / 100.0);
    assert_eq!(number(7), all.part_fen() as f64 / 100.0);
}

async fn a_stored_amount_beyond_the_bound_breaks_no_report_page_or_sync(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let store = db.store.as_ref();
    let worker = sign_in(&state, "worker1").await;
    let h1 = common::household_of(store, "worker1").await;
    let record = store.household(h1).await.unwrap().unwrap();
    let village = record.village.clone();
    let mut first = common::signed_visit(store, h1).await;
    first.income = vec![IncomeLine {
        kind: IncomeKind::WageLocal,
        amount_fen: 100_000,
        evidence: true,
        note: String::new(),
    }];
    let first = resigned(first);
    let r = deliver(&state, &worker, std::slice::from_ref(&first)).await;
    assert_eq!(r[0]["outcome"], "stored", "{}", r[0]);

    // What an older build let through, and the roll-ups it then wrote
    // (every row at the top of i64, so that any sum of two overflows).
    let v = Some(first.id);
    let h = Some(h1);
    write_around_the_services(
        &db,
        &[
            (
                "UPDATE verification_lines SET received_fen = $1 WHERE visit_id = $2",
                v,
            ),
            (
                "UPDATE income_entries SET amount_fen = $1 WHERE visit_id = $2",
                v,
            ),
            (
                "UPDATE entitlements SET expected_fen = $1 WHERE household_id = $2",
                h,
            ),
            (
                "UPDATE measures SET funding_fen = $1, expected_income_fen = $1 \
                 WHERE household_id = $2",
                h,
            ),
            ("UPDATE rollup_due SET due_fen = $1", None),
            ("UPDATE rollup_paid SET paid_fen = $1", None),
        ],
    )
    .await;
    // The accounts are recomputed from the facts, as every 6 hours.
    daohu::income::service::refresh_all(store, true)
        .await
        .unwrap();
    // And the plan and risk table's roll-up, edited by hand after that.
    write_around_the_services(
        &db,
        &[(
            "UPDATE rollup_income SET households = $1, flagged = $1, below_threshold = $1, \
             measures_due = $1, measures_on_time = $1",
            None,
        )],
    )
    .await;

    let county = sign_in(&state, "county").await;
    let township = format!("{}000", &village.as_str()[..9]);
    for code in [COUNTY, township.as_str(), village.as_str()] {
        let table = dispatch(&state, &county, code).await;
        assert_eq!(
            table.total.all.due_fen,
            i64::MAX,
            "{code}: saturated, not wrapped"
        );
        let r = page(&state, Some(&county), &format!("/reports/dispatch/{code}")).await;
        assert_eq!(r.status, StatusCode::OK, "{code}");
        let path = format!("/reports/dispatch/{code}/xlsx?as_of={}", table.as_of);
        let r = page(&state, Some(&county), &path).await;
        assert_eq!(r.status, StatusCode::OK, "{code} xlsx: {}", r.body);
        let r = call(
            &state,
            Some(&county),
            "/api/income/table",
            &[("code", code)],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{code} income table: {}", r.body);
        let income: daohu::income::IncomeTable = serde_json::from_str(&r.body).unwrap();
        assert_eq!(income.total.measures_due, i64::MAX, "{code}: saturated");
        let r = page(&state, Some(&county), &format!("/areas/{code}/income")).await;
        assert_eq!(r.status, StatusCode::OK, "{code} income page");
    }

    // The household: each stored amount shows as 1 亿元, and so it counts.
    let id = h1.to_string();
    let r = page(&state, Some(&county), &format!("/households/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "household page");
    assert!(r.body.contains("100,000,000.00"), "the bound shown");
    let r = call(&state, Some(&county), "/api/households/get", &[("id", &id)]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let detail: daohu::households::HouseholdDetail = serde_json::from_str(&r.body).unwrap();
    assert!(detail.entitlements.iter().all(|e| e.expected == Fen::MAX));
    let lines = detail.entitlements.len() as i64;
    assert_eq!(detail.expected_total(), Fen(lines * Fen::MAX.0));
    let r = call(
        &state,
        Some(&county),
        "/api/income/household",
        &[("household_id", &id)],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = call(
        &state,
        Some(&worker),
        "/api/plans/get",
        &[("household_id", &id)],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = common::page(&state, Some(&worker), daohu::sync::ROSTER_PATH).await;
    assert_eq!(r.status, StatusCode::OK, "the phone's roster: {}", r.body);

    // The next ordinary visits into the village are stored; the periodic
    // repair then rewrites the village's roll-ups from its rows (writes
    // only move them by deltas), each amount counted within the bound.
    let worker_id = store.user_by_username("worker1").await.unwrap().unwrap().id;
    let q = daohu::server::db::HouseholdQuery {
        scope: village.clone(),
        worker_id: Some(worker_id),
        village: None,
        search: None,
        payment: None,
        flags: None,
        limit: 100,
        offset: 0,
    };
    let h2 = store
        .list_households(&q)
        .await
        .unwrap()
        .0
        .into_iter()
        .map(|h| h.id)
        .find(|id| *id != h1)
        .expect("a second household in the village");
    let next = common::signed_visit(store, h2).await;
    let r = deliver(&state, &worker, &[next]).await;
    assert_eq!(r[0]["outcome"], "stored", "{}", r[0]);
    // And the household itself, visited again as the phone shows it: what
    // is due counts as 1 亿元, so 1 亿元 received is in full.
    let mut again = common::signed_visit(store, h1).await;
    for l in &mut again.lines {
        l.received_fen = Some(Fen::MAX.0);
    }
    let r = deliver(&state, &worker, &[resigned(again)]).await;
    assert_eq!(r[0]["outcome"], "stored", "{}", r[0]);

    daohu::income::service::rebuild_rollups(store)
        .await
        .unwrap();
    let raw = raw_rows(&db, year().0).await;
    let table = dispatch(&state, &county, village.as_str()).await;
    assert_table_matches(&table, &by_hand(&raw, &village));
}
