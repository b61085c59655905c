//! Shared presentational pieces.

mod bar;
mod layout;

pub use bar::Bar;
pub use layout::*;
