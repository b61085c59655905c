//! The weekly report (每周报送): each county submits its dispatch table as
//! of the end of the week with remarks and a 联络人; the submission is
//! frozen (figures, .xlsx, hash); the city returns or accepts it, and
//! submits the sum of its accepted counties; the province sees every
//! city's state. What the records changed since a submission is shown
//! beside it, never written into it.

pub mod api;
#[cfg(feature = "ssr")]
pub mod http;
pub mod model;
#[cfg(feature = "ssr")]
pub mod service;
pub mod ui;

pub use model::*;
