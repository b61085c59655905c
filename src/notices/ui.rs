//! `/areas/<village>/notice?year=YYYY`: the village's public notice as it
//! is printed (A4, `@media print`), with the posting form for the township.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::{AppFrame, ErrorNotice, Loading, anchor_for, form_action};
use crate::notices::api::{AddObjection, PostNotice, get_village_notice};
use crate::notices::{MAX_OBJECTION_DETAILS_CHARS, MIN_POSTING_DAYS, VillageNotice};
use crate::receipts::DisputeReason;
use crate::subsidies::Fen;
use crate::text::zh;

#[component]
pub fn NoticePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let post = form_action::<PostNotice>();
    let object = form_action::<AddObjection>();
    let notice = Resource::new(
        move || {
            (
                params.read().get("code").unwrap_or_default(),
                query.read().get("year").and_then(|y| y.parse::<i32>().ok()),
                post.version().get() + object.version().get(),
            )
        },
        |(code, year, _)| get_village_notice(code, year),
    );
    view! {
        <AppFrame>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match notice.await {
                        Ok(n) => Either::Left(view! { <NoticeView n post object/> }),
                        Err(e) => Either::Right(view! { <ErrorNotice error=e/> }),
                    }
                })}
            </Suspense>
        </AppFrame>
    }
}

#[component]
fn NoticeView(
    n: VillageNotice,
    post: ServerAction<PostNotice>,
    object: ServerAction<AddObjection>,
) -> impl IntoView {
    let total: i64 = n
        .rows
        .iter()
        .map(|r| r.received_fen)
        .fold(0, i64::saturating_add);
    let verified = n.rows.iter().filter(|r| r.verified).count();
    let households = n.rows.len();
    let refused = move || {
        post.value().get().and_then(Result::err).map(|e| {
            view! { <p class="notice notice-error" role="alert">{e.to_string()}</p> }
        })
    };
    let from_default = n.posting.as_ref().map_or(n.today, |p| p.from).to_string();
    let until_default = n
        .posting
        .as_ref()
        .map_or(
            n.today + chrono::Duration::days(MIN_POSTING_DAYS - 1),
            |p| p.until,
        )
        .to_string();
    let code = n.village.code.to_string();
    let (code2, stat_year, today, posted) =
        (code.clone(), n.stat_year, n.today, n.posting.is_some());
    view! {
        <div class="no-print notice-tools">
            <a href=format!("/households?village={code}") class="btn btn-small">"‹ " {n.village.name.clone()}</a>
            <button type="button" class="btn btn-primary" data-print data-testid="notice-print">{zh::NOTICE_PRINT}</button>
        </div>
        <article class="village-notice" data-testid="village-notice">
            <h1>{n.above.join("")} {n.village.name.clone()}</h1>
            <h2>{n.stat_year} {zh::YEAR_SUFFIX} {zh::NOTICE_TITLE}</h2>
            <p>{zh::NOTICE_INTRO}</p>
            <table class="notice-table" data-testid="notice-table">
                <thead>
                    <tr>
                        <th scope="col">{zh::NOTICE_NO}</th>
                        <th scope="col">{zh::RECEIPT_HOUSEHOLD}</th>
                        <th scope="col">{zh::NOTICE_FULL}</th>
                        <th scope="col">{zh::NOTICE_PART}</th>
                        <th scope="col">{zh::NOTICE_NONE}</th>
                        <th scope="col">{zh::NOTICE_TOTAL}</th>
                    </tr>
                </thead>
                <tbody>
                    {n.rows.into_iter().enumerate().map(|(i, r)| view! {
                        <tr>
                            <td>{i + 1}</td>
                            <td>{r.head}</td>
                            {if r.verified {
                                Either::Left(view! {
                                    <td>{r.full}</td>
                                    <td>{r.part}</td>
                                    <td>{r.not_received}</td>
                                    <td class="num">{Fen(r.received_fen).to_string()}</td>
                                })
                            } else {
                                Either::Right(view! { <td colspan="4" class="muted">{zh::NOTICE_NOT_YET}</td> })
                            }}
                        </tr>
                    }).collect_view()}
                </tbody>
                <tfoot>
                    <tr>
                        <td colspan="5">{zh::TOTAL} " · " {verified} " / " {households} " " {zh::NOTICE_VERIFIED}</td>
                        <td class="num">{Fen(total).to_string()}</td>
                    </tr>
                </tfoot>
            </table>
            <div class="notice-foot">
                <div>
                    {match &n.posting {
                        Some(p) => Either::Left(view! {
                            <p data-testid="notice-period">{zh::NOTICE_PERIOD} " " {p.from.to_string()} " 至 " {p.until.to_string()}</p>
                            <p>{zh::NOTICE_CONTACT} " " {p.phone.clone()}</p>
                        }),
                        None => Either::Right(view! { <p class="muted">{zh::NOTICE_NOT_POSTED}</p> }),
                    }}
                    <p>{zh::NOTICE_CHECK} " " <span class="mono">{n.receipt_url.clone()}</span></p>
                </div>
                <img class="notice-qr" src=n.qr_data_url alt=zh::NOTICE_QR width="120" height="120"/>
            </div>
            {(!n.objections.is_empty()).then(|| view! {
                <h3>{zh::NOTICE_OBJECTIONS}</h3>
                <ul data-testid="notice-objections">
                    {n.objections.into_iter().map(|o| view! {
                        <li>{o.on.to_string()} " · " {o.head} " · " {o.reason} " · " {match o.closed {
                            None => zh::OBJECTION_ENTERED,
                            Some(true) => zh::OBJECTION_CLOSED,
                            Some(false) => zh::OBJECTION_OPEN,
                        }}</li>
                    }).collect_view()}
                </ul>
            })}
        </article>
        <section class="card no-print" data-testid="notice-post">
            <h2>{zh::NOTICE_POST_TITLE}</h2>
            {refused}
            <ActionForm action=post attr:id=anchor_for(&post)>
                <input type="hidden" name="code" value=code/>
                <input type="hidden" name="stat_year" value=n.stat_year.to_string()/>
                <label class="field"><span>{zh::NOTICE_FROM}</span><input type="date" name="from" value=from_default required/></label>
                <label class="field"><span>{zh::NOTICE_UNTIL}</span><input type="date" name="until" value=until_default required/></label>
                <label class="field"><span>{zh::NOTICE_CONTACT}</span><input type="tel" name="phone" required maxlength="20" data-testid="notice-phone"/></label>
                <button type="submit" class="btn btn-block" data-testid="notice-save">{zh::NOTICE_SAVE}</button>
            </ActionForm>
        </section>
        {posted.then(|| view! { <ObjectionForm object code=code2 stat_year households=n.households today/> })}
    }
}

