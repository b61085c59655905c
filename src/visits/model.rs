use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::income::IncomeLine;
use crate::plans::MeasureUpdate;
use crate::subsidies::{Channel, Fen};

/// Where a supervisor's review of a visit stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReviewState {
    /// 待审核: delivered, not yet looked at.
    Received,
    /// 有问题: the worker must see to it; a comment says what.
    HasIssues,
    /// 已通过
    Approved,
}

impl ReviewState {
    pub const ALL: [ReviewState; 3] = [
        ReviewState::Received,
        ReviewState::HasIssues,
        ReviewState::Approved,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        ReviewState::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewState::Received => "received",
            ReviewState::HasIssues => "has_issues",
            ReviewState::Approved => "approved",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ReviewState::Received => "待审核",
            ReviewState::HasIssues => "有问题",
            ReviewState::Approved => "已通过",
        }
    }
}

/// Longest review comment accepted.
pub const MAX_REVIEW_COMMENT_CHARS: usize = 500;

/// One step of a visit's review history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewEntry {
    pub state: ReviewState,
    pub comment: String,
    pub reviewer_name: String,
    /// China time, `2027-03-01 10:00`.
    pub at_local: String,
}

/// What the household says about one expected payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PaymentStatus {
    /// 已足额到账
    ReceivedInFull,
    /// 部分到账
    ReceivedInPart,
    /// 未到账
    NotReceived,
    /// 未到发放时间
    NotDueYet,
}

impl PaymentStatus {
    pub const ALL: [PaymentStatus; 4] = [
        PaymentStatus::ReceivedInFull,
        PaymentStatus::ReceivedInPart,
        PaymentStatus::NotReceived,
        PaymentStatus::NotDueYet,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        PaymentStatus::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::ReceivedInFull => "received_in_full",
            PaymentStatus::ReceivedInPart => "received_in_part",
            PaymentStatus::NotReceived => "not_received",
            PaymentStatus::NotDueYet => "not_due_yet",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PaymentStatus::ReceivedInFull => "足额到账",
            PaymentStatus::ReceivedInPart => "部分到账",
            PaymentStatus::NotReceived => "未到账",
            PaymentStatus::NotDueYet => "未到发放时间",
        }
    }

    /// Whether money changed hands, so amount, date and channel are required.
    pub fn has_receipt(self) -> bool {
        matches!(
            self,
            PaymentStatus::ReceivedInFull | PaymentStatus::ReceivedInPart
        )
    }

    /// Whether the household is short of what it was due, so a reason is required.
    pub fn is_short(self) -> bool {
        matches!(
            self,
            PaymentStatus::ReceivedInPart | PaymentStatus::NotReceived
        )
    }
}

/// Why a payment is short, from a fixed list; free text adds detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ShortfallReason {
    /// 部门尚未发放
    NotYetPaidOut,
    /// 金额被扣减
    AmountReduced,
    /// 一卡通/银行卡问题
    CardProblem,
    /// 发放到他人账户
    PaidToWrongAccount,
    /// 户认为不应享受
    NotEntitled,
    /// 户不清楚
    HouseholdUnsure,
    Other,
}

impl ShortfallReason {
    pub const ALL: [ShortfallReason; 7] = [
        ShortfallReason::NotYetPaidOut,
        ShortfallReason::AmountReduced,
        ShortfallReason::CardProblem,
        ShortfallReason::PaidToWrongAccount,
        ShortfallReason::NotEntitled,
        ShortfallReason::HouseholdUnsure,
        ShortfallReason::Other,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        ShortfallReason::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ShortfallReason::NotYetPaidOut => "not_yet_paid_out",
            ShortfallReason::AmountReduced => "amount_reduced",
            ShortfallReason::CardProblem => "card_problem",
            ShortfallReason::PaidToWrongAccount => "paid_to_wrong_account",
            ShortfallReason::NotEntitled => "not_entitled",
            ShortfallReason::HouseholdUnsure => "household_unsure",
            ShortfallReason::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ShortfallReason::NotYetPaidOut => "部门尚未发放",
            ShortfallReason::AmountReduced => "金额被扣减",
            ShortfallReason::CardProblem => "一卡通/银行卡问题",
            ShortfallReason::PaidToWrongAccount => "发放到他人账户",
            ShortfallReason::NotEntitled => "不应享受",
            ShortfallReason::HouseholdUnsure => "农户不清楚",
            ShortfallReason::Other => "其他",
        }
    }
}

