//! Roster import: a county office loads its households (one row per
//! member) and the payments each is due (one row per household, item and
//! statistics year) from Excel (.xlsx) or CSV, with the Chinese headers of
//! the downloadable templates.
//!
//! A third kind, a paying department's payout file, is checked by the same
//! rules and feeds the three-way match of [`crate::reconciliation`].
//!
//! Rules:
//! - Every row is checked (ID number checksum, a known village inside the
//!   importer's area, a known subsidy item, amounts to the fen, dates inside
//!   the statistics year, duplicates in the file and against what is stored)
//!   before anything is written; one problem anywhere writes nothing, and
//!   each problem names the file, the row Excel shows and the column.
//! - A household is identified by its number, a person by their ID number,
//!   a payment due by household, item and year. Re-importing a file writes
//!   only what differs, so the same file twice changes nothing. A household
//!   in the file replaces its stored members; its worker is kept, unless it
//!   moved to another village (then it waits to be assigned there).
//! - Imports run one at a time, in the background, so the page can show
//!   how far a large file has got.

pub mod api;
#[cfg(feature = "ssr")]
pub mod http;
#[cfg(feature = "ssr")]
pub mod jobs;
pub mod model;
#[cfg(feature = "ssr")]
mod payouts;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod table;
#[cfg(feature = "ssr")]
pub mod template;
pub mod ui;
#[cfg(feature = "ssr")]
pub mod xlsx;

pub use model::*;
