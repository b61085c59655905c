//! The store's part for income accounts, thresholds and their roll-ups.

use async_trait::async_trait;

#[async_trait]
pub trait IncomeStore {}
