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
    /// Too much of this kind of work is waiting already (password checks,
    /// imports); nothing was done: try again after a while.
    #[error("{message}")]
    Busy {
        message: String,
        retry_after_secs: u64,
    },
    /// Signed in, but the record lies outside the caller's area or role.
    #[error("{}", zh::ERR_FORBIDDEN)]
    Forbidden,
    #[error("{}", zh::ERR_NOT_FOUND)]
    NotFound,
    /// Input refused; `field` names the form field or column at fault.
    /// Shown as "label：message" with the field's Chinese name (an import
    /// column is named already); an internal name is never shown.
    #[error("{}", zh::field_problem(field, message))]
    Validation { field: String, message: String },
    #[error("{0}")]
    Conflict(String),
    /// The request itself was malformed (bad arguments, bad encoding).
    #[error("请求格式错误：{0}")]
    BadRequest(String),
    /// The request body is over the bound of its route.
    #[error("请求内容过大：{0}")]
    TooLarge(String),
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
            AppError::TooLarge(_) => 413,
            AppError::TooManyAttempts { .. } | AppError::Busy { .. } => 429,
            AppError::Network(_) => 503,
            AppError::Internal => 500,
        }
    }
}

impl AppError {
    /// The `Retry-After` of a 429, in seconds.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            AppError::TooManyAttempts { retry_after_secs }
            | AppError::Busy {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(m) | ServerFnErrorErr::Deserialization(m) => {
                // The body reader's own refusal when a body passes the
                // route's `DefaultBodyLimit` (http-body-util's message).
                if m.contains("length limit exceeded") {
                    return AppError::TooLarge(zh::ERR_BODY_TOO_LARGE.into());
                }
                #[cfg(feature = "ssr")]
                tracing::info!(detail = %m, "server function arguments refused");
                AppError::BadRequest(decode_problem(&m))
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

/// What a client must change, in Chinese, from a serde (serde_qs,
/// serde_json, uuid) message. Those messages name Rust types ("expected
/// struct VisitSubmission", "expected u32") and echo what was sent, so
/// only the field name is passed on, and only when it is one of ours
/// (a plain identifier), never the client's bytes.
pub fn decode_problem(detail: &str) -> String {
    let named = |prefix: &str| {
        let start = detail.find(prefix)? + prefix.len();
        let name = detail[start..].split('`').next()?;
        let plain = !name.is_empty()
            && name.len() <= 40
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        plain.then(|| name.to_owned())
    };
    let lower = detail.to_ascii_lowercase();
    if let Some(f) = named("missing field `") {
        format!("缺少字段 {f}")
    } else if let Some(f) = named("duplicate field `") {
        format!("字段 {f} 重复")
    } else if let Some(f) = named("unknown field `") {
        format!("未知字段 {f}")
    } else if lower.contains("utf-8") || lower.contains("utf8") {
        "内容不是有效的 UTF-8 文本".into()
    } else if lower.contains("uuid") {
        "编号格式错误（应为 UUID）".into()
    } else if lower.contains("eof") || lower.contains("premature end") {
        "内容不完整".into()
    } else if lower.contains("invalid type") || lower.contains("expected a sequence") {
        "字段类型错误".into()
    } else if lower.contains("unknown variant") {
        "字段取值不在允许的范围内".into()
    } else if lower.contains("too large")
        || lower.contains("out of range")
        || lower.contains("invalid digit")
        || lower.contains("invalid value")
        || lower.contains("number")
    {
        "数值无效或超出范围".into()
    } else {
        "内容无法解析".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_problems_name_our_fields_and_never_rust_types() {
        assert_eq!(decode_problem("missing field `code`"), "缺少字段 code");
        assert_eq!(
            decode_problem("duplicate field `id` at line 1 column 30"),
            "字段 id 重复"
        );
        // A client's key is not echoed: it is not a field of ours.
        assert_eq!(
            decode_problem("unknown field `<img src=x>`, expected one of `id`"),
            "内容无法解析"
        );
        let typed = decode_problem(
            "invalid type: integer `0`, expected struct VisitSubmission at line 1 column 1",
        );
        assert_eq!(typed, "字段类型错误");
        assert!(!typed.contains("VisitSubmission"));
        assert_eq!(
            decode_problem("UUID parsing failed: invalid character: expected an optional prefix"),
            "编号格式错误（应为 UUID）"
        );
        assert_eq!(
            decode_problem("invalid utf-8 sequence of 1 bytes from index 3"),
            "内容不是有效的 UTF-8 文本"
        );
    }

    #[test]
    fn the_body_limit_is_a_413_and_argument_errors_a_400() {
        let big = AppError::from_server_fn_error(ServerFnErrorErr::Deserialization(
            "length limit exceeded".into(),
        ));
        assert_eq!(big.status_code(), 413);
        let bad =
            AppError::from_server_fn_error(ServerFnErrorErr::Args("missing field `code`".into()));
        assert_eq!(bad, AppError::BadRequest("缺少字段 code".into()));
    }
}
