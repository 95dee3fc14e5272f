//! GET/PATCH /me through the gateway's JWT authorizer and the real functions.

use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use integration_tests::{env, http, new_user, token, token_for};
use serde_json::{json, Value};

async fn get_me(auth: Option<&str>) -> reqwest::Response {
    let mut req = http().get(env().url("/me"));
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    req.send().await.unwrap()
}

async fn patch_me(token: &str, body: &str) -> reqwest::Response {
    http()
        .patch(env().url("/me"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

/// The claims of a token the runner minted, to copy into a forgery.
fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

async fn assert_unauthorized(auth: Option<&str>, why: &str) {
    let resp = get_me(auth).await;
    assert_eq!(resp.status(), 401, "{why}");
    assert_eq!(resp.json::<Value>().await.unwrap()["message"], "Unauthorized", "{why}");
}

#[tokio::test]
async fn missing_malformed_forged_expired_and_early_tokens_are_401() {
    assert_unauthorized(None, "no token").await;
    assert_unauthorized(Some("Bearer not-a-jwt"), "garbage").await;

    let user = new_user();
    let real = token(&user).await;
    let jwks: Value =
        http().get(env().url("/_local/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap();
    let kid = jwks["keys"][0]["kid"].as_str().unwrap().to_owned();

    // Same kid, issuer and audience, signed with a key of our own: a forgery.
    let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let pkcs8 = key.to_pkcs8v1().unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some(kid.clone());
    let forged =
        jsonwebtoken::encode(&header, &claims_of(&real), &jsonwebtoken::EncodingKey::from_ec_der(pkcs8.as_ref()))
            .unwrap();
    assert_unauthorized(Some(&format!("Bearer {forged}")), "forged signature").await;

    // A real signature on claims that were tampered with after signing.
    let mut claims = claims_of(&real);
    claims["sub"] = json!(new_user());
    let parts: Vec<&str> = real.split('.').collect();
    let tampered = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(claims.to_string()), parts[2]);
    assert_unauthorized(Some(&format!("Bearer {tampered}")), "tampered claims").await;

    // alg=none
    let none = format!("{}.{}.", URL_SAFE_NO_PAD.encode(json!({"alg":"none","kid":kid}).to_string()), parts[1]);
    assert_unauthorized(Some(&format!("Bearer {none}")), "alg none").await;

    let expired = token_for(&env().api, json!({ "sub": user, "expires_in": -60 })).await;
    assert_unauthorized(Some(&format!("Bearer {expired}")), "expired").await;
    let early = token_for(&env().api, json!({ "sub": user, "not_before_in": 600 })).await;
    assert_unauthorized(Some(&format!("Bearer {early}")), "not yet valid").await;

    // And the real one works.
    assert_eq!(get_me(Some(&format!("Bearer {real}"))).await.status(), 200);
}

#[tokio::test]
async fn first_call_creates_the_profile_from_claims() {
    let user = new_user();
    let t = token_for(&env().api, json!({ "sub": user, "name": "Grace Hopper", "email": "grace@example.test" })).await;
    let resp = get_me(Some(&format!("Bearer {t}"))).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    let first: Value = resp.json().await.unwrap();
    assert_eq!(first["user_id"], user.as_str());
    assert_eq!(first["display_name"], "Grace Hopper");
    assert_eq!(first["email"], "grace@example.test");
    assert_eq!(first["version"], 1);

    let second: Value = get_me(Some(&format!("Bearer {t}"))).await.json().await.unwrap();
    assert_eq!(second["created_at"], first["created_at"], "not re-created");
}

#[tokio::test]
async fn patch_validates_and_updates() {
    let user = new_user();
    let t = token(&user).await;

    let resp = patch_me(&t, r#"{"display_name":"  Ada L.  ","phone":"+44 20 7946 0958"}"#).await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["display_name"], "Ada L.");
    assert_eq!(v["phone"], "+442079460958");

    let cases = [
        (r#"{"display_name":""}"#, 400, "validation_failed"),
        (r#"{"display_name":"ok","phone":"12345"}"#, 400, "validation_failed"),
        (r#"{"display_name":7}"#, 400, "invalid_field"),
        (r#"{"nickname":"x"}"#, 400, "unknown_field"),
        (r#"{"display_name":"#, 400, "malformed_json"),
        (r#"{}"#, 400, "empty_patch"),
    ];
    for (body, status, code) in cases {
        let resp = patch_me(&t, body).await;
        assert_eq!(resp.status(), status, "{body}");
        assert_eq!(resp.headers()["content-type"], "application/problem+json", "{body}");
        let problem: Value = resp.json().await.unwrap();
        assert_eq!(problem["code"], code, "{body}: {problem}");
        assert_eq!(problem["status"], status);
        assert!(problem["request_id"].as_str().is_some_and(|r| !r.is_empty()), "{problem}");
    }

    let big = format!(r#"{{"display_name":"{}"}}"#, "x".repeat(70 * 1024));
    assert_eq!(patch_me(&t, &big).await.status(), 413);
    let wrong_type = http()
        .patch(env().url("/me"))
        .bearer_auth(&t)
        .header("content-type", "text/plain")
        .body("display_name=x")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), 415);

    // Nothing above changed the profile; null clears the phone.
    let now: Value = get_me(Some(&format!("Bearer {t}"))).await.json().await.unwrap();
    assert_eq!(now["display_name"], "Ada L.");
    assert_eq!(now["version"], 2);
    let cleared: Value = patch_me(&t, r#"{"phone":null}"#).await.json().await.unwrap();
    assert!(cleared["phone"].is_null(), "{cleared}");
}

#[tokio::test]
async fn unknown_route_is_404_from_the_gateway() {
    let resp = http().get(env().url("/nope")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
}
