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
    /// Photos of the records that back a line (passbook page, bank SMS,
    /// pay slip), at most one per line. Left out when empty, so a visit
    /// without any hashes, and is confirmed, as it always did.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<LineEvidence>,
}

/// The line of a visit an evidence photo backs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceFor {
    /// An expected payment, by its entitlement.
    Payment(Uuid),
    /// A declared income figure, by its kind.
    Income(crate::income::IncomeKind),
}

impl EvidenceFor {
    /// `payment` or `income`, as stored.
    pub fn kind(self) -> &'static str {
        match self {
            EvidenceFor::Payment(_) => "payment",
            EvidenceFor::Income(_) => "income",
        }
    }

    /// The entitlement id or the income kind, as stored.
    pub fn key(self) -> String {
        match self {
            EvidenceFor::Payment(id) => id.to_string(),
            EvidenceFor::Income(kind) => kind.as_str().to_owned(),
        }
    }

    pub fn parse(kind: &str, key: &str) -> Option<EvidenceFor> {
        match kind {
            "payment" => Uuid::parse_str(key).ok().map(EvidenceFor::Payment),
            "income" => crate::income::IncomeKind::parse(key).map(EvidenceFor::Income),
            _ => None,
        }
    }

    /// One path segment, `payment-<id>` or `income-<kind>`.
    pub fn slug(self) -> String {
        format!("{}-{}", self.kind(), self.key())
    }

    pub fn from_slug(slug: &str) -> Option<EvidenceFor> {
        let (kind, key) = slug.split_once('-')?;
        EvidenceFor::parse(kind, key)
    }
}

/// An evidence photo: JPEG, base64, at most [`MAX_PHOTO_BYTES`] decoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineEvidence {
    pub line: EvidenceFor,
    pub photo_base64: String,
}

/// Where a visit's evidence photo is served, to those who may see the
/// household.
pub fn evidence_href(visit: Uuid, line: EvidenceFor) -> String {
    format!("/visits/{visit}/evidence/{}", line.slug())
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
        /// In words, naming the field in Chinese (never its internal name).
        message: String,
        /// The field at fault (`lines[2].received_fen`), for the phone to
        /// point at; none when the whole visit is refused.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        field: Option<String>,
    },
}

impl VisitOutcome {
    pub fn rejected(id: Option<Uuid>, e: &crate::error::AppError) -> VisitOutcome {
        VisitOutcome::Rejected {
            id,
            status: e.status_code(),
            message: e.to_string(),
            field: match e {
                crate::error::AppError::Validation { field, .. } => Some(field.clone()),
                _ => None,
            },
        }
    }
}

/// The household sizes a visit may confirm (the schema's CHECK too).
pub const HOUSEHOLD_SIZES: std::ops::RangeInclusive<i32> = 1..=99;

pub const MAX_PHOTO_BYTES: usize = 300 * 1024;
/// Evidence photos one visit may carry: with the visit's photo, a visit
/// stays well within a sync batch (`MAX_BATCH_BYTES`) on its own.
pub const MAX_EVIDENCE_PHOTOS: usize = 12;
pub const MAX_SIGNATURE_PNG_BYTES: usize = 64 * 1024;
pub const MAX_VISITS_PER_BATCH: usize = 100;

/// How far a visit's times may lie ahead of the server's clock: a phone
/// that runs a few minutes fast must not lose a signed visit, one whose
/// date is wrong must not plant a visit in the future.
pub const CLOCK_SKEW_MINUTES: i64 = 10;

