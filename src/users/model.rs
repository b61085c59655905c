use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::areas::Area;
use crate::auth::Role;

/// A user as an administrator sees them: never the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub area: Area,
    pub active: bool,
    /// Households assigned to this user (field workers).
    pub caseload: i64,
}

/// The users page of an area: who the caller manages there, and what they
/// may create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserAdmin {
    pub area: Area,
    /// Users bound to the area or below it whom the caller manages, highest
    /// role first.
    pub users: Vec<UserSummary>,
    /// Roles the caller may give a new user, highest first.
    pub roles: Vec<Role>,
    /// Areas a new user may be bound to from this page: the area and its
    /// children (a village-bound worker is created from their township's page).
    pub areas: Vec<Area>,
}
