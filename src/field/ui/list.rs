//! The worker's households from the phone's store: search, village filter,
//! and where each household stands.

use leptos::prelude::*;

use super::state::{Field, HouseholdMark, short_time};
use crate::field::phone::device;
use crate::income::ui::FlagBadges;
use crate::text::zh;

/// More rows than a phone screen holds.
const FIRST_PAINT_ROWS: usize = 30;

#[component]
pub fn ListScreen() -> impl IntoView {
    let field = expect_context::<Field>();
    let search = RwSignal::new(String::new());
    let village = RwSignal::new(String::new());
    let villages = move || {
        field
            .list
            .with(|r| r.as_ref().map(|r| r.villages()).unwrap_or_default())
    };
    let rows = Memo::new(move |_| {
        field.list.with(|r| {
            let Some(r) = r else { return Vec::new() };
            let v = village.get();
            r.search(&search.get(), (!v.is_empty()).then_some(v.as_str()))
                .into_iter()
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    // The first screenful paints at once, the rest a frame later: a
    // caseload of hundreds opens as fast as one of thirty.
    let shown = RwSignal::new(FIRST_PAINT_ROWS);
    let visible = move || rows.with(|r| r.iter().take(shown.get()).cloned().collect::<Vec<_>>());
    Effect::new(move |_| {
        if !rows.with(Vec::is_empty) && shown.get_untracked() == FIRST_PAINT_ROWS {
            // The phone benchmark times this from navigation start.
            device::mark("daohu:list-ready");
            request_animation_frame(move || shown.set(usize::MAX));
        }
    });
    view! {
        <DownloadLine/>
        <form class="search" on:submit=|ev| ev.prevent_default()>
            <input type="search" data-testid="field-search"
                placeholder=zh::SEARCH_PLACEHOLDER
                prop:value=move || search.get()
                on:input=move |ev| search.set(event_target_value(&ev))/>
            <select data-testid="field-village" on:change=move |ev| village.set(event_target_value(&ev))>
                <option value="">{zh::ALL_VILLAGES}</option>
                {move || villages().into_iter().map(|(code, name)| view! {
                    <option value=code.clone() selected=move || village.get() == code>{name}</option>
                }).collect_view()}
            </select>
        </form>
        <p class="count" data-testid="field-count">{move || zh::households_count(rows.with(Vec::len))}</p>
        <ul class="list" data-testid="field-households">
            <For each=visible key=|h| h.id let:h>
                <li>
                    <a class="row" href=format!("/field?h={}", h.id) data-testid="field-household">
                        <span class="row-main">
                            <span class="row-title">{h.head_name.clone()}</span>
                            <span class="row-sub">
                                {h.village.name.clone()} " · " {h.number.clone()} " · " {h.category.label()}
                                {h.relocated.then_some(" · 易地搬迁")}
                            </span>
                            <FlagBadges flags=h.flags/>
                        </span>
                        <span class="row-tags"><Mark id=h.id/></span>
                    </a>
                </li>
            </For>
        </ul>
    }
}

/// The household's state on this phone, as a badge.
#[component]
fn Mark(id: uuid::Uuid) -> impl IntoView {
    let field = expect_context::<Field>();
    move || {
        let (class, text) = match field.mark_of(id) {
            HouseholdMark::NotVisited => ("tag tag-blue", zh::NOT_VISITED.to_owned()),
            HouseholdMark::Draft => ("tag tag-amber", zh::DRAFT.to_owned()),
            HouseholdMark::Waiting => ("tag tag-amber", zh::WAITING.to_owned()),
            HouseholdMark::Problem => ("tag tag-red", zh::RETURNED.to_owned()),
            HouseholdMark::Delivered(code) => {
                ("tag tag-green", format!("{} {code}", zh::DELIVERED))
            }
        };
        view! { <span class=class data-testid="mark">{text}</span> }
    }
}

/// When the households were downloaded, and a way to download again.
#[component]
fn DownloadLine() -> impl IntoView {
    let field = expect_context::<Field>();
    view! {
        <section class="download" data-testid="download-line">
            <span data-testid="downloaded-at">
                {move || field.list.with(|r| match r {
                    Some(r) => zh::downloaded(r.households.len(), &short_time(r.downloaded_at)),
                    None => zh::NOT_DOWNLOADED.to_owned(),
                })}
                {move || field.download.with(|d| d.took_ms).map(|ms| format!("（{}）", zh::took_seconds(ms)))}
            </span>
            <button type="button" class="btn btn-small" data-testid="download"
                disabled=move || field.download.with(|d| d.busy)
                on:click=move |_| field.download_roster()>
                {move || if field.download.with(|d| d.busy) { zh::DOWNLOADING } else { zh::DOWNLOAD }}
            </button>
            {move || field.download.with(|d| d.error.clone()).map(|e| view! {
                <p class="sync-error" role="alert">{e}</p>
            })}
        </section>
    }
}
