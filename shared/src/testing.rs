//! In-memory fakes of the ports, for unit tests of handlers (never for integration tests,
//! which run against moto). Enabled with the `testing` feature.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};

use crate::cursor::LastKey;
use crate::domain::events::DomainEvent;
use crate::domain::listing::{Listing, ListingId};
use crate::domain::search::{entry_keys, IndexQuery, ListingSummary};
use crate::identity::Caller;
use crate::domain::user::{Profile, ProfilePatch, UserId};
use crate::domain::Clock;
use crate::error::AppError;
use crate::ports::{
    AuditLog, EventPublisher, ListingReader, ListingSearch, ListingWriter, OwnerListings, Page, ProfileStore, ProfileUpdater,
    Recorded, ViewerIdentity,
};

#[derive(Default)]
pub struct MemoryStore {
    pub profiles: Mutex<HashMap<UserId, Profile>>,
    pub audit: Mutex<HashMap<uuid::Uuid, DomainEvent>>,
    pub listings: Mutex<HashMap<ListingId, Listing>>,
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

#[async_trait]
impl ListingReader for MemoryStore {
    async fn get_listing(&self, id: &ListingId) -> Result<Option<Listing>, AppError> {
        Ok(lock(&self.listings).get(id).cloned())
    }
}

#[async_trait]
impl ListingWriter for MemoryStore {
    async fn create_listing(&self, listing: &Listing) -> Result<(), AppError> {
        lock(&self.listings).insert(listing.id.clone(), listing.clone());
        Ok(())
    }
    async fn replace_listing(&self, previous: &Listing, next: &Listing) -> Result<(), AppError> {
        let mut listings = lock(&self.listings);
        match listings.get(&previous.id) {
            Some(current) if current.version == previous.version => {
                listings.insert(next.id.clone(), next.clone());
                Ok(())
            }
            _ => Err(AppError::PreconditionFailed),
        }
    }
}

/// Pages of `sorted` after the item whose key is `start` (keys are `{"SK": sort key}`).
fn page_of<T: Clone>(sorted: Vec<(String, T)>, limit: u32, start: Option<LastKey>) -> Page<T> {
    let after = start.and_then(|k| k.get("SK").cloned());
    let rest: Vec<(String, T)> = sorted.into_iter().skip_while(|(k, _)| after.as_ref().is_some_and(|a| k != a)).skip(usize::from(after.is_some())).collect();
    let more = rest.len() > limit as usize;
    let items: Vec<(String, T)> = rest.into_iter().take(limit as usize).collect();
    let last_key = if more { items.last().map(|(k, _)| LastKey::from([("SK".to_owned(), k.clone())])) } else { None };
    Page { items_read: items.len() as i32, bytes_read: 0, items: items.into_iter().map(|(_, v)| v).collect(), last_key, capacity_units: 0.0 }
}

#[async_trait]
impl ListingSearch for MemoryStore {
    async fn search(&self, query: &IndexQuery, limit: u32, start: Option<LastKey>) -> Result<Page<ListingSummary>, AppError> {
        let listings = lock(&self.listings);
        let mut hits: Vec<(String, ListingSummary)> = listings
            .values()
            .flat_map(|l| entry_keys(l).into_iter().map(move |(pk, sk)| (pk, sk, l)))
            .filter(|(pk, sk, _)| *pk == query.partition && query.range.as_ref().is_none_or(|(lo, hi)| sk >= lo && sk <= hi))
            .map(|(_, sk, l)| (sk, ListingSummary::from(l)))
            .collect();
        hits.sort_by(|a, b| a.0.cmp(&b.0));
        if !query.ascending {
            hits.reverse();
        }
        Ok(page_of(hits, limit, start))
    }
}

#[async_trait]
impl OwnerListings for MemoryStore {
    async fn owner_listings(&self, owner: &UserId, limit: u32, start: Option<LastKey>) -> Result<Page<Listing>, AppError> {
        let mut mine: Vec<(String, Listing)> = lock(&self.listings)
            .values()
            .filter(|l| &l.owner_id == owner)
            .map(|l| (format!("{:013}#{}", l.created_at.timestamp_millis(), l.id), l.clone()))
            .collect();
        mine.sort_by(|a, b| b.0.cmp(&a.0));
        Ok(page_of(mine, limit, start))
    }
}

/// A viewer identity that trusts `Bearer {user_id}` (unit tests only) and refuses `Bearer bad`.
#[derive(Default)]
pub struct TrustingViewer;

#[async_trait]
impl ViewerIdentity for TrustingViewer {
    async fn viewer(&self, authorization: Option<&str>) -> Result<Option<Caller>, AppError> {
        let Some(raw) = authorization else { return Ok(None) };
        let sub = raw.strip_prefix("Bearer ").unwrap_or(raw);
        if sub == "bad" {
            return Err(AppError::Unauthorized);
        }
        Ok(Some(Caller { user_id: UserId::parse(sub)?, groups: Vec::new(), email: None, name: None }))
    }
}
