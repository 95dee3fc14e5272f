//! Stripe over plain HTTPS with our own serde types for the few fields we use (the base URL
//! is configuration: api.stripe.com in AWS, localstripe locally). Keys come from Secrets
//! Manager through the secret cache, so a rotated key is picked up without a redeploy.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http::{header, Method, Request, StatusCode};
use http_body_util::Full;
use serde::Deserialize;

use crate::domain::booking::{Booking, BookingId};
use crate::domain::country::Country;
use crate::domain::payout::Payout;
use crate::domain::payout_account::PayoutAccount;
use crate::domain::user::UserId;
use crate::error::AppError;
use crate::ports::{
    ConnectGateway, OnboardingLink, PaymentGateway, PaymentIntent, Refund, Transfer, TransferGateway, WebhookSecrets,
};
use crate::secrets::{SecretCache, SecretSource};

mod deposits;

const DEP: &str = "stripe";

/// The Stripe secret (JSON: `secret_key`, `publishable_key`, `webhook_secret`,
/// `webhook_secret_previous`) behind the secret cache.
pub struct StripeSecrets<S> {
    cache: SecretCache<S>,
    secret_id: String,
}

impl StripeSecrets<super::secrets_manager::SecretsManagerSource> {
    /// The Stripe secret named by `STRIPE_SECRET_ID`, read through the secret cache.
    pub fn from_env(config: &aws_config::SdkConfig) -> Result<Self, crate::config::ConfigError> {
        Self::named_by(config, "STRIPE_SECRET_ID")
    }

    /// The Connect endpoint's signing secrets (same fields), named by `STRIPE_CONNECT_SECRET_ID`.
    pub fn connect_from_env(config: &aws_config::SdkConfig) -> Result<Self, crate::config::ConfigError> {
        Self::named_by(config, "STRIPE_CONNECT_SECRET_ID")
    }

    fn named_by(config: &aws_config::SdkConfig, variable: &str) -> Result<Self, crate::config::ConfigError> {
        let source = super::secrets_manager::SecretsManagerSource::new(aws_sdk_secretsmanager::Client::new(config));
        Ok(Self::new(SecretCache::new(source, crate::secrets::DEFAULT_TTL), crate::config::env_required(variable)?))
    }
}

impl<S: SecretSource> StripeSecrets<S> {
    pub fn new(cache: SecretCache<S>, secret_id: String) -> Self {
        Self { cache, secret_id }
    }

    async fn field(&self, name: &str) -> Result<String, AppError> {
        Ok(self.cache.get_json_field(&self.secret_id, name).await?.to_string())
    }
}

#[async_trait]
impl<S: SecretSource> WebhookSecrets for StripeSecrets<S> {
    async fn webhook_secrets(&self) -> Result<Vec<String>, AppError> {
        let current = self.field("webhook_secret").await?;
        // The previous secret is optional (empty outside a rotation).
        let previous = self.field("webhook_secret_previous").await.unwrap_or_default();
        Ok([current, previous].into_iter().filter(|s| !s.is_empty()).collect())
    }
}

pub struct StripeHttp<S> {
    base: String,
    http: super::http_client::LazyClient,
    secrets: Arc<StripeSecrets<S>>,
}

impl StripeHttp<super::secrets_manager::SecretsManagerSource> {
    /// Stripe at `STRIPE_API_BASE` with the secret of [`StripeSecrets::from_env`].
    pub fn from_env(
        secrets: Arc<StripeSecrets<super::secrets_manager::SecretsManagerSource>>,
    ) -> Result<Self, crate::config::ConfigError> {
        Ok(Self::new(crate::config::env_required("STRIPE_API_BASE")?, secrets))
    }
}

