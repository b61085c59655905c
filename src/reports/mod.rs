//! Reports for the offices above the village: the weekly dispatch table
//! (全省到人到户各项补贴发放进展调度表).
//!
//! Rules:
//! - The table covers the statistics year containing its "as of" date; a
//!   payment is **due** when the household has an entitlement for the item
//!   in that year (the year's whole plan, whatever its expected date).
//! - A payment is **verified paid** as of a date when the latest visit
//!   started by the end of that day (China time) that checked it found it
//!   received in full or in part; the amount is what that visit recorded.
//!   A later visit that finds it missing takes it back out.
//! - Rows are the direct children of the area plus a total; the change is
//!   measured against the same table seven days earlier.
//! - Anyone who may see the area may see its table; field workers work
//!   from their households instead.

pub mod api;
#[cfg(feature = "ssr")]
pub mod http;
pub mod model;
#[cfg(feature = "ssr")]
pub mod service;
pub mod ui;
#[cfg(feature = "ssr")]
pub mod xlsx;

pub use model::*;
