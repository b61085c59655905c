//! Signals of fabricated visits (可疑走访): computed on the server for each
//! delivered visit (`service.rs`, queued in the visit's own transaction),
//! shown to supervisors as a queue with the reason in words, each cleared
//! or sent for review (which opens a discrepancy). The rules are pure
//! functions in `model.rs`; the thresholds are data.

pub mod api;
pub mod model;
#[cfg(feature = "ssr")]
pub mod service;
pub mod ui;

pub use model::*;
