//! The store contract: every test runs against SQLite and, when
//! `TEST_DATABASE_URL` is set, against PostgreSQL.

mod common;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use common::{TestDb, year};
use daohu::areas::{Area, AreaCode};
use daohu::households::{Category, HealthStatus, LabourStatus, MonitoringKind};
use daohu::server::db::{
    AuditEvent, DbError, EntitlementRecord, HouseholdQuery, HouseholdRecord, MemberRecord,
    NewSessionRow,
};
use daohu::subsidies::Channel;
use uuid::Uuid;

on_both_backends!(
    migrate_is_idempotent_and_loads_the_catalogue,
    child_summaries_agree_with_the_household_list,
    household_list_is_scoped_by_area_worker_village_and_search,
    household_round_trips_with_members_in_order_and_entitlements,
    a_failing_batch_writes_nothing,
    sessions_expire_and_can_be_deleted,
    duplicate_user_names_are_conflicts,
    audit_events_are_recorded,
    a_failing_visit_in_a_batch_leaves_only_itself_out,
    township_progress_counts_households_visited_this_year,
    dispatch_figures_match_a_count_over_the_raw_rows,
    a_small_province_loads_whole_with_its_roll_ups,
    users_in_area_lists_the_subtree_with_caseloads,
    disabling_a_user_ends_their_sessions_for_good,
    assignment_is_compare_and_set_and_leaves_a_trail,
    assignments_succeed_while_others_write,
);

fn code(s: &str) -> AreaCode {
    AreaCode::parse(s).unwrap()
}

fn query(scope: &str) -> HouseholdQuery {
    HouseholdQuery {
        scope: code(scope),
        worker_id: None,
        village: None,
        search: None,
        payment: None,
        flags: None,
        limit: 1000,
        offset: 0,
    }
}

async fn migrate_is_idempotent_and_loads_the_catalogue(db: TestDb) {
    db.store.migrate().await.unwrap();
    db.store.migrate().await.unwrap();
    let items = db.store.subsidy_items().await.unwrap();
    assert!(items.len() >= 25, "{} items", items.len());
    assert!(items.iter().any(|i| i.name == "耕地地力保护补贴"));
}

async fn child_summaries_agree_with_the_household_list(db: TestDb) {
    let db = db.with_demo().await;
    let county = code("621102000000");
    let townships = db
        .store
        .child_area_summaries(&county, year().0)
        .await
        .unwrap();
    assert_eq!(townships.len(), 2);
    let (_, total) = db
        .store
        .list_households(&query("621102000000"))
        .await
        .unwrap();
    assert_eq!(total, 200);
    assert_eq!(townships.iter().map(|t| t.households).sum::<i64>(), total);
    for t in &townships {
        let (rows, n) = db
            .store
            .list_households(&query(t.area.code.as_str()))
            .await
            .unwrap();
        assert_eq!(t.households, n);
        let monitored = rows.iter().filter(|r| r.category.is_monitored()).count() as i64;
        let unassigned = rows.iter().filter(|r| r.worker_id.is_none()).count() as i64;
        assert_eq!((t.monitored, t.unassigned), (monitored, unassigned));
        let villages = db
            .store
            .child_area_summaries(&t.area.code, year().0)
            .await
            .unwrap();
        assert_eq!(villages.iter().map(|v| v.households).sum::<i64>(), n);
    }
}

