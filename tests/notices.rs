//! The village public notice (公示): one masked row per household, the
//! posting recorded (five days at least), objections received while it is
//! up, a QR code to the receipt check; only for those who oversee it.

mod common;

use axum::http::StatusCode;
use common::{TestDb, call, page, sign_in, year};

on_both_backends!(the_notice_shows_masked_rows_its_posting_and_its_objections);

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