impl<S: SecretSource> StripeHttp<S> {
    pub fn new(base: String, secrets: Arc<StripeSecrets<S>>) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            http: super::http_client::LazyClient::new(Duration::from_secs(8)),
            secrets,
        }
    }

    async fn call<T: for<'de> Deserialize<'de>>(
        &self,
        method: Method,
        path: &str,
        form: Option<Vec<(&str, String)>>,
        idempotency_key: Option<&str>,
    ) -> Result<T, AppError> {
        match self.answer(method, path, form, idempotency_key).await? {
            Ok(body) => Ok(body),
            Err(refusal) => Err(AppError::internal(format!("stripe refused {path} with {}", refusal.detail))),
        }
    }

    /// Stripe's answer: the body on success, its refusal (4xx but 401 and 429) as data, faults
    /// and throttling as `Unavailable`.
    async fn answer<T: for<'de> Deserialize<'de>>(
        &self,
        method: Method,
        path: &str,
        form: Option<Vec<(&str, String)>>,
        idempotency_key: Option<&str>,
    ) -> Result<Result<T, Refusal>, AppError> {
        let key = self.secrets.field("secret_key").await?;
        let mut req = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header(header::AUTHORIZATION, format!("Bearer {key}"));
        if let Some(k) = idempotency_key {
            req = req.header("Idempotency-Key", k);
        }
        let mut body = String::new();
        if let Some(pairs) = form {
            body = url::form_urlencoded::Serializer::new(body)
                .extend_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())))
                .finish();
            req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        let req = req
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| AppError::internal(format!("stripe request for {path} not built: {e}")))?;
        let resp = self.http.send(req).await.map_err(|e| {
            tracing::warn!(dependency = DEP, error = %e, "stripe unreachable");
            AppError::Unavailable { dependency: DEP.into() }
        })?;
        let status = resp.status;
        if status.is_success() {
            return serde_json::from_slice::<T>(&resp.body)
                .map(Ok)
                .map_err(|e| AppError::internal(format!("stripe answered an unexpected body on {path}: {e}")));
        }
        if status == StatusCode::UNAUTHORIZED {
            // A rotated key: forget the cached one so the next call fetches the new value.
            self.secrets.cache.invalidate(&self.secrets.secret_id).await;
        }
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::UNAUTHORIZED {
            tracing::warn!(dependency = DEP, status = status.as_u16(), "stripe unavailable");
            return Err(AppError::Unavailable { dependency: DEP.into() });
        }
        let error = serde_json::from_slice::<ErrorBody>(&resp.body).map(|b| b.error).unwrap_or_default();
        let detail = format!("{status}: {}", String::from_utf8_lossy(&resp.body));
        Ok(Err(Refusal { status, code: error.code.or(error.decline_code).unwrap_or_default(), detail }))
    }
}

/// A request Stripe refused: its status, its error's code (`card_declined`,
/// `authentication_required`, ...), and the whole answer for the log.
struct Refusal {
    status: StatusCode,
    code: String,
    detail: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorFields,
}

#[derive(Deserialize, Default)]
struct ErrorFields {
    code: Option<String>,
    decline_code: Option<String>,
}

#[derive(Deserialize)]
struct IntentBody {
    id: String,
    client_secret: Option<String>,
    amount: i64,
    currency: String,
    status: String,
}

impl From<IntentBody> for PaymentIntent {
    fn from(b: IntentBody) -> Self {
        PaymentIntent {
            id: b.id,
            client_secret: b.client_secret.unwrap_or_default(),
            amount: b.amount,
            currency: b.currency.to_ascii_uppercase(),
            status: b.status,
        }
    }
}

#[derive(Deserialize)]
struct RefundBody {
    id: String,
    amount: i64,
    status: String,
}

#[async_trait]
impl<S: SecretSource> PaymentGateway for StripeHttp<S> {
    async fn create_intent(
        &self,
        booking: &Booking,
        customer: &str,
        idempotency_key: &str,
    ) -> Result<PaymentIntent, AppError> {
        let form = vec![
            ("amount", booking.quote.total.to_string()),
            ("currency", booking.quote.currency.code().to_ascii_lowercase()),
            ("payment_method_types[]", "card".to_owned()),
            // The card is saved to the renter's Customer: the deposit is held on it later.
            ("customer", customer.to_owned()),
            ("setup_future_usage", "off_session".to_owned()),
            // Ties the charge to the owner's transfer (separate charges and transfers).
            ("transfer_group", booking.id.to_string()),
            ("metadata[booking_id]", booking.id.to_string()),
            ("metadata[listing_id]", booking.listing_id.to_string()),
        ];
        let body: IntentBody =
            self.call(Method::POST, "/v1/payment_intents", Some(form), Some(idempotency_key)).await?;
        Ok(body.into())
    }

    async fn get_intent(&self, id: &str) -> Result<PaymentIntent, AppError> {
        if !id.starts_with("pi_") || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(AppError::internal("not a PaymentIntent id"));
        }
        let body: IntentBody = self.call(Method::GET, &format!("/v1/payment_intents/{id}"), None, None).await?;
        Ok(body.into())
    }

    async fn refund(
        &self,
        intent_id: &str,
        amount: i64,
        booking_id: &str,
        idempotency_key: &str,
    ) -> Result<Refund, AppError> {
        let form = vec![
            ("payment_intent", intent_id.to_owned()),
            ("amount", amount.to_string()),
            ("metadata[booking_id]", booking_id.to_owned()),
        ];
        let body: RefundBody = self.call(Method::POST, "/v1/refunds", Some(form), Some(idempotency_key)).await?;
        Ok(Refund { id: body.id, amount: body.amount, status: body.status })
    }

    async fn publishable_key(&self) -> Result<String, AppError> {
        self.secrets.field("publishable_key").await
    }
}

#[derive(Deserialize)]
struct LinkBody {
    url: String,
    expires_at: i64,
}