/// The worker's check of one entitlement during a visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationLine {
    pub entitlement_id: Uuid,
    pub status: PaymentStatus,
    /// Amount actually received, in fen.
    pub received_fen: Option<i64>,
    pub received_on: Option<NaiveDate>,
    pub channel: Option<Channel>,
    pub reason: Option<ShortfallReason>,
    pub reason_text: String,
}

/// Where the visit took place, as far as the phone could tell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Location {
    /// Micro-degrees keep the position exact and hashable.
    Fix {
        lat_e6: i64,
        lon_e6: i64,
        accuracy_m: i32,
    },
    /// The worker or the phone refused location access.
    Refused,
    /// No position could be had (no fix, no sensor).
    Unavailable,
}

/// The household's confirmation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    pub signer_name: String,
    /// 与户主关系: 户主, 配偶, 之子 …
    pub signer_relation: String,
    /// A thumbprint mark instead of a written signature.
    pub thumbprint: bool,
    /// Required when someone other than the head signs, or for a thumbprint.
    pub proxy_reason: Option<String>,
    /// The strokes as drawn: JSON `[[[x, y, t], …], …]`.
    pub strokes_json: String,
    /// The rendered signature, PNG, base64.
    pub png_base64: String,
    /// Hex SHA-256 of [`confirmation_text`] at the moment of signing.
    pub content_hash: String,
}

/// A finished visit as the phone sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitSubmission {
    /// UUIDv7 made on the phone: the key of exactly-once delivery.
    pub id: Uuid,
    pub household_id: Uuid,
    pub stat_year: i32,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    /// Who was met (names, relation).
    pub met_with: String,
    pub notes: String,
    pub location: Location,
    pub lines: Vec<VerificationLine>,
    pub signature: Signature,
    /// Optional photo, JPEG, base64, at most [`MAX_PHOTO_BYTES`] decoded.
    pub photo_base64: Option<String>,
    /// Plan measures whose status the visit moved. Left out of the JSON
    /// when empty, so a visit from an older app hashes as it did.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub measure_updates: Vec<MeasureUpdate>,
    /// Income figures the household declared for the year.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub income: Vec<IncomeLine>,
    /// The household size the worker confirmed for the year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household_size: Option<i32>,
}

/// The answer for one visit of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum VisitOutcome {
    /// Stored now; the phone may drop it from its outbox.
    Stored { id: Uuid, receipt_code: String },
    /// Stored before with the same content; the phone may drop it too.
    AlreadyStored { id: Uuid, receipt_code: String },
    /// The id is taken by other content; this copy is kept for review and
    /// the phone must keep it until a supervisor decides.
    Conflict { id: Uuid, message: String },
    /// Refused; `status` is the HTTP status it would have had alone.
    Rejected {
        id: Option<Uuid>,
        status: u16,
        message: String,
    },
}

/// The household sizes a visit may confirm (the schema's CHECK too).
pub const HOUSEHOLD_SIZES: std::ops::RangeInclusive<i32> = 1..=99;

pub const MAX_PHOTO_BYTES: usize = 300 * 1024;
pub const MAX_SIGNATURE_PNG_BYTES: usize = 64 * 1024;
pub const MAX_VISITS_PER_BATCH: usize = 100;

/// A rule a visit breaks: which field (`lines[2].reason`) and why, in
/// Chinese. The phone shows it beside the field; the server answers 422.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub field: String,
    pub message: String,
}

impl Problem {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The line a problem is about, if any: `lines[2].reason` → 2.
    pub fn line(&self) -> Option<usize> {
        let rest = self.field.strip_prefix("lines[")?;
        rest[..rest.find(']')?].parse().ok()
    }

