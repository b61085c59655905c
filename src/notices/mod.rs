//! The village public notice (公示) of a statistics year's verification
//! results: one row per household (the head's name masked, no ID or
//! phone), the items verified in full, in part or not received and the
//! total, the posting dates and the township's phone, a QR code to the
//! receipt check, and the objections received while it was up. Printed
//! from the browser on A4 (`@media print` in the stylesheet).

pub mod api;
pub mod model;
#[cfg(feature = "ssr")]
pub mod service;
pub mod ui;

pub use model::*;
