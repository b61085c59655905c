use leptos::prelude::*;

use crate::error::AppError;
use crate::receipts::ReceiptView;

/// Checks a receipt code and the signer's last four ID characters; answers
/// a short-lived token for the receipt (public, throttled, logged).
#[server(prefix = "/api", endpoint = "receipts/open")]
pub async fn open_receipt(code: String, digits: String) -> Result<String, AppError> {
    let deps = crate::server::session::deps()?;
    let address = crate::server::session::client_address_of_request();
    crate::receipts::service::open(
        deps.store.as_ref(),
        &code,
        &digits,
        address.as_deref(),
        deps.now(),
    )
    .await
}

#[server(prefix = "/api", endpoint = "receipts/view")]
pub async fn get_receipt(token: String) -> Result<ReceiptView, AppError> {
    let deps = crate::server::session::deps()?;
    crate::receipts::service::view(deps.store.as_ref(), &token, deps.now()).await
}

/// The household's dispute of its receipt: opens a discrepancy for its
/// township; answers the dispute's reference.
#[server(prefix = "/api", endpoint = "receipts/dispute")]
pub async fn dispute_receipt(
    token: String,
    reason: String,
    details: String,
    phone: String,
) -> Result<String, AppError> {
    let deps = crate::server::session::deps()?;
    crate::receipts::service::dispute(
        deps.store.as_ref(),
        &token,
        &reason,
        &details,
        &phone,
        deps.now(),
    )
    .await
}
