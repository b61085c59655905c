use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::areas::Area;
use crate::reports::{DispatchTable, Progress};

/// A remark is at most this long (characters), the 联络人 name and phone
/// shorter still.
pub const MAX_REMARK_CHARS: usize = 500;
pub const MAX_CONTACT_NAME_CHARS: usize = 20;
pub const MAX_CONTACT_PHONE_CHARS: usize = 20;
/// Visits listed under "changes since submission" at most.
pub const MAX_LATE_VISITS: i64 = 200;

/// A week of reporting: the figures count up to the end of `as_of` (China
/// time), the day before `report_day`; the report is due at `due_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportWeek {
    pub as_of: NaiveDate,
    pub report_day: NaiveDate,
    pub due_at: DateTime<Utc>,
}

/// When reports are due: a weekday (1 = Monday … 7 = Sunday) and an hour,
/// China time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub weekday: u32,
    pub hour: u32,
}

impl Schedule {
    /// The week whose report day is `report_day` (any date: the latest
    /// report day on or before it).
    pub fn week_reported_on(&self, day: NaiveDate) -> ReportWeek {
        let back =
            (i64::from(day.weekday().number_from_monday()) - i64::from(self.weekday)).rem_euclid(7);
        let report_day = day - Duration::days(back);
        let due_at = report_day
            .and_hms_opt(self.hour, 0, 0)
            .expect("an hour of the day")
            .and_utc()
            - Duration::hours(8);
        ReportWeek {
            as_of: report_day - Duration::days(1),
            report_day,
            due_at,
        }
    }

    /// The week being reported at `now`.
    pub fn current(&self, now: DateTime<Utc>) -> ReportWeek {
        self.week_reported_on(crate::subsidies::china_date(now))
    }

    /// The week whose figures end on `as_of`, if `as_of` is such a day.
    pub fn week_ending(&self, as_of: NaiveDate) -> Option<ReportWeek> {
        let week = self.week_reported_on(as_of + Duration::days(1));
        (week.as_of == as_of).then_some(week)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SubmissionState {
    /// 待审核: waiting for the level above.
    Submitted,
    /// 已退回: sent back with a comment; the area submits again.
    Returned,
    /// 已通过
    Accepted,
}

impl SubmissionState {
    pub fn as_str(self) -> &'static str {
        match self {
            SubmissionState::Submitted => "submitted",
            SubmissionState::Returned => "returned",
            SubmissionState::Accepted => "accepted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            SubmissionState::Submitted,
            SubmissionState::Returned,
            SubmissionState::Accepted,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            SubmissionState::Submitted => "已报送，待审核",
            SubmissionState::Returned => "已退回",
            SubmissionState::Accepted => "已通过",
        }
    }
}

/// What a submission froze: the table, and the changes to earlier weeks'
/// submitted figures known when it was made (更正以往各周).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrozenReport {
    pub table: DispatchTable,
    pub corrections: Vec<Change>,
}

/// One figure that differs between a submission and the live records as
/// of the same day: an area (a row of the table, or its total) and an item
/// (`None`: over all items).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// The week the submitted figure is of.
    pub as_of: NaiveDate,
    pub area: Area,
    pub item: Option<String>,
    pub item_name: String,
    pub submitted: Progress,
    pub live: Progress,
}

/// A submission as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submission {
    pub id: Uuid,
    pub area: Area,
    pub version: i32,
    pub state: SubmissionState,
    pub report: FrozenReport,
    /// SHA-256 of the frozen figures as stored.
    pub figures_hash: String,
    /// Item name → remark, in the table's item order.
    pub remarks: Vec<(String, String)>,
    pub contact_name: String,
    pub contact_phone: String,
    pub submitted_by: String,
    pub submitted_at: DateTime<Utc>,
    /// Submitted after the week's report was due.
    pub late: bool,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub review_comment: Option<String>,
}

impl Submission {
    pub fn xlsx_href(&self) -> String {
        format!("/reports/weekly/submissions/{}/xlsx", self.id)
    }
}

/// An area below, as the level above sees its week.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AreaWeek {
    pub area: Area,
    /// Its latest version, if any.
    pub latest: Option<Submission>,
    /// Not submitted although due, or submitted after it was due.
    pub late: bool,
    /// The caller may return or accept the latest version.
    pub reviewable: bool,
}

/// A visit delivered after the submission that counts for its week.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LateVisit {
    pub household_id: Uuid,
    pub household: String,
    pub village: String,
    pub started_on: NaiveDate,
    pub delivered_at: DateTime<Utc>,
}