    pub fn into_error(self) -> crate::error::AppError {
        crate::error::AppError::validation(self.field, self.message)
    }
}

/// The rules every verification line must meet, on the phone before the
/// household signs and on the server when the visit arrives. `due` is the
/// household's entitlements of the year with their expected fen.
pub fn check_lines(lines: &[VerificationLine], due: &[(Uuid, i64)]) -> Result<(), Problem> {
    if lines.is_empty() {
        return Err(Problem::new("lines", "至少应核实一项补贴"));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, l) in lines.iter().enumerate() {
        let field = |name: &str| format!("lines[{i}].{name}");
        if !seen.insert(l.entitlement_id) {
            return Err(Problem::new(field("entitlement_id"), "同一项补贴重复核实"));
        }
        let Some(&(_, expected)) = due.iter().find(|(id, _)| *id == l.entitlement_id) else {
            return Err(Problem::new(
                field("entitlement_id"),
                "不是该户本年度的应发补贴",
            ));
        };
        if let Some(fen) = l.received_fen {
            Fen::check(fen)
                .map_err(|m| Problem::new(field("received_fen"), format!("实际到账{m}")))?;
        }
        if l.status.has_receipt() {
            let Some(received) = l.received_fen.filter(|f| *f > 0) else {
                return Err(Problem::new(field("received_fen"), "请填写实际到账金额"));
            };
            if l.received_on.is_none() {
                return Err(Problem::new(field("received_on"), "请填写到账日期"));
            }
            if l.channel.is_none() {
                return Err(Problem::new(field("channel"), "请选择发放渠道"));
            }
            if l.status == PaymentStatus::ReceivedInFull && received < expected {
                return Err(Problem::new(
                    field("status"),
                    "实际金额少于应发金额，应为“部分到账”",
                ));
            }
            if l.status == PaymentStatus::ReceivedInPart && received >= expected {
                return Err(Problem::new(
                    field("status"),
                    "实际金额不少于应发金额，应为“足额到账”",
                ));
            }
        } else if l.received_fen.is_some_and(|f| f != 0) {
            return Err(Problem::new(field("received_fen"), "未到账时不应填写金额"));
        }
        if l.status.is_short() && l.reason.is_none() {
            return Err(Problem::new(field("reason"), "请选择未足额到账的原因"));
        }
        if l.reason == Some(ShortfallReason::Other) && l.reason_text.trim().is_empty() {
            return Err(Problem::new(field("reason_text"), "选择“其他”时请写明原因"));
        }
    }
    Ok(())
}

/// Whether a signer needs a stated reason: anyone but the head, or a
/// thumbprint instead of a written name.
pub fn signer_needs_reason(relation: &str, thumbprint: bool) -> bool {
    thumbprint || relation.trim() != HEAD_RELATION
}

/// The relation of the head of household to themself.
pub const HEAD_RELATION: &str = "户主";

/// Who may sign, as the phone offers it; the first is the head.
pub const SIGNER_RELATIONS: [&str; 6] = [
    HEAD_RELATION,
    "配偶",
    "子女",
    "父母",
    "其他家庭成员",
    "非家庭成员代签",
];

/// The rules for who signed (the image itself is checked on the server).
pub fn check_signer(s: &Signature) -> Result<(), Problem> {
    if s.signer_name.trim().is_empty() {
        return Err(Problem::new("signature.signer_name", "请填写签字人姓名"));
    }
    if s.signer_relation.trim().is_empty() {
        return Err(Problem::new(
            "signature.signer_relation",
            "请选择签字人与户主关系",
        ));
    }
    if signer_needs_reason(&s.signer_relation, s.thumbprint)
        && s.proxy_reason
            .as_deref()
            .is_none_or(|r| r.trim().is_empty())
    {
        return Err(Problem::new(
            "signature.proxy_reason",
            "代签或按手印时须说明原因",
        ));
    }
    Ok(())
}