/// Bounds on what one visit carries, each generous for a real visit and
/// small enough that no field can bloat the store or a page. Text is
/// counted in characters. (Plan and income notes have theirs in
/// `plans` and `income`.)
pub const MAX_MET_WITH_CHARS: usize = 200;
pub const MAX_NOTES_CHARS: usize = 2_000;
pub const MAX_REASON_TEXT_CHARS: usize = 500;
pub const MAX_SIGNER_NAME_CHARS: usize = 50;
pub const MAX_SIGNER_RELATION_CHARS: usize = 20;
pub const MAX_PROXY_REASON_CHARS: usize = 200;
/// A signature is a few dozen strokes of a few hundred points; these
/// allow a slow, shaky one many times over.
pub const MAX_SIGNATURE_STROKES: usize = 200;
pub const MAX_SIGNATURE_POINTS: usize = 10_000;
pub const MAX_STROKES_JSON_BYTES: usize = 256 * 1024;
/// A position worse than this is no position (a cell fix is a few km).
pub const MAX_LOCATION_ACCURACY_M: i32 = 100_000;

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

/// The server's check of a visit's times: not ahead of its clock by more
/// than [`CLOCK_SKEW_MINUTES`], and ending after they start. (On the phone
/// the times are its own clock's, so only the order could be wrong, and
/// the draft makes it right.)
pub fn check_visit_times(v: &VisitSubmission, now: DateTime<Utc>) -> Result<(), Problem> {
    let latest = now + chrono::Duration::minutes(CLOCK_SKEW_MINUTES);
    let future = "走访时间晚于当前时间，请检查手机的日期和时间";
    if v.started_at > latest {
        return Err(Problem::new("started_at", future));
    }
    if v.ended_at > latest {
        return Err(Problem::new("ended_at", future));
    }
    if v.ended_at < v.started_at {
        return Err(Problem::new("ended_at", "结束时间早于开始时间"));
    }
    Ok(())
}

/// The bounds on a visit's text, position and photo, on the phone before
/// the household signs and on the server when it arrives: every text is
/// within its length and free of control characters (PostgreSQL cannot
/// even store a NUL), the position is on Earth, the photo within
/// [`MAX_PHOTO_BYTES`].
pub fn check_visit_fields(v: &VisitSubmission) -> Result<(), Problem> {
    check_text("met_with", &v.met_with, Some(MAX_MET_WITH_CHARS), true)?;
    check_text("notes", &v.notes, Some(MAX_NOTES_CHARS), true)?;
    for (i, l) in v.lines.iter().enumerate() {
        let field = format!("lines[{i}].reason_text");
        check_text(&field, &l.reason_text, Some(MAX_REASON_TEXT_CHARS), true)?;
    }
    // Their lengths are the plan's and the income's own rules.
    for (i, u) in v.measure_updates.iter().enumerate() {
        check_text(&format!("measure_updates[{i}].note"), &u.note, None, true)?;
        let reason = u.drop_reason.as_deref().unwrap_or_default();
        check_text(
            &format!("measure_updates[{i}].drop_reason"),
            reason,
            None,
            true,
        )?;
    }
    for (i, l) in v.income.iter().enumerate() {
        check_text(&format!("income[{i}].note"), &l.note, None, true)?;
    }
    let s = &v.signature;
    check_text(
        "signature.signer_name",
        &s.signer_name,
        Some(MAX_SIGNER_NAME_CHARS),
        false,
    )?;
    check_text(
        "signature.signer_relation",
        &s.signer_relation,
        Some(MAX_SIGNER_RELATION_CHARS),
        false,
    )?;
    let proxy_reason = s.proxy_reason.as_deref().unwrap_or_default();
    check_text(
        "signature.proxy_reason",
        proxy_reason,
        Some(MAX_PROXY_REASON_CHARS),
        true,
    )?;
    if let Location::Fix {
        lat_e6,
        lon_e6,
        accuracy_m,
    } = v.location
        && (lat_e6.abs() > 90_000_000
            || lon_e6.abs() > 180_000_000
            || !(0..=MAX_LOCATION_ACCURACY_M).contains(&accuracy_m))
    {
        return Err(Problem::new("location", "定位数据无效"));
    }
    if v.photo_base64
        .as_ref()
        .is_some_and(|p| p.len() > base64_len(MAX_PHOTO_BYTES))
    {
        return Err(Problem::new(
            "photo_base64",
            format!("照片不能超过 {} KB", MAX_PHOTO_BYTES / 1024),
        ));
    }
    check_evidence(v)
}

