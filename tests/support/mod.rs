//! Helpers for the integration tests. They drive the local stack that `scripts/test` starts
//! (moto, localstripe, local-runner) over real connections; without it they fail loudly
//! rather than skip.

use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{json, Value};

pub struct Env {
    pub api: String,
    pub aws_endpoint: String,
    pub resources: Value,
}

fn required(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: integration tests run against the local stack; use scripts/test")
    })
}

/// The shared stack started by scripts/test.
pub fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let path = required("RENTAL_STACK_RESOURCES");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
        Env {
            api: required("RENTAL_API_URL"),
            aws_endpoint: required("AWS_ENDPOINT_URL"),
            resources: serde_json::from_str(&text).expect("resources JSON"),
        }
    })
}

impl Env {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.api)
    }

    /// What `Ref` returns for a logical resource id (queue URL, table name, bucket name...).
    pub fn reference(&self, logical: &str) -> String {
        self.resources["resources"][logical]["ref"]
            .as_str()
            .unwrap_or_else(|| panic!("no resource {logical}"))
            .to_owned()
    }

    pub fn attribute(&self, logical: &str, attribute: &str) -> String {
        self.resources["resources"][logical]["attributes"][attribute]
            .as_str()
            .unwrap_or_else(|| panic!("no {logical}.{attribute}"))
            .to_owned()
    }
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("http client")
}

/// A fresh user id, so tests never share data.
pub fn new_user() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A token from the runner's local issuer.
pub async fn token_for(api: &str, body: Value) -> String {
    let resp = http().post(format!("{api}/_local/token")).json(&body).send().await.expect("token request");
    assert_eq!(resp.status(), 200, "minting a token");
    resp.json::<Value>().await.expect("token JSON")["token"].as_str().expect("token").to_owned()
}

pub async fn token(sub: &str) -> String {
    token_for(&env().api, json!({ "sub": sub, "name": "Test User", "email": format!("{sub}@example.test") })).await
}

pub async fn aws_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config_as(endpoint, "local").await
}

