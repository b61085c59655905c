//! Households, their members and what they are owed.
//!
//! A household belongs to one village and is assigned to at most one field
//! worker. A field worker sees only the households assigned to them; everyone
//! else sees the households inside their area. ID numbers and phone numbers
//! leave the server masked.

pub mod api;
pub mod id_number;
pub mod model;
#[cfg(feature = "ssr")]
pub mod service;
pub mod ui;

pub use model::*;
