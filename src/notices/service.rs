//! Building the village notice and recording its posting (server only).

use base64::Engine;
use chrono::{NaiveDate, Utc};
use uuid::Uuid;

use crate::access::{self, Caller};
use crate::areas::{AreaCode, AreaLevel};
use crate::error::{AppError, AppResult};
use crate::notices::{
    MAX_OBJECTION_DETAILS_CHARS, NoticeRow, Objection, Posting, VillageNotice, check_posting,
};
use crate::receipts::{DisputeReason, RECEIPT_PATH, mask_name};
use crate::server::db::{NewObjection, NoticePosting, Store};
use crate::subsidies::{StatYear, china_date};

async fn village_in_reach(
    store: &dyn Store,
    caller: &Caller,
    code: &str,
    action: &str,
) -> AppResult<AreaCode> {
    access::supervised_at(
        store,
        caller,
        code,
        AreaLevel::Village,
        action,
        "公示按村制作，请选择一个村",
    )
    .await
}

/// The notice of `code`'s village for `stat_year` (the current year when
/// `None`); `origin` is the site as the printed QR code must name it.
pub async fn notice(
    store: &dyn Store,
    caller: &Caller,
    code: &str,
    stat_year: Option<i32>,
    origin: &str,
) -> AppResult<VillageNotice> {
    let village = village_in_reach(store, caller, code, "notice").await?;
    let today = china_date(Utc::now());
    let year = stat_year.unwrap_or(StatYear::containing(today).0);
    let area = store.area(&village).await?.ok_or(AppError::NotFound)?;
    let mut above = Vec::new();
    let mut up = village.parent();
    while let Some(a) = up {
        if a.level() < AreaLevel::County {
            break;
        }
        if let Some(found) = store.area(&a).await? {
            above.insert(0, found.name);
        }
        up = a.parent();
    }
    let facts = store.notice_facts(&village, year).await?;
    // As the printed rows name them: number on the notice and masked name.
    let households = facts
        .iter()
        .enumerate()
        .map(|(i, f)| {
            (
                f.household_id,
                format!("{}. {}", i + 1, mask_name(&f.head_name)),
            )
        })
        .collect();
    let rows = facts
        .into_iter()
        .map(|f| {
            let count = |s: &str| f.lines.iter().filter(|(st, _)| st == s).count() as u32;
            NoticeRow {
                head: mask_name(&f.head_name),
                full: count("received_in_full"),
                part: count("received_in_part"),
                not_received: count("not_received"),
                not_due: count("not_due_yet"),
                received_fen: f
                    .lines
                    .iter()
                    .filter_map(|(_, fen)| *fen)
                    .map(|fen| crate::subsidies::Fen::counted(fen).0)
                    .fold(0i64, i64::saturating_add),
                verified: f.visited,
            }
        })
        .collect();
    let posting = store.notice_posting(&village, year).await?;
    let objections = match &posting {
        None => Vec::new(),
        Some(p) => {
            let start = crate::reports::service::end_of_china_day(p.posted_from)
                - chrono::Duration::days(1);
            let end = crate::reports::service::end_of_china_day(p.posted_until);
            store
                .objections_between(&village, start, end)
                .await?
                .into_iter()
                .map(|o| Objection {
                    head: mask_name(&o.head_name),
                    reason: DisputeReason::parse(&o.reason)
                        .map_or("其他", DisputeReason::label)
                        .to_owned(),
                    on: o.on,
                    closed: o.closed,
                })
                .collect()
        }
    };
    let receipt_url = format!("{origin}{RECEIPT_PATH}");
    Ok(VillageNotice {
        village: area,
        above,
        stat_year: year,
        rows,
        posting: posting.map(|p| Posting {
            from: p.posted_from,
            until: p.posted_until,
            phone: p.contact_phone,
        }),
        objections,
        households,
        qr_data_url: qr_data_url(&receipt_url),
        receipt_url,
        today,
    })
}

