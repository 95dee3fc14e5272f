//! Stripe's webhook endpoints (`POST /webhooks/stripe` for the platform's events,
//! `POST /webhooks/stripe-connect` for connected accounts' events), one receiver: verifies
//! `Stripe-Signature` over the raw body as received (the endpoint's current and previous
//! secret), refuses anything that does not verify with 400 and no side effect, records the
//! event id once (repeats are acknowledged, not processed again), and queues the types the
//! worker handles on the payments FIFO queue (group: the connected account, else the booking;
//! deduplication: the event id). Other types: 200, logged, not queued.

use lambda_http::{Body, Request, Response};

use crate::domain::payment::{verify_signature, StripeEvent, WebhookEndpoint};
use crate::domain::Clock;
use crate::http::{body_bytes, header, json};
use crate::ports::{PaymentEventQueue, Recorded, WebhookInbox, WebhookSecrets};
use crate::AppError;

pub struct Receiver<W, I, Q, C> {
    pub endpoint: WebhookEndpoint,
    pub secrets: W,
    pub inbox: I,
    pub queue: Q,
    pub clock: C,
    pub tolerance_secs: i64,
}

/// Stripe events are well under this; SQS takes 256 KiB.
pub const MAX_EVENT_BYTES: usize = 200 * 1024;

pub async fn receive<W, I, Q, C>(req: Request, deps: &Receiver<W, I, Q, C>) -> Result<Response<Body>, AppError>
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
        tracing::warn!(reason = e.code(), endpoint = ?deps.endpoint, "webhook signature refused");
        crate::metrics::count("WebhookSignatureFailures", &[]);
        return Err(e.into());
    }
    let event = StripeEvent::parse(body)?;
    let handled = deps.endpoint.handles(&event);
    crate::metrics::count("WebhookEvents", &[("Type", if handled { event.kind.as_str() } else { "other" })]);
    if !handled {
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
        let mut v: serde_json::Value = serde_json::from_str(include_str!("../../events/stripe-webhook.json")).unwrap();
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

    fn deps(queue_fails: bool) -> Receiver<Secrets, Inbox, Queue, At> {
        Receiver {
            endpoint: WebhookEndpoint::Platform,
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
            assert_eq!(receive(signed(EVENT, "whsec_current", T, false), &d).await.unwrap().status(), 200);
        }
        assert_eq!(
            *d.queue.0.lock().unwrap(),
            vec![("b-1".to_owned(), "evt_1".to_owned())],
            "queued once, grouped by booking"
        );
        let b64 = EVENT.replace("evt_1", "evt_2");
        assert_eq!(
            receive(signed(&b64, "whsec_previous", T, true), &d).await.unwrap().status(),
            200,
            "base64 body, previous secret"
        );
        assert_eq!(d.queue.0.lock().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn anything_unverified_is_400_without_side_effects() {
        let d = deps(false);
        for req in [signed(EVENT, "whsec_wrong", T, false), signed(EVENT, "whsec_current", T - 301, false)] {
            let err = receive(req, &d).await.unwrap_err();
            assert_eq!(err.status(), 400);
        }
        let mut tampered = signed(EVENT, "whsec_current", T, false);
        *tampered.body_mut() = Body::Text(EVENT.replace("b-1", "b-2"));
        assert_eq!(receive(tampered, &d).await.unwrap_err().code(), "signature_mismatch");
        assert!(d.inbox.0.lock().unwrap().is_empty() && d.queue.0.lock().unwrap().is_empty());
        let other = EVENT.replace("payment_intent.succeeded", "customer.created");
        assert_eq!(receive(signed(&other, "whsec_current", T, false), &d).await.unwrap().status(), 200);
        assert!(d.queue.0.lock().unwrap().is_empty(), "unknown types are not queued");
    }

    #[tokio::test]
    async fn a_failed_enqueue_is_forgotten_so_stripe_retries() {
        let d = deps(true);
        assert_eq!(receive(signed(EVENT, "whsec_current", T, false), &d).await.unwrap_err().status(), 503);
        assert!(d.inbox.0.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn each_endpoint_queues_only_its_own_events() {
        let connect_event = r#"{"id":"evt_c","type":"account.updated","account":"acct_9","created":1795000000,"data":{"object":{"id":"acct_9","object":"account","metadata":{"user_id":"u-1"}}}}"#;
        let platform = deps(false);
        assert_eq!(receive(signed(connect_event, "whsec_current", T, false), &platform).await.unwrap().status(), 200);
        assert!(platform.queue.0.lock().unwrap().is_empty(), "a Connect event on the platform endpoint is not queued");
        let connect = Receiver { endpoint: WebhookEndpoint::Connect, ..deps(false) };
        assert_eq!(receive(signed(connect_event, "whsec_current", T, false), &connect).await.unwrap().status(), 200);
        assert_eq!(*connect.queue.0.lock().unwrap(), vec![("acct_9".to_owned(), "evt_c".to_owned())]);
        assert_eq!(receive(signed(EVENT, "whsec_current", T, false), &connect).await.unwrap().status(), 200);
        assert_eq!(connect.queue.0.lock().unwrap().len(), 1, "a platform event on the Connect endpoint is not queued");
    }
}
