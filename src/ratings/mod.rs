//! The week's rating of areas (评估评定): the notice has the province
//! dispatch weekly and rate each area. A province's cities and counties,
//! or a city's counties, ranked by what was received in full, the share
//! of households visited, discrepancy items left open for over two weeks
//! and reconciliation mismatches, with the move since the week before;
//! on screen and as .xlsx.

pub mod api;
#[cfg(feature = "ssr")]
pub mod http;
pub mod model;
#[cfg(feature = "ssr")]
pub mod service;
pub mod ui;

pub use model::*;
