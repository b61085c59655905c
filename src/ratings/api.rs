use leptos::prelude::*;

use crate::error::AppError;
use crate::ratings::RatingsView;

#[server(prefix = "/api", endpoint = "ratings/view")]
pub async fn get_ratings(
    code: String,
    #[server(default)] as_of: Option<String>,
) -> Result<RatingsView, AppError> {
    let (deps, caller) = crate::server::session::require_caller().await?;
    crate::ratings::service::ratings_view(&deps, &caller, &code, as_of.as_deref()).await
}
