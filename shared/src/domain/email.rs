//! E-mail (decision 0045): what a member is e-mailed about, by category; which categories they may
//! switch off; and the addresses nothing goes to any more, because SES reported a permanent
//! bounce or a complaint for them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::events::kinds;
use crate::error::{AppError, FieldError};

/// What an e-mail is about. Booking and payment e-mails are transactional: they cannot be
/// switched off, and carry no unsubscribe header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    Bookings,
    Payments,
    Messages,
    Reviews,
}

impl Category {
    pub const ALL: [Category; 4] = [Category::Bookings, Category::Payments, Category::Messages, Category::Reviews];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Bookings => "bookings",
            Category::Payments => "payments",
            Category::Messages => "messages",
            Category::Reviews => "reviews",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Category::ALL.into_iter().find(|c| c.as_str() == raw)
    }

    pub fn can_switch_off(self) -> bool {
        matches!(self, Category::Messages | Category::Reviews)
    }

    /// The category a notification of event `kind` is e-mailed in; `None` when it stays in the
    /// app (the handovers both parties attend, a deposit held or released, reports, completion).
    pub fn of_kind(kind: &str) -> Option<Self> {
        Some(match kind {
            kinds::BOOKING_REQUESTED
            | kinds::BOOKING_ACCEPTED
            | kinds::BOOKING_DECLINED
            | kinds::BOOKING_CONFIRMED
            | kinds::BOOKING_CANCELLED
            | kinds::BOOKING_EXPIRED
            | kinds::BOOKING_RETURN_OVERDUE
            | kinds::CLAIM_FILED
            | kinds::CLAIM_ACCEPTED
            | kinds::CLAIM_CONTESTED
            | kinds::CLAIM_DECIDED => Category::Bookings,
            kinds::PAYMENT_FAILED
            | kinds::DEPOSIT_FAILED
            | kinds::DEPOSIT_CAPTURED
            | kinds::DEPOSIT_PAID_OUT
            | kinds::PAYOUT_FAILED
            | kinds::PAYOUT_ACCOUNT_UPDATED => Category::Payments,
            kinds::MESSAGE_SENT => Category::Messages,
            kinds::REVIEW_WRITTEN | kinds::REVIEW_PUBLISHED | kinds::REVIEW_ANSWERED | kinds::REVIEW_REMOVED => {
                Category::Reviews
            }
            _ => return None,
        })
    }
}

/// A member's e-mail switches. Only the categories that can be switched off are stored; a member
/// who never chose gets every e-mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmailSettings {
    pub messages: bool,
    pub reviews: bool,
}

impl Default for EmailSettings {
    fn default() -> Self {
        EmailSettings { messages: true, reviews: true }
    }
}

impl EmailSettings {
    pub fn allows(&self, category: Category) -> bool {
        match category {
            Category::Bookings | Category::Payments => true,
            Category::Messages => self.messages,
            Category::Reviews => self.reviews,
        }
    }

    /// These settings with `category` switched `on` or off. Switching a transactional category
    /// on is a no-op; off is refused.
    pub fn switched(mut self, category: Category, on: bool) -> Result<Self, FieldError> {
        match category {
            Category::Messages => self.messages = on,
            Category::Reviews => self.reviews = on,
            _ if on => {}
            _ => {
                return Err(FieldError::new(
                    format!("email.{}", category.as_str()),
                    "cannot be switched off: booking and payment e-mails are part of the service",
                ))
            }
        }
        Ok(self)
    }

    /// Applies `PATCH /me/notification-settings`, reporting every field in error at once.
    pub fn patched(self, patch: &SettingsPatch) -> Result<Self, AppError> {
        let mut next = self;
        let mut errors = Vec::new();
        for (name, on) in &patch.email {
            match Category::parse(name) {
                None => errors.push(FieldError::new(format!("email.{name}"), "is not a notification category")),
                Some(c) => match next.switched(c, *on) {
                    Ok(s) => next = s,
                    Err(e) => errors.push(e),
                },
            }
        }
        if errors.is_empty() {
            Ok(next)
        } else {
            Err(AppError::Validation(errors))
        }
    }
}

