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
/// `field` prefixes the field names in the error (`measure_updates[0]`);
/// an empty `field` leaves them bare, as the online form names them.
pub fn check_measure_update(
    u: &MeasureUpdate,
    field: &str,
    today: NaiveDate,
) -> Result<(), (String, &'static str)> {
    let at = |name: &str| {
        if field.is_empty() {
            name.to_owned()
        } else {
            format!("{field}.{name}")
        }
    };
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

/// A form field at fault and what to tell the user, in Chinese.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

impl FieldProblem {
    fn new(field: &str, message: impl Into<String>) -> FieldProblem {
        FieldProblem {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

impl From<FieldProblem> for crate::error::AppError {
    fn from(p: FieldProblem) -> Self {
        crate::error::AppError::validation(p.field, p.message)
    }
}

/// Longest name of a responsible cadre.
pub const MAX_NAME_CHARS: usize = 30;
/// How long ago a new measure's due date may lie: plans are often written
/// down after the work began, but not years later.
pub const MAX_DAYS_DUE_BEFORE_TODAY: i64 = 366;
/// How far ahead a due date may lie (ten years).
pub const MAX_DAYS_DUE_AFTER_TODAY: i64 = 3653;

/// The plan's own fields as typed into its form (create or edit).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanDraft {
    pub responsible_name: String,
    /// Left empty on an edit to keep the number on file: a field worker
    /// sees it masked and cannot retype it.
    pub responsible_phone: String,
    pub labour_situation: String,
    pub health_situation: String,
}

impl PlanDraft {
    /// The draft trimmed, or the first field at fault. With `phone_on_file`
    /// an empty phone is allowed (it keeps the stored one).
    pub fn check(&self, phone_on_file: bool) -> Result<PlanDraft, FieldProblem> {
        let name = self.responsible_name.trim();
        if name.is_empty() {
            return Err(FieldProblem::new(
                "responsible_name",
                "请填写帮扶责任人姓名",
            ));
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(FieldProblem::new(
                "responsible_name",
                format!("姓名不能超过{MAX_NAME_CHARS}字"),
            ));
        }
        let phone: String = self
            .responsible_phone
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if phone.is_empty() && !phone_on_file {
            return Err(FieldProblem::new(
                "responsible_phone",
                "请填写帮扶责任人联系电话",
            ));
        }
        if !phone.is_empty() && !is_phone(&phone) {
            return Err(FieldProblem::new(
                "responsible_phone",
                "联系电话应为11位手机号或带区号的座机号",
            ));
        }
        Ok(PlanDraft {
            responsible_name: name.to_owned(),
            responsible_phone: phone,
            labour_situation: text(
                "labour_situation",
                &self.labour_situation,
                Some("请填写家庭劳动力状况"),
            )?,
            health_situation: text(
                "health_situation",
                &self.health_situation,
                Some("请填写家庭成员健康状况"),
            )?,
        })
    }
}

/// A mobile number (11 digits, 1…) or a landline with its area code
/// (`0932-8123456`).
fn is_phone(s: &str) -> bool {
    if s.len() == 11 && s.starts_with('1') && s.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    s.starts_with('0')
        && s.bytes().all(|b| b.is_ascii_digit() || b == b'-')
        && (10..=12).contains(&digits)
        && !s.ends_with('-')
        && !s.contains("--")
}

/// Free text, trimmed; `required` is the message when it is empty.
fn text(field: &str, value: &str, required: Option<&str>) -> Result<String, FieldProblem> {
    let value = value.trim();
    if let Some(message) = required
        && value.is_empty()
    {
        return Err(FieldProblem::new(field, message));
    }
    if value.chars().count() > MAX_PLAN_TEXT_CHARS {
        return Err(FieldProblem::new(
            field,
            format!("文字过长（最多{MAX_PLAN_TEXT_CHARS}字）"),
        ));
    }
    Ok(value.to_owned())
}

/// A day typed as `YYYY-MM-DD` (what a date input sends).
fn day(field: &str, value: &str) -> Result<NaiveDate, FieldProblem> {
    let value = value.trim();
    if value.is_empty() {
        return Err(FieldProblem::new(field, "请填写日期"));
    }
    // `FromStr` reads `YYYY-MM-DD`, as `parse_from_str` with a format
    // would, without bringing chrono's format parser into the bundle.
    value
        .parse::<NaiveDate>()
        .map_err(|_| FieldProblem::new(field, "日期格式应为“年-月-日”，如 2027-03-01"))
}

fn money(field: &str, value: &str) -> Result<Fen, FieldProblem> {
    Fen::parse_yuan(value).map_err(|m| FieldProblem::new(field, m))
}

/// A new measure as typed into its form; amounts in 元.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeasureDraft {
    pub category: String,
    pub action: String,
    pub funding_source: String,
    pub funding: String,
    /// `YYYY-MM-DD`
    pub due_on: String,
    pub expected_income: String,
    pub note: String,
}

impl MeasureDraft {
    /// The measure it describes (planned, with `id`), or the first field
    /// at fault.
    pub fn check(&self, id: Uuid, today: NaiveDate) -> Result<Measure, FieldProblem> {
        let category = MeasureCategory::parse(self.category.trim())
            .ok_or_else(|| FieldProblem::new("category", "请选择措施类别"))?;
        let action = text("action", &self.action, Some("请填写具体措施"))?;
        let funding_source = text("funding_source", &self.funding_source, None)?;
        let funding = money("funding", &self.funding)?;
        if funding.0 > 0 && funding_source.is_empty() {
            return Err(FieldProblem::new(
                "funding_source",
                "有资金投入时请填写资金来源",
            ));
        }
        let due_on = day("due_on", &self.due_on)?;
        if due_on < today - chrono::Duration::days(MAX_DAYS_DUE_BEFORE_TODAY) {
            return Err(FieldProblem::new("due_on", "完成期限不能早于一年前"));
        }
        if due_on > today + chrono::Duration::days(MAX_DAYS_DUE_AFTER_TODAY) {
            return Err(FieldProblem::new("due_on", "完成期限不能晚于十年后"));
        }
        let expected_income = money("expected_income", &self.expected_income)?;
        Ok(Measure {
            id,
            category,
            action,
            funding_source,
            funding,
            due_on,
            expected_income,
            status: MeasureStatus::Planned,
            done_on: None,
            drop_reason: None,
            note: text("note", &self.note, None)?,
        })
    }
}

/// A status change typed into the online form (the same rules as one made
/// during a visit, [`check_measure_update`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeasureStatusDraft {
    pub status: String,
    /// `YYYY-MM-DD`, only for done.
    pub done_on: String,
    /// Only for dropped.
    pub drop_reason: String,
    pub note: String,
}

impl MeasureStatusDraft {
    pub fn check(&self, measure_id: Uuid, today: NaiveDate) -> Result<MeasureUpdate, FieldProblem> {
        let status = MeasureStatus::parse(self.status.trim())
            .ok_or_else(|| FieldProblem::new("status", "请选择措施状态"))?;
        let done_on = match self.done_on.trim() {
            "" => None,
            d => Some(day("done_on", d)?),
        };
        let reason = self.drop_reason.trim();
        let update = MeasureUpdate {
            measure_id,
            status,
            done_on,
            drop_reason: (!reason.is_empty()).then(|| reason.to_owned()),
            note: self.note.trim().to_owned(),
        };
        check_measure_update(&update, "", today).map_err(|(f, m)| FieldProblem::new(&f, m))?;
        Ok(update)
    }
}

/// The plan part of a household page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanPage {
    pub household_id: Uuid,
    pub plan: Option<PlanView>,
    /// The China date overdue is judged on; the latest a done date may be.
    pub today: NaiveDate,
}

