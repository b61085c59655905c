//! Visits that move plan measures and declare income, through the sync
//! endpoint: stored once with the measure's new status and its history,
//! refused field by field when they touch another household's plan or
//! carry implausible figures, and read back into the phone's roster.

mod common;

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use common::{TestDb, household_of, page, post_json, sign_in, signed_visit, year};
use daohu::field::Roster;
use daohu::income::{IncomeKind, IncomeLine};
use daohu::plans::{Measure, MeasureCategory, MeasureStatus, MeasureUpdate};
use daohu::server::db::{MeasureEvent, NewPlan, PlanWrite};
use daohu::subsidies::{Fen, china_date};
use daohu::sync::{ROSTER_PATH, VISITS_PATH};
use daohu::visits::{VisitSubmission, confirmation_hash};
use serde_json::{Value, json};
use uuid::Uuid;

on_both_backends!(
    a_visit_moving_a_measure_and_declaring_income_is_stored_once,
    a_measure_of_another_household_is_refused_and_nothing_is_stored,
    implausible_income_size_or_updates_are_refused_with_the_field_named,
    a_visit_delivered_late_does_not_undo_a_newer_move,
    only_the_households_own_worker_moves_its_measures,
);

/// Adds one planned measure to `household`'s plan (the demo's, or a new
/// one); returns the measure.
async fn plan_with_a_measure(db: &TestDb, household: Uuid) -> Uuid {
    let store = db.store.as_ref();
    let creator = store.user_by_username("worker1").await.unwrap().unwrap().id;
    let now = Utc::now();
    let plan = match store.plan_of_household(household).await.unwrap() {
        Some(p) => p.id,
        None => {
            let plan = NewPlan {
                plan: PlanWrite {
                    id: Uuid::now_v7(),
                    household_id: household,
                    responsible_name: "李干部".into(),
                    responsible_phone: "13800000000".into(),
                    labour_situation: "两个劳动力".into(),
                    health_situation: "健康".into(),
                    by: creator,
                    at: now,
                },
                measures: Vec::new(),
                events: Vec::new(),
            };
            store
                .insert_plans(std::slice::from_ref(&plan))
                .await
                .unwrap();
            plan.plan.id
        }
    };
    let measure = Measure {
        id: Uuid::now_v7(),
        category: MeasureCategory::Employment,
        action: "推荐到兰州务工".into(),
        funding_source: String::new(),
        funding: Fen(0),
        due_on: year().first_day() + Duration::days(300),
        expected_income: Fen(1_000_000),
        status: MeasureStatus::Planned,
        done_on: None,
        drop_reason: None,
        note: String::new(),
    };
    let created = MeasureEvent {
        id: Uuid::now_v7(),
        measure_id: measure.id,
        visit_id: None,
        user_id: creator,
        status: MeasureStatus::Planned,
        done_on: None,
        drop_reason: None,
        note: String::new(),
        at: now,
    };
    store
        .insert_measure(plan, household, &measure, &created, &[])
        .await
        .unwrap();
    measure.id
}

fn done(measure_id: Uuid, visit: &VisitSubmission) -> MeasureUpdate {
    MeasureUpdate {
        measure_id,
        status: MeasureStatus::Done,
        done_on: Some(china_date(visit.ended_at)),
        drop_reason: None,
        note: "已在兰州建筑工地上班".into(),
    }
}

fn migrant_wage(amount_fen: i64) -> IncomeLine {
    IncomeLine {
        kind: IncomeKind::WageMigrant,
        amount_fen,
        evidence: true,
        note: "工资流水".into(),
    }
}

/// Signs the visit's content again, as the household would after the edit.
fn resigned(mut visit: VisitSubmission) -> VisitSubmission {
    visit.signature.content_hash = confirmation_hash(&visit);
    visit
}

