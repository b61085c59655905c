//! Household visits: what a field worker verified, and what the household
//! confirmed with its signature.
//!
//! A visit is made on the phone, offline, with a UUIDv7 id of its own. For
//! each expected payment it records whether the money arrived, how much,
//! when and how, and why not. The household signs the confirmed content;
//! the signature carries the SHA-256 of a canonical serialization of that
//! content ([`confirmation_hash`]), so any later edit shows as a mismatch
//! and needs a new signature. The first 8 hex digits of the hash are the
//! receipt code shown to the household.
//!
//! A supervisor reviews each stored visit (received → has issues /
//! approved, with a comment); steps are only ever added, so the history
//! stays, and the worker sees what was found on the household page.

pub mod api;
pub mod model;
#[cfg(feature = "ssr")]
pub mod service;

pub use model::*;
