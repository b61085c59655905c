use leptos::prelude::*;

/// A progress bar with its figure; the figure is what counts, the bar is
/// for the eye.
#[component]
pub fn Bar(percent: i64, #[prop(optional)] testid: &'static str) -> impl IntoView {
    let done = percent >= 100;
    view! {
        <div class="bar" class:bar-done=done role="progressbar" aria-valuemin="0" aria-valuemax="100"
            aria-valuenow=percent data-testid=testid>
            <span class="bar-fill" style=format!("width:{percent}%")></span>
            <span class="bar-label">{percent} "%"</span>
        </div>
    }
}
