//! Deposit holds at Stripe (decision 0040): the renter's Customer, holds with manual capture
//! (off-session on the saved card, or for the renter to confirm), captures and releases.

use async_trait::async_trait;
use http::{Method, StatusCode};
use serde::Deserialize;

use super::{IntentBody, Refusal, StripeHttp, DEP};
use crate::domain::deposit::Deposit;
use crate::domain::user::UserId;
use crate::error::AppError;
use crate::ports::{Captured, DepositGateway, HoldOutcome, PaymentGateway, PaymentIntent};
use crate::secrets::SecretSource;

#[derive(Deserialize)]
struct CustomerBody {
    id: String,
}

/// A captured hold: what it took and the charge it made (`latest_charge`, an id or the
/// expanded object; before API version 2022-11-15, the first of `charges`).
#[derive(Deserialize)]
struct CapturedBody {
    amount_received: Option<i64>,
    latest_charge: Option<serde_json::Value>,
    charges: Option<serde_json::Value>,
}

impl CapturedBody {
    fn charge(&self) -> Option<String> {
        let id = |v: &serde_json::Value| match v {
            serde_json::Value::String(id) => Some(id.clone()),
            object => object.get("id")?.as_str().map(str::to_owned),
        };
        self.latest_charge.as_ref().and_then(id).or_else(|| id(self.charges.as_ref()?.get("data")?.get(0)?))
    }
}

/// A PaymentIntent id as Stripe makes them (it goes into a path).
fn intent_path(id: &str, action: &str) -> Result<String, AppError> {
    if !id.starts_with("pi_") || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(AppError::internal("not a PaymentIntent id"));
    }
    Ok(format!("/v1/payment_intents/{id}/{action}").trim_end_matches('/').to_owned())
}

/// The parameters every deposit hold carries: manual capture, and what the worker needs to
/// find its booking (`purpose` keeps it apart from the rental payment).
fn hold_form(d: &Deposit) -> Vec<(&'static str, String)> {
    vec![
        ("amount", d.amount.to_string()),
        ("currency", d.currency.code().to_ascii_lowercase()),
        ("customer", d.customer_id.clone()),
        ("capture_method", "manual".to_owned()),
        ("metadata[booking_id]", d.booking_id.to_string()),
        ("metadata[purpose]", "deposit".to_owned()),
    ]
}

#[async_trait]
impl<S: SecretSource> DepositGateway for StripeHttp<S> {
    async fn create_customer(&self, user: &UserId, key: &str) -> Result<String, AppError> {
        let form = vec![("metadata[user_id]", user.to_string())];
        let body: CustomerBody = self.call(Method::POST, "/v1/customers", Some(form), Some(key)).await?;
        Ok(body.id)
    }

    async fn hold(&self, deposit: &Deposit, key: &str) -> Result<HoldOutcome, AppError> {
        let Some(card) = deposit.payment_method.as_ref().filter(|_| !deposit.customer_id.is_empty()) else {
            return Ok(HoldOutcome::Refused("no_saved_card".to_owned()));
        };
        let mut form = hold_form(deposit);
        form.extend([
            ("payment_method", card.clone()),
            ("confirm", "true".to_owned()),
            ("off_session", "true".to_owned()),
        ]);
        match self.answer::<IntentBody>(Method::POST, "/v1/payment_intents", Some(form), Some(key)).await? {
            Ok(intent) if intent.status == "requires_capture" => Ok(HoldOutcome::Authorized(intent.id)),
            Ok(intent) => Ok(HoldOutcome::Refused(format!("unexpected_status_{}", intent.status))),
            // Another request with this key is still running at Stripe (409): a fault to retry,
            // never a refusal, or its authorization would go unrecorded.
            Err(refusal) if refusal.status == StatusCode::CONFLICT || refusal.code.starts_with("idempotency") => {
                tracing::warn!(dependency = DEP, code = %refusal.code, "deposit hold answered by another request");
                Err(AppError::Unavailable { dependency: DEP.into() })
            }
            // The card or its issuer said no (402), or Stripe will not take this card any more
            // (a detached card, say): the renter must act. Retrying would be refused again.
            Err(refusal) => {
                tracing::info!(dependency = DEP, status = refusal.status.as_u16(), code = %refusal.code, "deposit hold refused");
                let code = if refusal.code.is_empty() { "hold_refused".to_owned() } else { refusal.code };
                Ok(HoldOutcome::Refused(code))
            }
        }
    }

    async fn hold_on_session(&self, deposit: &Deposit, key: &str) -> Result<PaymentIntent, AppError> {
        let mut form = hold_form(deposit);
        form.push(("payment_method_types[]", "card".to_owned()));
        if deposit.customer_id.is_empty() {
            // Paid before Customers (decision 0040): nothing to save the card to.
            form.retain(|(name, _)| *name != "customer");
        } else {
            // The new card replaces the saved one for renewals.
            form.push(("setup_future_usage", "off_session".to_owned()));
        }
        let body: IntentBody = self.call(Method::POST, "/v1/payment_intents", Some(form), Some(key)).await?;
        Ok(body.into())
    }

    async fn capture(&self, intent_id: &str, amount: i64, key: &str) -> Result<Option<Captured>, AppError> {
        let form = vec![("amount_to_capture", amount.to_string())];
        let path = intent_path(intent_id, "capture")?;
        let body = match self.answer::<CapturedBody>(Method::POST, &path, Some(form), Some(key)).await? {
            Ok(body) => body,
            // Captured before (an earlier attempt, the Dashboard): what Stripe says was taken.
            Err(refusal) => match self.ended_already(intent_id, refusal).await?.as_str() {
                "succeeded" => self.call(Method::GET, &intent_path(intent_id, "")?, None, None).await?,
                _ => return Ok(None),
            },
        };
        let charge = body.charge();
        if charge.is_none() {
            tracing::error!(dependency = DEP, intent_id, "a captured hold names no charge: nothing to transfer from");
        }
        Ok(Some(Captured { amount: body.amount_received.unwrap_or(amount), charge }))
    }

    async fn release(&self, intent_id: &str, key: &str) -> Result<(), AppError> {
        let path = intent_path(intent_id, "cancel")?;
        let form = vec![("cancellation_reason", "requested_by_customer".to_owned())];
        match self.answer::<IntentBody>(Method::POST, &path, Some(form), Some(key)).await? {
            Ok(_) => Ok(()),
            Err(refusal) => match self.ended_already(intent_id, refusal).await?.as_str() {
                "canceled" => Ok(()),
                status => Err(AppError::internal(format!("a hold to release is {status} at Stripe: {intent_id}"))),
            },
        }
    }
}

impl<S: SecretSource> StripeHttp<S> {
    /// A capture or a release refused because the intent is past it (captured by an earlier
    /// attempt, cancelled, lapsed): how it ended (`succeeded`, `canceled`); any other refusal
    /// stands.
    async fn ended_already(&self, intent_id: &str, refusal: Refusal) -> Result<String, AppError> {
        if refusal.code == "payment_intent_unexpected_state" {
            let status = self.get_intent(intent_id).await?.status;
            if status == "succeeded" || status == "canceled" {
                return Ok(status);
            }
        }
        Err(AppError::internal(format!("stripe refused {intent_id}: {}", refusal.detail)))
    }
}
