//! Household income for the statistics year (1 Oct – 30 Sep) and the risk
//! signals watched on it.
//!
//! Net income = wages + household business + property + transfers −
//! production costs; per-capita = net ÷ household size, rounded to the fen.
//! Two kinds of record feed it, both from signed visits: subsidy payments a
//! visit verified as received (each in its catalogue item's bucket), and
//! income figures the household declared (wages, business, property,
//! costs), where a kind's latest figure in the year counts. Every number
//! keeps the visit and line it came from. The thresholds are data, per
//! year, edited by the province.

pub mod api;
pub mod model;
#[cfg(feature = "ssr")]
pub mod service;
pub mod ui;

pub use model::*;
