//! Signals of fabricated visits (migration 0014): queued with each stored
//! visit, computed by the worker against the thresholds, listed for the
//! supervisors of the visit's area, cleared or sent for review (opening a
//! discrepancy), thresholds edited by the province admin only.

mod common;

use axum::http::StatusCode;
use chrono::{Duration, TimeZone};
use common::{TestDb, call, household_of, page, sign_in, signed_visit};
use daohu::server::db::Store;
use daohu::signals::SignalKind;
use daohu::visits::{Location, VisitSubmission, confirmation_hash};
use uuid::Uuid;

on_both_backends!(
    each_made_up_looking_visit_gets_its_signal_and_an_ordinary_one_none,
    supervisors_clear_or_send_signals_for_review_within_their_area,
    thresholds_are_data_the_province_admin_edits,
    the_plan_and_risk_table_counts_suspicious_visits_per_area,
);

const HAND: &str = "[[[10,40,0],[18,30,16],[26,24,33],[34,30,50],[40,42,66],[48,36,83]],\
                    [[20,60,400],[30,58,416],[42,62,433],[54,57,450],[66,63,466],[76,59,483]]]";

/// A visit of `household` by `worker`, changed by `tweak`, stored.
async fn store_visit(
    store: &dyn Store,
    household: Uuid,
    worker: &str,
    tweak: impl FnOnce(&mut VisitSubmission),
) -> Uuid {
    let mut v = signed_visit(store, household).await;
    v.signature.strokes_json = HAND.into();
    tweak(&mut v);
    v.signature.content_hash = confirmation_hash(&v);
    common::store_directly(store, v, worker).await
}

async fn kinds_of(store: &dyn Store, household: Uuid, visit: Uuid) -> Vec<SignalKind> {
    let mut kinds: Vec<SignalKind> = store
        .signals_of_household(household)
        .await
        .unwrap()
        .into_iter()
        .filter(|(v, ..)| *v == visit)
        .filter_map(|(_, k, ..)| SignalKind::parse(&k))
        .collect();
    kinds.sort();
    kinds
}

/// The same signature, placed and sized anew.
fn moved(hand: &str, k: i64, dx: i64) -> String {
    let strokes: Vec<Vec<[i64; 3]>> = serde_json::from_str(hand).unwrap();
    let moved: Vec<Vec<[i64; 3]>> = strokes
        .into_iter()
        .map(|s| {
            s.into_iter()
                .map(|[x, y, t]| [x * k + dx, y * k + 5, t])
                .collect()
        })
        .collect();
    serde_json::to_string(&moved).unwrap()
}

