//! The village public notice (公示): one masked row per household, the
//! posting recorded (five days at least), objections received while it is
//! up, a QR code to the receipt check; only for those who oversee it.

mod common;

use axum::http::StatusCode;
use common::{TestDb, call, page, sign_in, year};

on_both_backends!(
    the_notice_shows_masked_rows_its_posting_and_its_objections,
    the_township_enters_objections_received_while_the_notice_is_up,
);

async fn the_notice_shows_masked_rows_its_posting_and_its_objections(db: TestDb) {
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    daohu::demo::load_visits(store, &["worker1".to_owned()], year(), 60, 3)
        .await
        .unwrap();
    let state = db.state();
    let worker = store.user_by_username("worker1").await.unwrap().unwrap();
    let h = common::household_of(store, "worker1").await;
    let household = store.household(h).await.unwrap().unwrap();
    let village = household.village.clone();
    let township = village.parent().unwrap();
    let (mine, other) = if store
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
    let cookie = sign_in(&state, mine).await;
    let path = format!("/areas/{village}/notice");
    let shown = page(&state, Some(&cookie), &path).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert!(shown.body.contains("data-testid=\"village-notice\""));
    assert!(
        shown.body.contains("data:image/svg+xml;base64,"),
        "a QR code"
    );
    assert!(shown.body.contains("/r"), "the receipt check's address");
    // Names masked; no ID number, phone or household number anywhere.
    let (households, _) = store
        .list_households(&daohu::server::db::HouseholdQuery {
            scope: village.clone(),
            worker_id: None,
            village: None,
            search: None,
            payment: None,
            flags: None,
            limit: 500,
            offset: 0,
        })
        .await
        .unwrap();
    assert!(!households.is_empty());
    for row in &households {
        let h = store.household(row.id).await.unwrap().unwrap();
        assert!(
            shown
                .body
                .contains(&daohu::receipts::mask_name(&h.head_name))
        );
        if h.head_name.chars().count() > 1 {
            assert!(
                !shown.body.contains(&format!(">{}<", h.head_name)),
                "{}",
                h.head_name
            );
        }
        for m in &h.members {
            assert!(!shown.body.contains(&m.id_number), "an ID number");
        }
        if let Some(phone) = &h.phone {
            assert!(!shown.body.contains(phone.as_str()), "a phone");
        }
    }

    // Posting: at least five days.
    let today = daohu::subsidies::china_date(chrono::Utc::now());
    let post = |until_days: i64| {
        let (state, cookie, village) = (state.clone(), cookie.clone(), village.to_string());
        async move {
            call(
                &state,
                Some(&cookie),
                "/api/notices/post",
                &[
                    ("code", village.as_str()),
                    ("stat_year", &year().0.to_string()),
                    ("from", &today.to_string()),
                    (
                        "until",
                        &(today + chrono::Duration::days(until_days)).to_string(),
                    ),
                    ("phone", "0932-1234567"),
                ],
            )
            .await
        }
    };
    assert!(
        post(3).await.status.is_client_error(),
        "four days are too few"
    );
    assert_eq!(post(4).await.status, StatusCode::OK);

    // A household disputes its receipt while the notice is up.
    let visit = store.visits_of_household(h).await.unwrap();
    if let Some(v) = visit.first() {
        let signer = &v.visit.signature.signer_name;
        if let Some(m) = household.members.iter().find(|m| &m.name == signer) {
            let code = daohu::visits::receipt_code(&v.visit.signature.content_hash);
            let digits = &m.id_number[m.id_number.len() - 4..];
            let opened = call(
                &state,
                None,
                "/api/receipts/open",
                &[("code", &code), ("digits", digits)],
            )
            .await;
            let token: String = serde_json::from_str(&opened.body).unwrap();
            let sent = call(
                &state,
                None,
                "/api/receipts/dispute",
                &[
                    ("token", &token),
                    ("reason", "not_signed"),
                    ("details", ""),
                    ("phone", ""),
                ],
            )
            .await;
            assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        }
    }
    let shown = page(&state, Some(&cookie), &path).await;
    assert!(shown.body.contains("0932-1234567"));
    assert!(shown.body.contains("公示期："), "{}", shown.body);
    if !visit.is_empty() {
        assert!(
            shown.body.contains("notice-objections"),
            "the objection is listed"
        );
    }

    // Only those who oversee the village.
    let theirs = sign_in(&state, other).await;
    assert_eq!(
        page(&state, Some(&theirs), &path).await.status,
        StatusCode::NOT_FOUND
    );
    let field = sign_in(&state, &worker.username).await;
    assert_eq!(
        page(&state, Some(&field), &path).await.status,
        StatusCode::FORBIDDEN
    );
    let county = sign_in(&state, "county").await;
    assert_eq!(
        page(&state, Some(&county), &path).await.status,
        StatusCode::OK
    );
}

