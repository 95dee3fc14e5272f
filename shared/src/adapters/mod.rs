//! The one AWS implementation of each port.

pub mod dynamodb;
pub mod health;
pub mod http_client;
pub mod jwks;
pub mod opensearch;
pub mod s3;
pub mod s3_evidence;
pub mod secrets_manager;
pub mod ses;
pub mod sqs;
pub mod stripe;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

use crate::error::AppError;

/// Maps an SDK failure: unreachable, timed out or throttled -> 503 naming the dependency
/// (the caller may retry); anything else -> 500. Either way the cause goes to the log only.
pub(crate) fn sdk_error<E, R>(dependency: &'static str, err: SdkError<E, R>) -> AppError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let transient = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => true,
        SdkError::ServiceError(e) => matches!(
            e.err().code(),
            Some(
                "ThrottlingException"
                    | "ProvisionedThroughputExceededException"
                    | "RequestLimitExceeded"
                    | "ServiceUnavailable"
                    | "InternalServerError"
            )
        ),
        _ => false,
    };
    if transient {
        tracing::warn!(dependency, error = %aws_sdk_dynamodb::error::DisplayErrorContext(&err), "dependency unavailable");
        AppError::Unavailable { dependency: dependency.to_owned() }
    } else {
        AppError::internal(format!("{dependency}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(&err)))
    }
}
