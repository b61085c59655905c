//! Shared presentational pieces.

mod layout;

pub use layout::*;