/// `PATCH /me/notification-settings` as sent: `{"email": {"messages": false}}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    pub email: std::collections::BTreeMap<String, bool>,
}

/// An address SES can send to: ASCII (SES has no SMTPUTF8), a dot-atom local part and a domain of
/// letter-digit-hyphen labels. It is sent to as given; it is compared, and suppressed, by its
/// lower-cased form (its `key`), as SES's own suppression list treats addresses.
#[derive(Debug, Clone, Serialize)]
#[serde(into = "String")]
pub struct EmailAddress {
    address: String,
    key: String,
}

impl EmailAddress {
    pub fn parse(raw: &str) -> Option<Self> {
        let address = raw.trim();
        let (local, domain) = address.split_once('@')?;
        let atom = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c);
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && local.split('.').all(|part| !part.is_empty() && part.chars().all(atom));
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |l: &&str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        let tld_ok = labels.last().is_some_and(|t| t.len() >= 2 && t.chars().all(|c| c.is_ascii_alphabetic()));
        let ok = local_ok && labels.len() >= 2 && labels.iter().all(label_ok) && tld_ok && address.len() <= 254;
        ok.then(|| EmailAddress { address: address.to_owned(), key: address.to_ascii_lowercase() })
    }

    /// The address as given: what the e-mail is sent to.
    pub fn as_str(&self) -> &str {
        &self.address
    }

    /// The lower-cased address: what suppressions are keyed and compared by.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The domain, for logs (the address itself is personal data).
    pub fn domain(&self) -> &str {
        self.key.rsplit('@').next().unwrap_or_default()
    }
}

impl PartialEq for EmailAddress {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for EmailAddress {}

impl std::hash::Hash for EmailAddress {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key.hash(state)
    }
}

impl From<EmailAddress> for String {
    fn from(a: EmailAddress) -> Self {
        a.address
    }
}

impl std::fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.address)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SuppressionReason {
    /// A permanent bounce: the mailbox does not exist or refuses us for good.
    Bounced,
    /// The recipient marked our e-mail as spam.
    Complained,
}

impl SuppressionReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SuppressionReason::Bounced => "bounced",
            SuppressionReason::Complained => "complained",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "bounced" => Some(SuppressionReason::Bounced),
            "complained" => Some(SuppressionReason::Complained),
            _ => None,
        }
    }
}

/// An address nothing is e-mailed to any more, and why (the first report wins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppression {
    pub address: EmailAddress,
    pub reason: SuppressionReason,
    pub since: DateTime<Utc>,
    /// SES's id of the bounce or complaint report.
    #[serde(skip)]
    pub feedback_id: String,
}