/// Each evidence photo backs a line the visit has, one per line, within
/// [`MAX_PHOTO_BYTES`], and no more than [`MAX_EVIDENCE_PHOTOS`] of them.
fn check_evidence(v: &VisitSubmission) -> Result<(), Problem> {
    if v.evidence.len() > MAX_EVIDENCE_PHOTOS {
        return Err(Problem::new(
            "evidence",
            format!("凭证照片最多 {MAX_EVIDENCE_PHOTOS} 张"),
        ));
    }
    let mut seen = Vec::with_capacity(v.evidence.len());
    for (i, e) in v.evidence.iter().enumerate() {
        let field = format!("evidence[{i}]");
        let has_line = match e.line {
            EvidenceFor::Payment(id) => v.lines.iter().any(|l| l.entitlement_id == id),
            EvidenceFor::Income(kind) => v.income.iter().any(|l| l.kind == kind),
        };
        if !has_line {
            return Err(Problem::new(field, "凭证照片对应的核实项目不在本次走访中"));
        }
        if seen.contains(&e.line) {
            return Err(Problem::new(field, "同一项目只能有一张凭证照片"));
        }
        seen.push(e.line);
        if e.photo_base64.is_empty() || e.photo_base64.len() > base64_len(MAX_PHOTO_BYTES) {
            return Err(Problem::new(
                field,
                format!("凭证照片不能超过 {} KB", MAX_PHOTO_BYTES / 1024),
            ));
        }
    }
    Ok(())
}

/// The bounds on the household's mark: the strokes as drawn (JSON
/// `[[[x, y, t], …], …]`, integers) and the size of the rendered PNG. The
/// phone checks them when the household signs, so a mark the server
/// would refuse is never taken.
pub fn check_signature_mark(strokes_json: &str, png_base64: &str) -> Result<(), Problem> {
    let too_much = "签名过于复杂，请清除后重新签字";
    if strokes_json.len() > MAX_STROKES_JSON_BYTES {
        return Err(Problem::new("signature.strokes_json", too_much));
    }
    let strokes: Vec<Vec<[i64; 3]>> = serde_json::from_str(strokes_json)
        .map_err(|_| Problem::new("signature.strokes_json", "签名笔迹数据格式错误"))?;
    let points: usize = strokes.iter().map(Vec::len).sum();
    if strokes.len() > MAX_SIGNATURE_STROKES || points > MAX_SIGNATURE_POINTS {
        return Err(Problem::new("signature.strokes_json", too_much));
    }
    if png_base64.len() > base64_len(MAX_SIGNATURE_PNG_BYTES) {
        return Err(Problem::new("signature.png_base64", too_much));
    }
    Ok(())
}

/// The length of `bytes` bytes in padded base64.
pub fn base64_len(bytes: usize) -> usize {
    bytes.div_ceil(3) * 4
}

/// One text field: at most `max` characters (when the rule is this
/// module's), no control characters but, where text may span lines,
/// line breaks and tabs.
fn check_text(field: &str, text: &str, max: Option<usize>, multiline: bool) -> Result<(), Problem> {
    if let Some(max) = max
        && text.chars().count() > max
    {
        return Err(Problem::new(field, format!("不能超过{max}字")));
    }
    let allowed = |c: char| multiline && matches!(c, '\n' | '\r' | '\t');
    if text.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(Problem::new(field, "不能包含控制字符"));
    }
    Ok(())
}

