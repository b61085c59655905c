//! The discrepancy queue: where what a household received differs from
//! what it was due, and where two copies of a visit disagree.
//!
//! Storing a visit opens one item per verification line that is not
//! received, received in part or received after its expected date (the
//! first of these that applies; a payment not due yet is none), and storing
//! a conflicting copy of a visit opens one item for it, in the same
//! transaction and exactly once. A supervisor of the household's area
//! assigns the item (to themselves or a user whose area holds the
//! household), adds notes, closes it with a resolution and a note, and may
//! reopen it. Every step is added to the item's history, never rewritten;
//! the item row holds where it stands now. Field workers see no queue.

pub mod api;
pub mod model;
#[cfg(feature = "ssr")]
pub mod service;
pub mod ui;

pub use model::*;
