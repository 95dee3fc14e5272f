//! `POST /webhooks/stripe` (no JWT; Stripe signs instead): verifies `Stripe-Signature` over
//! the raw body as received (current and previous secret), refuses anything that does not
//! verify with 400 and no side effect, records the event id once (repeats are acknowledged,
//! not processed again), and queues handled event types on the payments FIFO queue (group:
//! the booking; deduplication: the event id). Unknown event types: 200, logged, not queued.

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::payment::{verify_signature, StripeEvent};
use shared::domain::Clock;
use shared::http::{body_bytes, header, json};
use shared::ports::{PaymentEventQueue, Recorded, WebhookInbox, WebhookSecrets};
use shared::AppError;

pub struct Deps<W, I, Q, C> {
    pub secrets: W,
    pub inbox: I,
    pub queue: Q,
    pub clock: C,
    pub tolerance_secs: i64,
}

/// Stripe events are well under this; SQS takes 256 KiB.
pub const MAX_EVENT_BYTES: usize = 200 * 1024;

pub async fn handle<W, I, Q, C>(req: Request, deps: &Deps<W, I, Q, C>) -> Result<Response<Body>, AppError>
where
    W: WebhookSecrets,
    I: WebhookInbox,
    Q: PaymentEventQueue,
    C: Clock,
{
    let body = body_bytes(&req);
    if body.len() > MAX_EVENT_BYTES {
        return Err(AppError::PayloadTooLarge { limit: MAX_EVENT_BYTES });
    }
    let now = deps.clock.now();
    let secrets = deps.secrets.webhook_secrets().await?;
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    if let Err(e) =
        verify_signature(header(&req, "stripe-signature"), body, &secrets, deps.tolerance_secs, now.timestamp())
    {
        tracing::warn!(reason = e.code(), "webhook signature refused");
        shared::metrics::count("WebhookSignatureFailures", &[]);
        return Err(e.into());
    }
    let event = StripeEvent::parse(body)?;
    shared::metrics::count(
        "WebhookEvents",
        &[("Type", if event.is_handled() { event.kind.as_str() } else { "other" })],
    );
    if !event.is_handled() {
        tracing::info!(event_id = %event.id, event_type = %event.kind, "event type not handled; acknowledged");
        return json(200, &serde_json::json!({ "received": true, "queued": false }));
    }
    if deps.inbox.record_event(&event.id, now).await? == Recorded::Duplicate {
        tracing::info!(event_id = %event.id, "repeat delivery; acknowledged");
        return json(200, &serde_json::json!({ "received": true, "duplicate": true }));
    }
    let text = std::str::from_utf8(body).map_err(|_| AppError::bad_request("invalid_event", "not UTF-8"))?;
    if let Err(err) = deps.queue.enqueue(&event.group(), &event.id, text).await {
        // Not queued: forget it, answer 5xx, and Stripe's retry gets a fresh chance.
        deps.inbox.forget_event(&event.id).await?;
        return Err(err);
    }
    tracing::info!(event_id = %event.id, event_type = %event.kind, group = %event.group(), "event queued");
    json(200, &serde_json::json!({ "received": true, "queued": true }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use chrono::{DateTime, TimeZone, Utc};
    use std::sync::Mutex;

    struct Secrets;
    #[async_trait]
    impl WebhookSecrets for Secrets {
        async fn webhook_secrets(&self) -> Result<Vec<String>, AppError> {
            Ok(vec!["whsec_current".into(), "whsec_previous".into()])
        }
    }

    #[derive(Default)]
    struct Inbox(Mutex<Vec<String>>);
    #[async_trait]
    impl WebhookInbox for Inbox {
        async fn record_event(&self, id: &str, _now: DateTime<Utc>) -> Result<Recorded, AppError> {
            let mut seen = self.0.lock().unwrap();
            if seen.iter().any(|s| s == id) {
                return Ok(Recorded::Duplicate);
            }
            seen.push(id.to_owned());
            Ok(Recorded::New)
        }
        async fn forget_event(&self, id: &str) -> Result<(), AppError> {
            self.0.lock().unwrap().retain(|s| s != id);
            Ok(())
        }
    }

    #[derive(Default)]
    struct Queue(Mutex<Vec<(String, String)>>, bool);
    #[async_trait]
    impl PaymentEventQueue for Queue {
        async fn enqueue(&self, group: &str, dedup: &str, _body: &str) -> Result<(), AppError> {
            if self.1 {
                return Err(AppError::Unavailable { dependency: "sqs".into() });
            }
            self.0.lock().unwrap().push((group.to_owned(), dedup.to_owned()));
            Ok(())
        }
    }

    struct At(i64);
    impl Clock for At {
        fn now(&self) -> DateTime<Utc> {
            Utc.timestamp_opt(self.0, 0).single().unwrap()
        }
    }

    fn signed(body: &str, secret: &str, t: i64, base64: bool) -> Request {
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
        let sig: String = aws_lc_rs::hmac::sign(&key, format!("{t}.{body}").as_bytes())
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/stripe-webhook.json")).unwrap();
        v["headers"]["stripe-signature"] = serde_json::json!(format!("t={t},v1={sig}"));
        if base64 {
            use base64::Engine;
            v["body"] = serde_json::json!(base64::engine::general_purpose::STANDARD.encode(body));
            v["isBase64Encoded"] = serde_json::json!(true);
        } else {
            v["body"] = serde_json::json!(body);
        }
        lambda_http::request::from_str(&v.to_string()).unwrap()
    }

    const T: i64 = 1_795_000_000;
    const EVENT: &str = r#"{"id":"evt_1","type":"payment_intent.succeeded","created":1795000000,"data":{"object":{"id":"pi_1","object":"payment_intent","metadata":{"booking_id":"b-1"}}}}"#;

    fn deps(queue_fails: bool) -> Deps<Secrets, Inbox, Queue, At> {
        Deps {
            secrets: Secrets,
            inbox: Inbox::default(),
            queue: Queue(Mutex::default(), queue_fails),
            clock: At(T),
            tolerance_secs: 300,
        }
    }

    #[tokio::test]
    async fn verified_events_are_queued_once_by_booking() {
        let d = deps(false);
        for _ in 0..3 {
            assert_eq!(handle(signed(EVENT, "whsec_current", T, false), &d).await.unwrap().status(), 200);
        }
        assert_eq!(
            *d.queue.0.lock().unwrap(),
            vec![("b-1".to_owned(), "evt_1".to_owned())],
            "queued once, grouped by booking"
        );
        let b64 = EVENT.replace("evt_1", "evt_2");
        assert_eq!(
            handle(signed(&b64, "whsec_previous", T, true), &d).await.unwrap().status(),
            200,
            "base64 body, previous secret"
        );
        assert_eq!(d.queue.0.lock().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn anything_unverified_is_400_without_side_effects() {
        let d = deps(false);
        for req in [signed(EVENT, "whsec_wrong", T, false), signed(EVENT, "whsec_current", T - 301, false)] {
            let err = handle(req, &d).await.unwrap_err();
            assert_eq!(err.status(), 400);
        }
        let mut tampered = signed(EVENT, "whsec_current", T, false);
        *tampered.body_mut() = Body::Text(EVENT.replace("b-1", "b-2"));
        assert_eq!(handle(tampered, &d).await.unwrap_err().code(), "signature_mismatch");
        assert!(d.inbox.0.lock().unwrap().is_empty() && d.queue.0.lock().unwrap().is_empty());
        let other = EVENT.replace("payment_intent.succeeded", "customer.created");
        assert_eq!(handle(signed(&other, "whsec_current", T, false), &d).await.unwrap().status(), 200);
        assert!(d.queue.0.lock().unwrap().is_empty(), "unknown types are not queued");
    }

    #[tokio::test]
    async fn a_failed_enqueue_is_forgotten_so_stripe_retries() {
        let d = deps(true);
        assert_eq!(handle(signed(EVENT, "whsec_current", T, false), &d).await.unwrap_err().status(), 503);
        assert!(d.inbox.0.lock().unwrap().is_empty());
    }
}