async fn household_list_is_scoped_by_area_worker_village_and_search(db: TestDb) {
    let db = db.with_demo().await;
    let worker = db.store.user_by_username("worker1").await.unwrap().unwrap();
    let mut q = query("621102000000");
    q.worker_id = Some(worker.id);
    let (mine, total) = db.store.list_households(&q).await.unwrap();
    assert!(total > 0 && mine.len() as i64 == total);
    assert!(mine.iter().all(|h| h.worker_id == Some(worker.id)));

    // The worker's villages are exactly those of their households.
    let villages = db.store.villages_of_worker(worker.id).await.unwrap();
    let mut expected: Vec<_> = mine.iter().map(|h| h.village.code.clone()).collect();
    expected.sort();
    expected.dedup();
    assert_eq!(
        villages.iter().map(|v| v.code.clone()).collect::<Vec<_>>(),
        expected
    );

    q.village = Some(villages[0].code.clone());
    let (in_village, n) = db.store.list_households(&q).await.unwrap();
    assert!(n < total && n > 0);
    assert!(
        in_village
            .iter()
            .all(|h| h.village.code == villages[0].code)
    );

    // A scope outside the data finds nothing, whatever else is asked.
    let mut outside = q.clone();
    outside.scope = code("621102201000");
    assert_eq!(db.store.list_households(&outside).await.unwrap().1, 0);

    // Search by part of the head's name, or by number prefix.
    let target = &mine[0];
    let part: String = target.head_name.chars().skip(1).collect();
    let mut s = query("621102000000");
    s.search = Some(part.clone());
    let (found, _) = db.store.list_households(&s).await.unwrap();
    assert!(found.iter().any(|h| h.id == target.id));
    assert!(found.iter().all(|h| h.head_name.contains(&part)));
    s.search = Some(target.number.clone());
    assert_eq!(db.store.list_households(&s).await.unwrap().1, 1);
    s.search = Some("%".into());
    assert_eq!(
        db.store.list_households(&s).await.unwrap().1,
        0,
        "wildcards are literal"
    );

    // Paging splits the same ordered list.
    let mut p = query("621102000000");
    p.limit = 7;
    p.offset = 7;
    let (page2, all) = db.store.list_households(&p).await.unwrap();
    let (everything, _) = db
        .store
        .list_households(&query("621102000000"))
        .await
        .unwrap();
    assert_eq!(all, 200);
    assert_eq!(
        page2.iter().map(|h| h.id).collect::<Vec<_>>(),
        everything[7..14].iter().map(|h| h.id).collect::<Vec<_>>()
    );
}

fn sample_household(village: &str, id_numbers: &[&str]) -> HouseholdRecord {
    HouseholdRecord {
        id: Uuid::now_v7(),
        number: format!("{village}9{:03}", id_numbers.len()),
        head_name: "测试户主".into(),
        category: Category::Monitored(MonitoringKind::SuddenHardship),
        relocated: true,
        village: code(village),
        worker_id: None,
        phone: Some("13800001111".into()),
        members: id_numbers
            .iter()
            .enumerate()
            .map(|(i, id)| MemberRecord {
                id: Uuid::now_v7(),
                name: format!("成员{i}"),
                relation: if i == 0 {
                    "户主".into()
                } else {
                    "之子".into()
                },
                id_number: (*id).into(),
                labour: LabourStatus::Weak,
                health: HealthStatus::Chronic,
            })
            .collect(),
    }
}

async fn seed_village(db: &TestDb) {
    db.store
        .upsert_areas(&[
            Area {
                code: code("620000000000"),
                name: "甘肃省".into(),
            },
            Area {
                code: code("621100000000"),
                name: "定西市".into(),
            },
            Area {
                code: code("621102000000"),
                name: "安定区".into(),
            },
            Area {
                code: code("621102100000"),
                name: "测试镇".into(),
            },
            Area {
                code: code("621102100201"),
                name: "测试村".into(),
            },
        ])
        .await
        .unwrap();
}

async fn household_round_trips_with_members_in_order_and_entitlements(db: TestDb) {
    seed_village(&db).await;
    let h = sample_household(
        "621102100201",
        &[
            "11010519491231002X",
            "440524188001010014",
            "110101199003074477",
        ],
    );
    let date = NaiveDate::from_ymd_opt(2027, 9, 30).unwrap();
    let e = EntitlementRecord {
        id: Uuid::now_v7(),
        household_id: h.id,
        item_code: "rural_dibao".into(),
        stat_year: year().0,
        expected_fen: 1_234_567,
        expected_date: date,
        department: "区民政局".into(),
        channel: Channel::OneCard,
    };
    db.store
        .insert_households(std::slice::from_ref(&h), std::slice::from_ref(&e))
        .await
        .unwrap();
    let back = db.store.household(h.id).await.unwrap().unwrap();
    assert_eq!(back.number, h.number);
    assert_eq!(back.category, h.category);
    assert!(back.relocated);
    assert_eq!(back.phone.as_deref(), Some("13800001111"));
    let ids: Vec<_> = back.members.iter().map(|m| m.id_number.as_str()).collect();
    assert_eq!(
        ids,
        [
            "11010519491231002X",
            "440524188001010014",
            "110101199003074477"
        ]
    );
    assert_eq!(back.members[1].labour, LabourStatus::Weak);

    let lines = db.store.entitlements(h.id, year().0).await.unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].entitlement.expected_fen, 1_234_567);
    assert_eq!(lines[0].entitlement.expected_date, date);
    assert_eq!(lines[0].item.name, "农村低保");
    assert!(
        db.store
            .entitlements(h.id, year().0 - 1)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(db.store.household(Uuid::now_v7()).await.unwrap().is_none());
}

