//! Reconciliation against a department's payout file (三方比对), on both
//! backends: each outcome from a hand-made file, the counts equal to the
//! drill-down lists and to the discrepancy items opened, the same file
//! again changing nothing, bad files refused with their places and nothing
//! written, a later visit moving a key, and who may see what.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use axum::http::StatusCode;
use common::{TestDb, call, sign_in, signed_visit, store_directly, year};
use daohu::discrepancies::DiscrepancyKind;
use daohu::reconciliation::{Outcome, ReconciliationView};
use daohu::roster::{ImportJob, ImportPhase, ImportReport};
use daohu::server::AppState;
use daohu::visits::PaymentStatus;
use uuid::Uuid;

const COUNTY: &str = "621102000000";
const TOWNSHIP: &str = "621102100000";
/// An item the demo pays nobody: every key of it is this test's.
const ITEM: &str = "special_care";
const ITEM_NAME: &str = "农村优抚对象补助";

async fn upload(state: &AppState, cookie: &str, kind: &str, file: &str, bytes: &[u8]) -> ImportJob {
    common::import(state, cookie, kind, file, bytes).await
}

fn done(job: &ImportJob) -> ImportReport {
    match &job.phase {
        ImportPhase::Done(r) => r.clone(),
        other => panic!("expected a finished import, got {other:?}"),
    }
}

/// A valid 18-digit ID number (its check digit computed) for `seq`.
fn id_number(seq: u32) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let body = format!("62110219700101{:03}", seq % 1000);
    let sum: u32 = body
        .chars()
        .zip(WEIGHTS)
        .map(|(c, w)| c.to_digit(10).unwrap() * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{body}{check}")
}

async fn view(state: &AppState, cookie: &str, code: &str, extra: &[(&str, &str)]) -> common::Reply {
    let mut form = vec![("code", code)];
    form.extend_from_slice(extra);
    call(state, Some(cookie), "/api/reconciliation/view", &form).await
}

