//! Server infrastructure only: configuration, shared state, what services
//! are given (`deps`), the router, the caller's session, the command line
//! and the database. Business rules live
//! in each domain's `service.rs`.

pub mod cli;
pub mod config;
pub mod db;
pub mod deps;
pub mod edge;
pub mod form_outcome;
pub mod form_refill;
pub mod metrics;
pub mod probes;
pub mod rejections;
pub mod router;
pub mod session;
pub mod state;

pub use router::router;
pub use state::AppState;

/// Starts the work every instance does in the background: the workers for
/// derived work (income accounts, signals and their roll-ups, queued by the
/// writes that cause them), the chainer of signed records and their daily
/// verification, and the periodic refresh, which runs once per
/// interval across all instances. `instance` names this one in the
/// schedule (for operators).
pub fn spawn_background(store: std::sync::Arc<dyn db::Store>, instance: String) {
    tokio::spawn(crate::income::service::work_forever(store.clone()));
    tokio::spawn(crate::ledger::service::chain_forever(store.clone()));
    tokio::spawn(crate::signals::service::compute_forever(store.clone()));
    tokio::spawn(crate::ledger::service::verify_daily(
        store.clone(),
        instance.clone(),
    ));
    tokio::spawn(crate::income::service::refresh_periodically(
        store, instance,
    ));
}
