//! Who is calling.
//!
//! Users sign in with a user name and password (argon2id). A session is a
//! random token in an HttpOnly cookie; the database keeps only its SHA-256,
//! so sessions survive restarts and a leaked database leaks no live cookie.
//! Failed sign-ins are slowed down per account and per address. Every server
//! function starts by resolving the caller into an [`Actor`].

pub mod api;
#[cfg(feature = "ssr")]
pub mod hashing;
pub mod model;
#[cfg(feature = "ssr")]
pub mod password;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod throttle;
pub mod ui;

pub use model::*;
