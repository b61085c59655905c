//! The weekly report (每周报送), both backends: a county submits its week,
//! frozen byte for byte; later visits show as changes since submission and
//! never alter it; the city returns it with a comment, the county submits
//! again (every version kept), the city accepts and submits the sum of its
//! accepted counties; who may see, submit and review what.

mod common;

use std::collections::BTreeSet;

use axum::http::StatusCode;
use chrono::Duration;
use common::{TestDb, call, household_of, households_of, page, sign_in, signed_visit};
use daohu::areas::AreaCode;
use daohu::reports::service::end_of_china_day;
use daohu::server::db::Store;
use daohu::visits::{PaymentStatus, VisitSubmission, confirmation_hash};
use daohu::weekly::{SubmissionState, WeeklyView};
use uuid::Uuid;

on_both_backends!(
    a_week_goes_up_the_hierarchy_and_stays_as_submitted,
    bad_submissions_and_reviews_are_refused_and_write_nothing,
    a_submission_corrects_every_earlier_week_of_the_year,
);

const COUNTY: &str = "621102000000";
const CITY: &str = "621100000000";
/// A second county of the city, without households.
const COUNTY2: &str = "621121000000";

async fn weekly(state: &daohu::server::AppState, cookie: &str, code: &str) -> WeeklyView {
    let r = call(state, Some(cookie), "/api/weekly/view", &[("code", code)]).await;
    assert_eq!(r.status, StatusCode::OK, "{code}: {}", r.body);
    serde_json::from_str(&r.body).unwrap()
}

/// A signed visit of `household` that counts for the week ending `as_of`,
/// its first line received in full and the others as `rest`.
async fn visit_in_week(
    store: &dyn Store,
    household: Uuid,
    as_of: chrono::NaiveDate,
    rest: PaymentStatus,
) -> VisitSubmission {
    let mut v = signed_visit(store, household).await;
    let start = v
        .started_at
        .min(end_of_china_day(as_of) - Duration::hours(3));
    v.ended_at = start + (v.ended_at - v.started_at);
    v.started_at = start;
    for l in v.lines.iter_mut().skip(1) {
        if rest == PaymentStatus::ReceivedInPart {
            l.status = rest;
            l.received_fen = l.received_fen.map(|f| f / 2);
            l.reason = Some(daohu::visits::ShortfallReason::AmountReduced);
        }
    }
    v.signature.content_hash = confirmation_hash(&v);
    v
}

/// Submits `code`'s week as `cookie`, with the usual 联络人 and `extra`.
async fn submit(
    state: &daohu::server::AppState,
    cookie: &str,
    code: &str,
    as_of: &str,
    extra: &[(&str, &str)],
) -> common::Reply {
    call(
        state,
        Some(cookie),
        "/api/weekly/submit",
        &submit_form(code, as_of, extra),
    )
    .await
}

/// Reviews a submission as `cookie` (`id`, `accept`, `comment`).
async fn review(
    state: &daohu::server::AppState,
    cookie: &str,
    form: &[(&str, &str)],
) -> common::Reply {
    call(state, Some(cookie), "/api/weekly/review", form).await
}

fn submit_form<'a>(
    code: &'a str,
    as_of: &'a str,
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("code", code),
        ("as_of", as_of),
        ("contact_name", "王联络"),
        ("contact_phone", "0932-8211234"),
    ];
    f.extend_from_slice(extra);
    f
}

async fn stored_figures(db: &TestDb, code: &str, as_of: chrono::NaiveDate) -> Vec<String> {
    db.store
        .submissions(&[AreaCode::parse(code).unwrap()], as_of)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.figures)
        .collect()
}

