//! The field worker's offline app: the roster kept on the phone, visit
//! drafts, the outbox and its delivery, and the `/field` pages.
//!
//! `model` is shared (the server builds the roster, the phone checks drafts
//! with the same rules the server applies); `phone` is the browser side
//! (IndexedDB, fetch, camera, position); `ui` the pages.

pub mod model;
pub mod phone;
pub mod ui;

pub use model::*;