async fn figures(state: &AppState, cookie: &str, code: &str) -> ReconciliationView {
    let r = view(state, cookie, code, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    serde_json::from_str(&r.body).unwrap()
}

fn counts(v: &ReconciliationView) -> BTreeMap<Outcome, i64> {
    Outcome::ALL
        .into_iter()
        .zip(v.total.counts)
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// The households the drill-down lists for `outcome`, all pages.
async fn listed(state: &AppState, cookie: &str, outcome: Outcome) -> BTreeSet<Uuid> {
    let mut out = BTreeSet::new();
    for page in 1.. {
        let p = page.to_string();
        let r = view(
            state,
            cookie,
            COUNTY,
            &[("outcome", outcome.as_str()), ("page", &p)],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let v: ReconciliationView = serde_json::from_str(&r.body).unwrap();
        let list = v.list.expect("a list");
        assert_eq!(list.outcome, outcome);
        if list.rows.is_empty() {
            break;
        }
        out.extend(list.rows.iter().map(|r| r.household_id));
        if out.len() as i64 >= list.total {
            assert_eq!(out.len() as i64, list.total, "the count is the list's");
            break;
        }
    }
    out
}

/// The open reconciliation items of the county, per kind.
async fn open_items(db: &TestDb) -> BTreeMap<DiscrepancyKind, i64> {
    let county = db.store.user_by_username("county").await.unwrap().unwrap();
    db.store
        .discrepancy_counts(&county.area, county.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| !c.closed && c.kind.is_reconciliation())
        .fold(BTreeMap::new(), |mut m, c| {
            *m.entry(c.kind).or_default() += c.n;
            m
        })
}

/// The test's seven households: (id, number, an ID number of a member).
async fn households(db: &TestDb) -> Vec<(Uuid, String, String)> {
    let mut out = Vec::new();
    for id in common::households_of(db.store.as_ref(), "worker1", 7).await {
        let h = db.store.household(id).await.unwrap().unwrap();
        out.push((id, h.number.clone(), h.members[0].id_number.clone()));
    }
    out
}

/// Stores a visit of `household` as worker1 with this item's line set to
/// `status` (every other line received in full).
async fn visit_with(db: &TestDb, household: Uuid, status: PaymentStatus) {
    let mut v = signed_visit(db.store.as_ref(), household).await;
    let item = db
        .store
        .entitlements(household, year().0)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.entitlement.item_code == ITEM)
        .expect("the item is due");
    for l in &mut v.lines {
        if l.entitlement_id == item.entitlement.id && status != PaymentStatus::ReceivedInFull {
            l.status = status;
            l.received_fen = None;
            l.received_on = None;
            l.channel = None;
            l.reason = Some(daohu::visits::ShortfallReason::HouseholdUnsure);
        }
    }
    v.signature.content_hash = daohu::visits::confirmation_hash(&v);
    store_directly(db.store.as_ref(), v, "worker1").await;
}

const PAYOUT_HEADER: &str = "户编号,身份证号,补贴项目,发放金额（元）,发放日期,发放部门,收款账号";

/// The world of the test: six households due 600 元 of the item, visits
/// for three of them, then the payout file.
fn payout_csv(h: &[(Uuid, String, String)]) -> String {
    let day = year().first_day();
    format!(
        "{PAYOUT_HEADER}\n\
         {n0},,{ITEM_NAME},250.00,{day},县退役军人事务局,6228 4800 1234 5678\n\
         {n0},,{ITEM},350,{day},县退役军人事务局,6228********5678\n\
         ,{i1},{ITEM_NAME},600.00,{day},县退役军人事务局,\n\
         {n2},{i2},{ITEM_NAME},600.00,{day},县退役军人事务局,\n\
         {n4},,{ITEM_NAME},500.00,{day},县退役军人事务局,\n\
         {n6},,{ITEM_NAME},600.00,{day},县退役军人事务局,\n\
         ,{stranger},{ITEM_NAME},600.00,{day},县退役军人事务局,\n",
        n0 = h[0].1,
        i1 = h[1].2,
        n2 = h[2].1,
        i2 = h[2].2,
        n4 = h[4].1,
        n6 = h[6].1,
        stranger = id_number(977),
    )
}

async fn set_up(db: &TestDb, state: &AppState, county: &str) -> Vec<(Uuid, String, String)> {
    let h = households(db).await;
    let day = year().first_day();
    let mut csv = "户编号,补贴项目,统计年度,应发金额（元）,应发日期,发放部门,发放渠道\n".to_owned();
    for (_, number, _) in &h[..6] {
        csv.push_str(&format!(
            "{number},{ITEM_NAME},{},600.00,{day},县退役军人事务局,\n",
            year().0
        ));
    }
    let job = upload(state, county, "entitlements", "应发.csv", csv.as_bytes()).await;
    assert_eq!(done(&job).added, 6, "{job:?}");
    visit_with(db, h[0].0, PaymentStatus::ReceivedInFull).await;
    visit_with(db, h[1].0, PaymentStatus::NotReceived).await;
    visit_with(db, h[3].0, PaymentStatus::ReceivedInFull).await;
    h
}

fn expected_counts() -> BTreeMap<Outcome, i64> {
    BTreeMap::from([
        (Outcome::Matched, 1),
        (Outcome::AwaitingVisit, 1),
        (Outcome::PaidNotReceived, 1),
        (Outcome::ReceivedNoPayout, 1),
        (Outcome::AmountDiffers, 2),
        (Outcome::DueUnpaid, 1),
    ])
}

async fn each_outcome_is_found_listed_and_opens_its_item(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let county = sign_in(&state, "county").await;
    let h = set_up(&db, &state, &county).await;
    let before = figures(&state, &county, COUNTY).await;
    assert!(
        counts(&before).is_empty(),
        "no payout file yet: nothing matched"
    );

    let job = upload(
        &state,
        &county,
        "payouts",
        "发放名单.csv",
        payout_csv(&h).as_bytes(),
    )
    .await;
    let report = done(&job);
    assert_eq!(
        (
            report.rows,
            report.added,
            report.changed,
            report.unchanged,
            report.skipped
        ),
        (7, 5, 0, 0, 1),
        "7 rows, 5 keys (two rows of one household summed), one stranger skipped"
    );

    let v = figures(&state, &county, COUNTY).await;
    assert_eq!(counts(&v), expected_counts());
    assert_eq!(v.by_item.len(), 1);
    assert_eq!(v.by_item[0].key, ITEM);
    assert_eq!(v.by_item[0].counts, v.total.counts);
    // The child areas add up to the total.
    let mut summed = [0i64; 7];
    for r in &v.by_area {
        for (s, n) in summed.iter_mut().zip(r.counts) {
            *s += n;
        }
    }
    assert_eq!(summed, v.total.counts);
    // Sums: due 6 × 600, paid 600 + 600 + 600 + 500 + 600, received 600 + 0 + 600.
    assert_eq!(v.total.due.0, 360_000);
    assert_eq!(v.total.paid.0, 290_000);
    assert_eq!(v.total.received.0, 120_000);
    assert_eq!(v.scopes.len(), 1);
    assert_eq!(v.scopes[0].item_name, ITEM_NAME);

    let want: BTreeMap<Outcome, BTreeSet<Uuid>> = BTreeMap::from([
        (Outcome::Matched, BTreeSet::from([h[0].0])),
        (Outcome::PaidNotReceived, BTreeSet::from([h[1].0])),
        (Outcome::AwaitingVisit, BTreeSet::from([h[2].0])),
        (Outcome::ReceivedNoPayout, BTreeSet::from([h[3].0])),
        (Outcome::AmountDiffers, BTreeSet::from([h[4].0, h[6].0])),
        (Outcome::DueUnpaid, BTreeSet::from([h[5].0])),
    ]);
    for (outcome, households) in &want {
        assert_eq!(
            &listed(&state, &county, *outcome).await,
            households,
            "{outcome:?}"
        );
    }
    // Every mismatch opened one item of its kind, and the drill-down
    // leads to it.
    let items = BTreeMap::from([
        (DiscrepancyKind::PaidNotReceived, 1),
        (DiscrepancyKind::ReceivedNoPayout, 1),
        (DiscrepancyKind::AmountDiffers, 2),
        (DiscrepancyKind::DueUnpaid, 1),
    ]);
    assert_eq!(open_items(&db).await, items);
    let r = view(&state, &county, COUNTY, &[("outcome", "paid_not_received")]).await;
    let v: ReconciliationView = serde_json::from_str(&r.body).unwrap();
    let row = &v.list.unwrap().rows[0];
    assert_eq!(row.paid.map(|f| f.0), Some(60_000));
    assert_eq!(row.received.map(|f| f.0), Some(0));
    let item = row.discrepancy_id.expect("the mismatch's item");
    let r = call(
        &state,
        Some(&county),
        "/api/discrepancies/get",
        &[("id", &item.to_string())],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("PaidNotReceived"), "{}", r.body);
    // Only the last four digits of an account are kept.
    let tails = db
        .store
        .current_payouts(&[h[0].0])
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.paid_fen, p.payments, p.account_tail))
        .collect::<Vec<_>>();
    assert_eq!(tails, vec![(60_000, 2, Some("5678".to_owned()))]);

    // The same file again changes nothing.
    let job = upload(
        &state,
        &county,
        "payouts",
        "发放名单.csv",
        payout_csv(&h).as_bytes(),
    )
    .await;
    let report = done(&job);
    assert_eq!((report.added, report.changed, report.unchanged), (0, 0, 5));
    assert_eq!(
        counts(&figures(&state, &county, COUNTY).await),
        expected_counts()
    );
    assert_eq!(open_items(&db).await, items);

    // A visit delivered later moves its key, and opens its item in the
    // visit's own transaction.
    visit_with(&db, h[2].0, PaymentStatus::NotReceived).await;
    let mut moved = expected_counts();
    moved.remove(&Outcome::AwaitingVisit);
    moved.insert(Outcome::PaidNotReceived, 2);
    assert_eq!(counts(&figures(&state, &county, COUNTY).await), moved);
    assert_eq!(
        open_items(&db).await.get(&DiscrepancyKind::PaidNotReceived),
        Some(&2)
    );
    assert_eq!(
        listed(&state, &county, Outcome::PaidNotReceived).await,
        BTreeSet::from([h[1].0, h[2].0])
    );

    // A corrected file: h4 paid in full now. Its key changes; the others
    // are unchanged.
    let fixed = payout_csv(&h).replace(",500.00,", ",600.00,");
    let report = done(
        &upload(
            &state,
            &county,
            "payouts",
            "发放名单-更正.csv",
            fixed.as_bytes(),
        )
        .await,
    );
    assert_eq!((report.added, report.changed, report.unchanged), (0, 1, 4));
    assert!(
        listed(&state, &county, Outcome::AwaitingVisit)
            .await
            .contains(&h[4].0)
    );
}

