//! `PATCH /me` (auth): change display name and/or phone. `phone: null` clears it.

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::events::{kinds, DomainEvent};
use shared::domain::user::{ProfilePatch, ProfilePatchRequest};
use shared::domain::Clock;
use shared::identity::Caller;
use shared::ports::{ProfileStore, ProfileUpdater};
use shared::views::ProfileView;
use shared::AppError;

pub struct Deps<S, C> {
    pub store: S,
    pub clock: C,
}

pub async fn handle<S, C>(req: Request, deps: &Deps<S, C>) -> Result<Response<Body>, AppError>
where
    S: ProfileStore + ProfileUpdater,
    C: Clock,
{
    let caller = Caller::from_request(&req)?;
    let patch = ProfilePatch::parse(shared::http::json_body::<ProfilePatchRequest>(&req)?)?;
    let now = deps.clock.now();
    let mut changed = Vec::new();
    if patch.display_name.is_some() {
        changed.push("display_name");
    }
    if patch.phone.is_some() {
        changed.push("phone");
    }
    // Field names only: values (a phone number) are personal data and stay out of events.
    let event = DomainEvent::new(
        kinds::PROFILE_UPDATED,
        format!("user/{}", caller.user_id),
        Some(caller.user_id.to_string()),
        now,
        serde_json::json!({ "fields": changed }),
    );
    // A profile almost always exists (`GET /me` creates it), so update straight away: one
    // conditional write. Only when that finds none is it created from the token's claims.
    let profile = match deps.store.update_profile(&caller.user_id, &patch, now, &event).await {
        Err(AppError::NotFound(_)) => {
            shared::services::ensure_profile(&deps.store, &deps.clock, &caller).await?;
            deps.store.update_profile(&caller.user_id, &patch, now, &event).await?
        }
        result => result?,
    };
    shared::http::json(200, &ProfileView::from(&profile))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use shared::domain::user::{Profile, UserId};
    use shared::testing::{FixedClock, MemoryStore};
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn deps() -> Deps<MemoryStore, FixedClock> {
        Deps { store: MemoryStore::default(), clock: FixedClock::default() }
    }

    fn request(body: &str) -> Request {
        let mut v: serde_json::Value = serde_json::from_str(include_str!("../../../events/update-me.json")).unwrap();
        v["body"] = serde_json::Value::String(body.to_owned());
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    fn json(resp: &Response<Body>) -> serde_json::Value {
        let Body::Text(t) = resp.body() else { panic!() };
        serde_json::from_str(t).unwrap()
    }

    #[tokio::test]
    async fn fixture_updates_and_publishes() {
        let deps = deps();
        let req = lambda_http::request::from_str(include_str!("../../../events/update-me.json")).unwrap();
        let resp = handle(req, &deps).await.unwrap();
        let v = json(&resp);
        assert_eq!(v["display_name"], "Ada L.");
        assert_eq!(v["phone"], "+4915112345678");
        assert_eq!(v["version"], 2);
        assert_eq!(deps.store.event_kinds(), vec!["user.registered", "user.profile_updated"]);
    }

    /// Counts profile reads, to show an existing profile is updated without reading it first.
    struct CountingReads {
        inner: MemoryStore,
        reads: AtomicUsize,
    }

    #[async_trait::async_trait]
    impl ProfileStore for CountingReads {
        async fn get_profile(&self, id: &UserId) -> Result<Option<Profile>, AppError> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            self.inner.get_profile(id).await
        }
        async fn create_profile_if_absent(
            &self,
            profile: &Profile,
            e: &DomainEvent,
        ) -> Result<(Profile, bool), AppError> {
            self.inner.create_profile_if_absent(profile, e).await
        }
    }

    #[async_trait::async_trait]
    impl ProfileUpdater for CountingReads {
        async fn update_profile(
            &self,
            id: &UserId,
            patch: &ProfilePatch,
            now: DateTime<Utc>,
            e: &DomainEvent,
        ) -> Result<Profile, AppError> {
            self.inner.update_profile(id, patch, now, e).await
        }
    }

    #[tokio::test]
    async fn existing_profile_is_updated_without_a_read_and_announced_once() {
        let store = CountingReads { inner: MemoryStore::default(), reads: AtomicUsize::new(0) };
        let deps = Deps { store, clock: FixedClock::default() };
        handle(request(r#"{"display_name":"Ada"}"#), &deps).await.unwrap();
        let first_reads = deps.store.reads.load(Ordering::SeqCst);
        let v = json(&handle(request(r#"{"phone":"+4915112345678"}"#), &deps).await.unwrap());
        assert_eq!(deps.store.reads.load(Ordering::SeqCst), first_reads, "no read for an existing profile");
        assert_eq!(
            (v["display_name"].as_str(), v["phone"].as_str(), v["version"].as_i64()),
            (Some("Ada"), Some("+4915112345678"), Some(3))
        );
        assert_eq!(
            deps.store.inner.event_kinds(),
            vec!["user.registered", "user.profile_updated", "user.profile_updated"]
        );
    }

    #[tokio::test]
    async fn null_clears_phone() {
        let deps = deps();
        handle(request(r#"{"phone":"+4915112345678"}"#), &deps).await.unwrap();
        let v = json(&handle(request(r#"{"phone":null}"#), &deps).await.unwrap());
        assert!(v.get("phone").is_none() || v["phone"].is_null(), "{v}");
    }

    #[tokio::test]
    async fn bad_input_is_4xx_and_changes_nothing() {
        let deps = deps();
        for (body, code) in [
            (r#"{"display_name":""}"#, "validation_failed"),
            (r#"{"display_name":5}"#, "invalid_field"),
            (r#"{"nickname":"x"}"#, "unknown_field"),
            (r#"{}"#, "empty_patch"),
            (r#"{"#, "malformed_json"),
        ] {
            let err = handle(request(body), &deps).await.unwrap_err();
            assert_eq!((err.status(), err.code()), (400, code), "{body}");
        }
        assert!(deps.store.event_kinds().is_empty());
        assert!(deps.store.profiles.lock().unwrap().is_empty());
    }
}
