//! Reconciliation against the departments' payout files (三方比对): a
//! county imports what a paying department says it paid (the 一卡通 or bank
//! disbursement list, as a roster import of kind
//! [`Payouts`](crate::roster::RosterKind::Payouts)), and every household's
//! payment of an item in a year is matched three ways: due (the roster),
//! paid (the file), received (the household's latest verification).
//!
//! The match is kept in the database (`reconciliation`, migration 0020)
//! and rewritten in the transaction of every write that changes one of its
//! sides: a payout import, a visit, a roster import. So it is never stale,
//! and every mismatch opens a discrepancy item of its kind in that same
//! transaction, in the township's queue.

pub mod api;
pub mod model;
#[cfg(feature = "ssr")]
pub mod service;
pub mod ui;

pub use model::*;
