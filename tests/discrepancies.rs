//! The discrepancy queue: the store contract on both backends (items opened
//! with the visit, exactly once; the history of each item) and the HTTP
//! behaviour of its server functions and pages.

mod common;

use axum::http::StatusCode;
use chrono::Duration;
use common::{TestDb, call, page, sign_in, year};
use daohu::areas::AreaCode;
use daohu::discrepancies::{DiscrepancyAction, DiscrepancyKind, Resolution};
use daohu::households::Category;
use daohu::server::db::{
    DbError, DiscrepancyEvent, DiscrepancyQuery, DiscrepancyRecord, DiscrepancyStatus,
    EntitlementRecord, HouseholdRecord, Store, VisitInsert, VisitRecord,
};
use daohu::subsidies::Channel;
use daohu::visits::{PaymentStatus, ShortfallReason};
use uuid::Uuid;

on_both_backends!(
    a_visit_opens_one_item_per_line_short_or_late_and_a_replay_opens_none,
    a_conflicting_copy_opens_one_item_once,
    assign_note_close_reopen_keep_the_history_in_order,
    the_migration_backfills_the_items_the_store_opens,
    the_queue_is_for_supervisors_of_the_area_only,
    a_supervisor_assigns_notes_closes_and_reopens_an_item,
    bad_input_is_refused_naming_the_field_and_writes_nothing,
    an_out_of_scope_item_is_answered_byte_for_byte_as_an_unknown_one,
);

const TOWNSHIP: &str = "621102100000";

fn code(s: &str) -> AreaCode {
    AreaCode::parse(s).unwrap()
}

fn open_in(scope: &str) -> DiscrepancyQuery {
    DiscrepancyQuery {
        scope: code(scope),
        closed: false,
        assignee_id: None,
        limit: 1000,
        offset: 0,
    }
}

/// A household in the first demo village with five payments due this year,
/// assigned to worker1.
async fn household_with_five_payments(store: &dyn Store) -> Uuid {
    let worker = store.user_by_username("worker1").await.unwrap().unwrap();
    let village = code("621102100201");
    let h = HouseholdRecord {
        id: Uuid::now_v7(),
        number: "6211021002019999".into(),
        head_name: "核实测试户".into(),
        category: Category::Alleviated,
        relocated: false,
        village,
        worker_id: Some(worker.id),
        phone: None,
        members: Vec::new(),
    };
    let items = store.subsidy_items().await.unwrap();
    let first_day = year().first_day();
    let entitlements: Vec<_> = items
        .iter()
        .take(5)
        .enumerate()
        .map(|(i, item)| EntitlementRecord {
            id: Uuid::now_v7(),
            household_id: h.id,
            item_code: item.code.clone(),
            stat_year: year().0,
            expected_fen: 100_000 * (i as i64 + 1),
            expected_date: first_day + Duration::days(10 + i as i64),
            department: "区民政局".into(),
            channel: Channel::OneCard,
        })
        .collect();
    store
        .insert_households(std::slice::from_ref(&h), &entitlements)
        .await
        .unwrap();
    h.id
}

/// A visit of the household's five payments: in full, in part, late, not
/// received, not due yet (in expected-date order).
async fn mixed_visit(store: &dyn Store, household: Uuid) -> VisitRecord {
    let worker = store.user_by_username("worker1").await.unwrap().unwrap();
    let mut v = common::signed_visit(store, household).await;
    assert_eq!(v.lines.len(), 5);
    let l = &mut v.lines[1];
    l.status = PaymentStatus::ReceivedInPart;
    l.received_fen = Some(l.received_fen.unwrap() / 4);
    l.reason = Some(ShortfallReason::AmountReduced);
    l.reason_text = "扣了保险费".into();
    let l = &mut v.lines[2];
    l.received_on = l.received_on.map(|d| d + Duration::days(12));
    let l = &mut v.lines[3];
    (l.status, l.received_fen, l.received_on, l.channel) =
        (PaymentStatus::NotReceived, None, None, None);
    l.reason = Some(ShortfallReason::NotYetPaidOut);
    let l = &mut v.lines[4];
    (l.status, l.received_fen, l.received_on, l.channel) =
        (PaymentStatus::NotDueYet, None, None, None);
    common::record(v, worker.id)
}

