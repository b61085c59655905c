//! Delivery from the phone's outbox to the server.
//!
//! The endpoint's URL is versioned and fixed (`/api/sync/v1/visits`) so an
//! older cached app can still deliver after an upgrade. A batch is answered
//! visit by visit: a visit leaves the phone only when its answer is
//! `stored` or `already_stored`. `conflict` is only ever between copies the
//! same caller sent of the same household's visit; an id another caller or
//! household holds is `rejected` (409) and changes nothing.

#[cfg(feature = "ssr")]
pub mod http;
#[cfg(feature = "ssr")]
pub mod service_worker;

pub const VISITS_PATH: &str = "/api/sync/v1/visits";
/// Where a field worker's phone downloads its households (GET).
pub const ROSTER_PATH: &str = "/api/sync/v1/roster";
/// The roster's length in bytes as the phone reads it (decompressed). A
/// compressed answer has no `Content-Length` of its own, and the phone
/// shows how far a slow first download has come.
pub const ROSTER_LENGTH_HEADER: &str = "x-daohu-length";

/// The server's answer to a batch: one outcome per visit, in order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BatchReply {
    pub results: Vec<crate::visits::VisitOutcome>,
}