/// The township's own record of an objection made in person or by phone:
/// only for a household of the village, once the notice is up, dated in
/// its posting; listed with the notice (masked, no details printed).
async fn the_township_enters_objections_received_while_the_notice_is_up(db: TestDb) {
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    let state = db.state();
    let h = common::household_of(store, "worker1").await;
    let household = store.household(h).await.unwrap().unwrap();
    let village = household.village.clone();
    let township = village.parent().unwrap();
    let mine = if store
        .user_by_username("township1")
        .await
        .unwrap()
        .unwrap()
        .area
        == township
    {
        "township1"
    } else {
        "township2"
    };
    let other = if mine == "township1" {
        "township2"
    } else {
        "township1"
    };
    let cookie = sign_in(&state, mine).await;
    let today = daohu::subsidies::china_date(chrono::Utc::now());
    let y = year().0.to_string();
    let enter = |who: String,
                 household: String,
                 reason: &'static str,
                 details: &'static str,
                 on: chrono::NaiveDate| {
        let (state, village, y) = (state.clone(), village.to_string(), y.clone());
        async move {
            call(
                &state,
                Some(&who),
                "/api/notices/objection",
                &[
                    ("code", village.as_str()),
                    ("stat_year", y.as_str()),
                    ("household_id", household.as_str()),
                    ("reason", reason),
                    ("details", details),
                    ("phone", "139 0000 1111"),
                    ("received_on", &on.to_string()),
                ],
            )
            .await
        }
    };
    let hid = h.to_string();
    // Not before the notice is up.
    let early = enter(cookie.clone(), hid.clone(), "amount_wrong", "", today).await;
    assert_eq!(
        early.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        early.body
    );
    assert!(early.body.contains("尚未张贴"), "{}", early.body);
    let posted = call(
        &state,
        Some(&cookie),
        "/api/notices/post",
        &[
            ("code", village.as_str()),
            ("stat_year", y.as_str()),
            ("from", &(today - chrono::Duration::days(2)).to_string()),
            ("until", &(today + chrono::Duration::days(4)).to_string()),
            ("phone", "0932-1234567"),
        ],
    )
    .await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.body);

    // Refused: a day outside the posting or still to come, a household of
    // another village, an unknown reason, "other" without a word, markup
    // is kept as text (never refused for its characters).
    let (households, _) = store
        .list_households(&daohu::server::db::HouseholdQuery {
            scope: township.parent().unwrap(),
            worker_id: None,
            village: None,
            search: None,
            payment: None,
            flags: None,
            limit: 500,
            offset: 0,
        })
        .await
        .unwrap();
    let elsewhere = households
        .iter()
        .find(|r| r.village.code != village)
        .expect("another village")
        .id
        .to_string();
    for (household, reason, details, on, why) in [
        (
            hid.clone(),
            "amount_wrong",
            "",
            today - chrono::Duration::days(3),
            "before the posting",
        ),
        (
            hid.clone(),
            "amount_wrong",
            "",
            today + chrono::Duration::days(1),
            "tomorrow",
        ),
        (
            elsewhere.clone(),
            "amount_wrong",
            "",
            today,
            "another village",
        ),
        (
            uuid::Uuid::now_v7().to_string(),
            "amount_wrong",
            "",
            today,
            "no such household",
        ),
        (hid.clone(), "bribe", "", today, "no such reason"),
        (hid.clone(), "other", "  ", today, "other, unsaid"),
    ] {
        let r = enter(cookie.clone(), household, reason, details, on).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{why}: {}",
            r.body
        );
    }
    let long: &'static str = Box::leak("字".repeat(501).into_boxed_str());
    let r = enter(cookie.clone(), hid.clone(), "other", long, today).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);

    // Neither a field worker nor another township.
    let worker = sign_in(&state, "worker1").await;
    let r = enter(worker, hid.clone(), "amount_wrong", "", today).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let theirs = sign_in(&state, other).await;
    let r = enter(theirs, hid.clone(), "amount_wrong", "", today).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    let r = enter(
        cookie.clone(),
        hid.clone(),
        "other",
        "<b>补贴被村干部代领</b>",
        today,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = enter(
        cookie.clone(),
        hid.clone(),
        "amount_wrong",
        "",
        today - chrono::Duration::days(2),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let shown = page(&state, Some(&cookie), &format!("/areas/{village}/notice"))
        .await
        .body;
    let list = &shown[shown.find("notice-objections").expect("listed")..];
    let list = &list[..list.find("</ul>").unwrap()];
    assert_eq!(list.matches("乡镇登记").count(), 2, "{list}");
    assert!(list.contains(&daohu::receipts::mask_name(&household.head_name)));
    assert!(list.contains("金额不对") && list.contains("其他"), "{list}");
    assert!(
        !shown.contains("补贴被村干部代领"),
        "details are not posted on the wall"
    );
    assert!(!shown.contains("139 0000 1111") && !shown.contains("13900001111"));
    let first = list
        .find(&(today - chrono::Duration::days(2)).to_string())
        .unwrap();
    let second = list.find(&today.to_string()).unwrap();
    assert!(first < second, "oldest first");
}
