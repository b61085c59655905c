//! Tamper evidence: a hash chain per county over every signed record (see
//! `model.rs` for how it is built and walked). Writes leave their records
//! to be chained in their own transaction; `service.rs` chains them on any
//! instance, verifies the chains daily and on demand, and answers what the
//! county page and the reports print.

pub mod api;
pub mod model;
#[cfg(feature = "ssr")]
pub mod service;
pub mod ui;

pub use model::*;
