// The store's SQL for income accounts; included by `sqlite.rs` and
// `postgres.rs` inside a module of their own (see `portable.rs` for the
// rules of portable SQL).

use crate::server::db::IncomeStore;

#[async_trait]
impl IncomeStore for ThisStore {}
