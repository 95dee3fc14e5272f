//! `GET /admin/claims?status=escalated` (operators): claims in one status (`open`,
//! `escalated` — the default, the operators' queue —, `accepted`, `decided`), newest first,
//! paged with a signed cursor. 403 for anyone else (decision 0043).

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::claim::ClaimStatus;
use shared::domain::review::OPERATORS_GROUP;
use shared::error::FieldError;
use shared::identity::Caller;
use shared::paging::{Paging, QueryParams};
use shared::ports::{ClaimStore, CursorKeys};
use shared::AppError;

pub struct Deps<S, K> {
    pub store: S,
    pub cursor_keys: K,
}

pub async fn handle<S, K>(req: Request, deps: &Deps<S, K>) -> Result<Response<Body>, AppError>
where
    S: ClaimStore,
    K: CursorKeys,
{
    let caller = Caller::from_request(&req)?;
    if !caller.is_in_group(OPERATORS_GROUP) {
        return Err(AppError::Forbidden);
    }
    let params = QueryParams::only(&req, &["status", "limit", "cursor"])?;
    let status = match params.get("status") {
        None => ClaimStatus::Escalated,
        Some(raw) => ClaimStatus::parse(raw).ok_or_else(|| {
            AppError::Validation(vec![FieldError::new("status", "must be open, escalated, accepted or decided")])
        })?,
    };
    let paging = Paging::from_params(&deps.cursor_keys, &params, format!("claims|{}", status.as_str())).await?;
    let page = deps.store.claims_in(status, paging.limit, paging.start.clone()).await?;
    paging.respond(page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::cursor::CursorKey;
    use shared::domain::claim::{AnswerRequest, ClaimRequest};
    use shared::domain::Clock;
    use shared::testing::{caller, claimable, FixedClock, MemoryStore};

    fn request(sub: &str, groups: &str, query: &str) -> Request {
        let mut v: serde_json::Value = serde_json::from_str(include_str!("../../../events/list-claims.json")).unwrap();
        v["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = serde_json::json!(sub);
        v["requestContext"]["authorizer"]["jwt"]["claims"]["cognito:groups"] = serde_json::json!(groups);
        v["rawQueryString"] = serde_json::json!(query);
        v.as_object_mut().unwrap().remove("queryStringParameters");
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    #[tokio::test]
    async fn operators_page_the_escalated_claims() {
        let deps = Deps { store: MemoryStore::default(), cursor_keys: CursorKey::new(b"test-key-0123456789") };
        let now = FixedClock::default().now();
        let (b, _) = claimable(&deps.store, now).await.unwrap();
        let claim = ClaimRequest { amount: 700, description: "Torn seat".into(), evidence: vec![] };
        let window = chrono::Duration::hours(48);
        let filed =
            shared::claims::file(&deps.store, &b.id, &caller("owner", &[]).unwrap(), claim, window, now).await.unwrap();
        let contest = AnswerRequest { answer: "contest".into(), statement: Some("Not me".into()), evidence: vec![] };
        shared::claims::answer(&deps.store, &b.id, &caller("renter", &[]).unwrap(), contest, now).await.unwrap();
        let page = |sub, groups, query| {
            let deps = &deps;
            async move {
                let resp = handle(request(sub, groups, query), deps).await?;
                let Body::Text(t) = resp.body() else { panic!("a JSON body") };
                Ok::<serde_json::Value, AppError>(serde_json::from_str(t).unwrap())
            }
        };
        let queue = page("op", "operators", "").await.unwrap();
        assert_eq!(queue["items"][0]["id"], filed.id.as_str(), "escalated by default: {queue}");
        assert_eq!(page("op", "operators", "status=open").await.unwrap()["items"].as_array().unwrap().len(), 0);
        assert_eq!(page("op", "operators", "status=lost").await.unwrap_err().status(), 400);
        assert_eq!(page("owner", "", "").await.unwrap_err().status(), 403);
    }
}
