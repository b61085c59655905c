//! The one error type that crosses the wire.
//!
//! Server code maps database and infrastructure failures into these variants;
//! internal details are logged on the server and never sent. Every variant has
//! an HTTP status and a message in the user's language.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::text::zh;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// No valid session: the caller must sign in.
    #[error("{}", zh::ERR_UNAUTHORIZED)]
    Unauthorized,
    /// Wrong user name or password.
    #[error("{}", zh::ERR_BAD_CREDENTIALS)]
    BadCredentials,
    /// Too many failed sign-ins for this account or address.
    #[error("登录失败次数过多，请 {retry_after_secs} 秒后再试")]
    TooManyAttempts { retry_after_secs: u64 },
    /// Signed in, but the record lies outside the caller's area or role.
    #[error("{}", zh::ERR_FORBIDDEN)]
    Forbidden,
    #[error("{}", zh::ERR_NOT_FOUND)]
    NotFound,
    /// Input refused; `field` names the form field or column at fault.
    #[error("{field}：{message}")]
    Validation { field: String, message: String },
    #[error("{0}")]
    Conflict(String),
    /// The request itself was malformed (bad arguments, bad encoding).
    #[error("请求格式错误：{0}")]
    BadRequest(String),
    /// The server could not be reached or answered garbage.
    #[error("网络异常：{0}")]
    Network(String),
    /// Something failed on the server; details are in the server log.
    #[error("{}", zh::ERR_INTERNAL)]
    Internal,
}

impl AppError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Validation {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn status_code(&self) -> u16 {
        match self {
            AppError::Unauthorized | AppError::BadCredentials => 401,
            AppError::Forbidden => 403,
            AppError::NotFound => 404,
            AppError::Conflict(_) => 409,
            AppError::Validation { .. } => 422,
            AppError::BadRequest(_) => 400,
            AppError::TooManyAttempts { .. } => 429,
            AppError::Network(_) => 503,
            AppError::Internal => 500,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(m) | ServerFnErrorErr::Deserialization(m) => {
                AppError::BadRequest(m)
            }
            ServerFnErrorErr::Request(m) | ServerFnErrorErr::Response(m) => AppError::Network(m),
            other => {
                #[cfg(feature = "ssr")]
                tracing::error!(error = %other, "server function plumbing failed");
                let _ = other;
                AppError::Internal
            }
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;
