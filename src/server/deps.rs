//! What a service needs from the running server: the store, the
//! configuration and the clock. Services take a `Deps`, not the `AppState`
//! (which also holds the web server's own parts), so they depend on no
//! part of the server but the store and the configuration.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::server::config::Config;
use crate::server::db::Store;

#[derive(Clone)]
pub struct Deps {
    pub store: Arc<dyn Store>,
    pub config: Arc<Config>,
    /// The time rules are judged at (session idle and absolute expiry):
    /// `Utc::now`, or in a test another moment, as a function without
    /// state (e.g. `|| Utc::now() + Duration::days(15)`).
    pub clock: fn() -> DateTime<Utc>,
}

impl Deps {
    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }
}
