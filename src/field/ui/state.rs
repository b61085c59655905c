//! The field app's state: what the phone holds for its current worker, and
//! the actions that change it. Every change is written to the phone's
//! store first and shown second, so what the worker sees is what survives
//! a reload.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

use crate::auth::{Actor, CURRENT_USER_PATH, Role, SIGN_OUT_PATH};
use crate::field::phone::delivery::{self, backoff_ms};
use crate::field::phone::device;
use crate::field::phone::net::{self, NetError};
use crate::field::phone::settings::{self, SyncStatus};
use crate::field::phone::store::{self, Delivered, Waiting};
use crate::field::{Roster, RosterList, VisitDraft};
use crate::sync::{ROSTER_LENGTH_HEADER, ROSTER_PATH};
use crate::visits::VisitSubmission;

/// A roster older than this is downloaded again when the server is reachable.
const ROSTER_MAX_AGE_HOURS: i64 = 24;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Reading the phone's store (the server-rendered shell shows this).
    Opening,
    /// Nobody to show data for: sign in online first.
    NeedsSignIn(&'static str),
    /// Signed in as someone the field app is not for.
    NotAFieldWorker,
    Ready,
    Failed(String),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DownloadState {
    pub busy: bool,
    /// While busy: what is being done now, for the line that says so.
    pub step: DownloadStep,
    /// Seconds since the download began, ticking while busy.
    pub seconds: u32,
    /// While fetching: bytes received, and of how many when the server said.
    pub received: u64,
    pub total: Option<u64>,
    pub error: Option<String>,
    /// How long the last download took, in milliseconds.
    pub took_ms: Option<u32>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DownloadStep {
    /// Waiting for the server's list of households (the slow part on a
    /// weak link).
    #[default]
    Fetching,
    /// Writing it into the phone's store.
    Saving,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncState {
    pub busy: bool,
    pub status: SyncStatus,
    /// Retries since the last success; decides the next wait.
    pub attempt: u32,
}

/// Shared by every view of the field app (provided as context).
#[derive(Clone, Copy)]
pub struct Field {
    pub phase: RwSignal<Phase>,
    pub user: RwSignal<Option<Actor>>,
    /// The household list, read first when the app opens.
    pub list: RwSignal<Option<Arc<RosterList>>>,
    /// The whole roster (members, expected payments), read right after.
    pub roster: RwSignal<Option<Arc<Roster>>>,
    pub drafts: RwSignal<Vec<VisitDraft>>,
    /// What waits to be delivered, as summaries (see [`store::waiting`]).
    pub outbox: RwSignal<Vec<Waiting>>,
    pub delivered: RwSignal<Vec<Delivered>>,
    pub download: RwSignal<DownloadState>,
    pub sync: RwSignal<SyncState>,
    /// Bumped to cancel a scheduled retry when a newer round starts.
    retry_generation: StoredValue<u64>,
}

/// Where a household stands on this phone, for the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HouseholdMark {
    NotVisited,
    Draft,
    Waiting,
    /// The server sent a visit back (this phone's outbox).
    Problem,
    /// Delivered from this phone: its receipt code.
    Delivered(String),
    /// The server holds a visit of this year (from any phone).
    Visited(String),
    /// A supervisor marked the year's visit 有问题, or a payment it
    /// verified is still open as a discrepancy.
    Flagged,
}

impl HouseholdMark {
    pub fn visited(&self) -> bool {
        matches!(
            self,
            HouseholdMark::Waiting
                | HouseholdMark::Problem
                | HouseholdMark::Delivered(_)
                | HouseholdMark::Visited(_)
                | HouseholdMark::Flagged
        )
    }
}

impl Field {
    pub fn new() -> Field {
        Field {
            phase: RwSignal::new(Phase::Opening),
            user: RwSignal::new(None),
            list: RwSignal::new(None),
            roster: RwSignal::new(None),
            drafts: RwSignal::new(Vec::new()),
            outbox: RwSignal::new(Vec::new()),
            delivered: RwSignal::new(Vec::new()),
            download: RwSignal::new(DownloadState::default()),
            sync: RwSignal::new(SyncState::default()),
            retry_generation: StoredValue::new(0),
        }
    }

    pub fn user_id(&self) -> Option<Uuid> {
        self.user.get_untracked().map(|u| u.user_id)
    }

    /// Opens the app from the phone's own store, then checks with the
    /// server (if reachable) who is signed in. Local data first: with no
    /// network, the list shows without waiting for a request to fail.
    pub fn open(self) {
        device::mark("daohu:app-start");
        device::register_service_worker();
        device::keep_storage();
        spawn_local(async move {
            if let Some(local) = settings::phone_user() {
                self.show(local).await;
            }
            let answer = net::call_server_fn(CURRENT_USER_PATH)
                .await
                .and_then(|text| {
                    serde_json::from_str::<Option<Actor>>(&text).map_err(|_| NetError::Offline)
                });
            match answer {
                Ok(Some(actor)) => self.signed_in_as(actor).await,
                Ok(None) => {
                    // The server answered: there is no session. Pending
                    // visits stay in the store for when this worker is back.
                    self.user.set(None);
                    self.phase.set(Phase::NeedsSignIn("登录已失效，请重新登录"));
                }
                Err(_) => {
                    if self.user.get_untracked().is_none() {
                        self.phase
                            .set(Phase::NeedsSignIn("本手机还没有离线数据，请先联网登录"));
                    } else {
                        // No answer is not "signed out": the visits
                        // waiting on this phone are tried now and then
                        // again with backoff until the server answers.
                        self.sync_now();
                    }
                }
            }
        });
        // Any sign that the network or the worker is back tries again at
        // once (a scheduled retry may be minutes away).
        let _ = window_event_listener(leptos::ev::online, move |_| self.sync_now());
        let _ = window_event_listener(leptos::ev::visibilitychange, move |_| {
            if !document().hidden() && self.outbox.with_untracked(Vec::len) > 0 {
                self.sync_now();
            }
        });
    }

    async fn signed_in_as(self, actor: Actor) {
        if actor.role != Role::FieldWorker {
            self.phase.set(Phase::NotAFieldWorker);
            return;
        }
        let previous = settings::phone_user();
        if let Some(prev) = previous.as_ref().filter(|p| p.user_id != actor.user_id) {
            // Another worker used this phone: their data leaves the phone
            // unless visits of theirs still wait (`forget` refuses then).
            if store::forget(prev.user_id).await.is_ok() {
                settings::forget_sync_status(prev.user_id);
            }
        }
        settings::set_phone_user(Some(&actor));
        if previous.as_ref().map(|p| p.user_id) != Some(actor.user_id)
            || self.phase.get_untracked() != Phase::Ready
        {
            self.show(actor).await;
        }
        // Downloaded on first sign-in, and again when a day old, so new
        // assignments and payments reach the phone without a button.
        let stale = self.list.with_untracked(|r| {
            r.as_ref().is_none_or(|r| {
                Utc::now() - r.downloaded_at > chrono::Duration::hours(ROSTER_MAX_AGE_HOURS)
            })
        });
        if stale {
            self.download_roster();
        }
        self.sync_now();
    }

    /// Loads everything of one worker from the store into view.
    async fn show(self, actor: Actor) {
        let id = actor.user_id;
        // The list first (small), so it paints at once; then the whole
        // roster, which a household's page and a visit need.
        let loaded = store::opening(id).await;
        device::mark("daohu:store-read");
        match loaded {
            Ok((list, drafts, outbox, delivered)) => {
                self.user.set(Some(actor));
                self.list.set(list.map(Arc::new));
                self.drafts.set(drafts);
                self.outbox.set(outbox);
                self.delivered.set(delivered);
                self.sync.update(|s| s.status = settings::sync_status(id));
                self.phase.set(Phase::Ready);
            }
            Err(e) => return self.phase.set(Phase::Failed(e.to_string())),
        }
        match store::roster(id).await {
            Ok(roster) => self.roster.set(roster.map(Arc::new)),
            Err(e) => self.phase.set(Phase::Failed(e.to_string())),
        }
    }

    /// Downloads the worker's households and replaces the phone's copy.
    pub fn download_roster(self) {
        if self.download.get_untracked().busy {
            return;
        }
        self.download.update(|d| {
            d.busy = true;
            d.step = DownloadStep::Fetching;
            d.seconds = 0;
            d.received = 0;
            d.total = None;
            d.error = None;
        });
        self.tick_download();
        spawn_local(async move {
            let started = js_sys::Date::now();
            let result = async {
                let text = net::download(ROSTER_PATH, ROSTER_LENGTH_HEADER, |received, total| {
                    self.download.update(|d| {
                        d.received = received;
                        d.total = total;
                    })
                })
                .await
                .map_err(|e| e.to_string())?;
                self.download.update(|d| d.step = DownloadStep::Saving);
                let roster: Roster =
                    serde_json::from_str(&text).map_err(|_| "下载的数据无法识别".to_owned())?;
                if Some(roster.user_id) != self.user_id() {
                    return Err("下载的数据不属于当前用户".to_owned());
                }
                store::save_roster(&roster)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(roster)
            }
            .await;
            let took = (js_sys::Date::now() - started).max(0.0) as u32;
            match result {
                Ok(roster) => {
                    self.list.set(Some(Arc::new(roster.list())));
                    self.roster.set(Some(Arc::new(roster)));
                    self.download.set(DownloadState {
                        took_ms: Some(took),
                        ..DownloadState::default()
                    });
                }
                Err(e) => self.download.update(|d| {
                    d.busy = false;
                    d.error = Some(e);
                }),
            }
        });
    }

    /// Counts the seconds of a download in view, so a slow first download
    /// on one bar of signal visibly goes on.
    fn tick_download(self) {
        set_timeout(
            move || {
                if self.download.with_untracked(|d| d.busy) {
                    self.download.update(|d| d.seconds += 1);
                    self.tick_download();
                }
            },
            Duration::from_secs(1),
        );
    }

    /// Delivers the outbox now; on failure, retries later with backoff.
    pub fn sync_now(self) {
        let Some(user) = self.user_id() else {
            return;
        };
        if self.sync.get_untracked().busy {
            return;
        }
        self.retry_generation.update_value(|g| *g += 1);
        self.sync.update(|s| s.busy = true);
        spawn_local(async move {
            let round = delivery::deliver(user).await;
            let (outbox, delivered) = (store::waiting(user).await, store::delivered(user).await);
            if let (Ok(o), Ok(d)) = (outbox, delivered) {
                self.outbox.set(o);
                self.delivered.set(d);
            }
            let mut retry = false;
            self.sync.update(|s| {
                s.busy = false;
                match &round {
                    Ok(r) => match &r.stopped {
                        None => {
                            s.status.last_success = Some(Utc::now());
                            s.status.last_error = (r.refused > 0)
                                .then(|| format!("{} 条走访被服务器退回，见下方说明", r.refused));
                            s.attempt = 0;
                        }
                        Some(e) => {
                            s.status.last_error = Some(e.to_string());
                            s.attempt += 1;
                            retry = *e != NetError::SignedOut;
                        }
                    },
                    Err(e) => s.status.last_error = Some(e.to_string()),
                }
                settings::set_sync_status(user, &s.status);
            });
            if retry {
                self.schedule_retry();
            }
        });
    }

    fn schedule_retry(self) {
        let attempt = self.sync.get_untracked().attempt;
        let generation = self.retry_generation.get_value();
        let wait = backoff_ms(attempt, js_sys::Math::random());
        set_timeout(
            move || {
                if self.retry_generation.get_value() == generation {
                    self.sync_now();
                }
            },
            Duration::from_millis(wait.into()),
        );
    }

    /// Saves a draft to the phone and into view.
    pub fn save_draft(self, draft: VisitDraft) {
        self.drafts
            .update(|all| match all.iter_mut().find(|d| d.id == draft.id) {
                Some(d) => *d = draft.clone(),
                None => all.push(draft.clone()),
            });
        spawn_local(async move {
            if let Err(e) = store::save_draft(&draft).await {
                self.phase.set(Phase::Failed(e.to_string()));
            }
        });
    }

    /// Moves a finished visit into the outbox and starts delivering.
    pub async fn queue(self, visit: VisitSubmission) -> Result<(), String> {
        let user = self.user_id().ok_or("未登录")?;
        store::queue(user, &visit, Utc::now())
            .await
            .map_err(|e| e.to_string())?;
        self.drafts.update(|all| all.retain(|d| d.id != visit.id));
        if let Ok(o) = store::waiting(user).await {
            self.outbox.set(o);
        }
        // The next visit on this phone starts from what this one recorded.
        // Best effort: the next download brings the server's copy anyway.
        if let Some(mut roster) = self.roster.get_untracked().map(|r| (*r).clone()) {
            roster.absorb(&visit);
            if store::save_roster(&roster).await.is_ok() {
                self.roster.set(Some(Arc::new(roster)));
            }
        }
        self.sync_now();
        Ok(())
    }

    /// How many visits of this worker have not reached the server yet.
    pub fn undelivered(&self) -> usize {
        self.outbox.with(Vec::len) + self.drafts.with(Vec::len)
    }

    /// Signs out. Personal data leaves the phone only when nothing of the
    /// worker's is undelivered; otherwise it stays until they are back.
    pub async fn sign_out(self) {
        let Some(user) = self.user_id() else {
            return;
        };
        if store::forget(user).await.is_ok() {
            settings::forget_sync_status(user);
        }
        settings::set_phone_user(None);
        self.user.set(None);
        self.list.set(None);
        self.roster.set(None);
        self.drafts.set(Vec::new());
        self.outbox.set(Vec::new());
        self.delivered.set(Vec::new());
        self.phase.set(Phase::NeedsSignIn("已退出登录"));
        // Last: the server ends the session; then the sign-in page.
        let _ = net::call_server_fn(SIGN_OUT_PATH).await;
        let _ = window().location().assign("/login");
    }

    pub fn mark_of(&self, household: Uuid) -> HouseholdMark {
        if self.outbox.with(|o| {
            o.iter()
                .any(|e| e.household_id == household && e.problem.is_some())
        }) {
            return HouseholdMark::Problem;
        }
        if self
            .outbox
            .with(|o| o.iter().any(|e| e.household_id == household))
        {
            return HouseholdMark::Waiting;
        }
        if self
            .drafts
            .with(|d| d.iter().any(|d| d.household_id == household))
        {
            return HouseholdMark::Draft;
        }
        let server = self.list.with(|l| {
            l.as_ref()
                .and_then(|l| l.server_visit(household))
                .map(|v| (v.has_problem(), v.receipt_code.clone()))
        });
        if let Some((true, _)) = server {
            return HouseholdMark::Flagged;
        }
        let here = self.delivered.with(|d| {
            d.iter()
                .filter(|d| d.household_id == household)
                .max_by_key(|d| d.started_at)
                .map(|d| d.receipt_code.clone())
        });
        match (here, server) {
            (Some(code), _) => HouseholdMark::Delivered(code),
            (None, Some((_, code))) => HouseholdMark::Visited(code),
            (None, None) => HouseholdMark::NotVisited,
        }
    }
}

impl Default for Field {
    fn default() -> Self {
        Field::new()
    }
}

/// `11-28 14:05`, China time.
pub fn short_time(at: DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    // By hand, not `format`: chrono's format strings would bring their
    // parser into the phone's bundle.
    let t = crate::subsidies::china_time(at);
    format!(
        "{:02}-{:02} {:02}:{:02}",
        t.month(),
        t.day(),
        t.hour(),
        t.minute()
    )
}