async fn deliver(db: &TestDb, cookie: &str, visit: &VisitSubmission) -> Value {
    let body = json!({ "visits": [visit] }).to_string();
    let reply = post_json(&db.state(), Some(cookie), VISITS_PATH, body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json()["results"][0].clone()
}

fn assert_rejected(outcome: &Value, field: &str) {
    assert_eq!(outcome["outcome"], "rejected", "{outcome}");
    assert_eq!(outcome["status"], 422, "{outcome}");
    // The phone is told the field to point at; the words name it in
    // Chinese, never by its internal name.
    assert_eq!(outcome["field"], field, "{outcome}");
    let message = outcome["message"].as_str().unwrap();
    assert!(!message.contains(field), "{field} not shown in {message}");
}

async fn a_visit_moving_a_measure_and_declaring_income_is_stored_once(db: TestDb) {
    let db = db.with_demo().await;
    let cookie = sign_in(&db.state(), "worker1").await;
    let household = household_of(db.store.as_ref(), "worker1").await;
    let measure = plan_with_a_measure(&db, household).await;
    let mut visit = signed_visit(db.store.as_ref(), household).await;
    visit.measure_updates = vec![done(measure, &visit)];
    visit.income = vec![migrant_wage(1_200_000)];
    visit.household_size = Some(4);
    let visit = resigned(visit);

    assert_eq!(deliver(&db, &cookie, &visit).await["outcome"], "stored");
    assert_eq!(
        deliver(&db, &cookie, &visit).await["outcome"],
        "already_stored"
    );
    assert_eq!(db.store.count_visits().await.unwrap(), 1);

    let stored = db.store.visit(visit.id).await.unwrap().unwrap().visit;
    assert_eq!(stored.measure_updates, visit.measure_updates);
    assert_eq!(stored.income, visit.income);
    assert_eq!(stored.household_size, Some(4));
    let plan = db
        .store
        .plan_of_household(household)
        .await
        .unwrap()
        .unwrap();
    let moved = plan.measures.iter().find(|m| m.id == measure).unwrap();
    assert_eq!(moved.status, MeasureStatus::Done);
    assert_eq!(moved.done_on, Some(china_date(visit.ended_at)));
    assert_eq!(moved.note, "已在兰州建筑工地上班");

    // The next download carries it all, for the next visit to start from.
    let reply = page(&db.state(), Some(&cookie), ROSTER_PATH).await;
    let roster: Roster = serde_json::from_str(&reply.body).unwrap();
    let h = roster.household(household).unwrap();
    let carried = h.measures.iter().find(|m| m.id == measure).unwrap();
    assert_eq!(carried.status, MeasureStatus::Done);
    assert!(
        h.open_measures().all(|m| m.id != measure),
        "a done measure is not offered again"
    );
    let wage = h.recorded_income(IncomeKind::WageMigrant).unwrap();
    // Ticked, but no record photographed: not backed (tests/evidence.rs).
    assert_eq!((wage.amount.0, wage.evidence), (1_200_000, false));
    assert_eq!(wage.declared_on, china_date(visit.started_at));
    assert_eq!(h.confirmed_size, Some(4));

    // A later visit's figure replaces the earlier one; the size stays.
    let mut later = signed_visit(db.store.as_ref(), household).await;
    later.started_at += Duration::days(1);
    later.ended_at += Duration::days(1);
    later.income = vec![migrant_wage(1_500_000)];
    let later = resigned(later);
    assert_eq!(deliver(&db, &cookie, &later).await["outcome"], "stored");
    let reply = page(&db.state(), Some(&cookie), ROSTER_PATH).await;
    let roster: Roster = serde_json::from_str(&reply.body).unwrap();
    let h = roster.household(household).unwrap();
    let wage = h.recorded_income(IncomeKind::WageMigrant).unwrap();
    assert_eq!(wage.amount.0, 1_500_000);
    assert_eq!(h.confirmed_size, Some(4));
    let mut others = roster
        .households
        .iter()
        .filter(|o| o.summary.id != household);
    assert!(
        others.all(|o| o.income.is_empty() && o.confirmed_size.is_none()),
        "what one household declared stays with it"
    );
}

async fn a_measure_of_another_household_is_refused_and_nothing_is_stored(db: TestDb) {
    let db = db.with_demo().await;
    let cookie = sign_in(&db.state(), "worker1").await;
    let store = db.store.as_ref();
    let mine = household_of(store, "worker1").await;
    let theirs = household_of(store, "worker3").await;
    let own_measure = plan_with_a_measure(&db, mine).await;
    let other_measure = plan_with_a_measure(&db, theirs).await;
    let mut visit = signed_visit(store, mine).await;
    visit.measure_updates = vec![done(own_measure, &visit), done(other_measure, &visit)];
    let visit = resigned(visit);

    assert_rejected(
        &deliver(&db, &cookie, &visit).await,
        "measure_updates[1].measure_id",
    );
    assert_eq!(db.store.count_visits().await.unwrap(), 0);
    for (household, measure) in [(mine, own_measure), (theirs, other_measure)] {
        let plan = db
            .store
            .plan_of_household(household)
            .await
            .unwrap()
            .unwrap();
        let untouched = plan.measures.iter().find(|m| m.id == measure).unwrap();
        assert_eq!(untouched.status, MeasureStatus::Planned);
    }
}

async fn implausible_income_size_or_updates_are_refused_with_the_field_named(db: TestDb) {
    let db = db.with_demo().await;
    let cookie = sign_in(&db.state(), "worker1").await;
    let store = db.store.as_ref();
    let household = household_of(store, "worker1").await;
    let measure = plan_with_a_measure(&db, household).await;
    let base = signed_visit(store, household).await;

    let mut twice = base.clone();
    twice.income = vec![migrant_wage(100), migrant_wage(200)];
    let mut negative = base.clone();
    negative.income = vec![migrant_wage(-1)];
    let mut nobody = base.clone();
    nobody.household_size = Some(0);
    let mut moved_twice = base.clone();
    moved_twice.measure_updates = vec![done(measure, &base), done(measure, &base)];
    let mut done_tomorrow = base.clone();
    let mut update = done(measure, &base);
    update.done_on = update.done_on.and_then(|d| d.succ_opt());
    done_tomorrow.measure_updates = vec![update];
    for (visit, field) in [
        (twice, "income[1].kind"),
        (negative, "income[0].amount_fen"),
        (nobody, "household_size"),
        (moved_twice, "measure_updates[1].measure_id"),
        (done_tomorrow, "measure_updates[0].done_on"),
    ] {
        assert_rejected(&deliver(&db, &cookie, &resigned(visit)).await, field);
    }
    assert_eq!(db.store.count_visits().await.unwrap(), 0);
    let plan = db
        .store
        .plan_of_household(household)
        .await
        .unwrap()
        .unwrap();
    let untouched = plan.measures.iter().find(|m| m.id == measure).unwrap();
    assert_eq!(untouched.status, MeasureStatus::Planned);
}

async fn a_visit_delivered_late_does_not_undo_a_newer_move(db: TestDb) {
    let db = db.with_demo().await;
    let cookie = sign_in(&db.state(), "worker1").await;
    let household = household_of(db.store.as_ref(), "worker1").await;
    let measure = plan_with_a_measure(&db, household).await;
    // The phone's visit moved it to done (its day is weeks ago) ...
    let mut visit = signed_visit(db.store.as_ref(), household).await;
    visit.measure_updates = vec![done(measure, &visit)];
    let visit = resigned(visit);
    // ... but before it was delivered the cadre dropped it online, today.
    let worker = db.store.user_by_username("worker1").await.unwrap().unwrap();
    let dropped = MeasureUpdate {
        measure_id: measure,
        status: MeasureStatus::Dropped,
        done_on: None,
        drop_reason: Some("户已外出务工，不再养殖".into()),
        note: String::new(),
    };
    db.store
        .update_measure(household, &dropped, worker.id, Utc::now(), &[])
        .await
        .unwrap();
    assert_eq!(deliver(&db, &cookie, &visit).await["outcome"], "stored");
    let plan = db
        .store
        .plan_of_household(household)
        .await
        .unwrap()
        .unwrap();
    let m = plan.measures.iter().find(|m| m.id == measure).unwrap();
    assert_eq!(m.status, MeasureStatus::Dropped, "the newer move stands");
    let history = db.store.measure_history(household).await.unwrap();
    let moves: Vec<_> = history
        .iter()
        .filter(|e| e.event.measure_id == measure)
        .collect();
    assert_eq!(moves.len(), 3, "created, the visit's move, the online drop");
    let late = moves
        .iter()
        .find(|e| e.event.visit_id == Some(visit.id))
        .expect("the visit's move is kept in the history");
    assert_eq!(late.event.status, MeasureStatus::Done);
    assert_eq!(
        late.event.at, visit.ended_at,
        "dated when it happened, not when it arrived"
    );
}

/// The visit is refused whole (see `visit_integrity.rs` for the rule), its
/// measure moves with it.
async fn only_the_households_own_worker_moves_its_measures(db: TestDb) {
    let db = db.with_demo().await;
    // worker2 works in the same township but this household is worker1's.
    let household = household_of(db.store.as_ref(), "worker1").await;
    let measure = plan_with_a_measure(&db, household).await;
    let other = db.store.user_by_username("worker2").await.unwrap().unwrap();
    let mine = db.store.household(household).await.unwrap().unwrap();
    assert!(
        other.area.contains(&mine.village),
        "the demo's worker2 works in worker1's township"
    );
    let cookie = sign_in(&db.state(), "worker2").await;
    let mut visit = signed_visit(db.store.as_ref(), household).await;
    visit.measure_updates = vec![done(measure, &visit)];
    let visit = resigned(visit);
    let outcome = deliver(&db, &cookie, &visit).await;
    assert_eq!(outcome["outcome"], "rejected", "{outcome}");
    assert_eq!(outcome["status"], 404, "{outcome}");
    assert_eq!(db.store.count_visits().await.unwrap(), 0);
    let plan = db
        .store
        .plan_of_household(household)
        .await
        .unwrap()
        .unwrap();
    let untouched = plan.measures.iter().find(|m| m.id == measure).unwrap();
    assert_eq!(untouched.status, MeasureStatus::Planned);
}
