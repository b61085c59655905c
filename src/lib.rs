//! 到户 Daohu: household-by-household proof that promised subsidies arrived.
//!
//! One crate, two builds: `ssr` (the axum server, the database, the CLI) and
//! `hydrate` (the browser bundle). Each domain folder holds its wire types
//! (`model`), its server functions (`api`), its rules over the store
//! (`service`, server only) and its pages (`ui`).
#![forbid(unsafe_code)]
#![recursion_limit = "512"]

pub mod app;
pub mod areas;
pub mod auth;
pub mod components;
pub mod discrepancies;
pub mod error;
pub mod field;
pub mod households;
pub mod income;
pub mod ledger;
pub mod notices;
pub mod plans;
pub mod ratings;
pub mod receipts;
pub mod reconciliation;
pub mod reports;
pub mod roster;
pub mod signals;
pub mod subsidies;
pub mod sync;
pub mod text;
pub mod users;
pub mod visits;
pub mod weekly;

#[cfg(feature = "ssr")]
pub mod access;
#[cfg(feature = "ssr")]
pub mod demo;
#[cfg(feature = "ssr")]
pub mod server;

/// Browser entry point. Islands mode: only `#[island]` components (the
/// field app) hydrate; every other page is finished HTML from the server.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
