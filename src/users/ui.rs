use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::components::{
    AppFrame, ErrorNotice, Loading, RowKey, anchor_for, form_action, form_action_at, row_anchor,
};
use crate::text::zh;
use crate::users::api::{CreateUser, SetUserActive, list_users};
use crate::users::{UserAdmin, UserSummary};

/// `/areas/:code/users`: the accounts of an area that the caller manages,
/// a form to create one, and a button to disable or re-enable each.
#[component]
pub fn UsersPage() -> impl IntoView {
    let params = use_params_map();
    let create = form_action::<CreateUser>();
    // Re-read after a successful creation only: a refused one keeps the
    // form as typed, for the person to correct the field named.
    let created = RwSignal::new(0u32);
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_))) {
            created.update(|n| *n += 1);
        }
    });
    let admin = Resource::new(
        move || (params.read().get("code").unwrap_or_default(), created.get()),
        |(code, _)| list_users(code),
    );
    view! {
        <AppFrame>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match admin.await {
                        Ok(a) => Either::Left(view! { <UsersView a create/> }),
                        Err(e) => Either::Right(view! { <ErrorNotice error=e/> }),
                    }
                })}
            </Suspense>
        </AppFrame>
    }
}

#[component]
fn UsersView(a: UserAdmin, create: ServerAction<CreateUser>) -> impl IntoView {
    let count = a.users.len();
    let name = a.area.name.clone();
    view! {
        <A href=format!("/areas/{}", a.area.code) attr:class="back">"‹ " {a.area.name}</A>
        <h1 class="page-title">{zh::USERS_TITLE}</h1>
        <p class="muted">{name} " · " {count} " 个" {zh::ACCOUNTS}</p>
        {(!a.roles.is_empty()).then(|| view! { <CreateForm action=create roles=a.roles areas=a.areas/> })}
        <h2>{zh::ACCOUNTS}</h2>
        {if a.users.is_empty() {
            Either::Left(view! { <p class="empty">{zh::NO_USERS}</p> })
        } else {
            Either::Right(view! {
                <ul class="list" data-testid="users">
                    {a.users.into_iter().map(|u| view! { <UserRow u/> }).collect_view()}
                </ul>
            })
        }}
    }
}

#[component]
fn UserRow(u: UserSummary) -> impl IntoView {
    let key = u.id.to_string();
    let toggle = form_action_at::<SetUserActive>(&key);
    let anchor = row_anchor::<SetUserActive>(&key);
    let toggle_error = move || match toggle.value().get() {
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    };
    let (label, class) = if u.active {
        (zh::DISABLE, "btn btn-small")
    } else {
        (zh::ENABLE, "btn btn-small btn-primary")
    };
    let username = u.username.clone();
    view! {
        <li class="row user-row" data-testid="user-row" data-username=username>
            <span class="row-main">
                <span class="row-title">
                    {u.display_name} " " <small class="row-size mono">{u.username}</small>
                    {(!u.active).then(|| view! { " " <span class="tag tag-red" data-testid="disabled-tag">{zh::WORKER_DISABLED}</span> })}
                </span>
                <span class="row-sub">
                    {u.role.label()} " · " {u.area.name}
                    {(u.role == crate::auth::Role::FieldWorker).then(|| format!(" · {}", zh::caseload(u.caseload)))}
                </span>
            </span>
            <span class="row-tags">
                <ActionForm action=toggle attr:class="inline-form" attr:id=anchor>
                    <RowKey key/>
                    <input type="hidden" name="user_id" value=u.id.to_string()/>
                    <input type="hidden" name="active" value=(!u.active).to_string()/>
                    <button type="submit" class=class data-testid="toggle-active">{label}</button>
                </ActionForm>
            </span>
            {move || toggle_error().map(|m| view! { <p class="notice notice-error row-notice" role="alert" data-testid="toggle-error">{m}</p> })}
        </li>
    }
}

#[component]
fn CreateForm(
    action: ServerAction<CreateUser>,
    roles: Vec<crate::auth::Role>,
    areas: Vec<crate::areas::Area>,
) -> impl IntoView {
    let outcome = move || match action.value().get() {
        Some(Ok(u)) => Some(Either::Left(view! {
            <p class="notice notice-ok" role="status" data-testid="create-ok">{zh::user_created(&u.display_name, &u.username)}</p>
        })),
        Some(Err(e)) => Some(Either::Right(view! {
            <p class="notice notice-error" role="alert" data-testid="create-error">{e.to_string()}</p>
        })),
        None => None,
    };
    view! {
        <section class="card create-user" data-testid="create-form" id=anchor_for(&action)>
            <h2>{zh::NEW_USER}</h2>
            <ActionForm action attr:class="form-grid">
                <label class="field">
                    <span>{zh::USERNAME}</span>
                    <input type="text" name="username" autocomplete="off" autocapitalize="none" required data-testid="new-username"/>
                </label>
                <label class="field">
                    <span>{zh::DISPLAY_NAME}</span>
                    <input type="text" name="display_name" autocomplete="off" required data-testid="new-display-name"/>
                </label>
                <label class="field">
                    <span>{zh::ROLE}</span>
                    <select name="role" data-testid="new-role">
                        {roles.into_iter().map(|r| view! { <option value=r.as_str()>{r.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label class="field">
                    <span>{zh::BOUND_AREA}</span>
                    <select name="area" data-testid="new-area">
                        {areas.into_iter().map(|a| {
                            let label = format!("{}（{}）", a.name, a.level().label());
                            view! { <option value=a.code.to_string()>{label}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label class="field">
                    <span>{zh::INITIAL_PASSWORD}</span>
                    <input type="password" name="password" autocomplete="new-password" minlength="10" maxlength="128" required data-testid="new-password"/>
                </label>
                <div class="form-end">
                    {outcome}
                    <button type="submit" class="btn btn-primary btn-block" data-testid="create-user"
                        disabled=move || action.pending().get()>{zh::CREATE_USER}</button>
                </div>
            </ActionForm>
        </section>
    }
}

/// The field workers one may assign to: name, where they are bound, and how
/// many households they already hold.
#[component]
pub fn WorkerSelect(workers: Vec<UserSummary>, testid: &'static str) -> impl IntoView {
    view! {
        <select name="worker_id" required aria-label=zh::WORKER data-testid=testid>
            <option value="">{zh::CHOOSE_WORKER}</option>
            {workers.into_iter().map(|w| {
                let label = format!("{}（{} · {}）", w.display_name, w.area.name, zh::caseload(w.caseload));
                view! { <option value=w.id.to_string()>{label}</option> }
            }).collect_view()}
        </select>
    }
}
