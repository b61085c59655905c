use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::areas::Area;
use crate::discrepancies::DiscrepancyKind;
use crate::subsidies::Fen;

/// How a household's payment of one item in one year stands when what was
/// due (the roster), what was paid (the department's payout file) and what
/// the household said it received (its latest verification) are put side
/// by side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Outcome {
    /// 一致: paid as due, and the household received it.
    Matched,
    /// 已发放待核实: paid as due; no visit has asked the household yet.
    AwaitingVisit,
    /// 已发未收: the department paid, the household says it received less
    /// or nothing. The most serious: the money may be in someone else's
    /// account.
    PaidNotReceived,
    /// 已收无发放记录: the household says it received money the
    /// department's file does not show.
    ReceivedNoPayout,
    /// 金额不符: paid, but not what was due (or nothing was due at all), or
    /// the household received more than was paid.
    AmountDiffers,
    /// 应发未发: due, no payout record, and nothing received.
    DueUnpaid,
    /// 未到发放时间: as [`Outcome::DueUnpaid`], before the expected date.
    NotDueYet,
}

impl Outcome {
    /// In the order the page shows them: agreement first, then the
    /// mismatches from the most serious.
    pub const ALL: [Outcome; 7] = [
        Outcome::Matched,
        Outcome::AwaitingVisit,
        Outcome::PaidNotReceived,
        Outcome::ReceivedNoPayout,
        Outcome::AmountDiffers,
        Outcome::DueUnpaid,
        Outcome::NotDueYet,
    ];

    /// The three-way match of one key. `due`: the entitlement's amount, if
    /// any; `paid`: the payout file's sum, if it lists the key; `asked`:
    /// if the household was asked, what its latest verification said
    /// arrived (0 for not received or not due yet) and what the file says
    /// had been paid by the day of that visit. A visit is only held to the
    /// payments made before it. The date split between
    /// [`Outcome::DueUnpaid`] and [`Outcome::NotDueYet`] is made when read.
    pub fn of(due: Option<i64>, paid: Option<i64>, asked: Option<Asked>) -> Outcome {
        match (paid.filter(|p| *p > 0), asked) {
            (Some(_), Some(a)) if a.received < a.paid_by_then => Outcome::PaidNotReceived,
            (None, Some(a)) if a.received > 0 => Outcome::ReceivedNoPayout,
            (Some(p), a) if due != Some(p) || a.is_some_and(|a| a.received > a.paid_by_then) => {
                Outcome::AmountDiffers
            }
            // Asked after the last payment, and all of it arrived.
            (Some(p), Some(a)) if a.paid_by_then == p => Outcome::Matched,
            (Some(_), _) => Outcome::AwaitingVisit,
            (None, _) => Outcome::DueUnpaid,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Matched => "matched",
            Outcome::AwaitingVisit => "awaiting_visit",
            Outcome::PaidNotReceived => "paid_not_received",
            Outcome::ReceivedNoPayout => "received_no_payout",
            Outcome::AmountDiffers => "amount_differs",
            Outcome::DueUnpaid => "due_unpaid",
            Outcome::NotDueYet => "not_due_yet",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Outcome::Matched => "三方一致",
            Outcome::AwaitingVisit => "已发放待核实",
            Outcome::PaidNotReceived => "已发放但群众称未收到或少收",
            Outcome::ReceivedNoPayout => "群众称已收到但无发放记录",
            Outcome::AmountDiffers => "发放金额与应发不符",
            Outcome::DueUnpaid => "应发但未发放也未收到",
            Outcome::NotDueYet => "未到发放时间",
        }
    }

    /// The column heading: a few characters.
    pub fn short_label(self) -> &'static str {
        match self {
            Outcome::Matched => "一致",
            Outcome::AwaitingVisit => "待核实",
            Outcome::PaidNotReceived => "已发未收",
            Outcome::ReceivedNoPayout => "收到无记录",
            Outcome::AmountDiffers => "金额不符",
            Outcome::DueUnpaid => "应发未发",
            Outcome::NotDueYet => "未到期",
        }
    }

    /// The discrepancy item a mismatch opens; agreement and waiting open
    /// none.
    pub fn discrepancy(self) -> Option<DiscrepancyKind> {
        match self {
            Outcome::PaidNotReceived => Some(DiscrepancyKind::PaidNotReceived),
            Outcome::ReceivedNoPayout => Some(DiscrepancyKind::ReceivedNoPayout),
            Outcome::AmountDiffers => Some(DiscrepancyKind::AmountDiffers),
            Outcome::DueUnpaid => Some(DiscrepancyKind::DueUnpaid),
            Outcome::Matched | Outcome::AwaitingVisit | Outcome::NotDueYet => None,
        }
    }

    pub fn is_mismatch(self) -> bool {
        self.discrepancy().is_some()
    }
}

/// What the household said when last asked, beside what had been paid by
/// then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asked {
    pub received: i64,
    pub paid_by_then: i64,
}

/// Keys per outcome, indexed as [`Outcome::ALL`].
pub type OutcomeCounts = [i64; 7];

/// One row of the page's tables: an area or an item, its counts, and the
/// sums of what was due, paid and received over its keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeRow {
    /// The child area's code or the item's code: the drill-down's filter.
    pub key: String,
    pub label: String,
    pub counts: OutcomeCounts,
    pub due: Fen,
    pub paid: Fen,
    pub received: Fen,
}