#[async_trait]
impl<S: SecretSource> ConnectGateway for StripeHttp<S> {
    async fn create_account(
        &self,
        user: &UserId,
        email: Option<&str>,
        country: Country,
        idempotency_key: &str,
    ) -> Result<PayoutAccount, AppError> {
        let mut form = vec![
            ("type", "express".to_owned()),
            ("country", country.code().to_owned()),
            ("capabilities[transfers][requested]", "true".to_owned()),
            ("metadata[user_id]", user.to_string()),
        ];
        if let Some(email) = email {
            form.push(("email", email.to_owned()));
        }
        let body: serde_json::Value =
            self.call(Method::POST, "/v1/accounts", Some(form), Some(idempotency_key)).await?;
        let created = body.get("created").and_then(|v| v.as_i64()).unwrap_or_default();
        let reported_at = chrono::DateTime::from_timestamp(created, 0).unwrap_or_default();
        PayoutAccount::from_stripe(&body, reported_at)
    }

    async fn onboarding_link(
        &self,
        account_id: &str,
        refresh_url: &str,
        return_url: &str,
    ) -> Result<OnboardingLink, AppError> {
        let form = vec![
            ("account", account_id.to_owned()),
            ("refresh_url", refresh_url.to_owned()),
            ("return_url", return_url.to_owned()),
            ("type", "account_onboarding".to_owned()),
        ];
        let body: LinkBody = self.call(Method::POST, "/v1/account_links", Some(form), None).await?;
        Ok(OnboardingLink {
            url: body.url,
            expires_at: chrono::DateTime::from_timestamp(body.expires_at, 0).unwrap_or_default(),
        })
    }
}

#[derive(Deserialize)]
struct TransferBody {
    id: String,
    amount: i64,
    #[serde(default)]
    amount_reversed: i64,
}

#[derive(Deserialize)]
struct TransferList {
    data: Vec<TransferBody>,
}

#[derive(Deserialize)]
struct ReversalBody {
    id: String,
}

impl From<TransferBody> for Transfer {
    fn from(b: TransferBody) -> Self {
        Transfer { id: b.id, amount: b.amount, reversed: b.amount_reversed }
    }
}

#[async_trait]
impl<S: SecretSource> TransferGateway for StripeHttp<S> {
    async fn transfer(&self, payout: &Payout, amount: i64, destination: &str, key: &str) -> Result<Transfer, AppError> {
        let form = vec![
            ("amount", amount.to_string()),
            ("currency", payout.currency.code().to_ascii_lowercase()),
            ("destination", destination.to_owned()),
            // Drawn on the renter's charge: paid out only once that money is available.
            ("source_transaction", payout.charge_id.clone()),
            ("transfer_group", payout.booking_id.to_string()),
            ("metadata[booking_id]", payout.booking_id.to_string()),
        ];
        let body: TransferBody = self.call(Method::POST, "/v1/transfers", Some(form), Some(key)).await?;
        Ok(body.into())
    }

    async fn transfers_of(&self, booking: &BookingId) -> Result<Vec<Transfer>, AppError> {
        let path = format!("/v1/transfers?transfer_group={booking}&limit=10");
        let body: TransferList = self.call(Method::GET, &path, None, None).await?;
        Ok(body.data.into_iter().map(Transfer::from).collect())
    }

    async fn transfer_deposit(
        &self,
        booking: &BookingId,
        currency: crate::domain::money::Currency,
        amount: i64,
        charge: &str,
        destination: &str,
        key: &str,
    ) -> Result<Transfer, AppError> {
        let form = vec![
            ("amount", amount.to_string()),
            ("currency", currency.code().to_ascii_lowercase()),
            ("destination", destination.to_owned()),
            ("source_transaction", charge.to_owned()),
            ("transfer_group", format!("deposit-{booking}")),
            ("metadata[booking_id]", booking.to_string()),
            ("metadata[purpose]", "deposit".to_owned()),
        ];
        let body: TransferBody = self.call(Method::POST, "/v1/transfers", Some(form), Some(key)).await?;
        Ok(body.into())
    }

    async fn deposit_transfers_of(&self, booking: &BookingId) -> Result<Vec<Transfer>, AppError> {
        let path = format!("/v1/transfers?transfer_group=deposit-{booking}&limit=10");
        let body: TransferList = self.call(Method::GET, &path, None, None).await?;
        Ok(body.data.into_iter().map(Transfer::from).collect())
    }

    async fn reverse(&self, transfer_id: &str, amount: i64, key: &str) -> Result<String, AppError> {
        if !transfer_id.starts_with("tr_") || !transfer_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(AppError::internal("not a Transfer id"));
        }
        let form = vec![("amount", amount.to_string())];
        let body: ReversalBody =
            self.call(Method::POST, &format!("/v1/transfers/{transfer_id}/reversals"), Some(form), Some(key)).await?;
        Ok(body.id)
    }
}