async fn a_week_goes_up_the_hierarchy_and_stays_as_submitted(db: TestDb) {
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    common::second_county(store).await;
    let state = db.state();
    let county = sign_in(&state, "county").await;
    let city = sign_in(&state, "city").await;
    let county2 = sign_in(&state, "county2").await;

    let w = weekly(&state, &county, COUNTY).await;
    let as_of = w.week.as_of;
    let as_of_text = as_of.to_string();
    assert!(w.submits && w.blocked.is_none(), "{w:?}");
    // Two households visited in the week: one in full, one in part.
    let hs = households_of(store, "worker1", 3).await;
    for (h, rest) in [
        (hs[0], PaymentStatus::ReceivedInFull),
        (hs[1], PaymentStatus::ReceivedInPart),
    ] {
        common::store_directly(store, visit_in_week(store, h, as_of, rest).await, "worker1").await;
    }
    let w = weekly(&state, &county, COUNTY).await;
    let draft = w.draft.clone().expect("a draft");
    assert!(draft.table.total.all.full > 0 && draft.table.total.all.part() > 0);
    let item = draft.table.items[0].code.clone();
    let remark_key = format!("remarks[{item}]");
    let r = submit(
        &state,
        &county,
        COUNTY,
        &as_of_text,
        &[(&remark_key, "<b>尚未发放</b>，月底前补发")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body.trim(), "1");

    let frozen = stored_figures(&db, COUNTY, as_of).await;
    let w = weekly(&state, &county, COUNTY).await;
    let v1 = &w.versions[0];
    assert_eq!(v1.state, SubmissionState::Submitted);
    assert_eq!(
        v1.report.table, draft.table,
        "frozen as the draft showed it"
    );
    assert_eq!(v1.remarks[0].1, "<b>尚未发放</b>，月底前补发");
    assert_eq!(
        w.blocked.as_deref(),
        Some(daohu::text::zh::WEEKLY_WAITING_REVIEW)
    );
    assert!(w.changes.is_empty() && w.late_visits.is_empty(), "{w:?}");
    let xlsx = page(&state, Some(&county), &v1.xlsx_href()).await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert_eq!(&xlsx.bytes[..2], b"PK");

    // A visit of the week delivered after: the submission does not move,
    // the change shows, with the household.
    let late = visit_in_week(store, hs[2], as_of, PaymentStatus::ReceivedInFull).await;
    let full_lines: BTreeSet<Uuid> = late.lines.iter().map(|l| l.entitlement_id).collect();
    common::store_directly(store, late, "worker1").await;
    assert_eq!(stored_figures(&db, COUNTY, as_of).await, frozen);
    let again = page(&state, Some(&county), &v1.xlsx_href()).await;
    assert_eq!(
        again.bytes, xlsx.bytes,
        "the .xlsx is exactly what was submitted"
    );
    let w = weekly(&state, &county, COUNTY).await;
    assert_eq!(w.versions[0].report, v1.report);
    assert_eq!(
        w.late_visits
            .iter()
            .map(|v| v.household_id)
            .collect::<Vec<_>>(),
        vec![hs[2]]
    );
    // By hand: the late visit adds each of its payments in full, to its
    // item's cell of its township and of the total, and over all items.
    let township = store
        .household(hs[2])
        .await
        .unwrap()
        .unwrap()
        .village
        .parent()
        .unwrap();
    let total_all = w
        .changes
        .iter()
        .find(|c| c.area.code.as_str() == COUNTY && c.item.is_none())
        .expect("the total over all items changed");
    assert_eq!(
        total_all.live.full - total_all.submitted.full,
        full_lines.len() as i64
    );
    for c in &w.changes {
        assert!(
            c.area.code.as_str() == COUNTY || c.area.code == township,
            "{c:?} changed outside the visit's township"
        );
        assert_eq!(c.live.part(), c.submitted.part(), "{c:?}");
    }

    // The city: the county waits for review; the city cannot submit yet.
    let cw = weekly(&state, &city, CITY).await;
    let child = cw
        .children
        .iter()
        .find(|c| c.area.code.as_str() == COUNTY)
        .unwrap();
    assert!(child.reviewable);
    assert!(
        cw.children
            .iter()
            .any(|c| c.area.code.as_str() == COUNTY2 && c.latest.is_none())
    );
    assert!(cw.blocked.as_deref().unwrap().contains("安定区"), "{cw:?}");
    // Returned with a comment (none is refused), resubmitted, accepted.
    let id = v1.id.to_string();
    let r = review(&state, &city, &[("id", &id), ("accept", "false")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = review(
        &state,
        &city,
        &[
            ("id", &id),
            ("accept", "false"),
            ("comment", "请补报迟到走访"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = submit(&state, &county, COUNTY, &as_of_text, &[]).await;
    assert_eq!(r.body.trim(), "2", "{}", r.body);
    let w = weekly(&state, &county, COUNTY).await;
    assert_eq!(w.versions.len(), 2);
    assert_eq!(w.versions[0].state, SubmissionState::Returned);
    assert_eq!(
        w.versions[0].review_comment.as_deref(),
        Some("请补报迟到走访")
    );
    assert_eq!(
        w.versions[0].report, v1.report,
        "a returned version is kept as it was"
    );
    assert!(w.changes.is_empty(), "version 2 has the late visit");
    let v2 = w.versions[1].clone();
    assert_eq!(
        v2.report.table.total.all.full,
        v1.report.table.total.all.full + full_lines.len() as i64
    );
    for (code, cookie) in [(COUNTY2, &county2)] {
        let r = submit(&state, cookie, code, &as_of_text, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    for code in [COUNTY, COUNTY2] {
        let cw = weekly(&state, &city, CITY).await;
        let s = cw
            .children
            .iter()
            .find(|c| c.area.code.as_str() == code)
            .unwrap();
        let id = s.latest.as_ref().unwrap().id.to_string();
        let r = review(&state, &city, &[("id", &id), ("accept", "true")]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    // The city's report is the sum of the accepted county reports.
    let cw = weekly(&state, &city, CITY).await;
    assert!(cw.blocked.is_none(), "{cw:?}");
    assert_eq!(cw.submitted_total, Some(v2.report.table.total.all));
    let r = submit(&state, &city, CITY, &as_of_text, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let cw = weekly(&state, &city, CITY).await;
    let mine = &cw.versions[0].report.table;
    assert_eq!(mine.total.all, v2.report.table.total.all);
    assert_eq!(mine.rows.len(), 2);
    let row = mine
        .rows
        .iter()
        .find(|r| r.area.code.as_str() == COUNTY)
        .unwrap();
    assert_eq!(row.all, v2.report.table.total.all);
    // Accepted: neither can submit again; a reviewed version is not
    // reviewed twice.
    let r = submit(&state, &county, COUNTY, &as_of_text, &[]).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let id = v2.id.to_string();
    let r = review(
        &state,
        &city,
        &[("id", &id), ("accept", "false"), ("comment", "x")],
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);

    // The page renders for each, with markup in a remark as text.
    let p = page(
        &state,
        Some(&county),
        &format!("/reports/weekly/{COUNTY}?as_of={as_of}"),
    )
    .await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains("&lt;b&gt;尚未发放") && !p.body.contains("<b>尚未发放"));
    let p = page(&state, Some(&city), &format!("/reports/weekly/{CITY}")).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains("weekly-child"));
}

async fn bad_submissions_and_reviews_are_refused_and_write_nothing(db: TestDb) {
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    common::second_county(store).await;
    let state = db.state();
    let county = sign_in(&state, "county").await;
    let county2 = sign_in(&state, "county2").await;
    let township = sign_in(&state, "township1").await;
    let worker = sign_in(&state, "worker1").await;
    let city = sign_in(&state, "city").await;
    let as_of = weekly(&state, &county, COUNTY).await.week.as_of;
    let as_of_text = as_of.to_string();
    let _ = household_of(store, "worker1").await;

    for (form, want) in [
        (
            submit_form(COUNTY, "2026-13-01", &[]),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        // Not the last day of a week.
        (
            submit_form(COUNTY, &(as_of - Duration::days(1)).to_string(), &[]),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        // A week not over yet.
        (
            submit_form(COUNTY, &(as_of + Duration::days(7)).to_string(), &[]),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            vec![
                ("code", COUNTY),
                ("as_of", &as_of_text),
                ("contact_name", " "),
                ("contact_phone", "1"),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            vec![
                ("code", COUNTY),
                ("as_of", &as_of_text),
                ("contact_name", "王"),
                ("contact_phone", "<script>"),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            submit_form(COUNTY, &as_of_text, &[("remarks[no_such_item]", "x")]),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let r = call(&state, Some(&county), "/api/weekly/submit", &form).await;
        assert_eq!(r.status, want, "{form:?}: {}", r.body);
    }
    let long = "长".repeat(501);
    let item = weekly(&state, &county, COUNTY)
        .await
        .draft
        .unwrap()
        .table
        .items[0]
        .code
        .clone();
    let key = format!("remarks[{item}]");
    let r = submit(&state, &county, COUNTY, &as_of_text, &[(&key, &long)]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        stored_figures(&db, COUNTY, as_of).await.is_empty(),
        "nothing written"
    );

    // Another county, a township, a field worker: not theirs to see or
    // submit; the city cannot submit a county's report.
    for (cookie, want) in [
        (&county2, StatusCode::NOT_FOUND),
        (&township, StatusCode::NOT_FOUND),
        (&worker, StatusCode::FORBIDDEN),
    ] {
        let r = call(
            &state,
            Some(cookie),
            "/api/weekly/view",
            &[("code", COUNTY)],
        )
        .await;
        assert_eq!(r.status, want, "{}", r.body);
        let r = submit(&state, cookie, COUNTY, &as_of_text, &[]).await;
        assert_eq!(r.status, want, "{}", r.body);
    }
    let r = submit(&state, &city, COUNTY, &as_of_text, &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = call(&state, None, "/api/weekly/view", &[("code", COUNTY)]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // A township is no level that reports.
    let r = call(
        &state,
        Some(&county),
        "/api/weekly/view",
        &[("code", "621102100000")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);

    // Submitted: another county cannot review it, download it, or see it;
    // the county cannot review its own.
    let r = submit(&state, &county, COUNTY, &as_of_text, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let s = &weekly(&state, &county, COUNTY).await.versions[0];
    let id = s.id.to_string();
    for (cookie, want) in [
        (&county2, StatusCode::NOT_FOUND),
        (&county, StatusCode::FORBIDDEN),
    ] {
        let r = review(&state, cookie, &[("id", &id), ("accept", "true")]).await;
        assert_eq!(r.status, want, "{}", r.body);
    }
    let r = page(&state, Some(&county2), &s.xlsx_href()).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = page(
        &state,
        Some(&county),
        "/reports/weekly/submissions/not-a-uuid/xlsx",
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = review(
        &state,
        &city,
        &[("id", &Uuid::now_v7().to_string()), ("accept", "true")],
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Two submissions at once: one is stored.
    let form = submit_form(COUNTY2, &as_of_text, &[]);
    let (a, b) = tokio::join!(
        call(&state, Some(&county2), "/api/weekly/submit", &form),
        call(&state, Some(&county2), "/api/weekly/submit", &form),
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::CONFLICT],
        "{} {}",
        a.body,
        b.body
    );
    assert_eq!(stored_figures(&db, COUNTY2, as_of).await.len(), 1);
}

async fn a_submission_corrects_every_earlier_week_of_the_year(db: TestDb) {
    let db = db.with_demo().await;
    let store = db.store.as_ref();
    let state = db.state();
    let county = sign_in(&state, "county").await;
    let now = weekly(&state, &county, COUNTY).await.week.as_of;
    let weeks = [now - Duration::days(14), now - Duration::days(7)];
    if weeks[0] < common::year().first_day() {
        eprintln!("the statistics year is under three weeks old: nothing earlier to correct");
        return;
    }
    for w in weeks {
        let r = submit(&state, &county, COUNTY, &w.to_string(), &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{w}: {}", r.body);
    }
    // Nothing changed yet: nothing to correct.
    let draft = weekly(&state, &county, COUNTY)
        .await
        .draft
        .expect("a draft");
    assert!(draft.corrections.is_empty(), "{:?}", draft.corrections);
    // A visit of the earliest week arrives only now: both weeks' figures
    // change, and the next submission says so for each.
    let h = household_of(store, "worker1").await;
    common::store_directly(
        store,
        visit_in_week(store, h, weeks[0], PaymentStatus::ReceivedInFull).await,
        "worker1",
    )
    .await;
    let draft = weekly(&state, &county, COUNTY)
        .await
        .draft
        .expect("a draft");
    let corrected: BTreeSet<chrono::NaiveDate> =
        draft.corrections.iter().map(|c| c.as_of).collect();
    assert_eq!(corrected, BTreeSet::from(weeks));
    for w in weeks {
        // The county's total over all items: as submitted, and as the
        // dispatch table now has it for the same day.
        let total = draft
            .corrections
            .iter()
            .find(|c| c.as_of == w && c.item.is_none() && c.area.code.as_str() == COUNTY)
            .unwrap_or_else(|| panic!("{w}: {:?}", draft.corrections));
        let r = call(
            &state,
            Some(&county),
            "/api/reports/dispatch",
            &[("code", COUNTY), ("as_of", &w.to_string())],
        )
        .await;
        let live: daohu::reports::DispatchTable = serde_json::from_str(&r.body).unwrap();
        assert_eq!(total.live, live.total.all, "{w}");
        let frozen = &stored_figures(&db, COUNTY, w).await[0];
        let frozen: daohu::weekly::FrozenReport = serde_json::from_str(frozen).unwrap();
        assert_eq!(total.submitted, frozen.table.total.all, "{w}");
        assert!(
            total.live.full > total.submitted.full,
            "{w}: the visit received money"
        );
    }
}