/// A QR code of `text` as an SVG `data:` URL (the page's policy allows
/// `data:` images, not inline markup from elsewhere).
fn qr_data_url(text: &str) -> String {
    match qrcode::QrCode::new(text.as_bytes()) {
        Ok(code) => {
            let svg = code
                .render::<qrcode::render::svg::Color>()
                .min_dimensions(160, 160)
                .quiet_zone(true)
                .build();
            format!(
                "data:image/svg+xml;base64,{}",
                base64::engine::general_purpose::STANDARD.encode(svg)
            )
        }
        Err(_) => String::new(),
    }
}

/// Records that the notice went up (township supervisors and above).
pub async fn post(
    store: &dyn Store,
    caller: &Caller,
    code: &str,
    stat_year: i32,
    from: NaiveDate,
    until: NaiveDate,
    phone: &str,
) -> AppResult<()> {
    let village = village_in_reach(store, caller, code, "notice_post").await?;
    check_posting(from, until).map_err(|m| AppError::validation("公示期", m))?;
    let phone = crate::households::id_number::phone_as_typed(phone)
        .ok_or_else(|| AppError::validation("联系电话", "请填写乡镇的联系电话"))?;
    if !(2000..=2100).contains(&stat_year) {
        return Err(AppError::validation("统计年度", "年度不对"));
    }
    store
        .save_notice_posting(&NoticePosting {
            id: Uuid::now_v7(),
            village,
            stat_year,
            posted_from: from,
            posted_until: until,
            contact_phone: phone.to_owned(),
            created_by: caller.actor.user_id,
            created_at: Utc::now(),
        })
        .await?;
    Ok(())
}

/// Enters an objection the township received for a household of the
/// village while its notice was up (in person, by phone).
#[allow(clippy::too_many_arguments)]
pub async fn add_objection(
    store: &dyn Store,
    caller: &Caller,
    code: &str,
    stat_year: i32,
    household_id: Uuid,
    reason: &str,
    details: &str,
    phone: &str,
    received_on: NaiveDate,
) -> AppResult<()> {
    let village = village_in_reach(store, caller, code, "notice_objection").await?;
    let household = store.household(household_id).await?;
    if household.is_none_or(|h| h.village != village) {
        return Err(AppError::validation("农户", "请选择本村的农户"));
    }
    let reason = DisputeReason::parse(reason)
        .ok_or_else(|| AppError::validation("异议内容", "请选择异议内容"))?;
    let details = details.trim();
    if details.chars().count() > MAX_OBJECTION_DETAILS_CHARS
        || details.chars().any(char::is_control)
    {
        return Err(AppError::validation(
            "说明",
            format!("说明最多{MAX_OBJECTION_DETAILS_CHARS}字，且不能含控制字符"),
        ));
    }
    if reason == DisputeReason::Other && details.is_empty() {
        return Err(AppError::validation("说明", "选“其他”时请写明异议内容"));
    }
    let phone = match phone.trim() {
        "" => None,
        typed => Some(
            crate::households::id_number::phone_as_typed(typed)
                .ok_or_else(|| AppError::validation("联系电话", "电话号码不对"))?
                .to_owned(),
        ),
    };
    let Some(posting) = store.notice_posting(&village, stat_year).await? else {
        return Err(AppError::validation(
            "收到日期",
            "本村公示尚未张贴，请先登记公示期",
        ));
    };
    let today = china_date(Utc::now());
    if received_on < posting.posted_from || received_on > posting.posted_until.min(today) {
        return Err(AppError::validation(
            "收到日期",
            format!(
                "收到日期应在公示期内（{} 至 {}），且不晚于今天",
                posting.posted_from, posting.posted_until
            ),
        ));
    }
    store
        .add_objection(&NewObjection {
            id: Uuid::now_v7(),
            village,
            stat_year,
            household_id,
            reason: reason.as_str().to_owned(),
            details: details.to_owned(),
            phone,
            received_on,
            entered_by: caller.actor.user_id,
            entered_at: Utc::now(),
        })
        .await?;
    Ok(())
}
