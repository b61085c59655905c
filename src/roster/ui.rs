use leptos::either::{Either, EitherOf3, EitherOf4};
use leptos::prelude::*;
use leptos_meta::Meta;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::auth::api::current_user;
use crate::components::{AppFrame, Bar, ErrorNotice, Forbidden, Loading};
use crate::roster::api::get_import_job;
use crate::roster::{
    IMPORT_PATH, ImportJob, ImportPhase, ImportReport, Problem, RosterKind, UPLOAD_PATH,
    may_import, template_href,
};
use crate::text::zh;

/// `/roster/import`: one upload form per roster, with its template and the
/// rules for each column. The forms post straight to the server (no
/// JavaScript needed) and land on the import's own page.
#[component]
pub fn ImportPage() -> impl IntoView {
    let user = Resource::new(|| (), |_| current_user());
    view! {
        <AppFrame>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(Some(actor)) if may_import(&actor) => {
                            let home = format!("/areas/{}", actor.area);
                            let area = actor.area_name;
                            let crumb = area.clone();
                            EitherOf4::A(view! {
                                <nav class="crumbs">
                                    <A href=home>{crumb}</A>
                                    <span class="sep">" › "</span>
                                </nav>
                                <h1 class="page-title">{zh::IMPORT_TITLE}</h1>
                                <p class="muted">{area} " · " {zh::IMPORT_INTRO}</p>
                                {RosterKind::ALL.map(|kind| view! { <ImportForm kind/> }).collect_view()}
                            })
                        }
                        Ok(Some(_)) => EitherOf4::B(view! { <Forbidden/> }),
                        Ok(None) => EitherOf4::C(view! { <ErrorNotice error=crate::error::AppError::Unauthorized/> }),
                        Err(e) => EitherOf4::D(view! { <ErrorNotice error=e/> }),
                    }
                })}
            </Suspense>
        </AppFrame>
    }
}

#[component]
fn ImportForm(kind: RosterKind) -> impl IntoView {
    let step = match kind {
        RosterKind::Households => zh::IMPORT_STEP_HOUSEHOLDS,
        RosterKind::Entitlements => zh::IMPORT_STEP_ENTITLEMENTS,
        RosterKind::Payouts => zh::IMPORT_STEP_PAYOUTS,
    };
    view! {
        <section class="card import-card" data-testid=format!("import-{}", kind.as_str())>
            <h2>{kind.label()}</h2>
            <p class="muted">{step}</p>
            <p class="template-links">
                {zh::IMPORT_TEMPLATES} " "
                <a href=template_href(kind, "xlsx") rel="external" download>{zh::TEMPLATE_XLSX}</a>
                " · "
                <a href=template_href(kind, "csv") rel="external" download>{zh::TEMPLATE_CSV}</a>
            </p>
            <form method="post" action=UPLOAD_PATH enctype="multipart/form-data" class="import-form">
                <input type="hidden" name="kind" value=kind.as_str()/>
                // The input is hidden behind a Chinese button: the browser's
                // own one speaks the browser's language. The chosen file's
                // name shows beside it (public/office.js).
                <label class="file-pick">
                    <input type="file" name="file" required class="file-input"
                        accept=".xlsx,.csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,text/csv"/>
                    <span class="btn file-button">{zh::IMPORT_CHOOSE_FILE}</span>
                    <span class="file-name" hidden data-none=zh::NO_FILE_CHOSEN>{zh::NO_FILE_CHOSEN}</span>
                </label>
                <button type="submit" class="btn btn-primary btn-block">{zh::IMPORT_SUBMIT}</button>
            </form>
            <details class="column-rules">
                <summary>{zh::IMPORT_COLUMN_RULES}</summary>
                <table class="rules">
                    <thead><tr><th>{zh::COLUMN}</th><th>{zh::RULE}</th></tr></thead>
                    <tbody>
                        {kind.columns().iter().map(|c| view! {
                            <tr>
                                <th scope="row">
                                    {c.header}
                                    {(!c.required).then_some(view! { <span class="muted">" " {zh::OPTIONAL}</span> })}
                                </th>
                                <td>{c.rule} <span class="muted">" " {zh::EXAMPLE} " " {c.example}</span></td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </details>
        </section>
    }
}

/// `/roster/import/<id>`: how an import is getting on, shown afresh every
/// second until it has finished (the page reloads itself, no script);
/// then what it wrote, or every problem it found.
#[component]
pub fn ImportJobPage() -> impl IntoView {
    let params = use_params_map();
    let job = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        get_import_job,
    );
    view! {
        <AppFrame>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match job.await {
                        Ok(Some(j)) => EitherOf3::A(view! { <JobView j/> }),
                        Ok(None) => EitherOf3::B(view! {
                            <div class="notice notice-error" role="alert" data-testid="import-unknown">
                                {zh::IMPORT_UNKNOWN}
                            </div>
                            <A href=IMPORT_PATH attr:class="btn">{zh::IMPORT_AGAIN}</A>
                        }),
                        Err(e) => EitherOf3::C(view! { <ErrorNotice error=e/> }),
                    }
                })}
            </Suspense>
        </AppFrame>
    }
}

