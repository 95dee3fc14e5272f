//! One error story: every failure a handler can produce is an [`AppError`], mapped to HTTP
//! once, here, as `application/problem+json` (RFC 9457) with a stable machine `code`.
//! Internal details go to the log under the same `request_id`, never to the client.

use serde::Serialize;

/// A field-level validation failure, reported back so a form can highlight the field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request is well-formed JSON but breaks a rule (400 `validation_failed`).
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// The request cannot be read at all: bad JSON, wrong type, unknown field (400).
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("authentication required")]
    Unauthorized,
    #[error("not allowed")]
    Forbidden,
    /// Also used for resources the caller may not see, so ids cannot be probed.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("the resource changed since it was read")]
    PreconditionFailed,
    #[error("this request must carry If-Match")]
    PreconditionRequired,
    #[error("request body larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("content type must be {expected}")]
    UnsupportedMediaType { expected: &'static str },
    /// A limit was reached (wrong handover codes, ...): 429 with `Retry-After`.
    #[error("too many attempts; try again in {retry_after} seconds")]
    TooManyRequests { retry_after: u64 },
    /// A dependency (DynamoDB, S3, Stripe...) is unreachable or throttling (503).
    #[error("dependency unavailable: {dependency}")]
    Unavailable { dependency: String },
    /// A fault on our side. The source is logged, never shown.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl AppError {
    pub fn internal(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        AppError::Internal(e.into())
    }

    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldError::new(field, message)])
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        AppError::BadRequest { code, message: message.into() }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Conflict { code, message: message.into() }
    }

    /// What a log line (or an operator's record) says: the error, with the cause a fault hides
    /// from clients (`Internal`'s source: Stripe's refusal, the SDK's error).
    pub fn for_log(&self) -> String {
        match std::error::Error::source(self) {
            Some(source) => format!("{self}: {source}"),
            None => self.to_string(),
        }
    }

    /// HTTP status for this error.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Validation(_) | AppError::BadRequest { .. } => 400,
            AppError::Unauthorized => 401,
            AppError::Forbidden => 403,
            AppError::NotFound(_) => 404,
            AppError::Conflict { .. } => 409,
            AppError::PreconditionFailed => 412,
            AppError::PayloadTooLarge { .. } => 413,
            AppError::UnsupportedMediaType { .. } => 415,
            AppError::PreconditionRequired => 428,
            AppError::TooManyRequests { .. } => 429,
            AppError::Unavailable { .. } => 503,
            AppError::Internal(_) => 500,
        }
    }

    /// Stable machine-readable code: clients branch on this, never on `detail`.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Validation(_) => "validation_failed",
            AppError::BadRequest { code, .. } | AppError::Conflict { code, .. } => code,
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::PreconditionFailed => "precondition_failed",
            AppError::PreconditionRequired => "precondition_required",
            AppError::PayloadTooLarge { .. } => "payload_too_large",
            AppError::UnsupportedMediaType { .. } => "unsupported_media_type",
            AppError::TooManyRequests { .. } => "too_many_requests",
            AppError::Unavailable { .. } => "service_unavailable",
            AppError::Internal(_) => "internal_error",
        }
    }

    fn title(&self) -> &'static str {
        match self.status() {
            400 => "Bad Request",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "Not Found",
            409 => "Conflict",
            412 => "Precondition Failed",
            413 => "Content Too Large",
            415 => "Unsupported Media Type",
            428 => "Precondition Required",
            429 => "Too Many Requests",
            503 => "Service Unavailable",
            _ => "Internal Server Error",
        }
    }

    /// The client-facing body. Internal errors say nothing beyond "internal error".
    pub fn to_problem(&self, request_id: &str) -> Problem {
        let detail = match self {
            AppError::Validation(errors) if errors.len() == 1 => {
                format!("{}: {}", errors[0].field, errors[0].message)
            }
            AppError::Validation(_) => "several fields are invalid".to_owned(),
            AppError::Unavailable { .. } => "a dependency is unavailable, retry later".to_owned(),
            other => other.to_string(),
        };
        Problem {
            type_: format!("https://rental-portal.dev/problems/{}", self.code().replace('_', "-")),
            title: self.title(),
            status: self.status(),
            code: self.code(),
            detail,
            request_id: request_id.to_owned(),
            errors: match self {
                AppError::Validation(errors) => errors.clone(),
                _ => Vec::new(),
            },
        }
    }
}

/// `application/problem+json` body shared by every endpoint.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: &'static str,
    pub status: u16,
    pub code: &'static str,
    pub detail: String,
    pub request_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_keep_the_cause() {
        let refused = AppError::internal("stripe refused /v1/transfers with 400: insufficient_capabilities");
        assert_eq!(
            refused.for_log(),
            "internal error: stripe refused /v1/transfers with 400: insufficient_capabilities"
        );
        assert_eq!(AppError::NotFound("payout").for_log(), "payout not found");
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let err = AppError::internal("connection refused to 10.0.0.7:8000");
        let problem = err.to_problem("req-1");
        assert_eq!(problem.status, 500);
        assert_eq!(problem.code, "internal_error");
        let body = serde_json::to_string(&problem).unwrap();
        assert!(!body.contains("10.0.0.7"), "leaked internals: {body}");
        assert!(body.contains("\"request_id\":\"req-1\""));
    }

    #[test]
    fn validation_lists_fields() {
        let err = AppError::field("display_name", "must not be empty");
        let problem = err.to_problem("r");
        assert_eq!(problem.status, 400);
        assert_eq!(problem.code, "validation_failed");
        assert_eq!(problem.errors[0].field, "display_name");
        assert_eq!(problem.detail, "display_name: must not be empty");
    }

    #[test]
    fn statuses_and_codes_are_stable() {
        let cases: Vec<(AppError, u16, &str)> = vec![
            (AppError::Unauthorized, 401, "unauthorized"),
            (AppError::NotFound("listing"), 404, "not_found"),
            (AppError::conflict("dates_unavailable", "x"), 409, "dates_unavailable"),
            (AppError::PreconditionFailed, 412, "precondition_failed"),
            (AppError::PayloadTooLarge { limit: 65536 }, 413, "payload_too_large"),
            (AppError::PreconditionRequired, 428, "precondition_required"),
            (AppError::TooManyRequests { retry_after: 60 }, 429, "too_many_requests"),
            (AppError::Unavailable { dependency: "s3".into() }, 503, "service_unavailable"),
        ];
        for (err, status, code) in cases {
            assert_eq!(err.status(), status, "{err:?}");
            assert_eq!(err.code(), code, "{err:?}");
            assert_eq!(
                err.to_problem("r").type_,
                format!("https://rental-portal.dev/problems/{}", code.replace('_', "-"))
            );
        }
    }
}
