//! The worker's households from the phone's store: search, village filter,
//! and where each household stands.

use leptos::prelude::*;

use super::state::{DownloadStep, Field, HouseholdMark, short_time};
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
    let state = RwSignal::new(StateFilter::All);
    let unvisited_first = RwSignal::new(false);
    let rows = Memo::new(move |_| {
        let found = field.list.with(|r| {
            let Some(r) = r else { return Vec::new() };
            let v = village.get();
            r.search(&search.get(), (!v.is_empty()).then_some(v.as_str()))
                .into_iter()
                .cloned()
                .collect::<Vec<_>>()
        });
        let mut rows: Vec<_> = found
            .into_iter()
            .map(|h| (field.mark_of(h.id), h))
            .filter(|(mark, _)| state.get().keeps(mark))
            .collect();
        if unvisited_first.get() {
            // Stable: within each group the roster's own order stays.
            rows.sort_by_key(|(mark, _)| mark.visited());
        }
        rows.into_iter().map(|(_, h)| h).collect::<Vec<_>>()
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
            <select data-testid="field-village" aria-label=zh::VILLAGE on:change=move |ev| village.set(event_target_value(&ev))>
                <option value="">{zh::ALL_VILLAGES}</option>
                {move || villages().into_iter().map(|(code, name)| view! {
                    <option value=code.clone() selected=move || village.get() == code>{name}</option>
                }).collect_view()}
            </select>
            <select data-testid="field-state" aria-label=zh::VISIT_STATE
                on:change=move |ev| state.set(StateFilter::parse(&event_target_value(&ev)))>
                {StateFilter::ALL.into_iter().map(|f| view! {
                    <option value=f.as_str() selected=move || state.get() == f>{f.label()}</option>
                }).collect_view()}
            </select>
            <label class="check">
                <input type="checkbox" data-testid="field-unvisited-first"
                    prop:checked=move || unvisited_first.get()
                    on:change=move |ev| unvisited_first.set(event_target_checked(&ev))/>
                {zh::UNVISITED_FIRST}
            </label>
        </form>
        <p class="count" data-testid="field-count">{move || zh::households_count(rows.with(Vec::len))}</p>
        <ul class="list" data-testid="field-households">
            <For each=visible key=|h| h.id let:h>
                <li>
                    <a class="row" href=format!("/field?h={}", h.id) data-testid="field-household">
                        <span class="row-main">
                            <span class="row-title">{h.head_name.clone()}</span>
                            <span class="row-sub">
                                {h.village.name.clone()} " · " <span class="hh-number">{h.number.clone()}</span> " · " {h.category.label()}
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

/// Which households the list shows, by where their visit stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StateFilter {
    All,
    NotVisited,
    Flagged,
    Visited,
}

impl StateFilter {
    const ALL: [StateFilter; 4] = [
        StateFilter::All,
        StateFilter::NotVisited,
        StateFilter::Flagged,
        StateFilter::Visited,
    ];

    fn as_str(self) -> &'static str {
        match self {
            StateFilter::All => "all",
            StateFilter::NotVisited => "not_visited",
            StateFilter::Flagged => "flagged",
            StateFilter::Visited => "visited",
        }
    }

    fn parse(s: &str) -> StateFilter {
        StateFilter::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .unwrap_or(StateFilter::All)
    }

    fn label(self) -> &'static str {
        match self {
            StateFilter::All => zh::ALL_STATES,
            StateFilter::NotVisited => zh::NOT_YET_VISITED,
            StateFilter::Flagged => zh::FLAGGED,
            StateFilter::Visited => zh::VISITED,
        }
    }

    fn keeps(self, mark: &HouseholdMark) -> bool {
        match self {
            StateFilter::All => true,
            // A draft is begun, not done: still to visit.
            StateFilter::NotVisited => !mark.visited(),
            StateFilter::Flagged => {
                matches!(mark, HouseholdMark::Flagged | HouseholdMark::Problem)
            }
            StateFilter::Visited => mark.visited(),
        }
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
            HouseholdMark::Visited(code) => ("tag tag-green", format!("{} {code}", zh::VISITED)),
            HouseholdMark::Flagged => ("tag tag-red", zh::FLAGGED.to_owned()),
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
            {move || field.download.with(|d| d.busy.then(|| {
                let what = match d.step {
                    DownloadStep::Fetching => zh::DOWNLOAD_FETCHING,
                    DownloadStep::Saving => zh::DOWNLOAD_SAVING,
                };
                let fetching = d.step == DownloadStep::Fetching;
                let (received, total) = (d.received, d.total);
                // The amounts change with every chunk: outside the live
                // region, so a screen reader announces the step, not each chunk.
                view! {
                    <p class="download-progress" role="status" data-testid="download-progress">{what}</p>
                    <p class="download-progress download-amount" data-testid="download-amount">
                        {(fetching && (received > 0 || total.is_some()))
                            .then(|| zh::downloaded_bytes(received, total))}
                        {zh::seconds_so_far(d.seconds)}
                    </p>
                    {total.filter(|_| fetching).map(|total| view! {
                        <progress class="download-bar" aria-label=zh::DOWNLOAD_PROGRESS
                            max=total.max(1) value=received.min(total)></progress>
                    })}
                }
            }))}
            {move || field.download.with(|d| d.error.clone()).map(|e| view! {
                <p class="sync-error" role="alert">{e}</p>
            })}
        </section>
    }
}