async fn a_failing_batch_writes_nothing(db: TestDb) {
    seed_village(&db).await;
    let first = sample_household("621102100201", &["11010519491231002X"]);
    db.store.insert_households(&[first], &[]).await.unwrap();
    // The second household of this batch reuses an ID number: the first of
    // the batch must not stay behind.
    let fresh = sample_household(
        "621102100201",
        &["440524188001010014", "110101199003074477"],
    );
    let clash = sample_household(
        "621102100201",
        &[
            "11010519491231002X",
            "620102198001010017",
            "110105194912310021",
        ],
    );
    let err = db
        .store
        .insert_households(&[fresh.clone(), clash], &[])
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::Conflict { .. }), "{err:?}");
    assert!(db.store.household(fresh.id).await.unwrap().is_none());
    assert_eq!(db.store.count_households().await.unwrap(), 1);
}

fn session(
    token_hash: &str,
    user_id: Uuid,
    at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> NewSessionRow<'_> {
    NewSessionRow {
        token_hash,
        user_id,
        at,
        expires_at,
        address: Some("10.0.0.1"),
    }
}

async fn sessions_expire_and_can_be_deleted(db: TestDb) {
    let db = db.with_demo().await;
    let user = db
        .store
        .user_by_username("township1")
        .await
        .unwrap()
        .unwrap();
    let now = Utc::now();
    let idle_since = now - Duration::days(14);
    let store = db.store.as_ref();
    store
        .insert_session(&session("live", user.id, now, now + Duration::days(1)))
        .await
        .unwrap();
    store
        .insert_session(&session("stale", user.id, now, now - Duration::seconds(1)))
        .await
        .unwrap();
    // Made long ago and not seen since: idle.
    let long_ago = now - Duration::days(15);
    store
        .insert_session(&session(
            "idle",
            user.id,
            long_ago,
            now + Duration::days(15),
        ))
        .await
        .unwrap();
    let (found, seen) = store
        .session_user("live", now, idle_since)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, user.id);
    assert_eq!(seen.timestamp(), now.timestamp());
    for dead in ["stale", "idle", "unknown"] {
        assert!(
            store
                .session_user(dead, now, idle_since)
                .await
                .unwrap()
                .is_none(),
            "{dead}"
        );
    }
    // Seen again: the idle clock restarts.
    store
        .touch_session("idle", now, Some("10.0.0.2"))
        .await
        .unwrap();
    assert!(
        store
            .session_user("idle", now, idle_since)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store
            .sessions_of(user.id, now, idle_since)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        store.delete_dead_sessions(now, idle_since).await.unwrap(),
        1,
        "the stale one"
    );
    store.delete_session("live").await.unwrap();
    assert!(
        store
            .session_user("live", now, idle_since)
            .await
            .unwrap()
            .is_none()
    );
}

async fn duplicate_user_names_are_conflicts(db: TestDb) {
    let db = db.with_demo().await;
    let mut u = db.store.user_by_username("worker1").await.unwrap().unwrap();
    u.id = Uuid::now_v7();
    let err = db.store.insert_user(&u).await.unwrap_err();
    assert!(matches!(err, DbError::Conflict { .. }), "{err:?}");
}

