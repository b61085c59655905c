use std::sync::Arc;

use axum::extract::FromRef;
use chrono::{DateTime, Utc};
use leptos::config::LeptosOptions;

use crate::server::config::Config;
use crate::server::db::Store;
use crate::server::deps::Deps;

/// Everything a request may need, cloned cheaply into each handler and
/// provided to server functions as context.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub store: Arc<dyn Store>,
    pub config: Arc<Config>,
    /// What sync bodies may hold at once (see [`crate::sync::http`]).
    pub sync_budget: Arc<tokio::sync::Semaphore>,
    /// Places for imports waiting or running here (see [`crate::roster::jobs`]).
    pub import_slots: Arc<crate::roster::jobs::ImportSlots>,
    /// See [`Deps::clock`].
    pub clock: fn() -> DateTime<Utc>,
}

impl AppState {
    pub fn new(config: Config, store: Arc<dyn Store>) -> AppState {
        let leptos_options = LeptosOptions::builder()
            .output_name("daohu")
            .hash_files(bundle_is_hashed())
            .site_root(config.site_root.to_string_lossy().into_owned())
            .site_pkg_dir("pkg")
            .site_addr(config.addr)
            .build();
        AppState {
            leptos_options,
            store,
            config: Arc::new(config),
            sync_budget: crate::sync::http::batch_budget(),
            import_slots: Arc::default(),
            clock: Utc::now,
        }
    }

    /// What a service is given (two `Arc` clones).
    pub fn deps(&self) -> Deps {
        Deps {
            store: self.store.clone(),
            config: self.config.clone(),
            clock: self.clock,
        }
    }
}

/// cargo-leptos writes `hash.txt` (the content hashes in the bundle's file
/// names) beside the server binary it builds. A binary built any other way,
/// such as a test, has none and serves unhashed names.
fn bundle_is_hashed() -> bool {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("hash.txt")))
        .is_some_and(|path| path.exists())
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
