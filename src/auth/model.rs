use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::areas::{AreaCode, AreaLevel};

/// What a user does, which decides the pages they get and the level of area
/// they are bound to. Declared from the field up: a role outranks every role
/// before it (the order users may be created and disabled in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Role {
    FieldWorker,
    TownshipSupervisor,
    CountyAdmin,
    CityAdmin,
    ProvinceAdmin,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::FieldWorker,
        Role::TownshipSupervisor,
        Role::CountyAdmin,
        Role::CityAdmin,
        Role::ProvinceAdmin,
    ];

    /// Stable name used in the database and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::FieldWorker => "field_worker",
            Role::TownshipSupervisor => "township_supervisor",
            Role::CountyAdmin => "county_admin",
            Role::CityAdmin => "city_admin",
            Role::ProvinceAdmin => "province_admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::FieldWorker => "帮扶干部",
            Role::TownshipSupervisor => "乡镇督导",
            Role::CountyAdmin => "县级管理员",
            Role::CityAdmin => "市级管理员",
            Role::ProvinceAdmin => "省级管理员",
        }
    }

    /// The area levels a user of this role may be bound to. A field worker
    /// belongs to a village or a township (township-based work teams).
    pub fn allows_area_level(self, level: AreaLevel) -> bool {
        match self {
            Role::FieldWorker => matches!(level, AreaLevel::Village | AreaLevel::Township),
            Role::TownshipSupervisor => level == AreaLevel::Township,
            Role::CountyAdmin => level == AreaLevel::County,
            Role::CityAdmin => level == AreaLevel::City,
            Role::ProvinceAdmin => level == AreaLevel::Province,
        }
    }
}

/// The signed-in user as every server function sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub user_id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub area: AreaCode,
    pub area_name: String,
}

impl Actor {
    /// The page a user lands on after signing in.
    pub fn home_path(&self) -> String {
        match self.role {
            Role::FieldWorker => "/field".to_owned(),
            _ => format!("/areas/{}", self.area),
        }
    }

    /// Whether this user oversees `area`: anyone above the field whose own
    /// node holds it (area pages, reports, visit review).
    pub fn supervises(&self, area: &AreaCode) -> bool {
        self.role != Role::FieldWorker && self.area.contains(area)
    }

    /// Whether this user may create, disable and re-enable a user of `role`
    /// bound to `area`: a role strictly below their own, inside their node.
    /// A township supervisor thus manages the field workers of their
    /// township, a county admin everyone below them in the county.
    pub fn manages(&self, role: Role, area: &AreaCode) -> bool {
        role < self.role && self.supervises(area)
    }
}

/// One of the caller's own live sessions, as their account page lists it
/// (times in China time, `YYYY-MM-DD HH:MM`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    pub signed_in_at: String,
    /// Refreshed at most once an hour.
    pub last_seen_at: String,
    pub address: Option<String>,
    /// The session this page was opened with.
    pub current: bool,
}

/// The caller's account page: who they are and where they are signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub username: String,
    pub display_name: String,
    /// Most recently seen first.
    pub sessions: Vec<SessionView>,
}
