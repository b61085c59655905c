//! Users and who may manage them.
//!
//! A user is managed (listed, created, disabled, re-enabled) by anyone of a
//! strictly higher role whose area holds the user's: a township supervisor
//! manages the field workers of their township, a county admin everyone
//! below them in their county, and so on up; nobody manages themselves or a
//! peer. A new user gets a role the creator outranks and an area inside the
//! creator's, at a level the role allows. A disabled user cannot sign in,
//! their sessions end at once (every page, server function and the phone's
//! sync answer 401), and the households still assigned to them wait for a
//! new worker (待分配).

pub mod api;
pub mod model;
#[cfg(feature = "ssr")]
pub mod service;
pub mod ui;

pub use model::*;
