use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::areas::{Area, percent};
use crate::subsidies::Fen;

/// Due and verified-paid figures for one group of payments. A payment is
/// 足额到户 when its latest verification found it received in full,
/// 部分到户 when received in part, 未到户 otherwise (not received, or not
/// yet verified).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Payments due: for one item, households.
    pub due: i64,
    /// Of those, verified received in full or in part.
    pub paid: i64,
    pub due_fen: i64,
    /// What those households said they received.
    pub paid_fen: i64,
    /// Of the paid, received in full (足额).
    pub full: i64,
    pub full_fen: i64,
}

impl Progress {
    /// Adds another group's figures. Each term is bounded (the store counts
    /// every amount within `Fen::MAX`), so real totals never come near
    /// i64; saturating keeps a table up even over a roll-up edited by hand.
    pub fn add(&mut self, other: &Progress) {
        self.due = self.due.saturating_add(other.due);
        self.paid = self.paid.saturating_add(other.paid);
        self.due_fen = self.due_fen.saturating_add(other.due_fen);
        self.paid_fen = self.paid_fen.saturating_add(other.paid_fen);
        self.full = self.full.saturating_add(other.full);
        self.full_fen = self.full_fen.saturating_add(other.full_fen);
    }

    /// Payments received only in part (部分到户).
    pub fn part(&self) -> i64 {
        self.paid.saturating_sub(self.full)
    }

    /// Payments not (or not yet verified) received (未到户).
    pub fn none(&self) -> i64 {
        self.due.saturating_sub(self.paid)
    }

    /// What the payments received in part brought.
    pub fn part_fen(&self) -> i64 {
        self.paid_fen.saturating_sub(self.full_fen)
    }

    /// The table's progress: the amount received in full over the amount
    /// due, whole per cent rounded down. A payment received in part counts
    /// nothing here (the notice demands 足额).
    pub fn percent_full(&self) -> i64 {
        percent(self.full_fen, self.due_fen)
    }

    /// Percentage points gained since `before` (the table's 较上周).
    pub fn points_since(&self, before: &Progress) -> i64 {
        self.percent_full().saturating_sub(before.percent_full())
    }

    pub fn due_yuan(&self) -> Fen {
        Fen(self.due_fen)
    }

    pub fn full_yuan(&self) -> Fen {
        Fen(self.full_fen)
    }

    pub fn part_yuan(&self) -> Fen {
        Fen(self.part_fen())
    }
}

/// A subsidy item that has payments due in the table's area and year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemColumn {
    pub code: String,
    pub name: String,
}

/// One row: an area with its figures per item (aligned with
/// [`DispatchTable::items`]) and over all items, now and a week earlier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispatchRow {
    pub area: Area,
    pub items: Vec<Progress>,
    pub all: Progress,
    pub items_week_before: Vec<Progress>,
    pub all_week_before: Progress,
}

impl DispatchRow {
    pub fn new(area: Area, columns: usize) -> DispatchRow {
        DispatchRow {
            area,
            items: vec![Progress::default(); columns],
            all: Progress::default(),
            items_week_before: vec![Progress::default(); columns],
            all_week_before: Progress::default(),
        }
    }

    /// The figures for item column `i`, or over all items for `None`.
    pub fn figures(&self, i: Option<usize>) -> (Progress, Progress) {
        match i {
            Some(i) => (self.items[i], self.items_week_before[i]),
            None => (self.all, self.all_week_before),
        }
    }
}

/// The dispatch table of an area as of a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispatchTable {
    pub area: Area,
    /// From the caller's own node down to (not including) `area`.
    pub breadcrumbs: Vec<Area>,
    pub as_of: NaiveDate,
    pub week_before: NaiveDate,
    pub stat_year: i32,
    pub items: Vec<ItemColumn>,
    pub rows: Vec<DispatchRow>,
    pub total: DispatchRow,
    /// The record chains the figures were computed from (tamper evidence).
    pub chain: crate::ledger::ChainStamp,
}

/// What the store adds up: one child area's figures for one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispatchFigure {
    /// The 12-digit code of the child area the households lie in.
    pub child: String,
    pub item_code: String,
    pub progress: Progress,
}

/// Where the Excel file of area `code`'s table as of `as_of` downloads.
pub fn xlsx_href(code: &str, as_of: NaiveDate) -> String {
    format!("/reports/dispatch/{code}/xlsx?as_of={as_of}")
}

/// Which payments due a drill-down from the dispatch table lists, by
/// their latest verification as of the table's date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PaymentState {
    /// Every payment due.
    Due,
    /// Verified received, in full or in part.
    Paid,
    /// Verified received in full (足额到户).
    Full,
    /// Verified received in part only (部分到户).
    Part,
    /// Due and not (or no longer) verified received (未到户).
    Unpaid,
}

impl PaymentState {
    pub const ALL: [PaymentState; 5] = [
        PaymentState::Due,
        PaymentState::Paid,
        PaymentState::Full,
        PaymentState::Part,
        PaymentState::Unpaid,
    ];

    /// The value in a link's `paid=` parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentState::Due => "due",
            PaymentState::Paid => "yes",
            PaymentState::Full => "full",
            PaymentState::Part => "part",
            PaymentState::Unpaid => "no",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        PaymentState::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            PaymentState::Due => "应发",
            PaymentState::Paid => "已核实到户",
            PaymentState::Full => "足额到户",
            PaymentState::Part => "部分到户",
            PaymentState::Unpaid => "未到户",
        }
    }
}

/// The households behind a figure of the dispatch table.
pub fn households_href(area: &str, as_of: NaiveDate, item: &str, state: PaymentState) -> String {
    let mut href = format!(
        "/households?village={area}&as_of={as_of}&paid={}",
        state.as_str()
    );
    if !item.is_empty() {
        href.push_str("&item=");
        href.push_str(item);
    }
    href
}
