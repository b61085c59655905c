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

/// What a plain form post was answered, as the next page receives it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FormOutcome {
    pub fn_path: String,
    pub failed: bool,
    /// The server function's own encoding of its result or error,
    /// base64url.
    pub answer: String,
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

/// A `ServerAction` already holding the answer of the form post that led
/// to this page, if that post was to `S`.
pub fn form_action<S>() -> ServerAction<S>
where
    S: ServerFn + Clone + Send + Sync + 'static,
    S::Output: serde::de::DeserializeOwned + Send + Sync + 'static,
    S::Error: FromServerFnError + Send + Sync + 'static,
{
    let action = ServerAction::<S>::new();
    if let Some(answer) = carried_answer::<S>() {
        action.value().set(Some(answer));
    }
    action
}

fn carried_answer<S>() -> Option<Result<S::Output, S::Error>>
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
        if outcome.fn_path != S::PATH {
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
    }
}
