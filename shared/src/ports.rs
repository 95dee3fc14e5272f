//! Ports: one small trait per capability a handler needs. Handlers are generic over these,
//! so a signature says what a function touches and a unit test fakes only that.
//! `adapters` holds the one AWS implementation of each.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::events::DomainEvent;
use crate::domain::user::{Profile, ProfilePatch, UserId};
use crate::error::AppError;

#[async_trait]
pub trait ProfileStore: Send + Sync {
    async fn get_profile(&self, id: &UserId) -> Result<Option<Profile>, AppError>;
    /// Stores `profile` unless one exists for its user. Returns the stored profile and
    /// whether this call created it (so only one caller announces the registration).
    async fn create_profile_if_absent(&self, profile: &Profile) -> Result<(Profile, bool), AppError>;
}

#[async_trait]
pub trait ProfileUpdater: Send + Sync {
    /// Applies `patch` to an existing profile; `NotFound` if there is none.
    async fn update_profile(&self, id: &UserId, patch: &ProfilePatch, now: DateTime<Utc>) -> Result<Profile, AppError>;
}

#[async_trait]
pub trait EventPublisher: Send + Sync {
    async fn publish(&self, event: &DomainEvent) -> Result<(), AppError>;
}

/// Whether a write was new or a repeat of one already applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    New,
    Duplicate,
}

#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Appends `event` to its subject's audit trail exactly once, keyed by the event id.
    async fn record(&self, event: &DomainEvent) -> Result<Recorded, AppError>;
}

/// A dependency the health endpoint checks.
#[async_trait]
pub trait HealthProbe: Send + Sync {
    /// Stable short name reported to callers: `dynamodb`, `s3`, `sqs`, `secretsmanager`.
    fn name(&self) -> &'static str;
    /// Ok when the dependency answers; Err with a short reason (no secrets) otherwise.
    async fn probe(&self) -> Result<(), String>;
}
