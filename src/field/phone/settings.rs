//! Small settings in localStorage: who uses the phone now, and how the
//! last sync went. Everything bigger lives in IndexedDB ([`super::store`]).

use chrono::{DateTime, Utc};
use gloo_storage::{LocalStorage, Storage};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Actor;

const USER_KEY: &str = "daohu.user";

/// The worker the phone's data is shown for; kept when offline so the app
/// opens without asking the server who is signed in.
pub fn phone_user() -> Option<Actor> {
    LocalStorage::get(USER_KEY).ok()
}

pub fn set_phone_user(actor: Option<&Actor>) {
    match actor {
        Some(a) => {
            let _ = LocalStorage::set(USER_KEY, a);
        }
        None => LocalStorage::delete(USER_KEY),
    }
}

/// How delivery last went, shown on the status line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncStatus {
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

fn sync_key(user: Uuid) -> String {
    format!("daohu.sync.{user}")
}

pub fn sync_status(user: Uuid) -> SyncStatus {
    LocalStorage::get(sync_key(user)).unwrap_or_default()
}

pub fn set_sync_status(user: Uuid, status: &SyncStatus) {
    let _ = LocalStorage::set(sync_key(user), status);
}

pub fn forget_sync_status(user: Uuid) {
    LocalStorage::delete(sync_key(user));
}
