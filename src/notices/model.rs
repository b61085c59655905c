use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::areas::Area;

/// The shortest posting: the notice stays up at least five days.
pub const MIN_POSTING_DAYS: i64 = 5;

/// Where a village's notice is.
pub fn notice_href(village: &str) -> String {
    format!("/areas/{village}/notice")
}

/// Whether a posting from `from` to `until` (both days included) is long
/// enough and in order.
pub fn check_posting(from: NaiveDate, until: NaiveDate) -> Result<(), String> {
    if until < from {
        return Err("结束日期不能早于开始日期".into());
    }
    if (until - from).num_days() + 1 < MIN_POSTING_DAYS {
        return Err(format!("公示期不少于{MIN_POSTING_DAYS}天"));
    }
    Ok(())
}

/// One household's line on the notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeRow {
    /// The head's name, masked (`张*明`).
    pub head: String,
    pub full: u32,
    pub part: u32,
    pub not_received: u32,
    pub not_due: u32,
    pub received_fen: i64,
    /// Visited this year at all.
    pub verified: bool,
}

/// When it went up, when it comes down, and whom to call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posting {
    pub from: NaiveDate,
    pub until: NaiveDate,
    pub phone: String,
}

/// An objection received while the notice was up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Objection {
    pub head: String,
    pub reason: String,
    pub on: NaiveDate,
    /// `None`: entered by the township; else whether its item is closed.
    pub closed: Option<bool>,
}

/// Most a township writes about an objection it enters.
pub const MAX_OBJECTION_DETAILS_CHARS: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VillageNotice {
    pub village: Area,
    /// Township and county names, for the heading.
    pub above: Vec<String>,
    pub stat_year: i32,
    pub rows: Vec<NoticeRow>,
    pub posting: Option<Posting>,
    pub objections: Vec<Objection>,
    /// The village's households for the township's objection form, as the
    /// rows name them (`id`, `3. 张*明`).
    pub households: Vec<(uuid::Uuid, String)>,
    /// The receipt check's address, and its QR code as a `data:` URL.
    pub receipt_url: String,
    pub qr_data_url: String,
    pub today: NaiveDate,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_posting_runs_five_days_or_more_in_order() {
        let d = |day| NaiveDate::from_ymd_opt(2026, 9, day).unwrap();
        assert!(check_posting(d(1), d(5)).is_ok());
        assert!(check_posting(d(1), d(4)).is_err());
        assert!(check_posting(d(5), d(1)).is_err());
    }
}
