use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::areas::{Area, AreaCode};
use crate::auth::Role;
use crate::subsidies::Fen;
use crate::visits::{PaymentStatus, VerificationLine};

/// Why an item is in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum DiscrepancyKind {
    /// 未到账
    NotReceived,
    /// 部分到账: less than was due.
    ReceivedInPart,
    /// 延迟到账: in full, but after the expected date.
    ReceivedLate,
    /// 走访冲突: the same visit arrived again with other content.
    VisitConflict,
    /// 群众异议: the household disputed its receipt (`/r`).
    Dispute,
    /// 可疑走访: a supervisor sent a visit's signal for review.
    SuspiciousVisit,
    /// 已发未收: the payout file says paid; the household, not or less.
    PaidNotReceived,
    /// 收到无发放记录: received, but no payout record.
    ReceivedNoPayout,
    /// 发放金额不符: paid other than due.
    AmountDiffers,
    /// 应发未发: due, neither paid nor received.
    DueUnpaid,
}

impl DiscrepancyKind {
    pub const ALL: [DiscrepancyKind; 10] = [
        DiscrepancyKind::NotReceived,
        DiscrepancyKind::ReceivedInPart,
        DiscrepancyKind::ReceivedLate,
        DiscrepancyKind::VisitConflict,
        DiscrepancyKind::Dispute,
        DiscrepancyKind::SuspiciousVisit,
        DiscrepancyKind::PaidNotReceived,
        DiscrepancyKind::ReceivedNoPayout,
        DiscrepancyKind::AmountDiffers,
        DiscrepancyKind::DueUnpaid,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        DiscrepancyKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DiscrepancyKind::NotReceived => "not_received",
            DiscrepancyKind::ReceivedInPart => "received_in_part",
            DiscrepancyKind::ReceivedLate => "received_late",
            DiscrepancyKind::VisitConflict => "visit_conflict",
            DiscrepancyKind::Dispute => "dispute",
            DiscrepancyKind::SuspiciousVisit => "suspicious_visit",
            DiscrepancyKind::PaidNotReceived => "paid_not_received",
            DiscrepancyKind::ReceivedNoPayout => "received_no_payout",
            DiscrepancyKind::AmountDiffers => "amount_differs",
            DiscrepancyKind::DueUnpaid => "due_unpaid",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DiscrepancyKind::NotReceived => "未到账",
            DiscrepancyKind::ReceivedInPart => "部分到账",
            DiscrepancyKind::ReceivedLate => "延迟到账",
            DiscrepancyKind::VisitConflict => "走访冲突",
            DiscrepancyKind::Dispute => "群众异议",
            DiscrepancyKind::SuspiciousVisit => "可疑走访",
            DiscrepancyKind::PaidNotReceived => "已发未收",
            DiscrepancyKind::ReceivedNoPayout => "收到无发放记录",
            DiscrepancyKind::AmountDiffers => "发放金额不符",
            DiscrepancyKind::DueUnpaid => "应发未发",
        }
    }

    /// Found by matching a payout file, not by a visit: the item has no
    /// visit of its own.
    pub fn is_reconciliation(self) -> bool {
        matches!(
            self,
            DiscrepancyKind::PaidNotReceived
                | DiscrepancyKind::ReceivedNoPayout
                | DiscrepancyKind::AmountDiffers
                | DiscrepancyKind::DueUnpaid
        )
    }

    /// The kind of a verification line, if it is a discrepancy at all:
    /// not received, then received in part, then received after
    /// `expected_date`, the first that applies. A payment not due yet is
    /// none.
    pub fn of_line(line: &VerificationLine, expected_date: NaiveDate) -> Option<Self> {
        match line.status {
            PaymentStatus::NotReceived => Some(DiscrepancyKind::NotReceived),
            PaymentStatus::ReceivedInPart => Some(DiscrepancyKind::ReceivedInPart),
            PaymentStatus::ReceivedInFull
                if line.received_on.is_some_and(|d| d > expected_date) =>
            {
                Some(DiscrepancyKind::ReceivedLate)
            }
            PaymentStatus::ReceivedInFull | PaymentStatus::NotDueYet => None,
        }
    }
}

/// How a closed item was settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Resolution {
    /// 后补发到位: the money arrived after all.
    PaidLater,
    /// 名单数据有误: the roster or the entitlement was wrong.
    ListError,
    /// 不符合条件: the household was not entitled.
    NotEntitled,
    /// 已上报: passed up to the county or the paying department.
    Escalated,
}

impl Resolution {
    pub const ALL: [Resolution; 4] = [
        Resolution::PaidLater,
        Resolution::ListError,
        Resolution::NotEntitled,
        Resolution::Escalated,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Resolution::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::PaidLater => "paid_later",
            Resolution::ListError => "list_error",
            Resolution::NotEntitled => "not_entitled",
            Resolution::Escalated => "escalated",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Resolution::PaidLater => "后补发到位",
            Resolution::ListError => "名单数据有误",
            Resolution::NotEntitled => "不符合条件",
            Resolution::Escalated => "已上报",
        }
    }
}