fn by_kind(items: &[DiscrepancyRecord], kind: DiscrepancyKind) -> &DiscrepancyRecord {
    let found: Vec<_> = items.iter().filter(|d| d.kind == kind).collect();
    assert_eq!(found.len(), 1, "one {kind:?} item");
    found[0]
}

async fn a_visit_opens_one_item_per_line_short_or_late_and_a_replay_opens_none(db: TestDb) {
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    let household = household_with_five_payments(store).await;
    let visit = mixed_visit(store, household).await;
    let lines = visit.visit.lines.clone();
    assert!(matches!(
        store.insert_visit(&visit).await.unwrap(),
        VisitInsert::Stored
    ));

    let (items, total) = store.discrepancies(&open_in(TOWNSHIP)).await.unwrap();
    assert_eq!((items.len(), total), (3, 3), "{items:#?}");
    let entitlements = store.entitlements(household, year().0).await.unwrap();
    let expected = |i: usize| entitlements[i].entitlement.expected_fen;

    let part = by_kind(&items, DiscrepancyKind::ReceivedInPart);
    assert_eq!(part.expected_fen, Some(expected(1)));
    assert_eq!(part.received_fen, Some(expected(1) / 4));
    assert_eq!(part.reason, Some(ShortfallReason::AmountReduced));
    assert_eq!(part.reason_text.as_deref(), Some("扣了保险费"));
    assert_eq!(
        part.item_name.as_deref(),
        Some(entitlements[1].item.name.as_str())
    );

    let late = by_kind(&items, DiscrepancyKind::ReceivedLate);
    assert_eq!(
        (late.expected_fen, late.received_fen),
        (Some(expected(2)), Some(expected(2)))
    );
    assert_eq!(late.received_on, lines[2].received_on);
    assert_eq!(
        late.expected_date,
        Some(entitlements[2].entitlement.expected_date)
    );

    let missing = by_kind(&items, DiscrepancyKind::NotReceived);
    assert_eq!(
        (missing.expected_fen, missing.received_fen),
        (Some(expected(3)), Some(0))
    );
    for d in &items {
        assert_eq!(d.household_id, household);
        assert_eq!(d.head_name, "核实测试户");
        assert_eq!(d.village.code, code("621102100201"));
        assert_eq!(d.visit_id, Some(visit.visit.id));
        assert_eq!(d.visit_started_at, Some(visit.visit.started_at));
        assert_eq!(d.reported_at, visit.visit.started_at);
        assert!(!d.status.closed && d.status.assignee_id.is_none());
        assert!(d.conflict.is_none());
    }

    // Pages split the same newest-first list.
    let mut ids = Vec::new();
    for offset in [0, 2] {
        let q = DiscrepancyQuery {
            limit: 2,
            offset,
            ..open_in(TOWNSHIP)
        };
        let (page, total) = store.discrepancies(&q).await.unwrap();
        assert_eq!(total, 3);
        ids.extend(page.into_iter().map(|d| d.id));
    }
    assert_eq!(ids, items.iter().map(|d| d.id).collect::<Vec<_>>());

    // Delivered again (the phone never heard back): nothing new.
    assert!(matches!(
        store
            .insert_visits(std::slice::from_ref(&visit))
            .await
            .unwrap()[0],
        Ok(VisitInsert::AlreadyStored)
    ));
    assert_eq!(store.discrepancies(&open_in(TOWNSHIP)).await.unwrap().1, 3);

    // A second visit, all in full and on time, opens nothing; the counts
    // per kind agree with the list; another township sees none of it.
    let worker = store.user_by_username("worker1").await.unwrap().unwrap();
    let fine = common::record(common::signed_visit(store, household).await, worker.id);
    store.insert_visit(&fine).await.unwrap();
    let counts = store
        .discrepancy_counts(&code(TOWNSHIP), worker.id)
        .await
        .unwrap();
    assert_eq!(counts.iter().map(|c| c.n).sum::<i64>(), 3);
    assert!(counts.iter().all(|c| c.n == 1 && !c.closed && !c.mine));
    assert_eq!(
        store
            .discrepancies(&open_in("621102200000"))
            .await
            .unwrap()
            .1,
        0
    );
}