async fn bad_files_are_refused_with_their_places_and_nothing_is_written(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let county = sign_in(&state, "county").await;
    let h = set_up(&db, &state, &county).await;
    let day = year().first_day();
    let future = daohu::subsidies::china_date(chrono::Utc::now()) + chrono::Duration::days(3);
    let bad = format!(
        "{PAYOUT_HEADER}\n\
         {n0},,{ITEM_NAME},abc,{day},县退役军人事务局,\n\
         {n0},,{ITEM_NAME},100.00,{future},县退役军人事务局,\n\
         NOPE-1,,{ITEM_NAME},100.00,{day},县退役军人事务局,\n\
         ,621102197001010000,{ITEM_NAME},100.00,{day},县退役军人事务局,\n\
         ,,{ITEM_NAME},100.00,{day},县退役军人事务局,\n\
         {n0},,不存在的项目,100.00,{day},县退役军人事务局,\n\
         {n0},,{ITEM_NAME},100.00,{day},县退役军人事务局,张三的卡\n\
         {n0},{i1},{ITEM_NAME},100.00,{day},县退役军人事务局,\n\
         {n0},,{ITEM_NAME},-5,{day},县退役军人事务局,\n\
         {n0},,{ITEM_NAME},100.00,{day},,\n\
         {n2},,{ITEM_NAME},100.00,{day},县退役军人事务局,\n\
         {n2},,{ITEM_NAME},100.00,{day},县退役军人事务局,\n",
        n0 = h[0].1,
        n2 = h[2].1,
        i1 = h[1].2,
    );
    let job = upload(&state, &county, "payouts", "坏文件.csv", bad.as_bytes()).await;
    let ImportPhase::Refused { problems, .. } = &job.phase else {
        panic!("expected a refusal, got {job:?}");
    };
    let places: BTreeSet<(u32, &str)> = problems
        .iter()
        .map(|p| (p.row, p.column.as_str()))
        .collect();
    for place in [
        (2, "发放金额（元）"),
        (3, "发放日期"),
        (4, "户编号"),
        (5, "身份证号"),
        (6, "户编号"),
        (7, "补贴项目"),
        (8, "收款账号"),
        (9, "身份证号"),
        (10, "发放金额（元）"),
        (11, "发放部门"),
        (13, "发放金额（元）"),
    ] {
        assert!(places.contains(&place), "{place:?} in {problems:#?}");
    }
    assert!(
        problems
            .iter()
            .any(|p| p.row == 13 && p.reason.contains("与第12行重复"))
    );
    assert!(
        !places.iter().any(|(row, _)| *row == 12),
        "row 12 is fine: {problems:#?}"
    );
    // Nothing written: no payout, no scope, no match, no item.
    assert!(counts(&figures(&state, &county, COUNTY).await).is_empty());
    assert!(figures(&state, &county, COUNTY).await.scopes.is_empty());
    assert!(
        db.store
            .current_payouts(&[h[0].0, h[2].0])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(open_items(&db).await.is_empty());
    // A file of another kind's columns names them.
    let job = upload(
        &state,
        &county,
        "payouts",
        "名单.csv",
        "户编号,所在村代码\nX,Y\n".as_bytes(),
    )
    .await;
    let ImportPhase::Refused { problems, .. } = &job.phase else {
        panic!("expected a refusal, got {job:?}");
    };
    assert!(
        problems
            .iter()
            .any(|p| p.column == "所在村代码" && p.reason.contains("不认识这一列"))
    );
    assert!(
        problems
            .iter()
            .any(|p| p.column == "发放金额（元）" && p.reason == "缺少这一列")
    );
}

async fn only_overseers_of_the_area_see_its_match(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let county = sign_in(&state, "county").await;
    let h = set_up(&db, &state, &county).await;
    done(
        &upload(
            &state,
            &county,
            "payouts",
            "发放名单.csv",
            payout_csv(&h).as_bytes(),
        )
        .await,
    );
    let township = sign_in(&state, "township1").await;
    let city = sign_in(&state, "city").await;
    let worker = sign_in(&state, "worker1").await;
    // The township sees its own part, which adds up to its row of the county.
    let own = figures(&state, &township, TOWNSHIP).await;
    let county_view = figures(&state, &county, COUNTY).await;
    let row = county_view
        .by_area
        .iter()
        .find(|r| r.key == TOWNSHIP)
        .expect("the township's row");
    assert_eq!(own.total.counts, row.counts);
    assert!(!own.may_import, "a township does not import payout files");
    assert!(county_view.may_import);
    assert_eq!(
        figures(&state, &city, COUNTY).await.total,
        county_view.total
    );
    for (cookie, code) in [
        (&township, COUNTY),
        (&worker, TOWNSHIP),
        (&township, "621102201000"),
    ] {
        let r = view(&state, cookie, code, &[]).await;
        assert!(
            matches!(r.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
            "{code}: {} {}",
            r.status,
            r.body
        );
    }
    let r = call(
        &state,
        None,
        "/api/reconciliation/view",
        &[("code", COUNTY)],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Malformed filters are the caller's mistake, said in Chinese.
    for extra in [
        [("outcome", "nonsense"), ("page", "1")],
        [("outcome", "matched"), ("area", "620100000000")],
        [("outcome", "matched"), ("item", "no_such_item")],
        [("outcome", "matched"), ("area", "12345")],
    ] {
        let r = view(&state, &county, COUNTY, &extra).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{extra:?}: {}",
            r.body
        );
        assert!(r.body.contains("Validation"), "{}", r.body);
    }
    let r = view(&state, &county, "not-a-code", &[]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The page is server-rendered for the county, with the counts.
    let page = common::page(
        &state,
        Some(&county),
        "/reconciliation/621102000000?outcome=paid_not_received",
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("data-testid=\"recon-list\""),
        "{}",
        page.body
    );
    assert!(page.body.contains(&h[1].1), "the household is listed");
}

on_both_backends!(
    each_outcome_is_found_listed_and_opens_its_item,
    a_late_payment_counts_for_its_year_and_a_file_of_strangers_is_refused,
    a_payment_falling_due_later_opens_its_item_then,
    bad_files_are_refused_with_their_places_and_nothing_is_written,
    only_overseers_of_the_area_see_its_match,
);

async fn a_payment_falling_due_later_opens_its_item_then(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let county = sign_in(&state, "county").await;
    let h = set_up(&db, &state, &county).await;
    let tomorrow = daohu::subsidies::china_date(chrono::Utc::now()) + chrono::Duration::days(1);
    if tomorrow > year().last_day() {
        eprintln!("the statistics year ends today: nothing falls due later in it");
        return;
    }
    // h5's payment now falls due tomorrow.
    let csv = format!(
        "户编号,补贴项目,统计年度,应发金额（元）,应发日期,发放部门,发放渠道\n{},{ITEM_NAME},{},600.00,{tomorrow},县退役军人事务局,\n",
        h[5].1,
        year().0
    );
    assert_eq!(
        done(&upload(&state, &county, "entitlements", "应发.csv", csv.as_bytes()).await).changed,
        1
    );
    done(
        &upload(
            &state,
            &county,
            "payouts",
            "发放名单.csv",
            payout_csv(&h).as_bytes(),
        )
        .await,
    );
    let v = figures(&state, &county, COUNTY).await;
    assert_eq!(counts(&v).get(&Outcome::NotDueYet), Some(&1));
    assert_eq!(counts(&v).get(&Outcome::DueUnpaid), None);
    assert_eq!(open_items(&db).await.get(&DiscrepancyKind::DueUnpaid), None);
    // The day after, the periodic refresh opens its item, once.
    let later = chrono::Utc::now() + chrono::Duration::days(2);
    assert_eq!(db.store.open_fallen_due(later).await.unwrap(), 1);
    assert_eq!(db.store.open_fallen_due(later).await.unwrap(), 0);
    assert_eq!(
        open_items(&db).await.get(&DiscrepancyKind::DueUnpaid),
        Some(&1)
    );
}

async fn a_late_payment_counts_for_its_year_and_a_file_of_strangers_is_refused(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let county = sign_in(&state, "county").await;
    let h = set_up(&db, &state, &county).await;
    let today = daohu::subsidies::china_date(chrono::Utc::now());
    let last_year = year().0 - 1;
    // Paid today, for last year: the file's 统计年度 says which.
    let csv = format!(
        "户编号,身份证号,补贴项目,发放金额（元）,发放日期,统计年度,发放部门,收款账号\n\
         {},,{ITEM_NAME},600.00,{today},{last_year},县退役军人事务局,\n",
        h[0].1
    );
    let report = done(&upload(&state, &county, "payouts", "补发.csv", csv.as_bytes()).await);
    assert_eq!(report.added, 1);
    let this = figures(&state, &county, COUNTY).await;
    assert!(
        counts(&this).is_empty(),
        "nothing of this year: {:?}",
        this.total
    );
    let r = view(
        &state,
        &county,
        COUNTY,
        &[("stat_year", &last_year.to_string())],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let then: ReconciliationView = serde_json::from_str(&r.body).unwrap();
    assert_eq!(then.stat_year, last_year);
    assert_eq!(counts(&then), BTreeMap::from([(Outcome::AmountDiffers, 1)]));
    // A year that cannot be one is refused at its cell.
    let bad = csv.replace(&format!(",{last_year},"), ",去年,");
    let job = upload(&state, &county, "payouts", "补发.csv", bad.as_bytes()).await;
    let ImportPhase::Refused { problems, .. } = &job.phase else {
        panic!("expected a refusal, got {job:?}");
    };
    assert_eq!(
        (problems[0].row, problems[0].column.as_str()),
        (2, "统计年度")
    );
    // A file naming nobody of the county (another county's list) writes
    // nothing, not even a scope that would make every payment due here
    // "unpaid".
    let strangers = format!(
        "{PAYOUT_HEADER}\n,{},{ITEM_NAME},600.00,{today},县退役军人事务局,\n,{},{ITEM_NAME},600.00,{today},县退役军人事务局,\n",
        id_number(901),
        id_number(902)
    );
    let job = upload(
        &state,
        &county,
        "payouts",
        "外县名单.csv",
        strangers.as_bytes(),
    )
    .await;
    let ImportPhase::Refused { problems, .. } = &job.phase else {
        panic!("expected a refusal, got {job:?}");
    };
    assert!(
        problems[0].reason.contains("没有一行是本辖区"),
        "{problems:?}"
    );
    assert!(
        figures(&state, &county, COUNTY).await.scopes.is_empty(),
        "last year's scope only"
    );
    // h1 said it received nothing, at a visit before today's payment: it
    // was not owed that payment then, so it waits for the next visit.
    let paid_today = format!(
        "{PAYOUT_HEADER}\n{},,{ITEM_NAME},600.00,{today},县退役军人事务局,\n",
        h[1].1
    );
    done(
        &upload(
            &state,
            &county,
            "payouts",
            "今日发放.csv",
            paid_today.as_bytes(),
        )
        .await,
    );
    assert!(
        listed(&state, &county, Outcome::AwaitingVisit)
            .await
            .contains(&h[1].0)
    );
    assert!(
        !listed(&state, &county, Outcome::PaidNotReceived)
            .await
            .contains(&h[1].0)
    );
}