/// 登记异议: an objection the township received in person or by phone.
#[component]
fn ObjectionForm(
    object: ServerAction<AddObjection>,
    code: String,
    stat_year: i32,
    households: Vec<(uuid::Uuid, String)>,
    today: chrono::NaiveDate,
) -> impl IntoView {
    let refused = move || {
        object.value().get().and_then(Result::err).map(|e| {
            view! { <p class="notice notice-error" role="alert" data-testid="objection-error">{e.to_string()}</p> }
        })
    };
    view! {
        <section class="card no-print" data-testid="objection-form">
            <h2>{zh::OBJECTION_TITLE}</h2>
            <p class="muted">{zh::OBJECTION_HINT}</p>
            {refused}
            <ActionForm action=object attr:id=anchor_for(&object)>
                <input type="hidden" name="code" value=code/>
                <input type="hidden" name="stat_year" value=stat_year.to_string()/>
                <label class="field"><span>{zh::RECEIPT_HOUSEHOLD}</span>
                    <select name="household_id" required data-testid="objection-household">
                        {households.into_iter().map(|(id, label)| view! { <option value=id.to_string()>{label}</option> }).collect_view()}
                    </select>
                </label>
                <label class="field"><span>{zh::OBJECTION_REASON}</span>
                    <select name="reason" required data-testid="objection-reason">
                        {DisputeReason::ALL.into_iter().map(|r| view! { <option value=r.as_str()>{r.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label class="field"><span>{zh::OBJECTION_DETAILS}</span>
                    <textarea name="details" rows="3" maxlength=MAX_OBJECTION_DETAILS_CHARS.to_string() data-testid="objection-details"></textarea>
                </label>
                <label class="field"><span>{zh::OBJECTION_PHONE}</span><input type="tel" name="phone" maxlength="20"/></label>
                <label class="field"><span>{zh::OBJECTION_RECEIVED_ON}</span><input type="date" name="received_on" value=today.to_string() required data-testid="objection-on"/></label>
                <button type="submit" class="btn btn-block" data-testid="objection-save">{zh::OBJECTION_SAVE}</button>
            </ActionForm>
        </section>
    }
}
