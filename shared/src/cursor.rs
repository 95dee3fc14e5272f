//! Opaque, tamper-evident pagination cursors: the last key read, bound to the query it came
//! from, signed with HMAC-SHA256. A forged, altered or foreign cursor is a 400, never a 500
//! and never someone else's page.

use std::collections::BTreeMap;

use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The signing key, from Secrets Manager through the secret cache.
#[derive(Clone)]
pub struct CursorKey(hmac::Key);

impl CursorKey {
    pub fn new(secret: &[u8]) -> Self {
        CursorKey(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    /// What the cursor is bound to (the query's fingerprint).
    q: String,
    /// The DynamoDB key to continue after.
    k: BTreeMap<String, String>,
}

pub type LastKey = BTreeMap<String, String>;

/// A fixed key is its own source (unit tests, benchmarks).
#[async_trait::async_trait]
impl crate::ports::CursorKeys for CursorKey {
    async fn cursor_key(&self) -> Result<CursorKey, AppError> {
        Ok(self.clone())
    }
}

/// One page as clients see it: the items and the cursor of the next page, if any.
#[derive(Debug, Serialize)]
pub struct PageView<T: Serialize> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T: Serialize> PageView<T> {
    pub fn new(items: Vec<T>, key: &CursorKey, bound_to: &str, last: Option<&LastKey>) -> Self {
        PageView { items, next_cursor: last.map(|l| encode(key, bound_to, l)) }
    }
}

pub fn encode(key: &CursorKey, bound_to: &str, last: &LastKey) -> String {
    let payload = serde_json::to_vec(&Payload { q: bound_to.to_owned(), k: last.clone() }).unwrap_or_default();
    let tag = hmac::sign(&key.0, &payload);
    format!("{}.{}", URL_SAFE_NO_PAD.encode(&payload), URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

pub fn decode(key: &CursorKey, bound_to: &str, cursor: &str) -> Result<LastKey, AppError> {
    let bad = || AppError::bad_request("invalid_cursor", "cursor is not valid for this query; start again without it");
    let (payload, tag) = cursor.split_once('.').ok_or_else(bad)?;
    let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| bad())?;
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| bad())?;
    hmac::verify(&key.0, &payload, &tag).map_err(|_| bad())?; // constant-time
    let parsed: Payload = serde_json::from_slice(&payload).map_err(|_| bad())?;
    if parsed.q != bound_to {
        return Err(bad());
    }
    Ok(parsed.k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let key = CursorKey::new(b"k1");
        let last: LastKey =
            [("PK".to_owned(), "SEARCH#all#new".to_owned()), ("SK".to_owned(), "1#x".to_owned())].into();
        let c = encode(&key, "query-a", &last);
        assert_eq!(decode(&key, "query-a", &c).unwrap(), last);
        assert_eq!(decode(&key, "query-b", &c).unwrap_err().code(), "invalid_cursor", "foreign query");
        assert_eq!(decode(&CursorKey::new(b"k2"), "query-a", &c).unwrap_err().code(), "invalid_cursor", "other key");
        let (p, t) = c.split_once('.').unwrap();
        let mut forged = URL_SAFE_NO_PAD.decode(p).unwrap();
        forged[5] ^= 1;
        assert!(
            decode(&key, "query-a", &format!("{}.{t}", URL_SAFE_NO_PAD.encode(forged))).is_err(),
            "altered payload"
        );
        for junk in ["", ".", "abc", "a.b", "!!!.???"] {
            assert_eq!(decode(&key, "query-a", junk).unwrap_err().status(), 400, "{junk}");
        }
    }
}