async fn audit_events_are_recorded(db: TestDb) {
    let db = db.with_demo().await;
    let user = db.store.user_by_username("worker1").await.unwrap().unwrap();
    for target in ["a", "b"] {
        db.store
            .record_audit(&AuditEvent {
                user_id: Some(user.id),
                action: "get_household".into(),
                target: target.into(),
                outcome: "forbidden".into(),
                address: Some("127.0.0.1".into()),
            })
            .await
            .unwrap();
    }
    let events = db.store.audit_events("get_household").await.unwrap();
    assert_eq!(
        events.iter().map(|e| e.target.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert_eq!(events[0].user_id, Some(user.id));
    assert!(db.store.audit_events("other").await.unwrap().is_empty());
}

fn visit_record(
    v: daohu::visits::VisitSubmission,
    worker_id: Uuid,
) -> daohu::server::db::VisitRecord {
    use base64::Engine;
    let png = base64::engine::general_purpose::STANDARD
        .decode(&v.signature.png_base64)
        .unwrap();
    daohu::server::db::VisitRecord {
        payload_hash: format!("hash-of-{}", v.id),
        visit: v,
        worker_id,
        signature_png: png,
        photo_jpeg: None,
        evidence_jpeg: Vec::new(),
        earlier_payload_hash: None,
        income_work: Vec::new(),
    }
}

async fn a_failing_visit_in_a_batch_leaves_only_itself_out(db: TestDb) {
    use daohu::server::db::VisitInsert;
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    let household = common::household_of(store, "worker1").await;
    let worker = store.user_by_username("worker1").await.unwrap().unwrap();
    let good = visit_record(common::signed_visit(store, household).await, worker.id);
    let mut bad = visit_record(common::signed_visit(store, household).await, worker.id);
    bad.visit.lines[1].entitlement_id = Uuid::now_v7(); // no such entitlement
    let good2 = visit_record(common::signed_visit(store, household).await, worker.id);
    let answers = store
        .insert_visits(&[good.clone(), bad.clone(), good2.clone(), good.clone()])
        .await
        .unwrap();
    assert!(
        matches!(answers[0], Ok(VisitInsert::Stored)),
        "{:?}",
        answers[0]
    );
    assert!(answers[1].is_err(), "{:?}", answers[1]);
    assert!(
        matches!(answers[2], Ok(VisitInsert::Stored)),
        "{:?}",
        answers[2]
    );
    assert!(
        matches!(answers[3], Ok(VisitInsert::AlreadyStored)),
        "{:?}",
        answers[3]
    );
    assert_eq!(store.count_visits().await.unwrap(), 2);
    assert!(
        store.visit(bad.visit.id).await.unwrap().is_none(),
        "no half-written visit"
    );
    let back = store.visit(good.visit.id).await.unwrap().unwrap();
    assert_eq!(back.visit.lines.len(), good.visit.lines.len());
}

async fn township_progress_counts_households_visited_this_year(db: TestDb) {
    use daohu::visits::PaymentStatus;
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    let township = code("621102100000");
    let y = year().0;
    let worker = store.user_by_username("worker1").await.unwrap().unwrap();
    let mut q = query(township.as_str());
    q.worker_id = Some(worker.id);
    let (mine, caseload) = store.list_households(&q).await.unwrap();
    let before = store.child_area_summaries(&township, y).await.unwrap();
    assert!(before.iter().all(|v| v.visited == 0));

    // Two households visited, one of them twice; the second visit of the
    // first finds a payment missing.
    let (a, b) = (mine[0].id, mine[1].id);
    let first = visit_record(common::signed_visit(store, a).await, worker.id);
    let mut again = visit_record(common::signed_visit(store, a).await, worker.id);
    again.visit.started_at += Duration::days(3);
    again.visit.lines[0].status = PaymentStatus::NotReceived;
    again.visit.lines[0].received_fen = None;
    again.visit.lines[0].received_on = None;
    again.visit.lines[0].channel = None;
    let other = visit_record(common::signed_visit(store, b).await, worker.id);
    for r in store
        .insert_visits(&[first.clone(), again.clone(), other.clone()])
        .await
        .unwrap()
    {
        r.unwrap();
    }

    let villages = store.child_area_summaries(&township, y).await.unwrap();
    assert_eq!(villages.iter().map(|v| v.visited).sum::<i64>(), 2);
    for v in &villages {
        let expected = [&mine[0], &mine[1]]
            .iter()
            .filter(|h| h.village.code == v.area.code)
            .count() as i64;
        assert_eq!(v.visited, expected, "{}", v.area.name);
    }
    // Another year's figures are untouched.
    let last_year = store.child_area_summaries(&township, y - 1).await.unwrap();
    assert!(last_year.iter().all(|v| v.visited == 0));

    let workers = store.worker_progress(&township, y).await.unwrap();
    let w1 = workers.iter().find(|w| w.worker_id == worker.id).unwrap();
    assert_eq!((w1.households, w1.visited), (caseload, 2));
    assert!(
        workers
            .iter()
            .filter(|w| w.worker_id != worker.id)
            .all(|w| w.visited == 0)
    );
    let township_households: i64 = villages.iter().map(|v| v.households).sum();
    let assigned: i64 = villages.iter().map(|v| v.households - v.unassigned).sum();
    assert_eq!(workers.iter().map(|w| w.households).sum::<i64>(), assigned);

    let unvisited = store
        .unvisited_households(&township, y, 10_000)
        .await
        .unwrap();
    assert_eq!(unvisited.len() as i64, township_households - 2);
    assert!(unvisited.iter().all(|h| h.id != a && h.id != b));
    let first_three = store.unvisited_households(&township, y, 3).await.unwrap();
    assert_eq!(first_three, unvisited[..3].to_vec(), "ordered, limited");

    let recent = store.recent_visits(&township, 10).await.unwrap();
    let ids: Vec<_> = recent.iter().map(|r| r.visit_id).collect();
    assert_eq!(ids.len(), 3);
    assert_eq!(ids[0], again.visit.id, "newest first");
    assert_eq!(recent[0].shortfalls, 1);
    assert!(recent[1..].iter().all(|r| r.shortfalls == 0));
    assert_eq!(recent[0].worker, worker.display_name);
    assert!(
        store
            .recent_visits(&code("621102201000"), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// The dispatch table's rule, computed in Rust from the raw rows: per child
/// area and item, payments due in the year, and those whose latest
/// verification before `cutoff` found money, and found it all.
async fn dispatch_by_hand(
    store: &dyn daohu::server::db::Store,
    area: &AreaCode,
    y: i32,
    cutoff: chrono::DateTime<Utc>,
) -> Vec<(String, String, daohu::reports::Progress)> {
    use std::collections::BTreeMap;
    let child_len = area.level().child().unwrap_or(area.level()).prefix_len();
    let mut q = query(area.as_str());
    q.limit = 100_000;
    let (households, _) = store.list_households(&q).await.unwrap();
    let mut out: BTreeMap<(String, String), daohu::reports::Progress> = BTreeMap::new();
    for h in households {
        let child = format!("{:0<12}", &h.village.code.as_str()[..child_len]);
        let mut visits = store.visits_of_household(h.id).await.unwrap();
        visits.retain(|v| v.visit.stat_year == y && v.visit.started_at < cutoff);
        visits.sort_by_key(|v| (v.visit.started_at, v.visit.id));
        for e in store.entitlements(h.id, y).await.unwrap() {
            let e = e.entitlement;
            let cell = out.entry((child.clone(), e.item_code.clone())).or_default();
            cell.due += 1;
            cell.due_fen += e.expected_fen;
            let latest = visits
                .iter()
                .rev()
                .find_map(|v| v.visit.lines.iter().find(|l| l.entitlement_id == e.id));
            if let Some(l) = latest.filter(|l| l.status.has_receipt()) {
                cell.paid += 1;
                cell.paid_fen += l.received_fen.unwrap();
                if l.status == daohu::visits::PaymentStatus::ReceivedInFull {
                    cell.full += 1;
                    cell.full_fen += l.received_fen.unwrap();
                }
            }
        }
    }
    out.into_iter().map(|((c, i), p)| (c, i, p)).collect()
}

async fn dispatch_figures_match_a_count_over_the_raw_rows(db: TestDb) {
    use daohu::reports::service::dispatch_figures;
    use daohu::visits::{PaymentStatus, ShortfallReason};
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    let y = year().0;
    let worker = store.user_by_username("worker1").await.unwrap().unwrap();
    let mut q = query("621102000000");
    q.worker_id = Some(worker.id);
    let (mine, _) = store.list_households(&q).await.unwrap();
    let day = |d: i64| {
        daohu::subsidies::StatYear(y)
            .first_day()
            .and_hms_opt(2, 0, 0)
            .unwrap()
            .and_utc()
            + Duration::days(d)
    };
    let mut records = Vec::new();
    // Paid in full on day 40, then a visit on day 50 finds the first
    // payment missing after all: it no longer counts from day 50.
    let mut a = visit_record(common::signed_visit(store, mine[0].id).await, worker.id);
    a.visit.started_at = day(40);
    let mut b = visit_record(common::signed_visit(store, mine[0].id).await, worker.id);
    b.visit.started_at = day(50);
    let l = &mut b.visit.lines[0];
    (l.status, l.received_fen, l.received_on, l.channel) =
        (PaymentStatus::NotReceived, None, None, None);
    l.reason = Some(ShortfallReason::NotYetPaidOut);
    // Half of the first payment; the second not due yet.
    let mut c = visit_record(common::signed_visit(store, mine[1].id).await, worker.id);
    c.visit.started_at = day(45);
    let l = &mut c.visit.lines[0];
    l.status = PaymentStatus::ReceivedInPart;
    l.received_fen = Some(l.received_fen.unwrap() / 2);
    l.reason = Some(ShortfallReason::AmountReduced);
    let l = &mut c.visit.lines[1];
    (l.status, l.received_fen, l.received_on, l.channel) =
        (PaymentStatus::NotDueYet, None, None, None);
    // Visited only on day 100.
    let mut d = visit_record(common::signed_visit(store, mine[2].id).await, worker.id);
    d.visit.started_at = day(100);
    records.extend([a, b, c, d]);
    for r in store.insert_visits(&records).await.unwrap() {
        r.unwrap();
    }

    let (mut checked, mut in_part) = (0, 0);
    for area in [
        "621102000000",
        "621102100000",
        mine[0].village.code.as_str(),
    ] {
        let area = code(area);
        for cutoff in [day(0), day(45), day(60), day(200)] {
            // The table is as of the end of a China day.
            let as_of = daohu::subsidies::china_date(cutoff);
            let cutoff = daohu::reports::service::end_of_china_day(as_of);
            let got: Vec<_> = dispatch_figures(store, &area, y, as_of)
                .await
                .unwrap()
                .into_iter()
                .map(|f| (f.child, f.item_code, f.progress))
                .collect();
            let want = dispatch_by_hand(store, &area, y, cutoff).await;
            assert_eq!(got, want, "{area} before {cutoff}");
            checked += want.iter().filter(|w| w.2.paid > 0).count();
            in_part += want.iter().filter(|w| w.2.part() > 0).count();
        }
    }
    assert!(checked > 10, "the cases exercised paid cells ({checked})");
    assert!(in_part > 0, "the cases exercised cells paid in part");

    // Drill-down: each cell's households, listed, are as many as it counts
    // (one payment per household, item and year).
    use daohu::reports::PaymentState;
    let mut drilled = 0;
    for cutoff in [day(45), day(60)] {
        let cutoff =
            daohu::reports::service::end_of_china_day(daohu::subsidies::china_date(cutoff));
        for (child, item, p) in dispatch_by_hand(store, &code("621102100000"), y, cutoff).await {
            for (state, n) in [
                (PaymentState::Due, p.due),
                (PaymentState::Paid, p.paid),
                (PaymentState::Full, p.full),
                (PaymentState::Part, p.paid - p.full),
                (PaymentState::Unpaid, p.due - p.paid),
            ] {
                let mut q = query("621102000000");
                q.village = Some(code(&child));
                q.limit = 100_000;
                q.payment = Some(daohu::server::db::PaymentQuery {
                    stat_year: y,
                    item_code: Some(item.clone()),
                    cutoff,
                    state,
                });
                let (rows, total) = store.list_households(&q).await.unwrap();
                assert_eq!(
                    (total, rows.len() as i64),
                    (n, n),
                    "{child} {item} {state:?} before {cutoff}"
                );
                drilled += usize::from(state == PaymentState::Paid && n > 0);
            }
        }
    }
    assert!(drilled > 0, "some drilled cells held paid households");
    // Another year has nothing due.
    assert!(
        dispatch_figures(
            store,
            &code("621102000000"),
            y + 1,
            daohu::subsidies::china_date(day(400))
        )
        .await
        .unwrap()
        .is_empty()
    );
}

/// The province-scale generator at 1/500 of Gansu: every level present,
/// every household in its village with its worker, and the dispatch
/// roll-up adding up to the payments written.
async fn a_small_province_loads_whole_with_its_roll_ups(db: TestDb) {
    use daohu::demo::province::{ProvinceShape, load};
    let store = db.store.as_ref();
    let shape = ProvinceShape::with_households(3_000);
    let summary = load(store, shape, 3, year(), &|_, _, _| {}).await.unwrap();
    assert_eq!(summary.households, 3_000);
    assert_eq!(store.count_households().await.unwrap(), 3_000);
    assert_eq!(summary.workers.len(), shape.villages);
    let province = code("620000000000");
    let cities = store.child_areas(&province).await.unwrap();
    assert_eq!(cities.len(), shape.cities);
    let villages: usize = {
        let mut n = 0;
        let mut stack = vec![province.clone()];
        while let Some(a) = stack.pop() {
            let children = store.child_areas(&a).await.unwrap();
            if children.is_empty() {
                n += 1;
            }
            stack.extend(children.into_iter().map(|c| c.code));
        }
        n
    };
    assert_eq!(villages, shape.villages);
    let due: i64 = store
        .dispatch_due(&province, year().0)
        .await
        .unwrap()
        .iter()
        .map(|f| f.progress.due)
        .sum();
    assert_eq!(due as usize, summary.entitlements);
    // A village's households are its worker's.
    let worker = store
        .user_by_username(&summary.workers[0])
        .await
        .unwrap()
        .unwrap();
    let mut q = query(worker.area.as_str());
    q.limit = 1_000;
    let (all, total) = store.list_households(&q).await.unwrap();
    q.worker_id = Some(worker.id);
    let (mine, _) = store.list_households(&q).await.unwrap();
    assert!(total > 0 && mine.len() == all.len());
}

async fn users_in_area_lists_the_subtree_with_caseloads(db: TestDb) {
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    let mut township: Vec<_> = store
        .users_in_area(&code("621102100000"))
        .await
        .unwrap()
        .into_iter()
        .map(|u| (u.username, u.area.name.is_empty(), u.active))
        .collect();
    township.sort();
    assert_eq!(
        township,
        [
            ("township1".into(), false, true),
            ("worker1".into(), false, true),
            ("worker2".into(), false, true)
        ]
    );
    let county = store.users_in_area(&code("621102000000")).await.unwrap();
    assert_eq!(county.len(), 7, "the admin, 2 supervisors, 4 workers");
    for u in &county {
        let (_, held) = store
            .list_households(&HouseholdQuery {
                worker_id: Some(u.id),
                limit: 1,
                ..query("621102000000")
            })
            .await
            .unwrap();
        assert_eq!(u.caseload, held, "{}", u.username);
    }
    assert!(county.iter().any(|u| u.caseload > 0));
}

async fn disabling_a_user_ends_their_sessions_for_good(db: TestDb) {
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    let user = store.user_by_username("worker1").await.unwrap().unwrap();
    let now = Utc::now();
    store
        .insert_session(&session("phone", user.id, now, now + Duration::days(30)))
        .await
        .unwrap();
    assert!(
        store
            .session_user("phone", now, now - Duration::days(14))
            .await
            .unwrap()
            .is_some()
    );
    assert!(store.set_user_active(user.id, false).await.unwrap());
    assert!(
        !store.set_user_active(user.id, false).await.unwrap(),
        "already disabled"
    );
    assert!(
        store
            .session_user("phone", now, now - Duration::days(14))
            .await
            .unwrap()
            .is_none()
    );
    assert!(!store.user_by_id(user.id).await.unwrap().unwrap().active);
    assert!(store.set_user_active(user.id, true).await.unwrap());
    assert!(
        store
            .session_user("phone", now, now - Duration::days(14))
            .await
            .unwrap()
            .is_none(),
        "re-enabling does not revive an old session"
    );
}

async fn assignment_is_compare_and_set_and_leaves_a_trail(db: TestDb) {
    use daohu::server::db::AssignTarget;
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    let id =
        |name: &'static str| async move { store.user_by_username(name).await.unwrap().unwrap().id };
    let (worker1, worker2, boss) = (
        id("worker1").await,
        id("worker2").await,
        id("township1").await,
    );
    let village = code("621102100202");
    let households = || async {
        store
            .list_households(&HouseholdQuery {
                village: Some(village.clone()),
                ..query("621102100000")
            })
            .await
            .unwrap()
            .0
    };
    let before = households().await;
    let of = |w: Uuid| before.iter().filter(|h| h.worker_id == Some(w)).count() as u64;
    let none = before.iter().filter(|h| h.worker_id.is_none()).count() as u64;

    // Only those waiting: the unassigned ones, then also a disabled worker's.
    let waiting = AssignTarget::Village {
        code: village.clone(),
        only_unassigned: true,
    };
    assert_eq!(
        store
            .assign_households(&waiting, worker1, boss)
            .await
            .unwrap(),
        none
    );
    assert_eq!(
        store
            .assign_households(&waiting, worker1, boss)
            .await
            .unwrap(),
        0
    );
    store.set_user_active(worker2, false).await.unwrap();
    assert_eq!(
        store
            .assign_households(&waiting, worker1, boss)
            .await
            .unwrap(),
        of(worker2)
    );
    assert!(
        households()
            .await
            .iter()
            .all(|h| h.worker_id == Some(worker1))
    );
    let summaries = store
        .child_area_summaries(&code("621102100000"), year().0)
        .await
        .unwrap();
    let line = summaries.iter().find(|s| s.area.code == village).unwrap();
    assert_eq!(line.unassigned, 0);

    // One household back to worker2 (active again), recorded old → new.
    store.set_user_active(worker2, true).await.unwrap();
    let h = before[0].id;
    let one = AssignTarget::Household(h);
    assert_eq!(
        store.assign_households(&one, worker2, boss).await.unwrap(),
        1
    );
    assert_eq!(
        store.assign_households(&one, worker2, boss).await.unwrap(),
        0
    );
    let trail = store.assignments_of_household(h).await.unwrap();
    let steps: Vec<_> = trail
        .iter()
        .map(|t| (t.old_worker_id, t.new_worker_id, t.assigned_by))
        .collect();
    let mut expected = Vec::new();
    if before[0].worker_id != Some(worker1) {
        expected.push((before[0].worker_id, worker1, boss));
    }
    expected.push((Some(worker1), worker2, boss));
    assert_eq!(steps, expected);
    // The whole village moves in one call, each change in the trail.
    let all = AssignTarget::Village {
        code: village.clone(),
        only_unassigned: false,
    };
    assert_eq!(
        store.assign_households(&all, worker2, boss).await.unwrap(),
        before.len() as u64 - 1
    );
    assert!(
        households()
            .await
            .iter()
            .all(|h| h.worker_id == Some(worker2))
    );
}

async fn assignments_succeed_while_others_write(db: TestDb) {
    use daohu::server::db::AssignTarget;
    let db = db.with_demo().await;
    let store = db.store.clone();
    let worker1 = store.user_by_username("worker1").await.unwrap().unwrap().id;
    let worker2 = store.user_by_username("worker2").await.unwrap().unwrap().id;
    let village = AssignTarget::Village {
        code: code("621102100203"),
        only_unassigned: false,
    };
    // Assignments back and forth while audit rows are written alongside:
    // none may fail for the other writers (SQLite's lock upgrade).
    let mut tasks = Vec::new();
    for i in 0..24 {
        let store = store.clone();
        let village = village.clone();
        tasks.push(tokio::spawn(async move {
            if i % 2 == 0 {
                let to = if i % 4 == 0 { worker1 } else { worker2 };
                store
                    .assign_households(&village, to, worker1)
                    .await
                    .map(|_| ())
            } else {
                store
                    .record_audit(&AuditEvent {
                        user_id: None,
                        action: "concurrent".into(),
                        target: i.to_string(),
                        outcome: "ok".into(),
                        address: None,
                    })
                    .await
            }
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(store.audit_events("concurrent").await.unwrap().len(), 12);
}