async fn each_made_up_looking_visit_gets_its_signal_and_an_ordinary_one_none(db: TestDb) {
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    let hs = common::households_of(store, "worker1", 8).await;
    // Daytime, twenty minutes, a good fix, a hand of twelve points.
    let day = |h: u32| {
        chrono::Utc.from_utc_datetime(
            &(common::visit_start()
                .date_naive()
                .and_hms_opt(h, 0, 0)
                .unwrap()),
        )
    };
    let ordinary = store_visit(store, hs[0], "worker1", |v| {
        v.started_at = day(2);
        v.ended_at = day(2) + Duration::minutes(20);
    })
    .await;
    let rushed = store_visit(store, hs[1], "worker1", |v| {
        v.started_at = day(3);
        v.ended_at = day(3) + Duration::minutes(2);
    })
    .await;
    let at_night = store_visit(store, hs[2], "worker1", |v| {
        // 23:10 China time.
        v.started_at = day(15) + Duration::minutes(10);
        v.ended_at = v.started_at + Duration::minutes(20);
    })
    .await;
    let no_fix = store_visit(store, hs[3], "worker1", |v| {
        v.started_at = day(4);
        v.ended_at = day(4) + Duration::minutes(20);
        v.location = Location::Refused;
    })
    .await;
    let scrawl = store_visit(store, hs[4], "worker1", |v| {
        v.started_at = day(5);
        v.ended_at = day(5) + Duration::minutes(20);
        v.signature.strokes_json = "[[[10,20,0],[30,40,16],[50,45,33]]]".into();
    })
    .await;
    let copied = store_visit(store, hs[5], "worker1", |v| {
        v.started_at = day(6);
        v.ended_at = day(6) + Duration::minutes(20);
        v.signature.strokes_json = moved(HAND, 3, 140);
    })
    .await;
    let coarse = store_visit(store, hs[6], "worker1", |v| {
        v.started_at = day(7);
        v.ended_at = day(7) + Duration::minutes(20);
        // Another hand altogether.
        v.signature.strokes_json =
            "[[[5,5,0],[60,10,16],[10,60,33],[70,70,50],[20,30,66],[80,20,83]],\
             [[30,80,400],[35,20,416],[50,90,433],[70,40,450],[15,75,466],[90,85,483]]]"
                .into();
        v.location = Location::Fix {
            lat_e6: 35_579_812,
            lon_e6: 104_626_301,
            accuracy_m: 201,
        };
    })
    .await;
    // Queued in the visit's own transaction: none is computed yet.
    assert!(store.signals_of_household(hs[1]).await.unwrap().is_empty());
    let done = daohu::signals::service::compute_until_idle(store)
        .await
        .unwrap();
    assert!(done >= 7, "{done}");

    // The ordinary visit and the first of the two alike hands share the
    // hand HAND: both are flagged as the same signature, nothing else.
    assert_eq!(
        kinds_of(store, hs[0], ordinary).await,
        vec![SignalKind::SameSignature]
    );
    assert_eq!(
        kinds_of(store, hs[5], copied).await,
        vec![SignalKind::SameSignature]
    );
    for (h, v, expected) in [
        (hs[1], rushed, SignalKind::ShortVisit),
        (hs[2], at_night, SignalKind::Night),
        (hs[3], no_fix, SignalKind::NoLocation),
        (hs[4], scrawl, SignalKind::FewPoints),
        (hs[6], coarse, SignalKind::PoorAccuracy),
    ] {
        let mut kinds = kinds_of(store, h, v).await;
        kinds.retain(|k| *k != SignalKind::SameSignature);
        assert_eq!(kinds, vec![expected], "{expected:?}");
    }
    // A different hand is not "the same signature".
    assert!(
        !kinds_of(store, hs[6], coarse)
            .await
            .contains(&SignalKind::SameSignature)
    );

    // Eight visits by one worker within the hour: too many.
    let hs2 = common::households_of(store, "worker2", 8).await;
    let mut last = Uuid::nil();
    for (i, h) in hs2.iter().enumerate() {
        last = store_visit(store, *h, "worker2", |v| {
            v.started_at = day(2) + Duration::minutes(7 * i as i64);
            v.ended_at = v.started_at + Duration::minutes(5);
            v.signature.strokes_json =
                moved(HAND, 1, 0).replace("[48,36,83]", &format!("[48,{},83]", 80 + i));
        })
        .await;
    }
    daohu::signals::service::compute_until_idle(store)
        .await
        .unwrap();
    assert!(
        kinds_of(store, hs2[7], last)
            .await
            .contains(&SignalKind::ManyPerHour)
    );
}

async fn supervisors_clear_or_send_signals_for_review_within_their_area(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let store = db.store.as_ref();
    let h = household_of(store, "worker1").await;
    let rushed = store_visit(store, h, "worker1", |v| {
        v.ended_at = v.started_at + Duration::minutes(1);
        v.location = Location::Refused;
    })
    .await;
    daohu::signals::service::compute_until_idle(store)
        .await
        .unwrap();
    let village = store.household(h).await.unwrap().unwrap().village;
    let township = village.parent().unwrap();
    let supervisor = if store
        .user_by_username("township1")
        .await
        .unwrap()
        .unwrap()
        .area
        == township
    {
        ("township1", "township2")
    } else {
        ("township2", "township1")
    };
    let cookie = sign_in(&state, supervisor.0).await;
    let queue = page(&state, Some(&cookie), &format!("/areas/{township}/signals")).await;
    assert_eq!(queue.status, StatusCode::OK);
    assert!(queue.body.contains("走访时间过短"), "{}", queue.body);
    assert!(queue.body.contains("只用了 1 分钟"), "the reason in words");

    let decide = |cookie: String, kind: &'static str, state_: &'static str| {
        let state = state.clone();
        async move {
            call(
                &state,
                Some(&cookie),
                "/api/signals/review",
                &[
                    ("visit_id", &rushed.to_string()),
                    ("kind", kind),
                    ("state", state_),
                    ("comment", "电话核实，户主确认"),
                ],
            )
            .await
        }
    };
    // Neither a field worker nor the other township may decide.
    let worker = sign_in(&state, "worker1").await;
    assert_eq!(
        decide(worker, "short_visit", "cleared").await.status,
        StatusCode::FORBIDDEN
    );
    let other = sign_in(&state, supervisor.1).await;
    assert_eq!(
        decide(other.clone(), "short_visit", "cleared").await.status,
        StatusCode::NOT_FOUND
    );
    let theirs = page(&state, Some(&other), &format!("/areas/{township}/signals")).await;
    assert!(!theirs.body.contains("走访时间过短"));

    assert_eq!(
        decide(cookie.clone(), "short_visit", "cleared")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        decide(cookie.clone(), "no_location", "needs_review")
            .await
            .status,
        StatusCode::OK
    );
    let states: Vec<(String, String)> = store
        .signals_of_household(h)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, k, _, s)| (k, s))
        .collect();
    assert!(
        states.contains(&("short_visit".into(), "cleared".into())),
        "{states:?}"
    );
    assert!(
        states.contains(&("no_location".into(), "needs_review".into())),
        "{states:?}"
    );
    // 需复核 opened a discrepancy in the township's queue.
    let items = page(
        &state,
        Some(&cookie),
        &format!("/areas/{township}/discrepancies"),
    )
    .await;
    assert!(items.body.contains("可疑走访"), "{}", items.body);
    assert!(items.body.contains("电话核实"), "{}", items.body);
    let refused = call(
        &state,
        Some(&cookie),
        "/api/signals/review",
        &[
            ("visit_id", &rushed.to_string()),
            ("kind", "short_visit"),
            ("state", "open"),
            ("comment", "x"),
        ],
    )
    .await;
    assert!(refused.status.is_client_error());
}

