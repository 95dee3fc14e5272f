//! In-memory fakes of the ports, for unit tests of handlers (never for integration tests,
//! which run against moto). Enabled with the `testing` feature.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};

use crate::domain::events::DomainEvent;
use crate::domain::user::{Profile, ProfilePatch, UserId};
use crate::domain::Clock;
use crate::error::AppError;
use crate::ports::{AuditLog, EventPublisher, ProfileStore, ProfileUpdater, Recorded};

#[derive(Default)]
pub struct MemoryStore {
    pub profiles: Mutex<HashMap<UserId, Profile>>,
    pub audit: Mutex<HashMap<uuid::Uuid, DomainEvent>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[async_trait]
impl ProfileStore for MemoryStore {
    async fn get_profile(&self, id: &UserId) -> Result<Option<Profile>, AppError> {
        Ok(lock(&self.profiles).get(id).cloned())
    }
    async fn create_profile_if_absent(&self, profile: &Profile) -> Result<(Profile, bool), AppError> {
        let mut profiles = lock(&self.profiles);
        if let Some(existing) = profiles.get(&profile.user_id) {
            return Ok((existing.clone(), false));
        }
        profiles.insert(profile.user_id.clone(), profile.clone());
        Ok((profile.clone(), true))
    }
}

#[async_trait]
impl ProfileUpdater for MemoryStore {
    async fn update_profile(&self, id: &UserId, patch: &ProfilePatch, now: DateTime<Utc>) -> Result<Profile, AppError> {
        let mut profiles = lock(&self.profiles);
        let p = profiles.get_mut(id).ok_or(AppError::NotFound("profile"))?;
        if let Some(name) = &patch.display_name {
            p.display_name = name.clone();
        }
        if let Some(phone) = &patch.phone {
            p.phone = phone.clone();
        }
        p.updated_at = now;
        p.version += 1;
        Ok(p.clone())
    }
}

#[async_trait]
impl AuditLog for MemoryStore {
    async fn record(&self, event: &DomainEvent) -> Result<Recorded, AppError> {
        let mut audit = lock(&self.audit);
        if audit.contains_key(&event.id) {
            return Ok(Recorded::Duplicate);
        }
        audit.insert(event.id, event.clone());
        Ok(Recorded::New)
    }
}

#[derive(Default)]
pub struct RecordingPublisher {
    pub events: Mutex<Vec<DomainEvent>>,
}

impl RecordingPublisher {
    pub fn kinds(&self) -> Vec<String> {
        lock(&self.events).iter().map(|e| e.kind.clone()).collect()
    }
}

#[async_trait]
impl EventPublisher for RecordingPublisher {
    async fn publish(&self, event: &DomainEvent) -> Result<(), AppError> {
        lock(&self.events).push(event.clone());
        Ok(())
    }
}

/// A clock stuck at a given instant.
pub struct FixedClock(pub DateTime<Utc>);

impl Default for FixedClock {
    fn default() -> Self {
        FixedClock(Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).single().unwrap_or_default())
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}