/// One step of an item's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DiscrepancyAction {
    /// 指派
    Assign,
    /// 备注
    Note,
    /// 结案
    Close,
    /// 重新打开
    Reopen,
}

impl DiscrepancyAction {
    pub const ALL: [DiscrepancyAction; 4] = [
        DiscrepancyAction::Assign,
        DiscrepancyAction::Note,
        DiscrepancyAction::Close,
        DiscrepancyAction::Reopen,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        DiscrepancyAction::ALL.into_iter().find(|a| a.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DiscrepancyAction::Assign => "assign",
            DiscrepancyAction::Note => "note",
            DiscrepancyAction::Close => "close",
            DiscrepancyAction::Reopen => "reopen",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DiscrepancyAction::Assign => "指派",
            DiscrepancyAction::Note => "备注",
            DiscrepancyAction::Close => "结案",
            DiscrepancyAction::Reopen => "重新打开",
        }
    }
}

/// Which part of the queue to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum QueueFilter {
    /// 待处理: every open item.
    #[default]
    Open,
    /// 指派给我: open items assigned to the caller.
    Mine,
    /// 已结案
    Closed,
}

impl QueueFilter {
    pub const ALL: [QueueFilter; 3] = [QueueFilter::Open, QueueFilter::Mine, QueueFilter::Closed];

    /// Unknown or missing values mean the default, so an old link still opens.
    pub fn parse(s: Option<&str>) -> Self {
        QueueFilter::ALL
            .into_iter()
            .find(|f| Some(f.as_str()) == s)
            .unwrap_or_default()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            QueueFilter::Open => "open",
            QueueFilter::Mine => "mine",
            QueueFilter::Closed => "closed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            QueueFilter::Open => "待处理",
            QueueFilter::Mine => "指派给我",
            QueueFilter::Closed => "已结案",
        }
    }
}

/// Longest note accepted on an item.
pub const MAX_NOTE_CHARS: usize = 500;
/// Items per page of the queue.
pub const QUEUE_PAGE_SIZE: u32 = 30;

/// One item as the queue lists it. Personal data stays out: the household
/// is named by its head and number only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscrepancyItem {
    pub id: Uuid,
    pub kind: DiscrepancyKind,
    pub household_id: Uuid,
    pub household_number: String,
    pub head_name: String,
    pub village: Area,
    /// The subsidy item (none for a conflict).
    pub item_name: Option<String>,
    pub expected: Option<Fen>,
    /// What the payout file said was paid (reconciliation items only).
    pub paid: Option<Fen>,
    pub received: Option<Fen>,
    pub expected_date: Option<NaiveDate>,
    pub received_on: Option<NaiveDate>,
    /// The reason the household gave, as chosen and in its own words.
    pub reason: Option<String>,
    /// The visit's worker and day (China time); a reconciliation item has
    /// no visit.
    pub worker_name: Option<String>,
    pub visit_date: Option<NaiveDate>,
    /// Whole days since the household reported it (or the conflict came in).
    pub age_days: i64,
    pub assignee_name: Option<String>,
    pub closed: bool,
    pub resolution: Option<Resolution>,
}

/// The two copies of a visit that disagree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictCopies {
    pub stored_hash: String,
    /// China time, `2027-03-01 10:00`.
    pub stored_at_local: String,
    pub other_hash: String,
    pub other_at_local: String,
    pub other_worker: String,
}

/// One step of an item's history, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscrepancyEntry {
    pub action: DiscrepancyAction,
    pub actor_name: String,
    pub assignee_name: Option<String>,
    pub resolution: Option<Resolution>,
    pub note: String,
    /// China time, `2027-03-01 10:00`.
    pub at_local: String,
}

/// Someone an item can be given to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignee {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
}

/// An item with its history and what may be done with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscrepancyDetail {
    pub item: DiscrepancyItem,
    pub conflict: Option<ConflictCopies>,
    pub history: Vec<DiscrepancyEntry>,
    pub assignee_id: Option<Uuid>,
    /// Users the caller may give the item to.
    pub assignees: Vec<Assignee>,
    /// The caller, marked in the list of assignees.
    pub me: Uuid,
    /// The queue to go back to: the household's township when the caller
    /// oversees it.
    pub queue: AreaCode,
}

/// Open, mine and closed items of an area, per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindCounts {
    pub not_received: i64,
    pub received_in_part: i64,
    pub received_late: i64,
    pub visit_conflict: i64,
    pub dispute: i64,
    pub suspicious_visit: i64,
    pub paid_not_received: i64,
    pub received_no_payout: i64,
    pub amount_differs: i64,
    pub due_unpaid: i64,
}

