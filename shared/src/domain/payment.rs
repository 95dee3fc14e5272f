//! Payments: Stripe webhook signatures and the few fields of Stripe events we use.

use aws_lc_rs::hmac;
use serde::Deserialize;

use crate::error::AppError;

/// Default tolerance for a signature's timestamp, as Stripe's libraries use.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

/// Why a webhook was refused. All of them are a 400 with no side effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    MissingHeader,
    Malformed,
    NoV1Signature,
    TooOld,
    NoMatch,
}

impl SignatureError {
    pub fn code(self) -> &'static str {
        match self {
            SignatureError::MissingHeader => "signature_missing",
            SignatureError::Malformed => "signature_malformed",
            SignatureError::NoV1Signature => "signature_scheme_unsupported",
            SignatureError::TooOld => "signature_expired",
            SignatureError::NoMatch => "signature_mismatch",
        }
    }
}

impl From<SignatureError> for AppError {
    fn from(e: SignatureError) -> Self {
        AppError::bad_request(e.code(), "the Stripe-Signature header does not verify this payload")
    }
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// Verifies `Stripe-Signature` as Stripe's libraries do: `t=<unix>,v1=<hex>[,v1=...][,v0=...]`;
/// HMAC-SHA256 of `"{t}.{payload}"` with each secret (current and previous during rotation),
/// compared in constant time; any matching `v1` accepts; other schemes are ignored; a
/// timestamp older than `tolerance_secs` is refused. `payload` is the raw body as received.
pub fn verify_signature(
    header: Option<&str>,
    payload: &[u8],
    secrets: &[&str],
    tolerance_secs: i64,
    now: i64,
) -> Result<i64, SignatureError> {
    let header = header.ok_or(SignatureError::MissingHeader)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        let (k, v) = part.trim().split_once('=').ok_or(SignatureError::Malformed)?;
        match k {
            "t" => timestamp = Some(v.parse::<i64>().map_err(|_| SignatureError::Malformed)?),
            "v1" => signatures.push(v),
            _ => {}
        }
    }
    let t = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::NoV1Signature);
    }
    if tolerance_secs > 0 && now - t > tolerance_secs {
        return Err(SignatureError::TooOld);
    }
    let mut signed = Vec::with_capacity(payload.len() + 12);
    signed.extend_from_slice(t.to_string().as_bytes());
    signed.push(b'.');
    signed.extend_from_slice(payload);
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
        for sig in &signatures {
            if let Some(bytes) = hex_decode(sig) {
                // `verify` compares in constant time.
                if hmac::verify(&key, &signed, &bytes).is_ok() {
                    return Ok(t);
                }
            }
        }
    }
    Err(SignatureError::NoMatch)
}

/// The parts of a Stripe event we read.
#[derive(Debug, Clone, Deserialize)]
pub struct StripeEvent {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub created: i64,
    /// The connected account a Connect event happened on (absent on platform events).
    #[serde(default)]
    pub account: Option<String>,
    pub data: StripeEventData,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StripeEventData {
    pub object: serde_json::Value,
}

/// Platform event types the payment worker acts on; anything else is acknowledged and not
/// queued. Transfers are the platform's objects, so their events come to this endpoint.
pub const HANDLED_EVENTS: [&str; 9] = [
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    // Deposit holds: authorized (the renter's own confirmation), and ended (lapsed, cancelled).
    "payment_intent.amount_capturable_updated",
    "payment_intent.canceled",
    "charge.refunded",
    "charge.dispute.created",
    "charge.dispute.closed",
    "transfer.created",
    "transfer.reversed",
];

/// Connect event types (events on owners' connected accounts) the payment worker acts on.
pub const HANDLED_CONNECT_EVENTS: [&str; 3] = ["account.updated", "payout.paid", "payout.failed"];

/// Which of Stripe's two webhook endpoints an event came through: the platform's own events,
/// or Connect events from connected accounts (each endpoint has its own signing secret).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookEndpoint {
    Platform,
    Connect,
}

impl WebhookEndpoint {
    /// Whether the worker acts on `event` from this endpoint (a Connect event names its account).
    pub fn handles(self, event: &StripeEvent) -> bool {
        match self {
            WebhookEndpoint::Platform => event.account.is_none() && HANDLED_EVENTS.contains(&event.kind.as_str()),
            WebhookEndpoint::Connect => {
                event.account.is_some() && HANDLED_CONNECT_EVENTS.contains(&event.kind.as_str())
            }
        }
    }
}

