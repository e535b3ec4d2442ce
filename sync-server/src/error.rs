//! Every error of the server, and the one place where they become HTTP status codes.
//!
//! Texts never carry residents' personal data: they name fields and codes, never values. A
//! 500 answer carries a generic message; the details go to the log.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gridwork_schema::wire::{ErrorBody, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION};
use thiserror::Error;

/// A failure of the storage layer.
#[derive(Debug, Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL failed.
    #[error("postgres: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// No PostgreSQL connection could be had.
    #[error("postgres pool: {0}")]
    Pool(String),
    /// A blocking task panicked or was cancelled.
    #[error("background task failed: {0}")]
    Task(String),
    /// A file could not be read or written.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// A unique name is taken (e.g. a login).
    #[error("{0} already exists")]
    Conflict(String),
    /// Nothing by that name.
    #[error("{0} not found")]
    NotFound(String),
    /// An argument was not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// This database kind cannot do that.
    #[error("{0}")]
    Unsupported(String),
    /// An attachment upload went wrong.
    #[error(transparent)]
    Attachment(#[from] AttachmentError),
    /// The stored data is not what this version expects.
    #[error("stored data is damaged: {0}")]
    Damaged(String),
}

/// Why an attachment chunk was not taken.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum AttachmentError {
    /// The chunk does not start where the held bytes end.
    #[error("chunk starts at {offset} but the server holds {held} bytes; resume at {held}")]
    OffsetMismatch {
        /// The chunk's offset.
        offset: u64,
        /// Bytes held: where the next chunk must start.
        held: u64,
    },
    /// The declared length differs from the one given when the upload began.
    #[error("declared length {given} differs from the upload's length {length}")]
    LengthMismatch {
        /// Length given now.
        given: u64,
        /// Length given first.
        length: u64,
    },
    /// The chunk runs past the declared length.
    #[error("chunk runs past the declared length {length}")]
    PastEnd {
        /// The declared length.
        length: u64,
    },
    /// The attachment is larger than the server accepts.
    #[error("attachment of {length} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// Declared length.
        length: u64,
        /// The limit.
        max: u64,
    },
    /// The complete content does not hash to the name it was uploaded under; it was
    /// discarded.
    #[error("content does not match its SHA-256; the upload was discarded, start again")]
    HashMismatch,
}

/// An error starting or administering the server.
#[derive(Debug, Error)]
pub enum Error {
    /// The storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file or socket could not be used.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// The configuration or an argument is not usable.
    #[error("{0}")]
    Config(String),
}

/// An HTTP request that failed: each variant has exactly one status code (see
/// [`ApiError::status`]), and every answer has an [`ErrorBody`].
#[derive(Debug, Error)]
pub enum ApiError {
    /// The request is malformed (JSON, parameters, headers).
    #[error("{message}")]
    BadRequest {
        /// Machine-readable code.
        code: &'static str,
        /// What was wrong.
        message: String,
    },
    /// No valid token, a revoked device or a disabled user; or wrong login credentials.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Nothing there.
    #[error("{0}")]
    NotFound(String),
    /// The request clashes with the server's state (e.g. a resumable upload's offset).
    #[error("{message}")]
    Conflict {
        /// Machine-readable code.
        code: &'static str,
        /// What clashed.
        message: String,
    },
    /// The body, batch or attachment is larger than the server accepts.
    #[error("{0}")]
    TooLarge(String),
    /// The content was well-formed but wrong (an attachment that fails its hash).
    #[error("{message}")]
    Unprocessable {
        /// Machine-readable code.
        code: &'static str,
        /// What was wrong.
        message: String,
    },
    /// The requested byte range lies outside the attachment.
    #[error("range not satisfiable for an attachment of {0} bytes")]
    RangeNotSatisfiable(u64),
    /// The device speaks a protocol older than the server serves.
    #[error("protocol {0} is no longer supported")]
    UpdateRequired(u32),
    /// Something broke inside the server (details only in the log).
    #[error("internal: {0}")]
    Internal(String),
    /// Signed in, but the user's role or scope does not allow this.
    #[error("{0}")]
    Forbidden(String),
}

impl ApiError {
    /// A 400 with a code and a message.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
        }
    }

    /// The status code of each error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::RangeNotSatisfiable(_) => StatusCode::RANGE_NOT_SATISFIABLE,
            Self::UpdateRequired(_) => StatusCode::UPGRADE_REQUIRED,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
        }
    }

    /// The body of each error.
    pub fn body(&self) -> ErrorBody {
        let (code, message) = match self {
            Self::BadRequest { code, message }
            | Self::Conflict { code, message }
            | Self::Unprocessable { code, message } => (*code, message.clone()),
            Self::Unauthorized(m) => ("unauthorized", (*m).to_owned()),
            Self::NotFound(m) => ("not_found", m.clone()),
            Self::TooLarge(m) => ("too_large", m.clone()),
            Self::RangeNotSatisfiable(_) => ("range_not_satisfiable", self.to_string()),
            Self::UpdateRequired(v) => (
                "update_required",
                format!(
                    "protocol {v} is no longer supported (this server speaks \
                     {MIN_PROTOCOL_VERSION}..={PROTOCOL_VERSION}): please update the app / \
                     请更新应用"
                ),
            ),
            Self::Internal(_) => (
                "internal",
                "internal server error; the details are in the server log".to_owned(),
            ),
            Self::Forbidden(m) => ("forbidden", m.clone()),
        };
        ErrorBody {
            code: code.to_owned(),
            message,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Attachment(a) => match a {
                AttachmentError::OffsetMismatch { .. } => Self::Conflict {
                    code: "offset_mismatch",
                    message: a.to_string(),
                },
                AttachmentError::LengthMismatch { .. } => Self::Conflict {
                    code: "length_mismatch",
                    message: a.to_string(),
                },
                AttachmentError::PastEnd { .. } => Self::bad_request("past_end", a.to_string()),
                AttachmentError::TooLarge { .. } => Self::TooLarge(a.to_string()),
                AttachmentError::HashMismatch => Self::Unprocessable {
                    code: "hash_mismatch",
                    message: a.to_string(),
                },
            },
            StoreError::NotFound(what) => Self::NotFound(format!("{what} not found")),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<gridwork_core::report::ReportError> for ApiError {
    fn from(e: gridwork_core::report::ReportError) -> Self {
        use gridwork_core::report::ReportError as R;
        match e {
            R::BadPeriod(_) => Self::bad_request("bad_period", e.to_string()),
            R::UnknownScope(_) => Self::bad_request("unknown_scope", e.to_string()),
            R::UnknownSheet { .. } => Self::bad_request("unknown_sheet", e.to_string()),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<gridwork_core::report::ParamError> for ApiError {
    fn from(e: gridwork_core::report::ParamError) -> Self {
        gridwork_core::report::ReportError::from(e).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        } else {
            tracing::debug!(status = status.as_u16(), error = %self, "request refused");
        }
        let mut resp = (status, axum::Json(self.body())).into_response();
        if let Self::RangeNotSatisfiable(len) = self
            && let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}"))
        {
            resp.headers_mut().insert(header::CONTENT_RANGE, v);
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_do_not_leak() {
        let e = ApiError::Internal("relation \"docs\" does not exist at 10.0.0.5".into());
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!e.body().message.contains("docs"));
        assert_eq!(
            ApiError::UpdateRequired(0).status(),
            StatusCode::UPGRADE_REQUIRED
        );
        assert_eq!(ApiError::UpdateRequired(0).body().code, "update_required");
    }
}
