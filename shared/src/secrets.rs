//! Secrets from Secrets Manager, cached per process for a TTL.
//!
//! The first use fetches; later uses within the TTL are free. After the TTL the next use
//! fetches again, so a rotated secret is picked up without a redeploy. A caller that learns a
//! value is stale (e.g. Stripe answers 401) calls [`SecretCache::invalidate`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::error::AppError;

/// Where secret values come from.
#[async_trait]
pub trait SecretSource: Send + Sync {
    /// The current value of secret `id` (a name or ARN).
    async fn fetch(&self, id: &str) -> Result<String, AppError>;
}

pub const DEFAULT_TTL: Duration = Duration::from_secs(300);

pub struct SecretCache<S> {
    source: S,
    ttl: Duration,
    entries: Mutex<HashMap<String, (Instant, Arc<str>)>>,
}

impl<S: SecretSource> SecretCache<S> {
    pub fn new(source: S, ttl: Duration) -> Self {
        Self { source, ttl, entries: Mutex::new(HashMap::new()) }
    }

    /// The value of `id`, fetched at most once per TTL. The lock is held across the fetch
    /// so concurrent cold callers make one request, not many.
    pub async fn get(&self, id: &str) -> Result<Arc<str>, AppError> {
        let mut entries = self.entries.lock().await;
        if let Some((fetched, value)) = entries.get(id) {
            if fetched.elapsed() < self.ttl {
                return Ok(value.clone());
            }
        }
        let value: Arc<str> = self.source.fetch(id).await?.into();
        entries.insert(id.to_owned(), (Instant::now(), value.clone()));
        tracing::debug!(secret_id = id, "secret refreshed");
        Ok(value)
    }

    /// A JSON secret's field, e.g. `{"secret_key": "...", "publishable_key": "..."}`.
    pub async fn get_json_field(&self, id: &str, field: &str) -> Result<Arc<str>, AppError> {
        let raw = self.get(id).await?;
        let parsed: serde_json::Value =
            serde_json::from_str(&raw).map_err(|_| AppError::internal(format!("secret {id} is not JSON")))?;
        parsed
            .get(field)
            .and_then(|v| v.as_str())
            .map(Arc::from)
            .ok_or_else(|| AppError::internal(format!("secret {id} has no string field {field}")))
    }

    /// Forgets `id` so the next use fetches it again.
    pub async fn invalidate(&self, id: &str) {
        self.entries.lock().await.remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counting {
        calls: AtomicUsize,
    }

    #[async_trait]
    impl SecretSource for Counting {
        async fn fetch(&self, id: &str) -> Result<String, AppError> {
            let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
            Ok(format!("{{\"key\":\"{id}-v{n}\"}}"))
        }
    }

    #[tokio::test(start_paused = true)]
    async fn caches_for_ttl_then_refetches() {
        let cache = SecretCache::new(Counting { calls: AtomicUsize::new(0) }, Duration::from_secs(60));
        assert_eq!(&*cache.get_json_field("stripe", "key").await.unwrap(), "stripe-v1");
        tokio::time::advance(Duration::from_secs(59)).await;
        assert_eq!(&*cache.get_json_field("stripe", "key").await.unwrap(), "stripe-v1");
        assert_eq!(cache.source.calls.load(Ordering::SeqCst), 1);
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(&*cache.get_json_field("stripe", "key").await.unwrap(), "stripe-v2", "rotation picked up after TTL");
        cache.invalidate("stripe").await;
        assert_eq!(&*cache.get_json_field("stripe", "key").await.unwrap(), "stripe-v3");
        assert!(cache.get_json_field("stripe", "missing").await.is_err());
    }
}