async fn a_conflicting_copy_opens_one_item_once(db: TestDb) {
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    let household = common::household_of(store, "worker1").await;
    let worker = store.user_by_username("worker1").await.unwrap().unwrap();
    let first = common::record(common::signed_visit(store, household).await, worker.id);
    store.insert_visit(&first).await.unwrap();
    assert_eq!(store.discrepancies(&open_in(TOWNSHIP)).await.unwrap().1, 0);

    let mut other = first.clone();
    other.visit.notes = "另一份内容".into();
    other.payload_hash = "another-hash".into();
    for _ in 0..2 {
        assert!(matches!(
            store.insert_visit(&other).await.unwrap(),
            VisitInsert::Conflict
        ));
    }
    let (items, total) = store.discrepancies(&open_in(TOWNSHIP)).await.unwrap();
    assert_eq!(total, 1, "the same conflicting copy twice is one item");
    let d = &items[0];
    assert_eq!(d.kind, DiscrepancyKind::VisitConflict);
    assert_eq!(
        (d.expected_fen, d.received_fen, d.item_name.as_ref()),
        (None, None, None)
    );
    let c = d.conflict.as_ref().unwrap();
    assert_eq!(c.stored_hash, first.payload_hash);
    assert_eq!(c.other_hash, "another-hash");
    assert_eq!(c.other_worker_name, worker.display_name);
    assert!(c.other_at >= c.stored_at);
    assert_eq!(d.reported_at, c.other_at);
}

fn event(item: Uuid, actor: Uuid, action: DiscrepancyAction) -> DiscrepancyEvent {
    DiscrepancyEvent {
        id: Uuid::now_v7(),
        discrepancy_id: item,
        action,
        actor_id: actor,
        assignee_id: None,
        resolution: None,
        note: String::new(),
        at: chrono::Utc::now(),
    }
}