impl KindCounts {
    pub fn add(&mut self, kind: DiscrepancyKind, n: i64) {
        *self.get_mut(kind) += n;
    }

    fn get_mut(&mut self, kind: DiscrepancyKind) -> &mut i64 {
        match kind {
            DiscrepancyKind::NotReceived => &mut self.not_received,
            DiscrepancyKind::ReceivedInPart => &mut self.received_in_part,
            DiscrepancyKind::ReceivedLate => &mut self.received_late,
            DiscrepancyKind::VisitConflict => &mut self.visit_conflict,
            DiscrepancyKind::Dispute => &mut self.dispute,
            DiscrepancyKind::SuspiciousVisit => &mut self.suspicious_visit,
            DiscrepancyKind::PaidNotReceived => &mut self.paid_not_received,
            DiscrepancyKind::ReceivedNoPayout => &mut self.received_no_payout,
            DiscrepancyKind::AmountDiffers => &mut self.amount_differs,
            DiscrepancyKind::DueUnpaid => &mut self.due_unpaid,
        }
    }

    pub fn get(&self, kind: DiscrepancyKind) -> i64 {
        match kind {
            DiscrepancyKind::NotReceived => self.not_received,
            DiscrepancyKind::ReceivedInPart => self.received_in_part,
            DiscrepancyKind::ReceivedLate => self.received_late,
            DiscrepancyKind::VisitConflict => self.visit_conflict,
            DiscrepancyKind::Dispute => self.dispute,
            DiscrepancyKind::SuspiciousVisit => self.suspicious_visit,
            DiscrepancyKind::PaidNotReceived => self.paid_not_received,
            DiscrepancyKind::ReceivedNoPayout => self.received_no_payout,
            DiscrepancyKind::AmountDiffers => self.amount_differs,
            DiscrepancyKind::DueUnpaid => self.due_unpaid,
        }
    }

    pub fn total(&self) -> i64 {
        DiscrepancyKind::ALL.into_iter().map(|k| self.get(k)).sum()
    }
}

/// The figures on top of the queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueCounts {
    pub open: KindCounts,
    pub mine: KindCounts,
    pub closed: KindCounts,
}

impl QueueCounts {
    pub fn of(&self, filter: QueueFilter) -> &KindCounts {
        match filter {
            QueueFilter::Open => &self.open,
            QueueFilter::Mine => &self.mine,
            QueueFilter::Closed => &self.closed,
        }
    }
}

/// One page of an area's queue, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscrepancyQueue {
    pub area: Area,
    pub breadcrumbs: Vec<Area>,
    pub filter: QueueFilter,
    pub counts: QueueCounts,
    pub items: Vec<DiscrepancyItem>,
    /// Items under the filter, over all pages.
    pub total: i64,
    pub page: u32,
    pub page_size: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subsidies::Channel;

    fn line(status: PaymentStatus, received_on: Option<NaiveDate>) -> VerificationLine {
        VerificationLine {
            entitlement_id: Uuid::nil(),
            status,
            received_fen: status.has_receipt().then_some(100),
            received_on,
            channel: status.has_receipt().then_some(Channel::OneCard),
            reason: None,
            reason_text: String::new(),
        }
    }

    #[test]
    fn not_received_comes_before_part_before_late_and_not_due_is_none() {
        let due = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
        let late = NaiveDate::from_ymd_opt(2027, 3, 2);
        let kind = |s, d| DiscrepancyKind::of_line(&line(s, d), due);
        assert_eq!(kind(PaymentStatus::ReceivedInFull, Some(due)), None);
        assert_eq!(
            kind(PaymentStatus::ReceivedInFull, late),
            Some(DiscrepancyKind::ReceivedLate)
        );
        assert_eq!(
            kind(PaymentStatus::ReceivedInPart, late),
            Some(DiscrepancyKind::ReceivedInPart)
        );
        assert_eq!(
            kind(PaymentStatus::NotReceived, None),
            Some(DiscrepancyKind::NotReceived)
        );
        assert_eq!(kind(PaymentStatus::NotDueYet, None), None);
    }

    #[test]
    fn every_code_reads_back() {
        for k in DiscrepancyKind::ALL {
            assert_eq!(DiscrepancyKind::parse(k.as_str()), Some(k));
        }
        for r in Resolution::ALL {
            assert_eq!(Resolution::parse(r.as_str()), Some(r));
        }
        for a in DiscrepancyAction::ALL {
            assert_eq!(DiscrepancyAction::parse(a.as_str()), Some(a));
        }
        assert_eq!(QueueFilter::parse(Some("closed")), QueueFilter::Closed);
        assert_eq!(QueueFilter::parse(Some("nonsense")), QueueFilter::Open);
    }
}
