//! Delivery from the phone's outbox to the server.
//!
//! The endpoint's URL is versioned and fixed (`/api/sync/v1/visits`) so an
//! older cached app can still deliver after an upgrade. A batch is answered
//! visit by visit: a visit leaves the phone only when its answer is
//! `stored` or `already_stored`.

#[cfg(feature = "ssr")]
pub mod http;

pub const VISITS_PATH: &str = "/api/sync/v1/visits";
