//! Verifies bearer tokens inside a function, for public routes that show more to a signed-in
//! caller (API Gateway's authorizer only runs on protected routes). Same rules as the
//! gateway: signature against the issuer's JWKS, `iss`, `aud` or `client_id`, `exp`, `nbf`.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use http_body_util::Full;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::error::AppError;
use crate::identity::Caller;
use crate::ports::ViewerIdentity;

/// How often an unknown `kid` may trigger a JWKS refetch (key rotation).
const REFETCH_AFTER: Duration = Duration::from_secs(60);

/// When the key set was last fetched, and its keys by `kid`.
type KeyCache = (Option<Instant>, HashMap<String, (DecodingKey, Algorithm)>);

pub struct JwksVerifier {
    issuer: String,
    audience: Vec<String>,
    jwks_url: String,
    http: super::http_client::LazyClient,
    keys: Mutex<KeyCache>,
}

impl JwksVerifier {
    /// The identity provider's issuer, audiences and JWKS from `JWT_ISSUER`, `JWT_AUDIENCE`
    /// (comma-separated) and `JWKS_URL`.
    pub fn from_env() -> Result<Self, crate::config::ConfigError> {
        use crate::config::env_required;
        let audience = env_required("JWT_AUDIENCE")?.split(',').map(str::to_owned).collect();
        Ok(Self::new(env_required("JWT_ISSUER")?, audience, env_required("JWKS_URL")?))
    }

    pub fn new(issuer: String, audience: Vec<String>, jwks_url: String) -> Self {
        Self {
            issuer,
            audience,
            jwks_url,
            http: super::http_client::LazyClient::new(Duration::from_secs(3)),
            keys: Mutex::new((None, HashMap::new())),
        }
    }

    async fn key(&self, kid: &str) -> Result<Option<(DecodingKey, Algorithm)>, AppError> {
        let mut keys = self.keys.lock().await;
        if let Some(k) = keys.1.get(kid) {
            return Ok(Some(k.clone()));
        }
        if keys.0.is_some_and(|fetched| fetched.elapsed() < REFETCH_AFTER) {
            return Ok(None);
        }
        let request = http::Request::get(&self.jwks_url)
            .body(Full::default())
            .map_err(|e| AppError::internal(format!("JWKS URL {}: {e}", self.jwks_url)))?;
        let response = self.http.send(request).await.map_err(|e| {
            tracing::warn!(dependency = "jwks", error = %e, "JWKS unreachable");
            AppError::Unavailable { dependency: "jwks".into() }
        })?;
        if !response.status.is_success() {
            tracing::warn!(dependency = "jwks", status = response.status.as_u16(), "JWKS not served");
            return Err(AppError::Unavailable { dependency: "jwks".into() });
        }
        let set: JwkSet = serde_json::from_slice(&response.body).map_err(AppError::internal)?;
        keys.1 = set
            .keys
            .iter()
            .filter_map(|jwk| {
                let alg = match jwk.common.key_algorithm.map(|a| format!("{a:?}")).as_deref() {
                    Some("ES256") => Algorithm::ES256,
                    _ => Algorithm::RS256,
                };
                Some((jwk.common.key_id.clone()?, (DecodingKey::from_jwk(jwk).ok()?, alg)))
            })
            .collect();
        keys.0 = Some(Instant::now());
        Ok(keys.1.get(kid).cloned())
    }

    pub async fn verify(&self, token: &str) -> Result<Map<String, Value>, AppError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AppError::Unauthorized)?;
        let kid = header.kid.ok_or(AppError::Unauthorized)?;
        let (key, alg) = self.key(&kid).await?.ok_or(AppError::Unauthorized)?;
        if header.alg != alg {
            return Err(AppError::Unauthorized);
        }
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[&self.issuer]);
        validation.validate_aud = false;
        validation.validate_nbf = true;
        validation.leeway = 0;
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|_| AppError::Unauthorized)?
            .claims;
        let aud_ok = match (claims.get("aud"), claims.get("client_id")) {
            (Some(Value::String(a)), _) | (None, Some(Value::String(a))) => self.audience.contains(a),
            (Some(Value::Array(list)), _) => {
                list.iter().filter_map(Value::as_str).any(|a| self.audience.iter().any(|x| x == a))
            }
            _ => false,
        };
        if aud_ok {
            Ok(claims)
        } else {
            Err(AppError::Unauthorized)
        }
    }
}

#[async_trait]
impl ViewerIdentity for JwksVerifier {
    async fn viewer(&self, authorization: Option<&str>) -> Result<Option<Caller>, AppError> {
        let Some(raw) = authorization else { return Ok(None) };
        let token = raw.trim().strip_prefix("Bearer ").unwrap_or(raw).trim();
        let claims = self.verify(token).await?;
        let strings: HashMap<String, String> = claims
            .into_iter()
            .map(|(k, v)| {
                let s = match v {
                    Value::String(s) => s,
                    Value::Array(items) => {
                        format!("[{}]", items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" "))
                    }
                    other => other.to_string(),
                };
                (k, s)
            })
            .collect();
        Caller::from_claims(&strings).map(Some)
    }
}