/// The exact text a household confirms, one fact per line, in a fixed
/// order, so that phone and server derive the same hash from the same
/// content and any change after signing is detectable. Versioned: a new
/// layout gets a new first line, old signatures keep verifying: a visit
/// with plan or income lines is v2, one without is v1 exactly as before.
pub fn confirmation_text(visit: &VisitSubmission) -> String {
    let mut lines: Vec<&VerificationLine> = visit.lines.iter().collect();
    lines.sort_by_key(|l| l.entitlement_id);
    let v2 = !visit.measure_updates.is_empty()
        || !visit.income.is_empty()
        || visit.household_size.is_some();
    let mut out = String::from(if v2 {
        "daohu-confirmation-v2\n"
    } else {
        "daohu-confirmation-v1\n"
    });
    let field = |s: &str| {
        s.replace('\\', "\\\\")
            .replace('\n', "\\n")
            .replace('|', "\\|")
    };
    out.push_str(&format!("visit|{}\n", visit.id));
    out.push_str(&format!("household|{}\n", visit.household_id));
    out.push_str(&format!("year|{}\n", visit.stat_year));
    for l in lines {
        out.push_str(&format!(
            "line|{}|{}|{}|{}|{}|{}|{}\n",
            l.entitlement_id,
            l.status.as_str(),
            l.received_fen.map(|f| f.to_string()).unwrap_or_default(),
            l.received_on.map(|d| d.to_string()).unwrap_or_default(),
            l.channel.map(Channel::as_str).unwrap_or_default(),
            l.reason.map(ShortfallReason::as_str).unwrap_or_default(),
            field(&l.reason_text),
        ));
    }
    if v2 {
        let mut updates: Vec<&MeasureUpdate> = visit.measure_updates.iter().collect();
        updates.sort_by_key(|u| u.measure_id);
        for u in updates {
            out.push_str(&format!(
                "measure|{}|{}|{}|{}|{}\n",
                u.measure_id,
                u.status.as_str(),
                u.done_on.map(|d| d.to_string()).unwrap_or_default(),
                field(u.drop_reason.as_deref().unwrap_or_default()),
                field(&u.note),
            ));
        }
        let mut income: Vec<&IncomeLine> = visit.income.iter().collect();
        income.sort_by_key(|l| l.kind);
        for l in income {
            out.push_str(&format!(
                "income|{}|{}|{}|{}\n",
                l.kind.as_str(),
                l.amount_fen,
                l.evidence,
                field(&l.note),
            ));
        }
        if let Some(n) = visit.household_size {
            out.push_str(&format!("size|{n}\n"));
        }
    }
    let s = &visit.signature;
    out.push_str(&format!(
        "signer|{}|{}|{}|{}\n",
        field(&s.signer_name),
        field(&s.signer_relation),
        s.thumbprint,
        field(s.proxy_reason.as_deref().unwrap_or_default()),
    ));
    out
}

/// Hex SHA-256 of [`confirmation_text`].
pub fn confirmation_hash(visit: &VisitSubmission) -> String {
    hex(&Sha256::digest(confirmation_text(visit).as_bytes()))
}

