//! Server actions for office forms, which work without script: the form
//! posts, the server answers with a redirect back, and the page shown
//! next starts with the action's answer (see `server::form_outcome`), so
//! the same `action.value()` views show a result or a refusal whether or
//! not script ran.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos::server_fn::error::FromServerFnError;
use serde::{Deserialize, Serialize};

/// Every server function lives under this prefix.
pub const API_PREFIX: &str = "/api/";

/// The hidden field a form repeated once per record posts, naming its
/// record ([`RowKey`]): the answer lands at, and is shown in, that row's
/// form alone. Server functions ignore it (unknown fields are skipped).
pub const ROW_FIELD: &str = "_row";
/// A row key longer than this is cut: it only has to tell a page's rows
/// apart.
const MAX_ROW_KEY_CHARS: usize = 80;

/// What a plain form post was answered, as the next page receives it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FormOutcome {
    pub fn_path: String,
    pub failed: bool,
    /// The server function's own encoding of its result or error,
    /// base64url.
    pub answer: String,
    /// The record of a per-row form ([`ROW_FIELD`]), as [`row_key`] has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<String>,
}

/// A record's key as an id can carry it: what is posted back is reduced
/// the same way, so a hostile value cannot break out of the id.
pub fn row_key(raw: &str) -> String {
    raw.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(MAX_ROW_KEY_CHARS)
        .collect()
}

/// The element id a per-row form's answer lands at.
pub fn row_anchor_of_path(fn_path: &str, key: &str) -> String {
    format!("{}-{}", anchor_of_path(fn_path), row_key(key))
}

/// The element id a form's answer lands at (`#…` of the redirect): put it
/// on the form, or on the section holding its answer.
pub fn anchor_of_path(fn_path: &str) -> String {
    let name = fn_path.strip_prefix(API_PREFIX).unwrap_or(fn_path);
    format!(
        "f-{}",
        name.replace(|c: char| !c.is_ascii_alphanumeric(), "-")
    )
}

pub fn anchor_of<S: ServerFn>() -> String {
    anchor_of_path(S::PATH)
}

/// [`anchor_of`] for the function an action calls. Only for a form that
/// appears once on its page: ids are unique.
pub fn anchor_for<S: ServerFn>(_: &ServerAction<S>) -> String {
    anchor_of::<S>()
}

/// The id of the form for record `key` of a list of forms posting to `S`.
pub fn row_anchor<S: ServerFn>(key: &str) -> String {
    row_anchor_of_path(S::PATH, key)
}

/// A `ServerAction` already holding the answer of the form post that led
/// to this page, if that post was to `S` from the page's one such form.
pub fn form_action<S>() -> ServerAction<S>
where
    S: ServerFn + Clone + Send + Sync + 'static,
    S::Output: serde::de::DeserializeOwned + Send + Sync + 'static,
    S::Error: FromServerFnError + Send + Sync + 'static,
{
    action_with::<S>(None)
}

/// [`form_action`] for the form of record `key` among many posting to
/// `S`: it holds the answer only if that post came from this row (the
/// form carries [`RowKey`] and the id [`row_anchor`]).
pub fn form_action_at<S>(key: &str) -> ServerAction<S>
where
    S: ServerFn + Clone + Send + Sync + 'static,
    S::Output: serde::de::DeserializeOwned + Send + Sync + 'static,
    S::Error: FromServerFnError + Send + Sync + 'static,
{
    action_with::<S>(Some(&row_key(key)))
}

/// The hidden field naming a per-row form's record.
#[component]
pub fn RowKey(#[prop(into)] key: String) -> impl IntoView {
    view! { <input type="hidden" name=ROW_FIELD value=row_key(&key)/> }
}

fn action_with<S>(row: Option<&str>) -> ServerAction<S>
where
    S: ServerFn + Clone + Send + Sync + 'static,
    S::Output: serde::de::DeserializeOwned + Send + Sync + 'static,
    S::Error: FromServerFnError + Send + Sync + 'static,
{
    let action = ServerAction::<S>::new();
    if let Some(answer) = carried_answer::<S>(row) {
        action.value().set(Some(answer));
    }
    action
}

#[cfg_attr(not(feature = "ssr"), allow(unused_variables))]
fn carried_answer<S>(row: Option<&str>) -> Option<Result<S::Output, S::Error>>
where
    S: ServerFn,
    S::Output: serde::de::DeserializeOwned,
    S::Error: FromServerFnError,
{
    #[cfg(feature = "ssr")]
    {
        use base64::Engine;
        let outcome = use_context::<http::request::Parts>()?
            .extensions
            .get::<FormOutcome>()?
            .clone();
        if outcome.fn_path != S::PATH || outcome.row.as_deref() != row {
            return None;
        }
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&outcome.answer)
            .ok()?;
        if outcome.failed {
            Some(Err(S::Error::de(bytes.into())))
        } else {
            serde_json::from_slice(&bytes).ok().map(Ok)
        }
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_are_plain_ids() {
        assert_eq!(
            anchor_of_path("/api/discrepancies/assign"),
            "f-discrepancies-assign"
        );
        assert_eq!(anchor_of_path("/api/x\"><b>"), "f-x---b-");
        assert_eq!(
            row_anchor_of_path("/api/users/active", "0a1b-\"><script>"),
            "f-users-active-0a1b-script"
        );
        assert_eq!(row_key(&"9".repeat(500)).len(), MAX_ROW_KEY_CHARS);
    }
}
