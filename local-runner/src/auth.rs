//! The HTTP API's JWT authorizer, and the local identity provider it trusts.
//!
//! In AWS the authorizer fetches the Cognito User Pool's JWKS from `{issuer}/.well-known/
//! jwks.json`. Offline there is no Cognito, so the runner is the issuer: at start it makes an
//! ES256 key, publishes it at `/_local/.well-known/jwks.json`, mints tokens whose `iss` and
//! `aud` are exactly the template's resolved issuer and audience, and verifies bearer tokens
//! as API Gateway does: signature against the JWKS, `iss`, `aud` (or `client_id` for access
//! tokens), `exp` and `nbf`. A failure is a 401 before any function runs.

use anyhow::{anyhow, Context, Result};
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{json, Map, Value};

pub struct LocalIssuer {
    pub issuer: String,
    pub audience: Vec<String>,
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    jwks: Value,
}

/// Who a minted token is for.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct TokenRequest {
    pub sub: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    /// Lifetime in seconds; negative makes an already-expired token (for tests).
    #[serde(default = "default_ttl")]
    pub expires_in: i64,
    /// Seconds from now before which the token is not valid.
    #[serde(default)]
    pub not_before_in: Option<i64>,
}

fn default_ttl() -> i64 {
    12 * 3600
}

impl LocalIssuer {
    pub fn new(issuer: String, audience: Vec<String>) -> Result<Self> {
        let pair =
            EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).map_err(|_| anyhow!("key generation failed"))?;
        let pkcs8 = pair.to_pkcs8v1().map_err(|_| anyhow!("key encoding failed"))?;
        let point = pair.public_key().as_ref();
        // Uncompressed SEC1 point: 0x04 || X (32 bytes) || Y (32 bytes).
        anyhow::ensure!(point.len() == 65 && point[0] == 4, "unexpected public key form");
        let x = URL_SAFE_NO_PAD.encode(&point[1..33]);
        let y = URL_SAFE_NO_PAD.encode(&point[33..65]);
        let kid = format!("local-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        Ok(Self {
            decoding: DecodingKey::from_ec_components(&x, &y).context("public key")?,
            encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
            jwks: json!({ "keys": [{ "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": kid, "x": x, "y": y }] }),
            kid,
            issuer,
            audience,
        })
    }

    pub fn jwks(&self) -> &Value {
        &self.jwks
    }

    /// An ID token like Cognito's for `req`.
    pub fn mint(&self, req: &TokenRequest) -> Result<String> {
        let now = chrono::Utc::now().timestamp();
        let mut claims = json!({
            "sub": req.sub,
            "iss": self.issuer,
            "aud": self.audience.first().cloned().unwrap_or_default(),
            "token_use": "id",
            "cognito:username": req.sub,
            "auth_time": now,
            "iat": now,
            "exp": now + req.expires_in,
        });
        if let Some(name) = &req.name {
            claims["name"] = json!(name);
        }
        if let Some(email) = &req.email {
            claims["email"] = json!(email);
            claims["email_verified"] = json!(true);
        }
        if !req.groups.is_empty() {
            claims["cognito:groups"] = json!(req.groups);
        }
        if let Some(nbf) = req.not_before_in {
            claims["nbf"] = json!(now + nbf);
        }
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        Ok(jsonwebtoken::encode(&header, &claims, &self.encoding)?)
    }

    /// Verifies an `Authorization` header value; returns the claims or why it failed.
    pub fn verify(&self, authorization: Option<&str>) -> Result<Map<String, Value>, &'static str> {
        let raw = authorization.ok_or("no Authorization header")?.trim();
        // API Gateway accepts the token with or without the Bearer prefix.
        let token = raw.strip_prefix("Bearer ").or_else(|| raw.strip_prefix("bearer ")).unwrap_or(raw).trim();
        let header = jsonwebtoken::decode_header(token).map_err(|_| "malformed token")?;
        if header.kid.as_deref() != Some(self.kid.as_str()) {
            return Err("unknown signing key");
        }
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_issuer(&[&self.issuer]);
        validation.validate_aud = false; // checked below: `aud` or, for access tokens, `client_id`
        validation.validate_nbf = true;
        validation.leeway = 0;
        let data =
            jsonwebtoken::decode::<Map<String, Value>>(token, &self.decoding, &validation).map_err(|e| {
                match e.kind() {
                    jsonwebtoken::errors::ErrorKind::ExpiredSignature => "token expired",
                    jsonwebtoken::errors::ErrorKind::ImmatureSignature => "token not yet valid",
                    jsonwebtoken::errors::ErrorKind::InvalidIssuer => "wrong issuer",
                    jsonwebtoken::errors::ErrorKind::InvalidSignature => "bad signature",
                    _ => "invalid token",
                }
            })?;
        let claims = data.claims;
        let audience_ok = match (claims.get("aud"), claims.get("client_id")) {
            (Some(Value::String(a)), _) => self.audience.contains(a),
            (Some(Value::Array(list)), _) => {
                list.iter().any(|a| a.as_str().map(|a| self.audience.iter().any(|x| x == a)).unwrap_or(false))
            }
            (None, Some(Value::String(c))) => self.audience.contains(c),
            _ => false,
        };
        if !audience_ok {
            return Err("wrong audience");
        }
        Ok(claims)
    }
}