/// What an area's reasons for shortfalls say, per item, to help its remark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemarkHint {
    pub item_code: String,
    pub item_name: String,
    /// e.g. "未到户 12 户、部分到户 3 户；原因：尚未发放 9、金额减少 3".
    pub hint: String,
}

/// `/reports/weekly/<area>?as_of=…`: a week of reporting as one area sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyView {
    pub area: Area,
    pub week: ReportWeek,
    /// The area submits (a county's or a city's own officer).
    pub submits: bool,
    /// Why the area cannot submit now, when it submits.
    pub blocked: Option<String>,
    /// What a submission now would freeze.
    pub draft: Option<FrozenReport>,
    pub hints: Vec<RemarkHint>,
    /// Every version of the area's own submission, oldest first.
    pub versions: Vec<Submission>,
    /// The latest version's figures that the records now make different.
    pub changes: Vec<Change>,
    pub late_visits: Vec<LateVisit>,
    /// The areas below that report to this one (counties of a city,
    /// cities of the province).
    pub children: Vec<AreaWeek>,
    /// Over all items: the sum of the children's accepted submissions, and
    /// the live figures as of the same day.
    pub submitted_total: Option<Progress>,
    pub live_total: Progress,
}

/// Differences between a submitted table and the live one of the same
/// area and day, row by row and item by item (rows or items only in one
/// of them count as zero in the other).
pub fn changes_between(submitted: &DispatchTable, live: &DispatchTable) -> Vec<Change> {
    let mut out = Vec::new();
    let rows = |t: &DispatchTable| {
        t.rows
            .iter()
            .chain([&t.total])
            .map(|r| r.area.code.clone())
            .collect::<Vec<_>>()
    };
    let mut areas = rows(submitted);
    for a in rows(live) {
        if !areas.contains(&a) {
            areas.insert(areas.len().saturating_sub(1), a);
        }
    }
    let mut items: Vec<(String, String)> = submitted
        .items
        .iter()
        .map(|i| (i.code.clone(), i.name.clone()))
        .collect();
    for i in &live.items {
        if !items.iter().any(|(c, _)| *c == i.code) {
            items.push((i.code.clone(), i.name.clone()));
        }
    }
    let figure = |t: &DispatchTable, area: &crate::areas::AreaCode, item: Option<&str>| {
        let row = t
            .rows
            .iter()
            .chain([&t.total])
            .find(|r| r.area.code == *area)?;
        Some(match item {
            None => row.all,
            Some(code) => row.items[t.items.iter().position(|i| i.code == code)?],
        })
    };
    for code in &areas {
        let area = submitted
            .rows
            .iter()
            .chain(live.rows.iter())
            .chain([&submitted.total])
            .find(|r| r.area.code == *code)
            .map(|r| r.area.clone())
            .expect("listed from the rows");
        let cells = std::iter::once((None, crate::text::zh::ALL_ITEMS.to_owned()))
            .chain(items.iter().map(|(c, n)| (Some(c.clone()), n.clone())));
        for (item, item_name) in cells {
            let s = figure(submitted, code, item.as_deref()).unwrap_or_default();
            let l = figure(live, code, item.as_deref()).unwrap_or_default();
            if s != l {
                out.push(Change {
                    as_of: submitted.as_of,
                    area: area.clone(),
                    item: item.clone(),
                    item_name,
                    submitted: s,
                    live: l,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_week_ends_the_day_before_its_report_day() {
        let monday = Schedule {
            weekday: 1,
            hour: 18,
        };
        // 2026-12-07 is a Monday.
        for d in ["2026-12-07", "2026-12-09", "2026-12-13"] {
            let w = monday.week_reported_on(day(d));
            assert_eq!(w.report_day, day("2026-12-07"), "{d}");
            assert_eq!(w.as_of, day("2026-12-06"));
            assert_eq!(w.due_at.to_rfc3339(), "2026-12-07T10:00:00+00:00");
        }
        assert_eq!(
            monday.week_reported_on(day("2026-12-06")).as_of,
            day("2026-11-29")
        );
        assert_eq!(
            monday.week_ending(day("2026-12-06")).unwrap().report_day,
            day("2026-12-07")
        );
        assert_eq!(monday.week_ending(day("2026-12-05")), None);
        // Monday 01:00 in China is still Sunday in UTC: Monday's week.
        let now = "2026-12-06T17:00:00Z".parse().unwrap();
        assert_eq!(monday.current(now).as_of, day("2026-12-06"));
        let friday = Schedule {
            weekday: 5,
            hour: 9,
        };
        let w = friday.week_reported_on(day("2026-12-07"));
        assert_eq!(
            (w.report_day, w.as_of),
            (day("2026-12-04"), day("2026-12-03"))
        );
    }
}
