use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::subsidies::Fen;

/// What kind of help a measure is (一户一策 categories).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MeasureCategory {
    /// 产业
    Industry,
    /// 就业
    Employment,
    /// 政策兜底
    Protection,
    /// 资产收益
    AssetIncome,
    /// 其他
    Other,
}

impl MeasureCategory {
    pub const ALL: [MeasureCategory; 5] = [
        MeasureCategory::Industry,
        MeasureCategory::Employment,
        MeasureCategory::Protection,
        MeasureCategory::AssetIncome,
        MeasureCategory::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MeasureCategory::Industry => "industry",
            MeasureCategory::Employment => "employment",
            MeasureCategory::Protection => "protection",
            MeasureCategory::AssetIncome => "asset_income",
            MeasureCategory::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        MeasureCategory::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            MeasureCategory::Industry => "产业",
            MeasureCategory::Employment => "就业",
            MeasureCategory::Protection => "政策兜底",
            MeasureCategory::AssetIncome => "资产收益",
            MeasureCategory::Other => "其他",
        }
    }
}

/// Where a measure stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MeasureStatus {
    /// 计划中
    Planned,
    /// 实施中
    InProgress,
    /// 已完成 (with the day it was done)
    Done,
    /// 已放弃 (with a reason)
    Dropped,
}

impl MeasureStatus {
    pub const ALL: [MeasureStatus; 4] = [
        MeasureStatus::Planned,
        MeasureStatus::InProgress,
        MeasureStatus::Done,
        MeasureStatus::Dropped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MeasureStatus::Planned => "planned",
            MeasureStatus::InProgress => "in_progress",
            MeasureStatus::Done => "done",
            MeasureStatus::Dropped => "dropped",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        MeasureStatus::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            MeasureStatus::Planned => "计划中",
            MeasureStatus::InProgress => "实施中",
            MeasureStatus::Done => "已完成",
            MeasureStatus::Dropped => "已放弃",
        }
    }

    /// Still to be done: counts towards "overdue" once its due date passes.
    pub fn is_open(self) -> bool {
        matches!(self, MeasureStatus::Planned | MeasureStatus::InProgress)
    }
}

/// A household's one plan (一户一策).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub id: Uuid,
    pub household_id: Uuid,
    /// 帮扶责任人
    pub responsible_name: String,
    pub responsible_phone: String,
    /// 劳动力状况
    pub labour_situation: String,
    /// 健康状况
    pub health_situation: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub measures: Vec<Measure>,
}

/// One measure of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measure {
    pub id: Uuid,
    pub category: MeasureCategory,
    /// What will be done.
    pub action: String,
    pub funding_source: String,
    pub funding: Fen,
    pub due_on: NaiveDate,
    /// Expected extra income per year.
    pub expected_income: Fen,
    pub status: MeasureStatus,
    pub done_on: Option<NaiveDate>,
    pub drop_reason: Option<String>,
    pub note: String,
}

impl Measure {
    /// Open and past its due date on `today`.
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.status.is_open() && self.due_on < today
    }
}

/// A status change a worker records for a measure during a visit; it
/// travels inside the visit, through the phone's outbox, and the household
/// signs it with the rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeasureUpdate {
    pub measure_id: Uuid,
    pub status: MeasureStatus,
    /// Required for [`MeasureStatus::Done`].
    pub done_on: Option<NaiveDate>,
    /// Required for [`MeasureStatus::Dropped`].
    pub drop_reason: Option<String>,
    pub note: String,
}

/// Longest free text in a plan or measure.
pub const MAX_PLAN_TEXT_CHARS: usize = 500;

/// The rules a measure update meets, on the phone and on the server;
/// `field` prefixes the field names in the error (`measure_updates[0]`).
pub fn check_measure_update(
    u: &MeasureUpdate,
    field: &str,
    today: NaiveDate,
) -> Result<(), (String, &'static str)> {
    let at = |name: &str| format!("{field}.{name}");
    match u.status {
        MeasureStatus::Done => match u.done_on {
            None => return Err((at("done_on"), "请填写完成日期")),
            Some(d) if d > today => return Err((at("done_on"), "完成日期不能晚于今天")),
            Some(_) => {}
        },
        _ if u.done_on.is_some() => return Err((at("done_on"), "未完成的措施不应填写完成日期")),
        _ => {}
    }
    let reason = u.drop_reason.as_deref().map(str::trim).unwrap_or_default();
    if u.status == MeasureStatus::Dropped && reason.is_empty() {
        return Err((at("drop_reason"), "放弃措施须说明原因"));
    }
    if u.status != MeasureStatus::Dropped && !reason.is_empty() {
        return Err((at("drop_reason"), "只有放弃的措施才填写放弃原因"));
    }
    if u.note.chars().count() > MAX_PLAN_TEXT_CHARS || reason.chars().count() > MAX_PLAN_TEXT_CHARS
    {
        return Err((at("note"), "文字过长（最多500字）"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(status: MeasureStatus) -> MeasureUpdate {
        MeasureUpdate {
            measure_id: Uuid::now_v7(),
            status,
            done_on: None,
            drop_reason: None,
            note: String::new(),
        }
    }

    #[test]
    fn done_needs_a_day_not_in_the_future_and_dropped_needs_a_reason() {
        let today = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
        let mut u = update(MeasureStatus::Done);
        assert_eq!(
            check_measure_update(&u, "m", today).unwrap_err().0,
            "m.done_on"
        );
        u.done_on = today.succ_opt();
        assert!(check_measure_update(&u, "m", today).is_err());
        u.done_on = Some(today);
        assert!(check_measure_update(&u, "m", today).is_ok());
        let mut d = update(MeasureStatus::Dropped);
        d.drop_reason = Some("  ".into());
        assert_eq!(
            check_measure_update(&d, "m", today).unwrap_err().0,
            "m.drop_reason"
        );
        d.drop_reason = Some("户外出务工，不再养殖".into());
        assert!(check_measure_update(&d, "m", today).is_ok());
        assert!(check_measure_update(&update(MeasureStatus::InProgress), "m", today).is_ok());
    }
}
