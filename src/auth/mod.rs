//! Who is calling.
//!
//! Users sign in with a user name and password (argon2id). A session is a
//! random token in an HttpOnly cookie; the database keeps only its SHA-256,
//! so sessions survive restarts and a leaked database leaks no live cookie.
//! Failed sign-ins are slowed down per account and per address. Every server
//! function starts by resolving the caller into an [`Actor`].

pub mod api;
#[cfg(feature = "ssr")]
pub mod hashing;
pub mod model;
#[cfg(feature = "ssr")]
pub mod password;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod throttle;
pub mod ui;

pub use model::*;

/// The server functions the field app calls by hand (`field::phone::net`),
/// named once; a test holds them to the functions' own paths.
pub const CURRENT_USER_PATH: &str = "/api/auth/current_user";
pub const SIGN_OUT_PATH: &str = "/api/auth/sign_out";

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use leptos::server_fn::ServerFn;

    #[test]
    fn the_field_apps_paths_are_the_server_functions_own() {
        assert_eq!(
            super::CURRENT_USER_PATH,
            <super::api::CurrentUser as ServerFn>::PATH
        );
        assert_eq!(
            super::SIGN_OUT_PATH,
            <super::api::SignOut as ServerFn>::PATH
        );
    }
}
