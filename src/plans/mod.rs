//! 一户一策: each household has exactly one plan.
//!
//! A plan names the responsible cadre (帮扶责任人), the household's labour
//! and health situation, and its measures. A measure has a category, what
//! will be done, funding, a due date and the extra income it should bring;
//! its status moves planned → in progress → done (with the day) or dropped
//! (with a reason). Workers move it during visits, offline, inside the
//! signed visit, or online on the household page; every move is kept with
//! who made it and in which visit (none for an online move).
//! "Implementation rate" = measures done by their due date ÷ measures due.
//! The household's assigned worker and those above the field whose area
//! holds it may write the plan; a second plan for a household is refused by
//! the database, whoever asks first wins.

pub mod api;
pub mod model;
#[cfg(feature = "ssr")]
pub mod service;
pub mod ui;

pub use model::*;
