//! The household's receipt check at `/r`, public and without sign-in: the
//! receipt code from the visit's end (or its QR code) and the last four
//! characters of the signer's ID number show exactly what was confirmed,
//! masked, and whether the record is unaltered; the household can dispute
//! it, which opens a discrepancy for its township. Lookups are throttled
//! per address and per code, and every one is logged.

pub mod api;
pub mod model;
#[cfg(feature = "ssr")]
pub mod service;
pub mod ui;

pub use model::*;