async fn assign_note_close_reopen_keep_the_history_in_order(db: TestDb) {
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    let household = household_with_five_payments(store).await;
    store
        .insert_visit(&mixed_visit(store, household).await)
        .await
        .unwrap();
    let item = store.discrepancies(&open_in(TOWNSHIP)).await.unwrap().0[0].clone();
    let boss = store.user_by_username("township1").await.unwrap().unwrap();
    let worker = store.user_by_username("worker1").await.unwrap().unwrap();
    let open = item.status.clone();
    assert!(store.discrepancy_events(item.id).await.unwrap().is_empty());

    let mut assign = event(item.id, boss.id, DiscrepancyAction::Assign);
    assign.assignee_id = Some(worker.id);
    let assigned = DiscrepancyStatus {
        assignee_id: Some(worker.id),
        ..open.clone()
    };
    store
        .record_discrepancy_event(&assign, false, &assigned)
        .await
        .unwrap();
    let mut note = event(item.id, boss.id, DiscrepancyAction::Note);
    note.note = "已电话联系民政局".into();
    store
        .record_discrepancy_event(&note, false, &assigned)
        .await
        .unwrap();
    let mut close = event(item.id, boss.id, DiscrepancyAction::Close);
    close.resolution = Some(Resolution::PaidLater);
    close.note = "10月8日已补发".into();
    let closed = DiscrepancyStatus {
        closed: true,
        resolution: Some(Resolution::PaidLater),
        closed_at: Some(close.at),
        ..assigned.clone()
    };
    store
        .record_discrepancy_event(&close, false, &closed)
        .await
        .unwrap();

    let now = store.discrepancy(item.id).await.unwrap().unwrap();
    assert_eq!(now.status.assignee_id, Some(worker.id));
    assert_eq!(
        now.assignee_name.as_deref(),
        Some(worker.display_name.as_str())
    );
    assert!(now.status.closed);
    assert_eq!(now.status.resolution, Some(Resolution::PaidLater));
    let mut closed_list = open_in(TOWNSHIP);
    closed_list.closed = true;
    assert_eq!(store.discrepancies(&closed_list).await.unwrap().1, 1);
    assert_eq!(store.discrepancies(&open_in(TOWNSHIP)).await.unwrap().1, 2);

    // Closing what is already closed is refused, and writes no event.
    let again = event(item.id, boss.id, DiscrepancyAction::Close);
    let err = store
        .record_discrepancy_event(&again, false, &closed)
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::Conflict { .. }), "{err:?}");

    let mut reopen = event(item.id, boss.id, DiscrepancyAction::Reopen);
    reopen.note = "农户称仍未收到".into();
    store
        .record_discrepancy_event(&reopen, true, &assigned)
        .await
        .unwrap();
    let now = store.discrepancy(item.id).await.unwrap().unwrap();
    assert_eq!(now.status, assigned);

    let history = store.discrepancy_events(item.id).await.unwrap();
    assert_eq!(
        history.iter().map(|e| e.action).collect::<Vec<_>>(),
        [
            DiscrepancyAction::Assign,
            DiscrepancyAction::Note,
            DiscrepancyAction::Close,
            DiscrepancyAction::Reopen
        ]
    );
    assert_eq!(history[0].assignee_id, Some(worker.id));
    assert_eq!(history[1].note, "已电话联系民政局");
    assert_eq!(history[2].resolution, Some(Resolution::PaidLater));
    assert_eq!(history[3].note, "农户称仍未收到");
    assert!(history.iter().all(|e| e.actor_id == boss.id));

    // The counts see the assignment.
    let counts = store
        .discrepancy_counts(&code(TOWNSHIP), worker.id)
        .await
        .unwrap();
    assert_eq!(
        counts.iter().filter(|c| c.mine).map(|c| c.n).sum::<i64>(),
        1
    );
}

/// Everything an item was opened with, for comparing two ways of opening.
fn opened(items: &[DiscrepancyRecord]) -> Vec<String> {
    let mut out: Vec<_> = items
        .iter()
        .map(|d| {
            format!(
                "{:?} {:?} {:?} {:?} {:?} {} {:?}",
                d.kind,
                d.visit_id,
                d.item_name,
                d.expected_fen,
                d.received_fen,
                d.reported_at.timestamp_micros(),
                d.conflict.as_ref().map(|c| &c.other_hash),
            )
        })
        .collect();
    out.sort();
    out
}

async fn the_migration_backfills_the_items_the_store_opens(db: TestDb) {
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    daohu::demo::load_visits(store, &["worker1".to_owned()], year(), 100, 5)
        .await
        .unwrap();
    let household = household_with_five_payments(store).await;
    let mixed = mixed_visit(store, household).await;
    store.insert_visit(&mixed).await.unwrap();
    let mut other = mixed.clone();
    other.payload_hash = "conflicting".into();
    store.insert_visit(&other).await.unwrap();
    let by_store = store.discrepancies(&open_in(TOWNSHIP)).await.unwrap().0;
    assert!(
        by_store.len() > 4,
        "the demo visits opened items too ({})",
        by_store.len()
    );

    // Run the migration's backfill over the same rows, as if they had been
    // stored before it.
    let sql = std::fs::read_to_string(format!(
        "migrations/{}/0005_discrepancies.sql",
        store.backend()
    ))
    .unwrap();
    let backfill = &sql[sql.find("-- Items for what was stored").unwrap()..];
    let script = format!("DELETE FROM discrepancies;\n{backfill}");
    if db.url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        sqlx::raw_sql(&script).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        sqlx::raw_sql(&script).execute(&pool).await.unwrap();
        pool.close().await;
    }
    let by_migration = store.discrepancies(&open_in(TOWNSHIP)).await.unwrap().0;
    assert_eq!(opened(&by_migration), opened(&by_store));
}

// HTTP