impl StripeEvent {
    pub fn parse(body: &[u8]) -> Result<Self, AppError> {
        serde_json::from_slice(body).map_err(|_| AppError::bad_request("invalid_event", "not a Stripe event"))
    }

    fn object_str(&self, field: &str) -> Option<&str> {
        self.data.object.get(field).and_then(|v| v.as_str())
    }

    /// `metadata.booking_id` of the object, if it carries one (our PaymentIntents do).
    pub fn booking_id(&self) -> Option<&str> {
        self.data.object.get("metadata").and_then(|m| m.get("booking_id")).and_then(|v| v.as_str())
    }

    pub fn object_id(&self) -> Option<&str> {
        self.object_str("id")
    }

    /// The FIFO message group: the connected account for Connect events, else the booking (so
    /// its events apply in order), else the object.
    pub fn group(&self) -> String {
        self.account
            .as_deref()
            .or_else(|| self.booking_id())
            .or_else(|| self.object_id())
            .unwrap_or(&self.id)
            .to_owned()
    }

    pub fn amount(&self) -> Option<i64> {
        self.data.object.get("amount").and_then(|v| v.as_i64())
    }

    pub fn amount_refunded(&self) -> Option<i64> {
        self.data.object.get("amount_refunded").and_then(|v| v.as_i64())
    }

    /// Currency, upper case as our domain writes it (Stripe sends lower case).
    pub fn currency(&self) -> Option<String> {
        self.object_str("currency").map(str::to_ascii_uppercase)
    }

    /// The PaymentIntent this object is or belongs to.
    pub fn payment_intent(&self) -> Option<&str> {
        match self.object_str("object") {
            Some("payment_intent") => self.object_id(),
            _ => self.object_str("payment_intent"),
        }
    }

    /// The charge a PaymentIntent's success made (`latest_charge`: an id, or the object when
    /// expanded), which the owner's transfer draws on.
    pub fn latest_charge(&self) -> Option<&str> {
        let charge = self.data.object.get("latest_charge")?;
        charge.as_str().or_else(|| charge.get("id").and_then(|v| v.as_str()))
    }

    /// Whether this is about a deposit hold (`metadata.purpose = deposit`), not a rental payment.
    pub fn is_deposit_hold(&self) -> bool {
        self.data.object.get("metadata").and_then(|m| m.get("purpose")).and_then(|v| v.as_str()) == Some("deposit")
    }

    /// The Customer and the card of a PaymentIntent (saved for later when it succeeded with
    /// `setup_future_usage`).
    pub fn customer(&self) -> Option<&str> {
        self.object_str("customer")
    }

    pub fn payment_method(&self) -> Option<&str> {
        self.object_str("payment_method")
    }

    pub fn failure_code(&self) -> Option<String> {
        self.data
            .object
            .get("last_payment_error")
            .and_then(|e| e.get("code").or_else(|| e.get("decline_code")))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    }

    pub fn dispute_status(&self) -> Option<&str> {
        self.object_str("status")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";

    fn sign(secret: &str, t: i64, payload: &[u8]) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
        let mut signed = format!("{t}.").into_bytes();
        signed.extend_from_slice(payload);
        hmac::sign(&key, &signed).as_ref().iter().map(|b| format!("{b:02x}")).collect()
    }