async fn thresholds_are_data_the_province_admin_edits(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let store = db.store.as_ref();
    daohu::auth::service::create_user(
        store,
        daohu::auth::service::NewUser {
            username: "province".into(),
            display_name: "省级管理员".into(),
            role: daohu::auth::Role::ProvinceAdmin,
            area: "620000000000".into(),
            password: daohu::demo::DEMO_PASSWORD.into(),
        },
    )
    .await
    .unwrap();
    let county = sign_in(&state, "county").await;
    let set = |cookie: String, value: &'static str| {
        let state = state.clone();
        async move {
            call(
                &state,
                Some(&cookie),
                "/api/signals/threshold",
                &[("name", "min_minutes"), ("value", value)],
            )
            .await
        }
    };
    assert_eq!(set(county, "1").await.status, StatusCode::FORBIDDEN);
    let province = sign_in(&state, "province").await;
    assert!(set(province.clone(), "-5").await.status.is_client_error());
    assert_eq!(set(province, "1").await.status, StatusCode::OK);
    let h = household_of(store, "worker1").await;
    let two_minutes = store_visit(store, h, "worker1", |v| {
        v.ended_at = v.started_at + Duration::minutes(2);
    })
    .await;
    daohu::signals::service::compute_until_idle(store)
        .await
        .unwrap();
    assert!(
        !kinds_of(store, h, two_minutes)
            .await
            .contains(&SignalKind::ShortVisit)
    );
}

/// 可疑走访 in the plan and risk table: visits of the year with an
/// undecided signal, per area, as the signals table holds them.
async fn the_plan_and_risk_table_counts_suspicious_visits_per_area(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let store = db.store.as_ref();
    let workers = [
        "worker1".to_owned(),
        "worker2".to_owned(),
        "worker3".to_owned(),
    ];
    daohu::demo::load_visits(store, &workers, common::year(), 60, 11)
        .await
        .unwrap();
    daohu::signals::service::compute_until_idle(store)
        .await
        .unwrap();
    let open_visits = || async {
        let sql = format!(
            "SELECT COUNT(DISTINCT s.visit_id) FROM visit_signals s JOIN visits v ON v.id = s.visit_id \
             WHERE s.state = 'open' AND v.stat_year = {}",
            common::year().0
        );
        with_pool!(db, |pool| sqlx::query_scalar::<_, i64>(&sql)
            .fetch_one(&pool)
            .await
            .unwrap())
    };
    let cookie = sign_in(&state, "county").await;
    let table = || async {
        let r = call(
            &state,
            Some(&cookie),
            "/api/income/table",
            &[("code", "621102000000")],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.json()
    };
    let t = table().await;
    let expected = open_visits().await;
    assert!(expected > 0, "the demo makes some made-up-looking visits");
    assert_eq!(t["total"]["suspicious_visits"], expected);
    let rows: i64 = t["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["suspicious_visits"].as_i64().unwrap())
        .sum();
    assert_eq!(rows, expected, "the townships add up to the county");
    // The page leads from the count to the queue.
    let html = page(&state, Some(&cookie), "/areas/621102000000/income")
        .await
        .body;
    assert!(html.contains("row-suspicious"), "{html}");

    // Every signal of one visit decided: one fewer.
    let (visit, kinds): (Uuid, Vec<String>) = {
        let all = with_pool!(db, |pool| sqlx::query_as::<_, (Uuid, String)>(
            "SELECT visit_id, kind FROM visit_signals WHERE state = 'open' ORDER BY visit_id"
        )
        .fetch_all(&pool)
        .await
        .unwrap());
        let first = all[0].0;
        (
            first,
            all.into_iter()
                .filter(|(v, _)| *v == first)
                .map(|(_, k)| k)
                .collect(),
        )
    };
    for kind in kinds {
        let r = call(
            &state,
            Some(&cookie),
            "/api/signals/review",
            &[
                ("visit_id", visit.to_string().as_str()),
                ("kind", kind.as_str()),
                ("state", "cleared"),
                ("comment", "电话回访属实"),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    assert_eq!(table().await["total"]["suspicious_visits"], expected - 1);
}
