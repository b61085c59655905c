//! Household server functions: authenticate, then hand to the service.

use leptos::prelude::*;
use uuid::Uuid;

use crate::areas::Area;
use crate::error::AppError;
use crate::households::{HouseholdDetail, HouseholdPage};

#[server(prefix = "/api", endpoint = "households/list")]
pub async fn list_households(
    search: Option<String>,
    village: Option<String>,
    item: Option<String>,
    paid: Option<String>,
    as_of: Option<String>,
    page: Option<u32>,
) -> Result<HouseholdPage, AppError> {
    use crate::households::service::{HouseholdFilter, list};
    use crate::server::session::{require_caller, respond};
    respond(
        async {
            let (state, caller) = require_caller().await?;
            let filter = HouseholdFilter {
                search,
                village,
                item,
                paid,
                as_of,
                page: page.unwrap_or(0),
            };
            list(state.store.as_ref(), &caller, filter).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "households/villages")]
pub async fn list_my_villages() -> Result<Vec<Area>, AppError> {
    use crate::server::session::{require_caller, respond};
    respond(
        async {
            let (state, caller) = require_caller().await?;
            crate::households::service::villages(state.store.as_ref(), &caller).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "households/get")]
pub async fn get_household(id: Uuid) -> Result<HouseholdDetail, AppError> {
    use crate::server::session::{require_caller, respond};
    respond(
        async {
            let (state, caller) = require_caller().await?;
            let today = crate::subsidies::china_date(chrono::Utc::now());
            crate::households::service::detail(state.store.as_ref(), &caller, id, today).await
        }
        .await,
    )
}
