//! The subsidy catalogue and money.
//!
//! Each catalogue item (耕地地力保护补贴, 农村低保, 公益性岗位劳动报酬 …) is
//! data, not code: its income bucket and whether it counts as income differ
//! between provinces and years. The default catalogue from the Gansu notice
//! ships in `catalogue.tsv` and is loaded into the database by `migrate`
//! without overwriting local edits. Money is integer fen everywhere.

pub mod model;

pub use model::*;

/// The default catalogue: code, name, bucket, counts as income, default channel.
pub const DEFAULT_CATALOGUE_TSV: &str = include_str!("catalogue.tsv");