impl VisitSubmission {
    /// The one form a visit is stored in, hashed in and read back in: its
    /// lists in a defined order (lines by entitlement, measure moves by
    /// measure, income by kind) and its times to the millisecond (what a
    /// phone's clock gives, and what both databases keep exactly). None of
    /// this changes what the household confirmed: the confirmation text
    /// sorts the same way and writes times to the millisecond.
    pub fn canonicalize(&mut self) {
        use chrono::SubsecRound;
        self.lines.sort_by_key(|l| l.entitlement_id);
        self.measure_updates.sort_by_key(|u| u.measure_id);
        self.income.sort_by_key(|l| l.kind);
        self.evidence.sort_by_key(|e| e.line);
        self.started_at = self.started_at.trunc_subsecs(3);
        self.ended_at = self.ended_at.trunc_subsecs(3);
    }
}

/// Hex SHA-256 of a visit's JSON as it is: of its canonical form (see
/// [`VisitSubmission::canonicalize`]), what tells a replay of a stored
/// visit from another copy with the same id.
pub fn payload_hash(visit: &VisitSubmission) -> String {
    let json = serde_json::to_vec(visit).expect("a visit always serializes");
    hex(&Sha256::digest(json))
}

/// A layout of the text a household confirms. Each is kept for good, so
/// a signature made under it verifies for ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    /// The payment lines and the signer.
    V1,
    /// v1 with the plan's measure moves, declared income and the size;
    /// used by those apps only when a visit carried any of them.
    V2,
    /// Everything the visit stores: v2 and its times, who was met, the
    /// position, the notes, the photo's digest and each evidence photo's
    /// (a visit without evidence has no such line). What this app signs.
    V3,
}

impl Confirmation {
    /// The layout an app before v3 used for `visit`, decided by its
    /// content exactly as those apps decided it.
    pub fn legacy(visit: &VisitSubmission) -> Confirmation {
        let v2 = !visit.measure_updates.is_empty()
            || !visit.income.is_empty()
            || visit.household_size.is_some();
        if v2 {
            Confirmation::V2
        } else {
            Confirmation::V1
        }
    }

    /// The layout the visit's content hash was made under, if any: v3,
    /// or what an older app would have signed for this content. Nothing
    /// else is accepted, so a v3 visit edited after signing (its notes,
    /// say) matches neither. An older app's signature does not cover its
    /// notes; accepting it weakens nothing, since the hash is no secret:
    /// what binds a visit to its household is the receipt code they were
    /// shown, and another layout gives another code.
    pub fn of_signed(visit: &VisitSubmission) -> Option<Confirmation> {
        let signed = visit.signature.content_hash.as_str();
        [Confirmation::V3, Confirmation::legacy(visit)]
            .into_iter()
            .find(|&c| confirmation_hash_as(visit, c) == signed)
    }
}

/// The exact text a household confirms, one fact per line, in a fixed
/// order, so that phone and server derive the same hash from the same
/// content and any change after signing is detectable: the v3 layout.
pub fn confirmation_text(visit: &VisitSubmission) -> String {
    confirmation_text_as(visit, Confirmation::V3)
}

