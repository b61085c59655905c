//! The field app's own navigation between its screens, all on `/field`
//! and chosen by the query (`?h=…`, `?visit=…&step=sign`): the History
//! API and one signal. Leptos' router would do the same and weighs
//! several times more in the bundle every phone downloads; the app needs
//! no route matching, only the query.

use leptos::prelude::*;

use crate::field::ui::FIELD_PATH;

/// The query of the screen shown, `h=…&…` without the `?`.
#[derive(Clone, Copy)]
pub struct Nav {
    query: RwSignal<String>,
}

impl Nav {
    /// Starts from the address bar, follows back/forward, and turns taps
    /// on links within the app into screen changes without a page load.
    /// On the server the query stays empty: the shell it renders shows no
    /// screen (the app opens the phone's store first).
    pub fn provide() -> Nav {
        let nav = Nav {
            query: RwSignal::new(current_query()),
        };
        provide_context(nav);
        let _ = window_event_listener(leptos::ev::popstate, move |_| {
            nav.query.set(current_query())
        });
        let _ = window_event_listener(leptos::ev::click, move |ev| nav.follow(ev));
        nav
    }

    /// The value of `key` in the query, if present.
    pub fn get(&self, key: &str) -> Option<String> {
        self.query.with(|q| value_of(q, key))
    }

    /// Shows the screen of `url` (a `/field?…` address) as a new history
    /// entry, at the top of the page.
    pub fn go(&self, url: &str) {
        let window = window();
        if let Ok(history) = window.history() {
            let _ = history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(url));
        }
        self.query.set(
            url.split_once('?')
                .map(|(_, q)| q.to_owned())
                .unwrap_or_default(),
        );
        window.scroll_to_with_x_and_y(0.0, 0.0);
    }

    /// A plain tap on a link to `/field…` changes the screen; anything
    /// else (another page, a new tab, `rel="external"`, a download) is
    /// left to the browser.
    fn follow(&self, ev: leptos::ev::MouseEvent) {
        use wasm_bindgen::JsCast;
        if ev.default_prevented()
            || ev.button() != 0
            || ev.meta_key()
            || ev.ctrl_key()
            || ev.shift_key()
            || ev.alt_key()
        {
            return;
        }
        let Some(link) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|el| el.closest("a[href]").ok().flatten())
        else {
            return;
        };
        let external = link
            .get_attribute("rel")
            .is_some_and(|r| r.contains("external"));
        if external || link.has_attribute("download") || link.get_attribute("target").is_some() {
            return;
        }
        let Some(href) = link.get_attribute("href") else {
            return;
        };
        if href == FIELD_PATH || href.starts_with("/field?") {
            ev.prevent_default();
            self.go(&href);
        }
    }
}

pub fn use_nav() -> Nav {
    expect_context::<Nav>()
}

fn current_query() -> String {
    #[cfg(feature = "hydrate")]
    {
        window()
            .location()
            .search()
            .map(|s| s.trim_start_matches('?').to_owned())
            .unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        String::new()
    }
}

/// `key`'s value in a query string. The app's own values (UUIDs, `sign`)
/// need no decoding; anything encoded is simply not one of them.
fn value_of(query: &str, key: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::value_of;

    #[test]
    fn reads_the_apps_own_query() {
        let q = "visit=0190e3c1-7a2b-7c3d-8e4f-0a1b2c3d4e5f&step=sign";
        assert_eq!(value_of(q, "step").as_deref(), Some("sign"));
        assert_eq!(
            value_of(q, "visit").as_deref(),
            Some("0190e3c1-7a2b-7c3d-8e4f-0a1b2c3d4e5f")
        );
        assert_eq!(value_of(q, "h"), None);
        assert_eq!(value_of("", "h"), None);
        assert_eq!(value_of("h", "h").as_deref(), Some(""));
    }
}
