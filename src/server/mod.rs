//! Server infrastructure only: configuration, shared state, the router, the
//! caller's session, the command line and the database. Business rules live
//! in each domain's `service.rs`.

pub mod cli;
pub mod config;
pub mod db;
pub mod edge;
pub mod metrics;
pub mod probes;
pub mod rejections;
pub mod router;
pub mod session;
pub mod state;

pub use router::router;
pub use state::AppState;