impl OutcomeRow {
    pub fn mismatches(&self) -> i64 {
        Outcome::ALL
            .iter()
            .zip(self.counts)
            .filter(|(o, _)| o.is_mismatch())
            .map(|(_, n)| n)
            .sum()
    }

    pub fn total(&self) -> i64 {
        self.counts.iter().sum()
    }
}

/// A payout file imported for an area: which item and year it covered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutScope {
    pub area: Area,
    pub item_name: String,
    pub stat_year: i32,
    /// China time, `2027-03-01 10:00`.
    pub imported_at_local: String,
}

/// One household's key in the drill-down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconciledPayment {
    pub household_id: Uuid,
    pub household_number: String,
    pub head_name: String,
    pub village: Area,
    pub item_name: String,
    pub outcome: Outcome,
    pub due: Option<Fen>,
    pub paid: Option<Fen>,
    pub received: Option<Fen>,
    /// The item it opened in the discrepancy queue, if any.
    pub discrepancy_id: Option<Uuid>,
}

/// The drill-down's filter and one page of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconciledList {
    pub outcome: Outcome,
    pub item: Option<(String, String)>,
    pub area: Option<Area>,
    pub rows: Vec<ReconciledPayment>,
    pub total: i64,
    pub page: u32,
    pub page_size: u32,
}

/// `/reconciliation/<code>`: an area's three-way match for a year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconciliationView {
    pub area: Area,
    pub breadcrumbs: Vec<Area>,
    pub stat_year: i32,
    pub scopes: Vec<PayoutScope>,
    /// Per child area (the area itself for a village).
    pub by_area: Vec<OutcomeRow>,
    pub by_item: Vec<OutcomeRow>,
    pub total: OutcomeRow,
    /// Whether the caller may import a payout file here.
    pub may_import: bool,
    pub list: Option<ReconciledList>,
}

/// Rows per page of the drill-down.
pub const LIST_PAGE_SIZE: u32 = 50;

pub fn reconciliation_href(area: &str) -> String {
    format!("/reconciliation/{area}")
}

/// The drill-down of an outcome, optionally of one child area or item.
pub fn list_href(area: &str, outcome: Outcome, child: Option<&str>, item: Option<&str>) -> String {
    let mut href = format!("{}?outcome={}", reconciliation_href(area), outcome.as_str());
    if let Some(c) = child {
        href.push_str(&format!("&area={c}"));
    }
    if let Some(i) = item {
        // Item codes are ASCII words (the catalogue's): nothing to escape.
        href.push_str(&format!("&item={i}"));
    }
    href
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(received: i64, paid_by_then: i64) -> Option<Asked> {
        Some(Asked {
            received,
            paid_by_then,
        })
    }

    #[test]
    fn each_outcome_of_the_three_sides() {
        let o = Outcome::of;
        assert_eq!(o(Some(100), Some(100), asked(100, 100)), Outcome::Matched);
        assert_eq!(o(Some(100), Some(100), None), Outcome::AwaitingVisit);
        assert_eq!(
            o(Some(100), Some(100), asked(0, 100)),
            Outcome::PaidNotReceived
        );
        assert_eq!(
            o(Some(100), Some(100), asked(60, 100)),
            Outcome::PaidNotReceived
        );
        // Paid less than due, and received what was paid: the amount.
        assert_eq!(
            o(Some(100), Some(60), asked(60, 60)),
            Outcome::AmountDiffers
        );
        assert_eq!(o(Some(100), Some(160), None), Outcome::AmountDiffers);
        assert_eq!(o(None, Some(100), None), Outcome::AmountDiffers);
        assert_eq!(
            o(Some(100), Some(100), asked(150, 100)),
            Outcome::AmountDiffers
        );
        assert_eq!(o(Some(100), None, asked(100, 0)), Outcome::ReceivedNoPayout);
        assert_eq!(o(Some(100), None, asked(0, 0)), Outcome::DueUnpaid);
        assert_eq!(o(Some(100), None, None), Outcome::DueUnpaid);
        // Not received at all beats the amount: the household is short.
        assert_eq!(
            o(Some(100), Some(160), asked(0, 160)),
            Outcome::PaidNotReceived
        );
    }

    #[test]
    fn a_visit_is_held_only_to_what_was_paid_before_it() {
        let o = Outcome::of;
        // Asked before any payment: nothing was owed to it yet.
        assert_eq!(
            o(Some(1200), Some(1200), asked(0, 0)),
            Outcome::AwaitingVisit
        );
        // 低保 monthly: by a June visit half was paid, and half arrived.
        assert_eq!(
            o(Some(1200), Some(1200), asked(600, 600)),
            Outcome::AwaitingVisit
        );
        // By then 600 was paid, 300 arrived.
        assert_eq!(
            o(Some(1200), Some(1200), asked(300, 600)),
            Outcome::PaidNotReceived
        );
    }

    #[test]
    fn every_code_reads_back_and_mismatches_open_items() {
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.as_str()), Some(o));
            assert_eq!(o.is_mismatch(), o.discrepancy().is_some());
        }
        assert_eq!(Outcome::ALL.iter().filter(|o| o.is_mismatch()).count(), 4);
    }
}