#[component]
fn JobView(j: ImportJob) -> impl IntoView {
    let percent = i64::from(j.percent());
    let running = !j.phase.is_finished();
    let counts = matches!(j.phase, ImportPhase::Checking | ImportPhase::Writing)
        .then(|| format!("{} / {} {}", j.done, j.total, zh::ROWS));
    view! {
        <h1 class="page-title">{zh::IMPORT_TITLE} " · " {j.kind.label()}</h1>
        <p class="muted">{j.file.clone()} " · " {j.area_name.clone()}</p>
        <p class="import-phase" data-testid="import-phase" aria-live="polite">
            {j.phase.label()}
            {counts.map(|c| view! { <span class="muted">" " {c}</span> })}
            <span class="muted">" · " {format!("{:.1}", j.elapsed_ms as f64 / 1000.0)} " " {zh::SECONDS}</span>
        </p>
        {running.then(|| view! {
            <Meta http_equiv="refresh" content="1"/>
            <Bar percent label=zh::IMPORT_PROGRESS testid="import-progress"/>
        })}
        {match j.phase {
            ImportPhase::Done(report) => EitherOf4::A(view! {
                <Report report=report.clone()/>
                {(j.kind == RosterKind::Payouts).then(|| view! {
                    {(report.skipped > 0).then(|| view! {
                        <p class="muted" data-testid="import-skipped">
                            {zh::IMPORT_SKIPPED_BEFORE} " " <strong>{report.skipped}</strong> " " {zh::IMPORT_SKIPPED_AFTER}
                        </p>
                    })}
                    <A href=crate::reconciliation::reconciliation_href(&j.area_code)
                        attr:class="btn btn-primary btn-block" attr:data-testid="import-reconciliation">
                        {zh::RECON_SEE_RESULT}
                    </A>
                })}
            }),
            ImportPhase::Refused { problems, total } => EitherOf4::B(view! { <Problems problems total/> }),
            ImportPhase::Failed(message) => EitherOf4::C(view! {
                <div class="notice notice-error" role="alert">{message}</div>
            }),
            _ => EitherOf4::D(()),
        }}
        {(!running).then(|| view! {
            <A href=IMPORT_PATH attr:class="btn btn-block import-again" attr:data-testid="import-again">{zh::IMPORT_AGAIN}</A>
        })}
    }
}

#[component]
fn Report(report: ImportReport) -> impl IntoView {
    view! {
        <div class="notice notice-ok" role="status">{zh::IMPORT_DONE}</div>
        <div class="stats">
            <div class="stat"><span class="stat-n" data-testid="import-rows">{report.rows}</span><span>{zh::IMPORT_ROWS}</span></div>
            <div class="stat"><span class="stat-n" data-testid="import-added">{report.added}</span><span>{zh::IMPORT_ADDED}</span></div>
            <div class="stat"><span class="stat-n" data-testid="import-changed">{report.changed}</span><span>{zh::IMPORT_CHANGED}</span></div>
            <div class="stat"><span class="stat-n" data-testid="import-unchanged">{report.unchanged}</span><span>{zh::IMPORT_UNCHANGED}</span></div>
        </div>
    }
}

#[component]
fn Problems(problems: Vec<Problem>, total: u32) -> impl IntoView {
    let hidden = total as usize - problems.len().min(total as usize);
    let file = problems.first().map(|p| p.file.clone()).unwrap_or_default();
    view! {
        <div class="notice notice-error" role="alert" data-testid="import-refused">
            {zh::IMPORT_REFUSED_BEFORE} " " <strong data-testid="import-problem-count">{total}</strong> " " {zh::IMPORT_REFUSED_AFTER}
        </div>
        <div class="table-wrap">
            <table class="problems" data-testid="import-problems">
                <caption>{file}</caption>
                <thead><tr><th>{zh::ROW}</th><th>{zh::COLUMN}</th><th>{zh::PROBLEM}</th></tr></thead>
                <tbody>
                    {problems.into_iter().map(|p| view! {
                        <tr>
                            <td class="num">{if p.row > 0 { Either::Left(p.row) } else { Either::Right(zh::WHOLE_FILE) }}</td>
                            <td>{p.column}</td>
                            <td>{p.reason}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {(hidden > 0).then(|| view! { <p class="muted">{zh::IMPORT_MORE_PROBLEMS_BEFORE} " " {hidden} " " {zh::IMPORT_MORE_PROBLEMS_AFTER}</p> })}
    }
}