/// The SDK config of a caller with access key `key_id` (the tests' own unchecked one is `local`;
/// a key registered with the moto launcher gets that role's permissions, decision 0028).
pub async fn aws_config_as(endpoint: &str, key_id: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("eu-central-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(key_id, "local", None, None, "tests"))
        .load()
        .await
}

/// Polls `check` every 200 ms until it returns Some or `timeout` passes.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A local runner of its own (own stack name, so own resources in the shared moto), for
/// tests that break or isolate things. Stopped when dropped.
pub struct PrivateRunner {
    _child: tokio::process::Child,
    pub api: String,
    pub resources: Value,
    pub stack: String,
}

impl PrivateRunner {
    /// A runner of the project's template.
    pub async fn start(label: &str) -> Self {
        let root = required("PROJECT_ROOT");
        Self::start_with(label, &format!("{root}/template.yaml"), &[]).await
    }

    /// A runner of any template, with extra runner arguments. The free port it is given may be
    /// taken by another process before the runner binds it: then it exits, and another port is
    /// tried.
    pub async fn start_with(label: &str, template: &str, extra: &[String]) -> Self {
        for _ in 0..3 {
            if let Some(runner) = Self::try_start(label, template, extra).await {
                return runner;
            }
        }
        panic!("private runner {label} did not start on three ports");
    }

    async fn try_start(label: &str, template: &str, extra: &[String]) -> Option<Self> {
        let root = required("PROJECT_ROOT");
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
        let stack = format!("t-{label}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let log_dir = std::env::var("RENTAL_TEST_LOGS").unwrap_or_else(|_| std::env::temp_dir().display().to_string());
        let log = std::fs::File::create(format!("{log_dir}/runner-{stack}.log")).expect("runner log file");
        let resources_path = format!("{log_dir}/{stack}-resources.json");
        let mut child = tokio::process::Command::new(required("LOCAL_RUNNER_BIN"))
            .args(["--template", template, "--bin-dir", &format!("{root}/target/debug")])
            .args(["--dev-secrets", &format!("{root}/local-runner/dev-secrets.json")])
            .args([
                "--aws-endpoint",
                env().aws_endpoint.as_str(),
                "--port",
                &port.to_string(),
                "--stack-name",
                stack.as_str(),
            ])
            .args(["--resources-out", &resources_path])
            // Never api.stripe.com from a test: the scripts' localstripe, when there is one.
            .args(
                std::env::var("LOCALSTRIPE_URL")
                    .map(|u| vec!["--param".to_owned(), format!("StripeApiBase={u}")])
                    .unwrap_or_default(),
            )
            // The scripts' search stand-in (the template's default would create a collection).
            .args(
                std::env::var("RENTAL_SEARCH_URL")
                    .map(|u| {
                        let index = format!("SearchIndex=listings-{}", stack.to_lowercase());
                        vec!["--param".to_owned(), format!("SearchEndpoint={u}"), "--param".to_owned(), index]
                    })
                    .unwrap_or_default(),
            )
            // The project's roles enforced, as in the shared stack (decision 0028).
            .args(if template == format!("{root}/template.yaml") {
                vec!["--iam".to_owned(), required("RENTAL_TRANSLATED_TEMPLATE")]
            } else {
                Vec::new()
            })
            // Renditions are served by the runner's CloudFront stand-in.
            .args(["--param".to_owned(), format!("MediaBaseUrl=http://127.0.0.1:{port}/_local/cdn")])
            .args(["--param".to_owned(), format!("ApiBaseUrl=http://127.0.0.1:{port}")])
            .args(extra)
            .stdout(Stdio::from(log.try_clone().expect("log")))
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .expect("starting local-runner");
        let api = format!("http://127.0.0.1:{port}");
        // The local Stripe sends its events to every stack that asks (owners onboard and renters
        // pay here too); a stack ignores events about bookings it does not hold.
        if let Ok(stripe) = std::env::var("LOCALSTRIPE_URL") {
            let endpoint =
                json!({ "url": format!("{api}/webhooks/stripe-connect"), "secret": connect_webhook_secret() });
            let resp = http().post(format!("{stripe}/_config/connect_webhooks/{stack}")).json(&endpoint).send().await;
            assert!(resp.is_ok_and(|r| r.status().is_success()), "configuring the local Stripe's Connect endpoint");
            let endpoint = json!({ "url": format!("{api}/webhooks/stripe"), "secret": dev_secret("StripeSecret", "webhook_secret") });
            let resp = http().post(format!("{stripe}/_config/webhooks/{stack}")).json(&endpoint).send().await;
            assert!(resp.is_ok_and(|r| r.status().is_success()), "configuring the local Stripe's platform endpoint");
        }
        let probe = format!("{api}/_local/resources");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(resources)) =
                async { http().get(&probe).send().await?.json::<Value>().await.map(Some) }.await
            {
                return Some(PrivateRunner { _child: child, api, resources, stack });
            }
            if child.try_wait().ok().flatten().is_some() {
                return None;
            }
            assert!(tokio::time::Instant::now() < deadline, "timed out after 30s waiting for private runner {stack}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub fn reference(&self, logical: &str) -> String {
        self.resources["resources"][logical]["ref"]
            .as_str()
            .unwrap_or_else(|| panic!("no resource {logical}"))
            .to_owned()
    }
}

/// The local Connect endpoint's signing secret (local-runner/dev-secrets.json).
pub fn connect_webhook_secret() -> String {
    dev_secret("StripeConnectSecret", "webhook_secret")
}

/// A field of a local dev secret (local-runner/dev-secrets.json), e.g. the Stripe key.
pub fn dev_secret(secret: &str, field: &str) -> String {
    let path = format!("{}/local-runner/dev-secrets.json", required("PROJECT_ROOT"));
    let secrets: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("dev secrets")).expect("JSON");
    secrets[secret][field].as_str().unwrap_or_else(|| panic!("{secret}.{field} in the dev secrets")).to_owned()
}

/// Makes the holder of `token` an owner who may publish: opens their payout account and
/// completes the local Stripe's onboarding page, then waits for Stripe's `account.updated`
/// to reach their profile (Connect webhook, payments queue, worker). Repeats are cheap.
pub async fn onboard_on(api: &str, token: &str) -> String {
    let shown = |api: String, token: String| async move {
        let resp = http().get(format!("{api}/me/payout-account")).bearer_auth(&token).send().await.ok()?;
        let account: Value = resp.json().await.ok()?;
        account["can_receive_transfers"].as_bool()?.then(|| account["id"].as_str().map(str::to_owned))?
    };
    if let Some(id) = shown(api.to_owned(), token.to_owned()).await {
        return id;
    }
    let resp = http()
        .post(format!("{api}/me/payout-account"))
        .bearer_auth(token)
        .json(&json!({ "country": "DE" }))
        .send()
        .await
        .expect("opening a payout account");
    assert!(resp.status().is_success(), "opening a payout account: {}", resp.status());
    let opened: Value = resp.json().await.expect("payout account JSON");
    complete_onboarding(opened["onboarding_url"].as_str().expect("onboarding_url"), "complete").await;
    eventually(Duration::from_secs(20), "Stripe's account.updated on the profile", || {
        shown(api.to_owned(), token.to_owned())
    })
    .await
}

/// [`onboard_on`] on the shared stack.
pub async fn onboard(token: &str) -> String {
    onboard_on(&env().api, token).await
}

/// Fails the owner's verification on a fresh onboarding link, as Stripe would disable the
/// account; returns the account as shown once Stripe's `account.updated` has been applied.
pub async fn fail_verification(token: &str) -> Value {
    let resp = http().post(env().url("/me/payout-account")).bearer_auth(token).send().await.expect("a fresh link");
    assert_eq!(resp.status(), 200, "the owner has an account");
    let opened: Value = resp.json().await.expect("payout account JSON");
    complete_onboarding(opened["onboarding_url"].as_str().expect("onboarding_url"), "fail").await;
    eventually(Duration::from_secs(20), "the failed verification on the profile", || async {
        Some(get_json(&env().url("/me/payout-account"), token).await).filter(|a| a["can_receive_transfers"] == false)
    })
    .await
}

/// Submits the local Stripe's onboarding page with `outcome` (`complete` or `fail`), as the
/// owner's click would; Stripe then redirects to the return URL (not followed here).
pub async fn complete_onboarding(url: &str, outcome: &str) {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let resp = client.post(url).form(&[("outcome", outcome)]).send().await.expect("onboarding page");
    assert_eq!(resp.status(), 303, "the onboarding page redirects back once submitted");
}

/// GET `url` with `token` as its bearer (ours or Stripe's key), as JSON.
pub async fn get_json(url: &str, token: &str) -> Value {
    let resp = http().get(url).bearer_auth(token).send().await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
    resp.json().await.unwrap_or_else(|e| panic!("GET {url}: not JSON: {e}"))
}

/// Runs a scheduled function of `api`'s runner directly, as if its clock read `at`.
pub async fn run_scheduled(api: &str, function: &str, at: chrono::DateTime<chrono::Utc>) -> Value {
    let v: Value = http()
        .post(format!("{api}/_local/functions/{function}/invoke"))
        .json(&json!({"now": at.to_rfc3339()}))
        .send()
        .await
        .expect("invoking a scheduled function")
        .json()
        .await
        .expect("its answer");
    assert!(v.get("error").is_none(), "{v}");
    v["response"].clone()
}

/// The local Stripe the scripts started (its `/_config` controls stand in for the Dashboard).
pub fn local_stripe() -> String {
    std::env::var("LOCALSTRIPE_URL").expect("LOCALSTRIPE_URL: run through scripts/test")
}

/// POSTs `body` to the webhook at `path` with `signature` as Stripe would: the status and the
/// JSON answer (null when there is none).
pub async fn post_signed(path: &str, signature: &str, body: &str) -> (u16, Value) {
    let resp = http()
        .post(env().url(path))
        .header("stripe-signature", signature)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {path}: {e}"));
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

/// A `Stripe-Signature` header for `body` signed with `secret` at unix time `t`, as Stripe signs.
pub fn stripe_signature(secret: &str, t: i64, body: &str) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
    let sig = aws_lc_rs::hmac::sign(&key, format!("{t}.{body}").as_bytes());
    format!("t={t},v1={}", sig.as_ref().iter().map(|b| format!("{b:02x}")).collect::<String>())
}