/// The suppressions one SES feedback message asks for: its bounce (permanent ones only;
/// transient ones are retried by SES and say nothing of the address) or its complaint (not a
/// `not-spam` one). Reads the
/// SNS envelope, or the bare message when the subscription delivers raw, and both the event
/// publishing shape (`eventType`) and the identity notification shape (`notificationType`).
/// Deliveries, sends and the rest ask for none. Unreadable feedback is an error (retried, then DLQ).
pub fn suppressions_from_feedback(body: &str) -> Result<Vec<Suppression>, AppError> {
    let invalid = |what: &str| AppError::bad_request("invalid_feedback", format!("SES feedback {what}"));
    let outer: serde_json::Value = serde_json::from_str(body).map_err(|_| invalid("is not JSON"))?;
    let message = match (&outer["Type"], &outer["Message"]) {
        (serde_json::Value::String(t), serde_json::Value::String(inner)) if t == "Notification" => {
            serde_json::from_str(inner).map_err(|_| invalid("in an SNS envelope is not JSON"))?
        }
        _ => outer,
    };
    let kind = message["eventType"].as_str().or_else(|| message["notificationType"].as_str());
    let (report, recipients, reason) = match kind {
        Some("Bounce") if message["bounce"]["bounceType"] == "Permanent" => {
            (&message["bounce"], "bouncedRecipients", SuppressionReason::Bounced)
        }
        // A report that the mail is *not* spam (`not-spam` feedback) is no complaint.
        Some("Complaint") if message["complaint"]["complaintFeedbackType"] == "not-spam" => return Ok(Vec::new()),
        Some("Complaint") => (&message["complaint"], "complainedRecipients", SuppressionReason::Complained),
        Some(_) => return Ok(Vec::new()),
        None => return Err(invalid("has neither eventType nor notificationType")),
    };
    let since = report["timestamp"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.to_utc())
        .ok_or_else(|| invalid("has no timestamp"))?;
    let feedback_id = report["feedbackId"].as_str().ok_or_else(|| invalid("has no feedbackId"))?;
    let list = report[recipients].as_array().ok_or_else(|| invalid("names no recipients"))?;
    list.iter()
        .map(|r| {
            let address = r["emailAddress"].as_str().and_then(EmailAddress::parse);
            let address = address.ok_or_else(|| invalid("names a recipient that is not an address"))?;
            Ok(Suppression { address, reason, since, feedback_id: feedback_id.to_owned() })
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn transactional_categories_stay_on() {
        let s = EmailSettings::default();
        assert!(Category::ALL.iter().all(|c| s.allows(*c)));
        let off = s.switched(Category::Messages, false).unwrap();
        assert!(!off.allows(Category::Messages) && off.allows(Category::Reviews));
        assert_eq!(s.switched(Category::Bookings, false).unwrap_err().field, "email.bookings");
        assert_eq!(s.switched(Category::Payments, true).unwrap(), s, "switching one on is a no-op");
    }

    #[test]
    fn a_patch_reports_every_bad_field() {
        let patch: SettingsPatch =
            serde_json::from_str(r#"{"email": {"payments": false, "newsletters": false, "reviews": false}}"#).unwrap();
        let AppError::Validation(errors) = EmailSettings::default().patched(&patch).unwrap_err() else { panic!() };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["email.newsletters", "email.payments"]);
        let ok: SettingsPatch = serde_json::from_str(r#"{"email": {"reviews": false}}"#).unwrap();
        assert_eq!(EmailSettings::default().patched(&ok).unwrap(), EmailSettings { messages: true, reviews: false });
    }

    #[test]
    fn kinds_map_to_categories() {
        assert_eq!(Category::of_kind("booking.requested"), Some(Category::Bookings));
        assert_eq!(Category::of_kind("booking.claim_filed"), Some(Category::Bookings));
        assert_eq!(Category::of_kind("user.payout_failed"), Some(Category::Payments));
        assert_eq!(Category::of_kind("booking.payment_failed"), Some(Category::Payments));
        assert_eq!(Category::of_kind("message.sent"), Some(Category::Messages));
        assert_eq!(Category::of_kind("review.published"), Some(Category::Reviews));
        assert_eq!(Category::of_kind("booking.picked_up"), None);
    }

    /// Issue 25's list: every kind that matters outside the app is e-mailed.
    pub(crate) const EMAILED: [&str; 17] = [
        kinds::BOOKING_REQUESTED,
        kinds::BOOKING_ACCEPTED,
        kinds::BOOKING_CONFIRMED,
        kinds::BOOKING_CANCELLED,
        kinds::BOOKING_EXPIRED,
        kinds::PAYMENT_FAILED,
        kinds::MESSAGE_SENT,
        kinds::REVIEW_WRITTEN,
        kinds::REVIEW_PUBLISHED,
        kinds::CLAIM_FILED,
        kinds::CLAIM_ACCEPTED,
        kinds::CLAIM_CONTESTED,
        kinds::CLAIM_DECIDED,
        kinds::PAYOUT_FAILED,
        kinds::PAYOUT_ACCOUNT_UPDATED,
        kinds::DEPOSIT_CAPTURED,
        kinds::DEPOSIT_PAID_OUT,
    ];

    #[test]
    fn every_kind_that_matters_outside_the_app_is_emailed() {
        for kind in EMAILED {
            assert!(Category::of_kind(kind).is_some(), "{kind}");
        }
    }

    #[test]
    fn addresses_are_sent_to_as_given_and_compared_lower_case() {
        let a = EmailAddress::parse(" Ada.L+rent@Example.COM ").unwrap();
        assert_eq!(
            (a.as_str(), a.key(), a.domain()),
            ("Ada.L+rent@Example.COM", "ada.l+rent@example.com", "example.com")
        );
        assert_eq!(a, EmailAddress::parse("ada.l+rent@example.com").unwrap());
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@localhost",
            "a b@example.com",
            "<a@example.com>",
            "a@b@c.com",
            "a;b@x.com",
            "(c)a@x.com",
            "a@.com",
            "a@x..com",
            "a..b@x.com",
            ".a@x.com",
            "jörg@x.com",
            "a@bücher.de",
            "a@-x.com",
            "a@x.c0m",
        ] {
            assert!(EmailAddress::parse(bad).is_none(), "{bad}");
        }
    }

    fn envelope(message: serde_json::Value) -> String {
        serde_json::json!({"Type": "Notification", "MessageId": "m-1", "Message": message.to_string()}).to_string()
    }

    #[test]
    fn permanent_bounces_and_complaints_suppress() {
        let bounce = serde_json::json!({"eventType": "Bounce", "bounce": {"bounceType": "Permanent",
            "bouncedRecipients": [{"emailAddress": "Gone@Example.com"}], "timestamp": "2026-12-01T10:00:00.000Z",
            "feedbackId": "fb-1"}, "mail": {"messageId": "x"}});
        let s = suppressions_from_feedback(&envelope(bounce.clone())).unwrap();
        assert_eq!(s[0].address.key(), "gone@example.com");
        assert_eq!((s[0].reason, s[0].feedback_id.as_str()), (SuppressionReason::Bounced, "fb-1"));
        assert_eq!(suppressions_from_feedback(&bounce.to_string()).unwrap(), s, "raw delivery reads the same");

        let complaint = serde_json::json!({"notificationType": "Complaint", "complaint": {
            "complainedRecipients": [{"emailAddress": "a@example.com"}], "timestamp": "2026-12-01T10:00:00Z",
            "feedbackId": "fb-2"}});
        let s = suppressions_from_feedback(&envelope(complaint)).unwrap();
        assert_eq!(s[0].reason, SuppressionReason::Complained);
    }

    #[test]
    fn transient_bounces_and_deliveries_suppress_nothing_and_garbage_fails() {
        let transient = serde_json::json!({"eventType": "Bounce", "bounce": {"bounceType": "Transient"}});
        assert!(suppressions_from_feedback(&envelope(transient)).unwrap().is_empty());
        let not_spam =
            serde_json::json!({"eventType": "Complaint", "complaint": {"complaintFeedbackType": "not-spam"}});
        assert!(suppressions_from_feedback(&envelope(not_spam)).unwrap().is_empty());
        let delivery = serde_json::json!({"eventType": "Delivery", "delivery": {}});
        assert!(suppressions_from_feedback(&envelope(delivery)).unwrap().is_empty());
        assert!(suppressions_from_feedback("not json").is_err());
        let unnamed = serde_json::json!({"eventType": "Complaint", "complaint": {"timestamp": "2026-12-01T10:00:00Z",
            "feedbackId": "f", "complainedRecipients": [{"emailAddress": "nobody"}]}});
        assert!(suppressions_from_feedback(&envelope(unnamed)).is_err());
    }
}