/// A plan as its reader may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanView {
    pub id: Uuid,
    pub responsible_name: String,
    /// Masked (`138****5678`) unless the reader supervises the household.
    pub responsible_phone: String,
    pub phone_masked: bool,
    pub labour_situation: String,
    pub health_situation: String,
    /// China time of the last edit, `2027-03-01 14:05`.
    pub updated_local: String,
    pub measures: Vec<MeasureView>,
}

impl PlanView {
    /// (done, overdue) among the measures.
    pub fn counts(&self) -> (usize, usize) {
        let done = self
            .measures
            .iter()
            .filter(|m| m.measure.status == MeasureStatus::Done)
            .count();
        let overdue = self.measures.iter().filter(|m| m.overdue).count();
        (done, overdue)
    }
}

/// A measure with whether it is overdue and every move it made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeasureView {
    pub measure: Measure,
    pub overdue: bool,
    /// Oldest first.
    pub history: Vec<MeasureEntry>,
}

/// One move of a measure: who, when, and during which visit (or online).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeasureEntry {
    pub at_local: String,
    pub user_name: String,
    pub status: MeasureStatus,
    pub done_on: Option<NaiveDate>,
    pub drop_reason: Option<String>,
    pub note: String,
    /// China time the visit started, when the move came with one.
    pub visit_local: Option<String>,
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

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn plan_draft() -> PlanDraft {
        PlanDraft {
            responsible_name: " 张建国 ".into(),
            responsible_phone: "138 1234 5678".into(),
            labour_situation: "普通劳动力2人".into(),
            health_situation: "健康".into(),
        }
    }

    #[test]
    fn a_plan_draft_is_trimmed_and_each_bad_field_is_named() {
        let ok = plan_draft().check(false).unwrap();
        assert_eq!(ok.responsible_name, "张建国");
        assert_eq!(ok.responsible_phone, "13812345678");
        for phone in ["0932-8123456", "09328123456"] {
            let d = PlanDraft {
                responsible_phone: phone.into(),
                ..plan_draft()
            };
            assert!(d.check(false).is_ok(), "{phone}");
        }
        let field = |d: PlanDraft, on_file: bool| d.check(on_file).unwrap_err().field;
        let bad = |f: fn(&mut PlanDraft)| {
            let mut d = plan_draft();
            f(&mut d);
            d
        };
        assert_eq!(
            field(bad(|d| d.responsible_name = " ".into()), false),
            "responsible_name"
        );
        assert_eq!(
            field(bad(|d| d.responsible_name = "名".repeat(31)), false),
            "responsible_name"
        );
        assert_eq!(
            field(bad(|d| d.responsible_phone = String::new()), false),
            "responsible_phone"
        );
        for phone in [
            "1381234567",
            "23812345678",
            "0932--812345",
            "0932-812345-",
            "12345",
        ] {
            let d = PlanDraft {
                responsible_phone: phone.into(),
                ..plan_draft()
            };
            assert_eq!(field(d, true), "responsible_phone", "{phone}");
        }
        assert_eq!(
            field(bad(|d| d.labour_situation = String::new()), false),
            "labour_situation"
        );
        assert_eq!(
            field(
                bad(|d| d.health_situation = "病".repeat(MAX_PLAN_TEXT_CHARS + 1)),
                false
            ),
            "health_situation"
        );
        // Editing: an empty phone keeps the one on file.
        let kept = bad(|d| d.responsible_phone = " ".into())
            .check(true)
            .unwrap();
        assert_eq!(kept.responsible_phone, "");
    }

    fn measure_draft() -> MeasureDraft {
        MeasureDraft {
            category: "employment".into(),
            action: "推荐到帮扶车间就业".into(),
            funding_source: String::new(),
            funding: "0".into(),
            due_on: "2027-06-30".into(),
            expected_income: "1,2000.5元".into(),
            note: String::new(),
        }
    }

    #[test]
    fn a_measure_draft_reads_money_and_dates_exactly_and_names_each_bad_field() {
        let today = day("2027-03-01");
        let id = Uuid::now_v7();
        let m = measure_draft().check(id, today).unwrap();
        assert_eq!(m.id, id);
        assert_eq!(m.category, MeasureCategory::Employment);
        assert_eq!(m.expected_income, Fen(1_200_050));
        assert_eq!(m.due_on, day("2027-06-30"));
        assert_eq!(m.status, MeasureStatus::Planned);
        let field = |f: fn(&mut MeasureDraft)| {
            let mut d = measure_draft();
            f(&mut d);
            d.check(id, today).unwrap_err().field
        };
        assert_eq!(field(|d| d.category = "jobs".into()), "category");
        assert_eq!(field(|d| d.action = "  ".into()), "action");
        assert_eq!(field(|d| d.funding = "1.234".into()), "funding");
        assert_eq!(field(|d| d.funding = "-5".into()), "funding");
        // Money spent must say where it comes from.
        assert_eq!(field(|d| d.funding = "300".into()), "funding_source");
        assert_eq!(field(|d| d.due_on = "2027/06/30".into()), "due_on");
        assert_eq!(field(|d| d.due_on = "2026-02-27".into()), "due_on");
        assert_eq!(field(|d| d.due_on = "2037-03-02".into()), "due_on");
        assert_eq!(
            field(|d| d.expected_income = String::new()),
            "expected_income"
        );
        assert_eq!(field(|d| d.note = "注".repeat(501)), "note");
        let mut funded = measure_draft();
        funded.funding = "300".into();
        funded.funding_source = "衔接资金".into();
        assert_eq!(funded.check(id, today).unwrap().funding, Fen(30_000));
    }

    #[test]
    fn a_status_draft_follows_the_visit_rules_with_bare_field_names() {
        let today = day("2027-03-01");
        let id = Uuid::now_v7();
        let draft = |status: &str, done_on: &str, reason: &str| MeasureStatusDraft {
            status: status.into(),
            done_on: done_on.into(),
            drop_reason: reason.into(),
            note: " 已验收 ".into(),
        };
        let u = draft("done", "2027-02-20", "").check(id, today).unwrap();
        assert_eq!(
            (u.measure_id, u.status, u.done_on, u.note.as_str()),
            (id, MeasureStatus::Done, Some(day("2027-02-20")), "已验收")
        );
        let u = draft("dropped", "", " 外出务工 ").check(id, today).unwrap();
        assert_eq!(u.drop_reason.as_deref(), Some("外出务工"));
        let field = |d: MeasureStatusDraft| d.check(id, today).unwrap_err().field;
        assert_eq!(field(draft("finished", "", "")), "status");
        assert_eq!(field(draft("done", "", "")), "done_on");
        assert_eq!(field(draft("done", "2027-03-02", "")), "done_on");
        assert_eq!(field(draft("done", "20/2/2027", "")), "done_on");
        assert_eq!(field(draft("dropped", "", "")), "drop_reason");
        assert_eq!(field(draft("planned", "", "理由")), "drop_reason");
    }
}
