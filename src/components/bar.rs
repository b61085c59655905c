use leptos::prelude::*;

/// A progress bar with its figure; the figure is what counts, the bar is
/// for the eye.
///
/// The fill is an SVG rectangle whose width is an attribute, not a `style`:
/// the Content-Security-Policy allows no inline styles, and an SVG
/// presentation attribute is not one.
#[component]
pub fn Bar(
    percent: i64,
    /// What the bar measures, for screen readers (e.g. "张三 走访进度").
    #[prop(into)]
    label: String,
    #[prop(optional)] testid: &'static str,
) -> impl IntoView {
    let done = percent >= 100;
    let width = format!("{}%", percent.clamp(0, 100));
    view! {
        <div class="bar" class:bar-done=done role="progressbar" aria-label=label aria-valuemin="0" aria-valuemax="100"
            aria-valuenow=percent data-testid=testid>
            <svg class="bar-fill" aria-hidden="true">
                <rect x="0" y="0" width=width height="100%" rx="0.675rem"/>
            </svg>
            <span class="bar-label">{percent} "%"</span>
        </div>
    }
}