/// The code shown to the household: the hash's first 8 hex digits, `A1B2-C3D4`.
pub fn receipt_code(content_hash: &str) -> String {
    let head: String = content_hash
        .chars()
        .take(8)
        .collect::<String>()
        .to_uppercase();
    if head.len() < 8 {
        return head;
    }
    format!("{}-{}", &head[..4], &head[4..])
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn sample(household_id: Uuid, entitlement_ids: &[Uuid]) -> VisitSubmission {
        let started = DateTime::parse_from_rfc3339("2027-03-01T02:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut v = VisitSubmission {
            id: Uuid::now_v7(),
            household_id,
            stat_year: 2027,
            started_at: started,
            ended_at: started + chrono::Duration::minutes(25),
            met_with: "户主本人".into(),
            notes: String::new(),
            location: Location::Fix {
                lat_e6: 35_580_000,
                lon_e6: 104_620_000,
                accuracy_m: 12,
            },
            lines: entitlement_ids
                .iter()
                .map(|&id| VerificationLine {
                    entitlement_id: id,
                    status: PaymentStatus::ReceivedInFull,
                    received_fen: Some(10_000),
                    received_on: NaiveDate::from_ymd_opt(2027, 2, 1),
                    channel: Some(Channel::OneCard),
                    reason: None,
                    reason_text: String::new(),
                })
                .collect(),
            signature: Signature {
                signer_name: "张三".into(),
                signer_relation: "户主".into(),
                thumbprint: false,
                proxy_reason: None,
                strokes_json: "[[[1,2,0],[3,4,16]]]".into(),
                png_base64: "iVBORw0KGgo=".into(),
                content_hash: String::new(),
            },
            photo_base64: None,
            measure_updates: Vec::new(),
            income: Vec::new(),
            household_size: None,
        };
        v.signature.content_hash = confirmation_hash(&v);
        v
    }

    #[test]
    fn the_hash_ignores_line_order_but_not_content() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let v = sample(Uuid::now_v7(), &[a, b]);
        let mut reordered = v.clone();
        reordered.lines.reverse();
        assert_eq!(confirmation_hash(&v), confirmation_hash(&reordered));
        let mut edited = v.clone();
        edited.lines[0].received_fen = Some(9_999);
        assert_ne!(confirmation_hash(&v), confirmation_hash(&edited));
        let mut resigned = v.clone();
        resigned.signature.signer_name = "李四".into();
        assert_ne!(confirmation_hash(&v), confirmation_hash(&resigned));
    }

    #[test]
    fn separators_in_free_text_cannot_forge_another_line() {
        let id = Uuid::now_v7();
        let mut a = sample(Uuid::now_v7(), &[id]);
        a.lines[0].reason_text = "x|y".into();
        let mut b = a.clone();
        b.lines[0].reason_text = "x\\|y".into();
        assert_ne!(confirmation_text(&a), confirmation_text(&b));
        assert_eq!(confirmation_text(&a).lines().count(), 6);
    }

    #[test]
    fn a_visit_without_plan_or_income_keeps_the_v1_text_and_json() {
        let v = sample(Uuid::now_v7(), &[Uuid::now_v7()]);
        assert!(confirmation_text(&v).starts_with("daohu-confirmation-v1\n"));
        let json = serde_json::to_value(&v).unwrap();
        assert!(json.get("income").is_none() && json.get("measure_updates").is_none());
        let mut with_income = v.clone();
        with_income.income.push(IncomeLine {
            kind: crate::income::IncomeKind::WageMigrant,
            amount_fen: 1_200_000,
            evidence: true,
            note: "兰州建筑工地".into(),
        });
        let text = confirmation_text(&with_income);
        assert!(text.starts_with("daohu-confirmation-v2\n"));
        assert!(text.contains("income|wage_migrant|1200000|true|兰州建筑工地\n"));
        with_income.income[0].amount_fen += 1;
        assert_ne!(confirmation_text(&with_income), text);
    }

    #[test]
    fn a_received_amount_beyond_the_bound_or_below_zero_is_refused() {
        let id = Uuid::now_v7();
        let mut v = sample(Uuid::now_v7(), &[id]);
        let due = [(id, 10_000)];
        v.lines[0].received_fen = Some(Fen::MAX.0);
        assert_eq!(check_lines(&v.lines, &due), Ok(()));
        for (fen, status) in [
            (Fen::MAX.0 + 1, PaymentStatus::ReceivedInFull),
            (i64::MAX, PaymentStatus::ReceivedInFull),
            (-1, PaymentStatus::ReceivedInPart),
            (i64::MIN, PaymentStatus::NotReceived),
        ] {
            v.lines[0].received_fen = Some(fen);
            v.lines[0].status = status;
            v.lines[0].reason = status.is_short().then_some(ShortfallReason::AmountReduced);
            let p = check_lines(&v.lines, &due).unwrap_err();
            assert_eq!(p.field, "lines[0].received_fen", "{fen}");
            assert!(
                p.message.starts_with("实际到账金额"),
                "{fen}: {}",
                p.message
            );
        }
    }

    #[test]
    fn receipt_code_is_eight_hex_digits_grouped() {
        assert_eq!(receipt_code("a1b2c3d4e5f6"), "A1B2-C3D4");
    }
}
