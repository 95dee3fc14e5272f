//! The plain-HTTPS client of the adapters that are not AWS SDK clients (Stripe, JWKS).

use std::sync::OnceLock;
use std::time::Duration;

/// A `reqwest` client built on first use, not at init. Building one loads the platform's
/// root certificates (~2 ms of a cold start here), and most invocations of the functions
/// that hold one never call out: an anonymous `GET /listings/{id}` never needs the JWKS, a
/// booking's cancellation calls Stripe only when there is a payment to refund.
pub struct LazyClient {
    timeout: Duration,
    client: OnceLock<reqwest::Client>,
}

impl LazyClient {
    pub fn new(timeout: Duration) -> Self {
        Self { timeout, client: OnceLock::new() }
    }

    /// The client, built now if this is the first call.
    pub fn get(&self) -> &reqwest::Client {
        self.client.get_or_init(|| reqwest::Client::builder().timeout(self.timeout).build().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_is_built_on_first_use_and_then_kept() {
        let lazy = LazyClient::new(Duration::from_secs(1));
        assert!(lazy.client.get().is_none(), "nothing built before the first call");
        let first: *const reqwest::Client = lazy.get();
        assert!(std::ptr::eq(first, lazy.get()), "the same client every call after");
    }
}