async fn first_item(db: &TestDb) -> DiscrepancyRecord {
    let store = db.store.as_ref();
    let household = household_with_five_payments(store).await;
    store
        .insert_visit(&mixed_visit(store, household).await)
        .await
        .unwrap();
    let items = store.discrepancies(&open_in(TOWNSHIP)).await.unwrap().0;
    items
        .into_iter()
        .find(|d| d.kind == DiscrepancyKind::NotReceived)
        .unwrap()
}

async fn the_queue_is_for_supervisors_of_the_area_only(db: TestDb) {
    let db = db.with_demo().await;
    let item = first_item(&db).await;
    let id = item.id.to_string();
    let state = db.state();
    let list = [("code", TOWNSHIP)];

    let r = call(&state, None, "/api/discrepancies/list", &list).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    let r = call(
        &state,
        None,
        "/api/discrepancies/close",
        &[("id", &id), ("resolution", "paid_later"), ("note", "x")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    let worker = sign_in(&state, "worker1").await;
    for (path, form) in [
        ("/api/discrepancies/list", vec![("code", TOWNSHIP)]),
        ("/api/discrepancies/get", vec![("id", id.as_str())]),
        (
            "/api/discrepancies/note",
            vec![("id", id.as_str()), ("note", "我来看看")],
        ),
    ] {
        let r = call(&state, Some(&worker), path, &form).await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "worker on {path}: {}",
            r.body
        );
    }

    let other = sign_in(&state, "township2").await;
    let before = db
        .store
        .audit_events("discrepancy_queue")
        .await
        .unwrap()
        .len();
    let r = call(&state, Some(&other), "/api/discrepancies/list", &list).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let audit = db.store.audit_events("discrepancy_queue").await.unwrap();
    assert_eq!(audit.len(), before + 1);
    assert_eq!(audit.last().unwrap().target, TOWNSHIP);
    let r = call(
        &state,
        Some(&other),
        "/api/discrepancies/close",
        &[
            ("id", &id),
            ("resolution", "paid_later"),
            ("note", "越权结案"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let audit = db.store.audit_events("discrepancy").await.unwrap();
    assert_eq!(audit.last().unwrap().target, id);
    assert!(
        db.store
            .discrepancy_events(item.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        !db.store
            .discrepancy(item.id)
            .await
            .unwrap()
            .unwrap()
            .status
            .closed
    );

    // The pages answer the same way.
    let queue_page = format!("/areas/{TOWNSHIP}/discrepancies");
    let item_page = format!("/discrepancies/{id}");
    assert_eq!(
        page(&state, Some(&other), &queue_page).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        page(&state, Some(&other), &item_page).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        page(&state, Some(&worker), &queue_page).await.status,
        StatusCode::FORBIDDEN
    );
    let boss = sign_in(&state, "township1").await;
    let r = page(&state, Some(&boss), &queue_page).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.contains("核实测试户") && r.body.contains("未到账"),
        "{}",
        r.body
    );
    let r = page(&state, Some(&boss), &item_page).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("部门尚未发放"), "the reason given shows");

    // The county sees the township's items too, and the area page links
    // to them with the open count.
    let county = sign_in(&state, "county").await;
    let r = call(
        &state,
        Some(&county),
        "/api/discrepancies/list",
        &[("code", "621102000000")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["total"], 3);
    let r = page(&state, Some(&boss), &format!("/areas/{TOWNSHIP}")).await;
    assert!(
        r.body.contains(&format!("href=\"{queue_page}\"")),
        "link on the area page"
    );
    let r = call(&state, Some(&boss), "/api/discrepancies/open_count", &list).await;
    assert_eq!(r.body, "3");
}

async fn a_supervisor_assigns_notes_closes_and_reopens_an_item(db: TestDb) {
    let db = db.with_demo().await;
    let item = first_item(&db).await;
    let id = item.id.to_string();
    let state = db.state();
    let boss = sign_in(&state, "township1").await;
    let worker1 = db.store.user_by_username("worker1").await.unwrap().unwrap();
    let me = db
        .store
        .user_by_username("township1")
        .await
        .unwrap()
        .unwrap();
    let act = |path: &'static str, form: Vec<(&'static str, String)>| {
        let state = state.clone();
        let boss = boss.clone();
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            call(&state, Some(&boss), path, &form).await
        }
    };
    let with_id = |pairs: &[(&'static str, &str)]| {
        let mut form = vec![("id", id.clone())];
        form.extend(pairs.iter().map(|(k, v)| (*k, (*v).to_owned())));
        form
    };

    // The detail offers the township's people, the caller first among equals.
    let r = act("/api/discrepancies/get", with_id(&[])).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let names: Vec<_> = r.json()["assignees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(names.contains(&worker1.id.to_string()) && names.contains(&me.id.to_string()));
    assert_eq!(r.json()["queue"], TOWNSHIP);

    let w = worker1.id.to_string();
    let r = act(
        "/api/discrepancies/assign",
        with_id(&[("assignee_id", &w), ("note", "请核实")]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = act(
        "/api/discrepancies/note",
        with_id(&[("note", "民政局称10月补发")]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let m = me.id.to_string();
    let r = act("/api/discrepancies/assign", with_id(&[("assignee_id", &m)])).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let mine = act(
        "/api/discrepancies/list",
        vec![("code", TOWNSHIP.to_owned()), ("filter", "mine".to_owned())],
    )
    .await
    .json();
    assert_eq!(mine["total"], 1);
    assert_eq!(mine["items"][0]["id"], id.as_str());
    assert_eq!(mine["counts"]["mine"]["not_received"], 1);

    let r = act(
        "/api/discrepancies/close",
        with_id(&[("resolution", "paid_later"), ("note", "已补发到卡")]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Closed twice: the second is refused and writes nothing.
    let r = act(
        "/api/discrepancies/close",
        with_id(&[("resolution", "escalated"), ("note", "再次")]),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let closed = act(
        "/api/discrepancies/list",
        vec![
            ("code", TOWNSHIP.to_owned()),
            ("filter", "closed".to_owned()),
        ],
    )
    .await
    .json();
    assert_eq!(closed["total"], 1);
    assert_eq!(closed["items"][0]["resolution"], "PaidLater");
    assert_eq!(closed["counts"]["open"]["not_received"], 0);

    let r = act(
        "/api/discrepancies/reopen",
        with_id(&[("note", "农户说仍未收到")]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let detail = act("/api/discrepancies/get", with_id(&[])).await.json();
    assert_eq!(detail["item"]["closed"], false);
    let steps: Vec<_> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{} {} {}", e["action"], e["note"], e["actor_name"]))
        .collect();
    let boss_name = &me.display_name;
    assert_eq!(
        steps,
        [
            format!("\"Assign\" \"请核实\" \"{boss_name}\""),
            format!("\"Note\" \"民政局称10月补发\" \"{boss_name}\""),
            format!("\"Assign\" \"\" \"{boss_name}\""),
            format!("\"Close\" \"已补发到卡\" \"{boss_name}\""),
            format!("\"Reopen\" \"农户说仍未收到\" \"{boss_name}\""),
        ]
    );
    assert_eq!(
        detail["history"][0]["assignee_name"],
        worker1.display_name.as_str()
    );
    assert_eq!(detail["history"][3]["resolution"], "PaidLater");
}

async fn bad_input_is_refused_naming_the_field_and_writes_nothing(db: TestDb) {
    let db = db.with_demo().await;
    let item = first_item(&db).await;
    let id = item.id.to_string();
    let state = db.state();
    let boss = sign_in(&state, "township1").await;
    let other_boss = db
        .store
        .user_by_username("township2")
        .await
        .unwrap()
        .unwrap();
    // (server function, form without the id, field at fault, message)
    type Case<'a> = (&'a str, Vec<(&'a str, String)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            "/api/discrepancies/close",
            vec![("note", "已处理".into())],
            "resolution",
            "请选择处理结果",
        ),
        (
            "/api/discrepancies/close",
            vec![("resolution", "".into()), ("note", "已处理".into())],
            "resolution",
            "请选择处理结果",
        ),
        (
            "/api/discrepancies/close",
            vec![("resolution", "lost".into()), ("note", "已处理".into())],
            "resolution",
            "未知的处理结果",
        ),
        (
            "/api/discrepancies/close",
            vec![("resolution", "paid_later".into()), ("note", "  ".into())],
            "note",
            "请写明处理情况",
        ),
        (
            "/api/discrepancies/note",
            vec![("note", "".into())],
            "note",
            "请填写备注内容",
        ),
        (
            "/api/discrepancies/note",
            vec![("note", "长".repeat(501))],
            "note",
            "不能超过500字",
        ),
        (
            "/api/discrepancies/assign",
            vec![],
            "assignee_id",
            "请选择指派对象",
        ),
        (
            "/api/discrepancies/assign",
            vec![("assignee_id", other_boss.id.to_string())],
            "assignee_id",
            "只能指派给本户所在区域",
        ),
        (
            "/api/discrepancies/reopen",
            vec![("note", "".into())],
            "note",
            "请写明重新打开的原因",
        ),
    ];
    for (path, mut form, field, message) in cases {
        form.push(("id", id.clone()));
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = call(&state, Some(&boss), path, &form).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path} {form:?}: {}",
            r.body
        );
        let body = r.json();
        let error = &body["Validation"];
        assert_eq!(error["field"], field, "{path}: {}", r.body);
        assert!(
            error["message"].as_str().unwrap().contains(message),
            "{path}: {}",
            r.body
        );
    }
    let r = call(
        &state,
        Some(&boss),
        "/api/discrepancies/note",
        &[("id", "not-a-uuid"), ("note", "x")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        db.store
            .discrepancy_events(item.id)
            .await
            .unwrap()
            .is_empty(),
        "nothing written"
    );
    let now = db.store.discrepancy(item.id).await.unwrap().unwrap();
    assert_eq!(now.status, item.status);
}

/// Township 2's supervisor naming township 1's item gets the very answer
/// (status and body) that an id of no item gets, on every endpoint and the
/// page, and nothing is written; the attempt is audited.
async fn an_out_of_scope_item_is_answered_byte_for_byte_as_an_unknown_one(db: TestDb) {
    let db = db.with_demo().await;
    let item = first_item(&db).await;
    let state = db.state();
    let other = sign_in(&state, "township2").await;
    let boss = db
        .store
        .user_by_username("township2")
        .await
        .unwrap()
        .unwrap();
    let assignee = boss.id.to_string();
    let answer = |id: String, path: &'static str| {
        let state = state.clone();
        let other = other.clone();
        let assignee = assignee.clone();
        async move {
            let mut form = vec![("id", id.clone()), ("note", "越权".to_owned())];
            match path {
                "/api/discrepancies/assign" => form.push(("assignee_id", assignee)),
                "/api/discrepancies/close" => form.push(("resolution", "paid_later".into())),
                _ => {}
            }
            let r = if path.starts_with("/api/") {
                let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
                call(&state, Some(&other), path, &form).await
            } else {
                page(&state, Some(&other), &format!("{path}{id}")).await
            };
            (r.status, common::without_nonces(&r.body.replace(&id, "{}")))
        }
    };
    for path in [
        "/api/discrepancies/get",
        "/api/discrepancies/assign",
        "/api/discrepancies/note",
        "/api/discrepancies/close",
        "/api/discrepancies/reopen",
        "/discrepancies/",
    ] {
        let before = db.store.audit_events("discrepancy").await.unwrap().len();
        let outside = answer(item.id.to_string(), path).await;
        let unknown = answer(Uuid::now_v7().to_string(), path).await;
        assert_eq!(outside.0, StatusCode::NOT_FOUND, "{path}: {}", outside.1);
        assert_eq!(outside, unknown, "{path}");
        let after = db.store.audit_events("discrepancy").await.unwrap().len();
        assert!(after > before, "{path}: not audited");
    }
    assert!(
        db.store
            .discrepancy_events(item.id)
            .await
            .unwrap()
            .is_empty()
    );
}
