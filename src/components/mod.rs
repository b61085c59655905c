//! Shared presentational pieces.

mod bar;
pub mod form_action;
mod layout;

pub use bar::Bar;
pub use form_action::{RowKey, anchor_for, form_action, form_action_at, row_anchor};
pub use layout::*;

/// The renderer itself must keep stored text inert wherever a page puts it:
/// these tests render through Leptos' server renderer (with the patch in
/// `vendor/tachys`), not through any one page.
#[cfg(all(test, feature = "ssr"))]
mod escaping_tests {
    use leptos::prelude::*;

    const HOSTILE: &str =
        "</textarea><img src=x onerror=alert(1)>&amp;</TEXTAREA ><script>alert(2)</script>";

    #[test]
    fn textarea_text_is_escaped_so_it_cannot_close_the_element() {
        let text = HOSTILE.to_owned();
        let html = view! { <textarea name="note">{text}</textarea> }.to_html();
        assert!(html.starts_with("<textarea name=\"note\">"), "{html}");
        assert!(html.ends_with("</textarea>"), "{html}");
        assert_eq!(html.matches("</textarea>").count(), 1, "{html}");
        assert!(
            !html.contains("<img") && !html.contains("<script"),
            "{html}"
        );
        // Character references are decoded inside <textarea>: `&` must be
        // escaped too, or `&amp;` typed by a user would show as `&`.
        assert!(html.contains("&amp;amp;"), "{html}");
    }

    #[test]
    fn every_other_element_escapes_text_too() {
        for html in [
            view! { <noscript>{HOSTILE.to_owned()}</noscript> }.to_html(),
            view! { <p>{HOSTILE.to_owned()}</p> }.to_html(),
            view! { <option>{HOSTILE.to_owned()}</option> }.to_html(),
            view! { <td>{HOSTILE}</td> }.to_html(),
        ] {
            assert!(
                !html.contains("<img") && !html.contains("<script"),
                "{html}"
            );
        }
    }

    #[test]
    fn raw_text_elements_cannot_be_closed_by_their_text() {
        let js =
            "var s = \"</script><img src=x onerror=alert(1)>\"; var t = '</SCRIPT >';".to_owned();
        let html = view! { <script>{js}</script> }.to_html();
        assert_eq!(
            html.to_ascii_lowercase().matches("</script").count(),
            1,
            "{html}"
        );
        assert!(html.contains(r#""<\/script><img"#), "{html}");
        let css = "p::after { content: \"</style><img src=x>\" }".to_owned();
        let html = view! { <style>{css}</style> }.to_html();
        assert_eq!(html.matches("</style").count(), 1, "{html}");
    }
}