/// Claims as API Gateway puts them in `requestContext.authorizer.jwt.claims`: every value a
/// string, arrays rendered as `[a b]`.
pub fn flatten_claims(claims: &Map<String, Value>) -> Map<String, Value> {
    claims
        .iter()
        .map(|(k, v)| {
            let s = match v {
                Value::String(s) => s.clone(),
                Value::Array(items) => format!(
                    "[{}]",
                    items
                        .iter()
                        .map(|i| i.as_str().map(str::to_owned).unwrap_or_else(|| i.to_string()))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                other => other.to_string(),
            };
            (k.clone(), Value::String(s))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer() -> LocalIssuer {
        LocalIssuer::new("https://cognito-idp.eu-central-1.amazonaws.com/pool".into(), vec!["client".into()]).unwrap()
    }

    fn request(expires_in: i64) -> TokenRequest {
        TokenRequest {
            sub: "u1".into(),
            name: None,
            email: None,
            groups: vec!["owners".into()],
            expires_in,
            not_before_in: None,
        }
    }

    #[test]
    fn valid_token_verifies() {
        let i = issuer();
        let token = i.mint(&request(60)).unwrap();
        let claims = i.verify(Some(&format!("Bearer {token}"))).unwrap();
        assert_eq!(claims["sub"], "u1");
        assert_eq!(flatten_claims(&claims)["cognito:groups"], "[owners]");
    }

    #[test]
    fn rejections() {
        let i = issuer();
        assert_eq!(i.verify(None), Err("no Authorization header"));
        assert_eq!(i.verify(Some("Bearer nonsense")), Err("malformed token"));
        assert_eq!(i.verify(Some(&i.mint(&request(-10)).unwrap())), Err("token expired"));
        let mut nbf = request(60);
        nbf.not_before_in = Some(300);
        assert_eq!(i.verify(Some(&i.mint(&nbf).unwrap())), Err("token not yet valid"));
        // Same kid, other key: a forgery.
        let mut other = issuer();
        other.kid = i.kid.clone();
        assert_eq!(i.verify(Some(&other.mint(&request(60)).unwrap())), Err("bad signature"));
        let wrong_aud = LocalIssuer { audience: vec!["other".into()], ..issuer() };
        let token = wrong_aud.mint(&request(60)).unwrap();
        assert_eq!(wrong_aud_verifier(&wrong_aud, &token), Err("wrong audience"));
    }

    fn wrong_aud_verifier(minted_by: &LocalIssuer, token: &str) -> Result<Map<String, Value>, &'static str> {
        // The same key and issuer, but the gateway expects another client id.
        let verifier = LocalIssuer {
            issuer: minted_by.issuer.clone(),
            audience: vec!["client".into()],
            kid: minted_by.kid.clone(),
            encoding: minted_by.encoding.clone(),
            decoding: minted_by.decoding.clone(),
            jwks: minted_by.jwks.clone(),
        };
        verifier.verify(Some(token))
    }
}
