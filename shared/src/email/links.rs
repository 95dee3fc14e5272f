//! Signed one-click unsubscribe links (RFC 8058): the URL names the member and the category, and
//! an HMAC-SHA256 of both under a key only the stack has, so a link works for the member it was
//! sent to and a forged or altered one is refused. Links do not expire: mail is read late.

use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::domain::email::Category;
use crate::domain::user::UserId;
use crate::error::AppError;

/// The signing key, from Secrets Manager through the secret cache.
#[derive(Clone)]
pub struct LinkKey(hmac::Key);

impl LinkKey {
    pub fn new(secret: &[u8]) -> Self {
        LinkKey(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }

    fn message(user: &UserId, category: Category) -> String {
        format!("unsubscribe/v1\n{user}\n{}", category.as_str())
    }

    pub fn sign(&self, user: &UserId, category: Category) -> String {
        URL_SAFE_NO_PAD.encode(hmac::sign(&self.0, Self::message(user, category).as_bytes()))
    }

    /// Whether `token` is this key's signature of `user` and `category` (compared in constant time).
    pub fn verify(&self, user: &UserId, category: Category, token: &str) -> bool {
        let Ok(tag) = URL_SAFE_NO_PAD.decode(token) else { return false };
        hmac::verify(&self.0, Self::message(user, category).as_bytes(), &tag).is_ok()
    }

    /// `{api_base}/email/unsubscribe?user=..&category=..&token=..`: the List-Unsubscribe target.
    pub fn unsubscribe_url(&self, api_base: &str, user: &UserId, category: Category) -> Result<String, AppError> {
        let base = format!("{}/email/unsubscribe", api_base.trim_end_matches('/'));
        let token = self.sign(user, category);
        let params = [("user", user.as_str()), ("category", category.as_str()), ("token", token.as_str())];
        Ok(url::Url::parse_with_params(&base, params).map_err(AppError::internal)?.to_string())
    }
}

/// A fixed key is its own source (unit tests, benchmarks).
#[async_trait::async_trait]
impl crate::ports::LinkKeys for LinkKey {
    async fn link_key(&self) -> Result<LinkKey, AppError> {
        Ok(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_verifies_for_its_member_and_category_only() {
        let key = LinkKey::new(b"0123456789abcdef-link");
        let ada = UserId::parse("ada|1").unwrap();
        let url = key.unsubscribe_url("https://api.example.com/", &ada, Category::Messages).unwrap();
        let parsed = url::Url::parse(&url).unwrap();
        assert_eq!(parsed.path(), "/email/unsubscribe");
        let q: std::collections::HashMap<_, _> = parsed.query_pairs().into_owned().collect();
        assert_eq!(q["user"], "ada|1");
        assert!(key.verify(&ada, Category::Messages, &q["token"]));
        assert!(!key.verify(&ada, Category::Reviews, &q["token"]), "another category");
        assert!(!key.verify(&UserId::parse("bob").unwrap(), Category::Messages, &q["token"]), "another member");
        assert!(!LinkKey::new(b"another-key-0123456").verify(&ada, Category::Messages, &q["token"]));
        assert!(!key.verify(&ada, Category::Messages, "not base64!"));
    }
}
