//! A refused office form comes back as it was typed, with or without
//! script: the page shown after the refusal is rewritten so that the form
//! that was sent holds the values it sent (`server::form_outcome` carries
//! them across the redirect). Done on the page's HTML rather than in each
//! form's view, so every form, present and future, gets it.
//!
//! Passwords are never carried; hidden fields, files and buttons are left
//! as the page renders them (they carry ids and choices the page owns).

use std::borrow::Cow;

use lol_html::html_content::{ContentType, Element};
use lol_html::{ElementContentHandlers, RewriteStrSettings, Selector, rewrite_str};

/// What was posted, field by field, in the order sent.
pub type Typed = Vec<(String, String)>;

/// Whether a posted field may travel back to the browser in a cookie.
pub fn may_carry(name: &str) -> bool {
    !name.to_ascii_lowercase().contains("password")
}

/// `html` with the form matched by `scope` (a CSS selector: the form, or
/// an element holding it) showing `typed`. `None` if nothing could be
/// rewritten safely; the page is then shown as rendered.
pub fn refill(html: &str, scope: &str, typed: &Typed) -> Option<String> {
    let names: Vec<&str> = {
        let mut n: Vec<&str> = typed
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| selectable(k))
            .collect();
        n.sort_unstable();
        n.dedup();
        n
    };
    let values_of = |name: &str| -> Vec<String> {
        typed
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let mut handlers: Vec<(Cow<'_, Selector>, ElementContentHandlers<'_>)> = Vec::new();
    // Every checkbox of the form: an unticked one is not posted at all, so
    // its absence is what says it was unticked.
    handlers.push(handler(
        &format!("{scope} input[type=\"checkbox\"]"),
        move |el: &mut Element| {
            let name = el.get_attribute("name").unwrap_or_default();
            let value = el.get_attribute("value").unwrap_or_else(|| "on".into());
            let ticked = typed.iter().any(|(k, v)| *k == name && *v == value);
            if ticked {
                let _ = el.set_attribute("checked", "");
            } else {
                el.remove_attribute("checked");
            }
        },
    )?);
    for name in names {
        let values = values_of(name);
        let first = values.first().cloned().unwrap_or_default();
        let text = first.clone();
        let radio_values = values.clone();
        handlers.push(handler(
            &format!("{scope} input[name=\"{name}\"]"),
            move |el: &mut Element| {
                let kind = el
                    .get_attribute("type")
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                match kind.as_str() {
                    "hidden" | "password" | "file" | "submit" | "button" | "reset" | "image"
                    | "checkbox" => {}
                    "radio" => {
                        let value = el.get_attribute("value").unwrap_or_else(|| "on".into());
                        if radio_values.contains(&value) {
                            let _ = el.set_attribute("checked", "");
                        } else {
                            el.remove_attribute("checked");
                        }
                    }
                    _ => {
                        let _ = el.set_attribute("value", &attribute_text(&first));
                    }
                }
            },
        )?);
        handlers.push(handler(
            &format!("{scope} textarea[name=\"{name}\"]"),
            move |el: &mut Element| el.set_inner_content(&text, ContentType::Text),
        )?);
        handlers.push(handler(
            &format!("{scope} select[name=\"{name}\"] option"),
            move |el: &mut Element| {
                let Some(value) = el.get_attribute("value") else {
                    return;
                };
                if values.contains(&value) {
                    let _ = el.set_attribute("selected", "");
                } else {
                    el.remove_attribute("selected");
                }
            },
        )?);
    }
    let settings = handlers
        .into_iter()
        .fold(RewriteStrSettings::new(), |s, h| {
            s.append_element_content_handler(h)
        });
    rewrite_str(html, settings).ok()
}

fn handler<'h>(
    selector: &str,
    mut f: impl FnMut(&mut Element) + 'h,
) -> Option<(Cow<'static, Selector>, ElementContentHandlers<'h>)> {
    let selector: Selector = selector.parse().ok()?;
    Some((
        Cow::Owned(selector),
        ElementContentHandlers::default().element(move |el: &mut Element| {
            f(el);
            Ok(())
        }),
    ))
}

/// A field name that can stand in a quoted selector: the forms' own names
/// (`comment`, `items[0].note`) qualify; anything else a hostile post
/// might send is simply not put back.
fn selectable(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && may_carry(name)
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.[]".contains(c))
}

/// lol_html escapes `"` in an attribute value but not `&`, which would
/// otherwise start a character reference: `&amp;` typed must come back as
/// typed.
fn attribute_text(value: &str) -> String {
    value.replace('&', "&amp;")
}

/// A selector for the one form posting to `fn_path`, if the path is one a
/// selector can hold.
pub fn form_posting_to(fn_path: &str) -> Option<String> {
    fn_path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/_-".contains(c))
        .then(|| format!("form[action=\"{fn_path}\"]"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(pairs: &[(&str, &str)]) -> Typed {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const PAGE: &str = r#"<form action="/api/a"><input type="text" name="note" value="old"><input type="hidden" name="id" value="7"><input type="password" name="password"><textarea name="comment">was</textarea><select name="state"><option value="x" selected>X</option><option value="y">Y</option></select><input type="checkbox" name="ok" checked><input type="radio" name="r" value="1" checked><input type="radio" name="r" value="2"></form><form action="/api/b"><input type="text" name="note" value="other"></form>"#;

    #[test]
    fn the_sent_form_shows_what_was_typed_and_no_other_form_changes() {
        let out = refill(
            PAGE,
            &form_posting_to("/api/a").unwrap(),
            &typed(&[
                ("note", "新的 \"值\" & <b>"),
                ("id", "666"),
                ("password", "secret"),
                ("comment", "</textarea><script>alert(1)</script>&amp;"),
                ("state", "y"),
                ("r", "2"),
            ]),
        )
        .unwrap();
        assert!(
            out.contains(r#"name="note" value="新的 &quot;值&quot; &amp; <b>""#),
            "{out}"
        );
        assert!(out.contains(r#"name="id" value="7""#), "hidden kept: {out}");
        assert!(!out.contains("secret"), "{out}");
        assert!(
            out.contains(
                "<textarea name=\"comment\">&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;amp;</textarea>"
            ),
            "{out}"
        );
        assert!(
            out.contains(r#"<option value="x">X</option><option value="y" selected="">"#),
            "{out}"
        );
        assert!(
            out.contains(r#"<input type="checkbox" name="ok">"#),
            "unticked: {out}"
        );
        assert!(
            out.contains(r#"<input type="radio" name="r" value="1"><input type="radio" name="r" value="2" checked="">"#),
            "{out}"
        );
        assert!(
            out.contains(r#"<form action="/api/b"><input type="text" name="note" value="other">"#),
            "{out}"
        );
    }

    #[test]
    fn hostile_names_and_paths_rewrite_nothing() {
        assert_eq!(form_posting_to("/api/a\"] *, [x=\""), None);
        let out = refill(
            PAGE,
            &form_posting_to("/api/a").unwrap(),
            &typed(&[("note\"], input[name=\"id", "x"), ("ok", "on")]),
        )
        .unwrap();
        assert!(out.contains(r#"name="note" value="old""#), "{out}");
        assert!(out.contains(r#"name="id" value="7""#), "{out}");
        assert!(out.contains(r#"name="ok" checked"#), "{out}");
    }
}