    const NOW: i64 = 1_795_000_000;
    const BODY: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{}}}"#;

    fn verify(header: Option<&str>, payload: &[u8]) -> Result<i64, SignatureError> {
        verify_signature(header, payload, &[SECRET], DEFAULT_TOLERANCE_SECS, NOW)
    }

    #[test]
    fn the_cases_stripes_libraries_test() {
        let good = sign(SECRET, NOW, BODY);
        assert_eq!(verify(Some(&format!("t={NOW},v1={good}")), BODY), Ok(NOW));
        assert_eq!(verify(None, BODY), Err(SignatureError::MissingHeader), "missing header");
        assert_eq!(verify(Some("garbage"), BODY), Err(SignatureError::Malformed), "malformed header");
        assert_eq!(verify(Some(&format!("v1={good}")), BODY), Err(SignatureError::Malformed), "no timestamp");
        assert_eq!(verify(Some(&format!("t=abc,v1={good}")), BODY), Err(SignatureError::Malformed), "bad timestamp");
        assert_eq!(
            verify(Some(&format!("t={NOW},v0={good}")), BODY),
            Err(SignatureError::NoV1Signature),
            "only a v0 scheme"
        );
        assert_eq!(
            verify(Some(&format!("t={NOW},v1=bad_signature")), BODY),
            Err(SignatureError::NoMatch),
            "a fake signature"
        );
        let other = sign("whsec_other", NOW, BODY);
        assert_eq!(verify(Some(&format!("t={NOW},v1={other}")), BODY), Err(SignatureError::NoMatch), "wrong secret");
        assert_eq!(
            verify(Some(&format!("t={NOW},v1={other},v1={good},v0=zz")), BODY),
            Ok(NOW),
            "several v1, one valid"
        );
        let old = NOW - DEFAULT_TOLERANCE_SECS - 1;
        assert_eq!(
            verify(Some(&format!("t={old},v1={}", sign(SECRET, old, BODY))), BODY),
            Err(SignatureError::TooOld),
            "expired timestamp"
        );
        let edge = NOW - DEFAULT_TOLERANCE_SECS;
        assert_eq!(
            verify(Some(&format!("t={edge},v1={}", sign(SECRET, edge, BODY))), BODY),
            Ok(edge),
            "at the tolerance boundary"
        );
        let mut changed = BODY.to_vec();
        changed[10] ^= 1;
        assert_eq!(
            verify(Some(&format!("t={NOW},v1={good}")), &changed),
            Err(SignatureError::NoMatch),
            "one byte of body changed"
        );
        assert_eq!(verify(Some(&format!("t={NOW}, v1={good}")), BODY), Ok(NOW), "spaces after commas");
    }

    #[test]
    fn rotation_accepts_the_previous_secret() {
        let previous = sign("whsec_previous", NOW, BODY);
        let header = format!("t={NOW},v1={previous}");
        assert_eq!(verify_signature(Some(&header), BODY, &["whsec_current", "whsec_previous"], 300, NOW), Ok(NOW));
        assert_eq!(
            verify_signature(Some(&header), BODY, &["whsec_current", ""], 300, NOW),
            Err(SignatureError::NoMatch)
        );
    }

    #[test]
    fn events_expose_what_the_worker_needs() {
        let e = StripeEvent::parse(br#"{"id":"evt_9","type":"payment_intent.succeeded","created":1,"data":{"object":{"id":"pi_1","object":"payment_intent","amount":9125,"currency":"eur","metadata":{"booking_id":"b-1"}}}}"#).unwrap();
        assert_eq!(
            (e.booking_id(), e.group(), e.amount(), e.currency().as_deref(), e.payment_intent()),
            (Some("b-1"), "b-1".to_owned(), Some(9125), Some("EUR"), Some("pi_1"))
        );
        assert!(WebhookEndpoint::Platform.handles(&e) && !WebhookEndpoint::Connect.handles(&e));
        let c = StripeEvent::parse(br#"{"id":"evt_8","type":"charge.refunded","data":{"object":{"id":"ch_1","object":"charge","payment_intent":"pi_1","amount_refunded":100}}}"#).unwrap();
        assert_eq!((c.group(), c.payment_intent(), c.amount_refunded()), ("ch_1".to_owned(), Some("pi_1"), Some(100)));
        for latest in [r#""ch_9""#, r#"{"id":"ch_9","object":"charge"}"#] {
            let body = format!(
                r#"{{"id":"e","type":"payment_intent.succeeded","data":{{"object":{{"latest_charge":{latest}}}}}}}"#
            );
            assert_eq!(StripeEvent::parse(body.as_bytes()).unwrap().latest_charge(), Some("ch_9"), "{latest}");
        }
        let other = StripeEvent::parse(br#"{"id":"evt_7","type":"customer.created","data":{"object":{}}}"#).unwrap();
        assert!(!WebhookEndpoint::Platform.handles(&other));
        let connect = StripeEvent::parse(br#"{"id":"evt_6","type":"account.updated","account":"acct_1","data":{"object":{"id":"acct_1","metadata":{"user_id":"u-1"}}}}"#).unwrap();
        assert_eq!(connect.group(), "acct_1", "a connected account's events apply in order");
        assert!(WebhookEndpoint::Connect.handles(&connect) && !WebhookEndpoint::Platform.handles(&connect));
        let unsigned_account =
            StripeEvent::parse(br#"{"id":"evt_5","type":"account.updated","data":{"object":{}}}"#).unwrap();
        assert!(!WebhookEndpoint::Connect.handles(&unsigned_account), "a Connect event names its account");
        assert!(StripeEvent::parse(b"[]").is_err());
    }
}
