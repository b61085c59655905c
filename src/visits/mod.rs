//! Household visits: what a field worker verified, and what the household
//! confirmed with its signature.
//!
//! A visit is made on the phone, offline, with a UUIDv7 id of its own. For
//! each expected payment it records whether the money arrived, how much,
//! when and how, and why not. The household signs the confirmed content;
//! the signature carries the SHA-256 of a canonical serialization of that
//! content ([`confirmation_hash`], layout v3: everything the visit stores,
//! its times, who was met, the position, the notes and the photo's digest
//! included), so any later edit shows as a mismatch and needs a new
//! signature. Visits signed by older apps (v1, v2) verify as they always
//! did. The first 8 hex digits of the hash are the receipt code shown to
//! the household.
//!
//! Only the worker the household had when the visit started (by its
//! assignment trail), or someone above the field whose area holds it, may
//! deliver a visit of it; anyone else gets the answer an unknown household
//! gets. Every field is bounded, on the phone before signing and again on
//! the server, which also refuses times ahead of its clock by more than a
//! phone's plausible skew. A visit is stored in one canonical form (lists
//! sorted, times to the millisecond), so it reads back to its own payload
//! hash.
//!
//! A supervisor reviews each stored visit (received → has issues /
//! approved, with a comment); steps are only ever added, so the history
//! stays, and the worker sees what was found on the household page.

pub mod api;
#[cfg(feature = "ssr")]
pub mod http;
pub mod model;
#[cfg(feature = "ssr")]
pub mod service;

pub use model::*;