/// The confirmation text in a given layout. A new layout gets a new first
/// line; the older ones are written exactly as their apps wrote them.
pub fn confirmation_text_as(visit: &VisitSubmission, version: Confirmation) -> String {
    let mut lines: Vec<&VerificationLine> = visit.lines.iter().collect();
    lines.sort_by_key(|l| l.entitlement_id);
    let mut out = String::from(match version {
        Confirmation::V1 => "daohu-confirmation-v1\n",
        Confirmation::V2 => "daohu-confirmation-v2\n",
        Confirmation::V3 => "daohu-confirmation-v3\n",
    });
    let field = |s: &str| {
        s.replace('\\', "\\\\")
            .replace('\n', "\\n")
            .replace('|', "\\|")
    };
    out.push_str(&format!("visit|{}\n", visit.id));
    out.push_str(&format!("household|{}\n", visit.household_id));
    out.push_str(&format!("year|{}\n", visit.stat_year));
    if version == Confirmation::V3 {
        let time = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        out.push_str(&format!(
            "time|{}|{}\n",
            time(visit.started_at),
            time(visit.ended_at)
        ));
        out.push_str(&format!("met|{}\n", field(&visit.met_with)));
        out.push_str(&match visit.location {
            Location::Fix {
                lat_e6,
                lon_e6,
                accuracy_m,
            } => format!("location|fix|{lat_e6}|{lon_e6}|{accuracy_m}\n"),
            Location::Refused => "location|refused\n".to_owned(),
            Location::Unavailable => "location|unavailable\n".to_owned(),
        });
    }
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
    if version != Confirmation::V1 {
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
    if version == Confirmation::V3 {
        // The photo by its digest: the text stays small, and another
        // photo is another text.
        if let Some(photo) = &visit.photo_base64 {
            out.push_str(&format!(
                "photo|{}\n",
                hex(&Sha256::digest(photo.as_bytes()))
            ));
        }
        let mut evidence: Vec<&LineEvidence> = visit.evidence.iter().collect();
        evidence.sort_by_key(|e| e.line);
        for e in evidence {
            out.push_str(&format!(
                "evidence|{}|{}|{}\n",
                e.line.kind(),
                e.line.key(),
                hex(&Sha256::digest(e.photo_base64.as_bytes()))
            ));
        }
        out.push_str(&format!("notes|{}\n", field(&visit.notes)));
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

/// Hex SHA-256 of [`confirmation_text`]: what this app has the household sign.
pub fn confirmation_hash(visit: &VisitSubmission) -> String {
    confirmation_hash_as(visit, Confirmation::V3)
}

/// Hex SHA-256 of [`confirmation_text_as`].
pub fn confirmation_hash_as(visit: &VisitSubmission, version: Confirmation) -> String {
    hex(&Sha256::digest(
        confirmation_text_as(visit, version).as_bytes(),
    ))
}

/// The code shown to the household: the hash's first 8 hex digits, `A1B2-C3D4`.
pub fn receipt_code(content_hash: &str) -> String {
    let head: String = content_hash
        .chars()
        .take(8)
        .collect::<String>()
        .to_ascii_uppercase();
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
            evidence: Vec::new(),
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
        // header, visit, household, year, time, met, location, the line,
        // notes, signer: a separator in the text added none.
        assert_eq!(confirmation_text(&a).lines().count(), 10);
        let mut c = a.clone();
        c.notes = "x\nsigner|李四|户主|false|".into();
        assert_eq!(confirmation_text(&c).lines().count(), 10);
    }

    #[test]
    fn older_apps_layouts_are_chosen_by_content_and_keep_their_json() {
        let v = sample(Uuid::now_v7(), &[Uuid::now_v7()]);
        assert_eq!(Confirmation::legacy(&v), Confirmation::V1);
        assert!(confirmation_text_as(&v, Confirmation::V1).starts_with("daohu-confirmation-v1\n"));
        assert!(confirmation_text(&v).starts_with("daohu-confirmation-v3\n"));
        let json = serde_json::to_value(&v).unwrap();
        assert!(json.get("income").is_none() && json.get("measure_updates").is_none());
        let mut with_income = v.clone();
        with_income.income.push(IncomeLine {
            kind: crate::income::IncomeKind::WageMigrant,
            amount_fen: 1_200_000,
            evidence: true,
            note: "兰州建筑工地".into(),
        });
        assert_eq!(Confirmation::legacy(&with_income), Confirmation::V2);
        for version in [Confirmation::V2, Confirmation::V3] {
            let text = confirmation_text_as(&with_income, version);
            assert!(text.contains("income|wage_migrant|1200000|true|兰州建筑工地\n"));
            let mut more = with_income.clone();
            more.income[0].amount_fen += 1;
            assert_ne!(confirmation_text_as(&more, version), text);
        }
    }

    #[test]
    fn signatures_of_older_apps_verify_exactly_as_before() {
        // The hashes the v1/v2 app computed for these visits (taken from
        // that release): the same text, byte for byte.
        let v1 = legacy_fixture(false);
        assert_eq!(
            confirmation_hash_as(&v1, Confirmation::legacy(&v1)),
            "ea1e67d49d739e164d33d529ab142d07503d68fd5676eb1799d3c56b27a6ff3e"
        );
        let v2 = legacy_fixture(true);
        assert_eq!(
            confirmation_hash_as(&v2, Confirmation::legacy(&v2)),
            "64922d9c316807b8d3cc09644f5c5443b8fdc51e41a57facc8555d05761fdc6e"
        );
        for (mut v, version) in [(v1, Confirmation::V1), (v2, Confirmation::V2)] {
            v.signature.content_hash = confirmation_hash_as(&v, version);
            assert_eq!(Confirmation::of_signed(&v), Some(version));
            // What those layouts never covered may differ, as it always could.
            v.notes = "签字后补记".into();
            assert_eq!(Confirmation::of_signed(&v), Some(version));
            v.lines[0].reason_text.push('!');
            assert_eq!(Confirmation::of_signed(&v), None);
        }
    }

    /// A change to a visit, for a table of cases.
    type Edit = fn(&mut VisitSubmission);

    #[test]
    fn a_v3_signature_covers_everything_the_visit_stores() {
        let v = sample(Uuid::now_v7(), &[Uuid::now_v7()]);
        assert_eq!(Confirmation::of_signed(&v), Some(Confirmation::V3));
        let edits: [(&str, Edit); 9] = [
            ("notes", |v| v.notes = "签字后补记".into()),
            ("met_with", |v| v.met_with = "配偶".into()),
            ("location", |v| v.location = Location::Unavailable),
            ("accuracy", |v| {
                v.location = Location::Fix {
                    lat_e6: 35_580_000,
                    lon_e6: 104_620_000,
                    accuracy_m: 13,
                }
            }),
            ("started_at", |v| {
                v.started_at += chrono::Duration::milliseconds(1)
            }),
            ("ended_at", |v| v.ended_at += chrono::Duration::minutes(5)),
            ("photo", |v| v.photo_base64 = Some("/9j/AA==".into())),
            ("size", |v| v.household_size = Some(3)),
            ("year", |v| v.stat_year += 1),
        ];
        for (what, edit) in edits {
            let mut edited = v.clone();
            edit(&mut edited);
            assert_eq!(
                Confirmation::of_signed(&edited),
                None,
                "{what} changed after signing goes unnoticed"
            );
        }
        let mut photographed = v.clone();
        photographed.photo_base64 = Some("/9j/AA==".into());
        photographed.signature.content_hash = confirmation_hash(&photographed);
        let mut other_photo = photographed.clone();
        other_photo.photo_base64 = Some("/9j/AB==".into());
        assert_eq!(Confirmation::of_signed(&other_photo), None);
    }

    #[test]
    fn the_canonical_form_keeps_the_signature_and_is_stable() {
        let mut v = legacy_fixture(true);
        v.started_at += chrono::Duration::nanoseconds(123_456);
        v.signature.content_hash = confirmation_hash(&v);
        let mut c = v.clone();
        c.canonicalize();
        assert_eq!(Confirmation::of_signed(&c), Some(Confirmation::V3));
        assert!(c.lines.is_sorted_by_key(|l| l.entitlement_id));
        assert!(c.measure_updates.is_sorted_by_key(|u| u.measure_id));
        assert!(c.income.is_sorted_by_key(|l| l.kind));
        assert_eq!(c.started_at.timestamp_subsec_nanos() % 1_000_000, 0);
        let mut again = c.clone();
        again.canonicalize();
        assert_eq!(payload_hash(&again), payload_hash(&c));
        assert_ne!(payload_hash(&v), payload_hash(&c));
    }

    fn at(v: &VisitSubmission, minutes: i64) -> DateTime<Utc> {
        v.ended_at + chrono::Duration::minutes(minutes)
    }

    #[test]
    fn a_visit_ahead_of_the_clock_is_refused_beyond_the_skew() {
        let v = sample(Uuid::now_v7(), &[Uuid::now_v7()]);
        // The server's clock is 9 minutes behind the phone's: fine.
        assert_eq!(
            check_visit_times(&v, at(&v, -CLOCK_SKEW_MINUTES + 1)),
            Ok(())
        );
        let p = check_visit_times(&v, at(&v, -CLOCK_SKEW_MINUTES - 1)).unwrap_err();
        assert_eq!(p.field, "ended_at");
        let mut tomorrow = v.clone();
        tomorrow.started_at += chrono::Duration::days(1);
        tomorrow.ended_at = tomorrow.started_at;
        assert_eq!(
            check_visit_times(&tomorrow, at(&v, 0)).unwrap_err().field,
            "started_at"
        );
        let mut backwards = v.clone();
        backwards.ended_at = v.started_at - chrono::Duration::seconds(1);
        assert_eq!(
            check_visit_times(&backwards, at(&v, 0)).unwrap_err().field,
            "ended_at"
        );
    }

    #[test]
    fn every_field_is_bounded_and_named() {
        let v = sample(Uuid::now_v7(), &[Uuid::now_v7()]);
        assert_eq!(check_visit_fields(&v), Ok(()));
        let cases: [(&str, Edit); 10] = [
            ("met_with", |v| {
                v.met_with = "人".repeat(MAX_MET_WITH_CHARS + 1)
            }),
            ("notes", |v| v.notes = "记".repeat(MAX_NOTES_CHARS + 1)),
            ("notes", |v| v.notes = "a\u{0}b".into()),
            ("lines[0].reason_text", |v| {
                v.lines[0].reason_text = "因".repeat(MAX_REASON_TEXT_CHARS + 1)
            }),
            ("signature.signer_name", |v| {
                v.signature.signer_name = "名".repeat(MAX_SIGNER_NAME_CHARS + 1)
            }),
            ("signature.signer_name", |v| {
                v.signature.signer_name = "张\n三".into()
            }),
            ("signature.signer_relation", |v| {
                v.signature.signer_relation = "亲".repeat(MAX_SIGNER_RELATION_CHARS + 1)
            }),
            ("signature.proxy_reason", |v| {
                v.signature.proxy_reason = Some("由".repeat(MAX_PROXY_REASON_CHARS + 1))
            }),
            ("location", |v| {
                v.location = Location::Fix {
                    lat_e6: 90_000_001,
                    lon_e6: 0,
                    accuracy_m: 5,
                }
            }),
            ("photo_base64", |v| {
                v.photo_base64 = Some("A".repeat(base64_len(MAX_PHOTO_BYTES) + 4))
            }),
        ];
        for (field, edit) in cases {
            let mut bad = v.clone();
            edit(&mut bad);
            assert_eq!(check_visit_fields(&bad).unwrap_err().field, field);
        }
        // At the bound is fine; notes may span lines.
        let mut full = v.clone();
        full.notes = format!("{}\n", "记".repeat(MAX_NOTES_CHARS - 1));
        full.met_with = "人".repeat(MAX_MET_WITH_CHARS);
        assert_eq!(check_visit_fields(&full), Ok(()));
    }

    #[test]
    fn a_signature_mark_is_bounded_in_strokes_points_and_bytes() {
        let stroke = |points: usize| {
            let p: Vec<[i64; 3]> = (0..points as i64).map(|i| [i, i, i * 16]).collect();
            p
        };
        let json = |strokes: Vec<Vec<[i64; 3]>>| serde_json::to_string(&strokes).unwrap();
        assert_eq!(check_signature_mark("[[[1,2,0],[3,4,16]]]", "iVBO"), Ok(()));
        assert_eq!(check_signature_mark("[]", "iVBO"), Ok(()));
        let many = json(vec![stroke(1); MAX_SIGNATURE_STROKES + 1]);
        let long = json(vec![stroke(MAX_SIGNATURE_POINTS / 2 + 1); 2]);
        for bad in [many, long, "[[[1,2]]]".into(), "{}".into()] {
            let p = check_signature_mark(&bad, "iVBO").unwrap_err();
            assert_eq!(p.field, "signature.strokes_json", "{bad:.40}");
        }
        let huge = format!("[[{}]]", vec!["[1,2,3]"; 40_000].join(","));
        assert!(huge.len() > MAX_STROKES_JSON_BYTES);
        assert!(check_signature_mark(&huge, "iVBO").is_err());
        let png = "A".repeat(base64_len(MAX_SIGNATURE_PNG_BYTES) + 4);
        assert_eq!(
            check_signature_mark("[]", &png).unwrap_err().field,
            "signature.png_base64"
        );
    }

    /// A visit as an app of the v1/v2 era made it, every value fixed, so
    /// its confirmation hash is a constant: proof that old signatures keep
    /// verifying byte for byte.
    pub fn legacy_fixture(with_plan_and_income: bool) -> VisitSubmission {
        let id = |s: &str| Uuid::parse_str(s).unwrap();
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let mut v = VisitSubmission {
            id: id("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"),
            household_id: id("0190a1b2-0000-7000-8000-000000000001"),
            stat_year: 2027,
            started_at: at("2027-03-01T02:00:00.250Z"),
            ended_at: at("2027-03-01T02:25:00Z"),
            met_with: "户主本人".into(),
            notes: "院内整洁".into(),
            location: Location::Fix {
                lat_e6: 35_580_000,
                lon_e6: 104_620_000,
                accuracy_m: 12,
            },
            lines: vec![
                VerificationLine {
                    entitlement_id: id("0190a1b2-0000-7000-8000-00000000000b"),
                    status: PaymentStatus::ReceivedInPart,
                    received_fen: Some(30_000),
                    received_on: NaiveDate::from_ymd_opt(2027, 2, 1),
                    channel: Some(Channel::OneCard),
                    reason: Some(ShortfallReason::Other),
                    reason_text: "扣了|一半\n\n另见".into(),
                },
                VerificationLine {
                    entitlement_id: id("0190a1b2-0000-7000-8000-00000000000a"),
                    status: PaymentStatus::NotReceived,
                    received_fen: None,
                    received_on: None,
                    channel: None,
                    reason: Some(ShortfallReason::NotYetPaidOut),
                    reason_text: String::new(),
                },
            ],
            signature: Signature {
                signer_name: "王建国".into(),
                signer_relation: "配偶".into(),
                thumbprint: true,
                proxy_reason: Some("户主外出务工".into()),
                strokes_json: "[[[1,2,0],[3,4,16]]]".into(),
                png_base64: "iVBORw0KGgo=".into(),
                content_hash: String::new(),
            },
            photo_base64: None,
            measure_updates: Vec::new(),
            income: Vec::new(),
            household_size: None,
            evidence: Vec::new(),
        };
        if with_plan_and_income {
            v.measure_updates = vec![
                MeasureUpdate {
                    measure_id: id("0190a1b2-0000-7000-8000-0000000000f2"),
                    status: crate::plans::MeasureStatus::Dropped,
                    done_on: None,
                    drop_reason: Some("户已外出".into()),
                    note: "不再养殖".into(),
                },
                MeasureUpdate {
                    measure_id: id("0190a1b2-0000-7000-8000-0000000000f1"),
                    status: crate::plans::MeasureStatus::Done,
                    done_on: NaiveDate::from_ymd_opt(2027, 2, 20),
                    drop_reason: None,
                    note: String::new(),
                },
            ];
            v.income = vec![
                IncomeLine {
                    kind: crate::income::IncomeKind::Property,
                    amount_fen: 80_000,
                    evidence: false,
                    note: "土地流转".into(),
                },
                IncomeLine {
                    kind: crate::income::IncomeKind::WageMigrant,
                    amount_fen: 1_200_000,
                    evidence: true,
                    note: String::new(),
                },
            ];
            v.household_size = Some(4);
        }
        v
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
