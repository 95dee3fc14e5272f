//! The authenticated caller, read once from the JWT claims API Gateway's authorizer put in
//! the request context. Handlers receive a [`Caller`]; nobody parses claims ad hoc.

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

use crate::domain::user::UserId;
use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: UserId,
    pub groups: Vec<String>,
    /// For the profile only; never logged.
    pub email: Option<String>,
    /// The token's `email_verified` (API Gateway hands claims over as strings).
    pub email_verified: bool,
    pub name: Option<String>,
}

impl Caller {
    pub fn is_in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }

    /// The caller behind `req`, or 401. Routes with auth always have claims (the gateway
    /// rejects the request before the function runs); a missing `sub` means a misrouted call.
    pub fn from_request(req: &Request) -> Result<Self, AppError> {
        let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref() else {
            return Err(AppError::Unauthorized);
        };
        let claims = ctx
            .authorizer
            .as_ref()
            .and_then(|a| a.jwt.as_ref())
            .map(|jwt| &jwt.claims)
            .ok_or(AppError::Unauthorized)?;
        Self::from_claims(claims)
    }

    /// The caller described by string claims, as API Gateway hands them over.
    pub fn from_claims(claims: &std::collections::HashMap<String, String>) -> Result<Self, AppError> {
        let sub = claims.get("sub").ok_or(AppError::Unauthorized)?;
        let user_id = UserId::parse(sub).map_err(|_| AppError::Unauthorized)?;
        Ok(Caller {
            user_id,
            groups: claims.get("cognito:groups").map(|g| parse_groups(g)).unwrap_or_default(),
            email: claims.get("email").cloned(),
            email_verified: claims.get("email_verified").is_some_and(|v| v == "true"),
            name: claims.get("name").cloned(),
        })
    }
}

/// API Gateway flattens array claims into strings: `[admins owners]` (its own rendering)
/// or a JSON array, depending on the issuer. Accept both.
fn parse_groups(raw: &str) -> Vec<String> {
    if let Ok(list) = serde_json::from_str::<Vec<String>>(raw) {
        return list;
    }
    raw.trim_start_matches('[')
        .trim_end_matches(']')
        .split([' ', ','])
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_in_both_renderings() {
        assert_eq!(parse_groups("[admins owners]"), vec!["admins", "owners"]);
        assert_eq!(parse_groups(r#"["admins","owners"]"#), vec!["admins", "owners"]);
        assert!(parse_groups("[]").is_empty());
    }

    #[test]
    fn caller_from_v2_request() {
        let body = include_str!("../../events/get-me.json");
        let req = lambda_http::request::from_str(body).unwrap();
        let caller = Caller::from_request(&req).unwrap();
        assert_eq!(caller.user_id.as_str(), "0b6c1b4e-7c1d-4a8e-9a51-3f1e8d1c2a10");
        assert!(caller.is_in_group("renters"));
    }

    #[test]
    fn no_claims_is_unauthorized() {
        let body = include_str!("../../events/health.json");
        let req = lambda_http::request::from_str(body).unwrap();
        assert!(matches!(Caller::from_request(&req), Err(AppError::Unauthorized)));
    }
}
