//! Administrative areas and who may see what.
//!
//! Areas form a tree keyed by the 12-digit statistical code: province (2
//! significant digits) → 市州 (4) → 县区 (6) → 乡镇 (9) → 村 (12). The level
//! of a code is read from which of its parts are non-zero. A user is bound to
//! one node and sees that node and everything below it, nothing beside it:
//! the scope is the code's significant prefix.

pub mod api;
pub mod model;
#[cfg(feature = "ssr")]
pub mod service;
pub mod ui;

pub use model::*;
