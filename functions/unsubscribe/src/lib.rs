//! `POST /email/unsubscribe?user=&category=&token=` (public): the one-click unsubscribe of
//! RFC 8058, the target of every switchable e-mail's `List-Unsubscribe` header. Mail programs
//! post `List-Unsubscribe=One-Click` to it without a login, so the link itself is the proof: its
//! token is our HMAC of the member and the category (decision 0045). A forged or altered link is
//! a 403 and changes nothing; a valid one switches the category off (again, if it was) and
//! answers 200. Booking and payment e-mails carry no such link, and asking for them is a 400.
//!
//! `GET` of the same link (a mail program without one-click, or a person opening it) changes
//! nothing, as RFC 8058 requires of GET (link scanners fetch it): a valid link is sent on (303)
//! to the app's page that asks the member to confirm, which then posts it.

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::email::Category;
use shared::domain::user::UserId;
use shared::domain::Clock;
use shared::error::FieldError;
use shared::ports::{EmailPreferences, LinkKeys};
use shared::AppError;

pub struct Deps<S, K, C> {
    pub store: S,
    pub keys: K,
    pub clock: C,
    /// The frontend's origin (`APP_BASE_URL`): where a GET of the link is sent to confirm.
    pub app_base_url: String,
}

pub async fn handle<S, K, C>(req: Request, deps: &Deps<S, K, C>) -> Result<Response<Body>, AppError>
where
    S: EmailPreferences,
    K: LinkKeys,
    C: Clock,
{
    let (user, category, token) = parse(&shared::http::query_pairs(&req))?;
    if !deps.keys.link_key().await?.verify(&user, category, &token) {
        tracing::warn!(category = category.as_str(), "unsubscribe link with a bad token refused");
        return Err(AppError::Forbidden);
    }
    if req.method() == lambda_http::http::Method::GET {
        // Built from the checked link alone: nothing else of the request reaches the app's page.
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("user", user.as_str())
            .append_pair("category", category.as_str())
            .append_pair("token", &token)
            .finish();
        let confirm = format!("{}/account/unsubscribe?{query}", deps.app_base_url.trim_end_matches('/'));
        let response = shared::http::empty(303)?;
        return shared::http::with_header(response, "location", &confirm);
    }
    deps.store.switch_email(&user, &[(category, false)], deps.clock.now()).await?;
    tracing::info!(user_id = %user, category = category.as_str(), "unsubscribed in one click");
    shared::http::json(200, &serde_json::json!({ "user_id": user.as_str(), "unsubscribed": category.as_str() }))
}

/// The link's member, category and token, every problem reported at once.
fn parse(query: &[(String, String)]) -> Result<(UserId, Category, String), AppError> {
    let get = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let mut errors = Vec::new();
    let user = get("user").and_then(|u| UserId::parse(u).ok());
    if user.is_none() {
        errors.push(FieldError::new("user", "must be the member the link was sent to"));
    }
    let category = get("category").and_then(Category::parse).filter(|c| c.can_switch_off());
    if category.is_none() {
        errors.push(FieldError::new("category", "must be a category that can be switched off (messages, reviews)"));
    }
    let token = get("token").filter(|t| !t.is_empty() && t.len() <= 128);
    if token.is_none() {
        errors.push(FieldError::new("token", "must be the link's signature"));
    }
    match (user, category, token) {
        (Some(u), Some(c), Some(t)) => Ok((u, c, t.to_owned())),
        _ => Err(AppError::Validation(errors)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::email::LinkKey;
    use shared::testing::{FixedClock, MemoryStore};

    const KEY: &[u8] = b"test-link-key-0123456789";

    fn request(query: &str) -> Request {
        let mut v: serde_json::Value = serde_json::from_str(include_str!("../../../events/unsubscribe.json")).unwrap();
        v["rawQueryString"] = serde_json::json!(query);
        let pairs: serde_json::Map<String, serde_json::Value> = url::form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), serde_json::json!(v)))
            .collect();
        v["queryStringParameters"] = serde_json::Value::Object(pairs);
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    fn deps() -> Deps<MemoryStore, LinkKey, FixedClock> {
        Deps {
            store: MemoryStore::default(),
            keys: LinkKey::new(KEY),
            clock: FixedClock::default(),
            app_base_url: "https://app.example.com".into(),
        }
    }

    fn query_of(url: &str) -> String {
        url.split_once('?').unwrap().1.to_owned()
    }

    #[tokio::test]
    async fn a_signed_link_switches_its_category_off_and_a_forged_one_is_refused() {
        let deps = deps();
        let ada = UserId::parse("ada").unwrap();
        let url = LinkKey::new(KEY).unsubscribe_url("https://api.example.com", &ada, Category::Reviews).unwrap();
        let forged = query_of(&url).replace("category=reviews", "category=messages");
        assert_eq!(handle(request(&forged), &deps).await.unwrap_err().status(), 403);
        assert!(deps.store.email_settings(&ada).await.unwrap().messages, "nothing changed");

        for _ in 0..2 {
            assert_eq!(handle(request(&query_of(&url)), &deps).await.unwrap().status(), 200, "and again");
        }
        let s = deps.store.email_settings(&ada).await.unwrap();
        assert!(!s.reviews && s.messages);
    }

    #[tokio::test]
    async fn opening_the_link_changes_nothing_and_asks_the_app_to_confirm() {
        let deps = deps();
        let ada = UserId::parse("ada").unwrap();
        let url = LinkKey::new(KEY).unsubscribe_url("https://api.example.com", &ada, Category::Messages).unwrap();
        let get = |q: String| {
            let mut r = request(&q);
            *r.method_mut() = lambda_http::http::Method::GET;
            r
        };
        let resp = handle(get(format!("{}&user=bob&x=%0d", query_of(&url))), &deps).await.unwrap();
        assert_eq!(resp.status(), 303);
        let location = resp.headers()["location"].to_str().unwrap();
        assert_eq!(location, format!("https://app.example.com/account/unsubscribe?{}", query_of(&url)));
        assert!(deps.store.email_settings(&ada).await.unwrap().messages, "nothing changed");
        let forged = query_of(&url).replace("user=ada", "user=bob");
        assert_eq!(handle(get(forged), &deps).await.unwrap_err().status(), 403);
    }

    #[tokio::test]
    async fn a_malformed_link_is_a_400_naming_every_field() {
        let AppError::Validation(errors) = handle(request("category=bookings"), &deps()).await.unwrap_err() else {
            panic!("a validation error")
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["user", "category", "token"]);
    }
}
