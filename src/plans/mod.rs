//! 一户一策: each household has exactly one plan.
//!
//! A plan names the responsible cadre (帮扶责任人), the household's labour
//! and health situation, and its measures. A measure has a category, what
//! will be done, funding, a due date and the extra income it should bring;
//! its status moves planned → in progress → done (with the day) or dropped
//! (with a reason). Workers move it during visits, offline, inside the
//! signed visit; every move is kept with who made it and in which visit.
//! "Implementation rate" = measures done by their due date ÷ measures due.

pub mod model;

pub use model::*;
