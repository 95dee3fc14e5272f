//! In-app notifications: what the renter and the owner are told when a booking moves, and what
//! an owner is told about their money (payout account paused or ready, information Stripe
//! needs, a payout to the bank that failed). Derived from events alone, with the event id in
//! the notification id, so a redelivered event maps onto the same notifications and stores
//! nothing twice.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::events::{kinds, DomainEvent};
use super::money::{Currency, Money};
use super::user::UserId;
use crate::error::AppError;

mod payouts;
use payouts::for_payout_event;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notification {
    /// `{event id}-{renter|owner}`: unique per recipient, time-ordered (UUID v7 events).
    pub id: String,
    #[serde(skip)]
    pub user_id: UserId,
    /// The event that caused it, e.g. `booking.accepted`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The booking it is about; none for news about the owner's payouts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub booking_id: Option<String>,
    /// The inquiry it is about (a message in one, decision 0041).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inquiry_id: Option<String>,
    pub text: String,
    pub read: bool,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_at: Option<DateTime<Utc>>,
}

/// What booking events carry for their consumers.
#[derive(Debug, Deserialize)]
pub struct BookingEventData {
    pub booking_id: String,
    pub listing_title: String,
    pub renter_id: String,
    pub owner_id: String,
    pub status: String,
    /// The stay's exclusive end date (events before handovers may lack it).
    #[serde(default)]
    pub end_date: Option<chrono::NaiveDate>,
    /// Deposit events' hold (`deposits`).
    #[serde(default)]
    pub deposit: Option<DepositEventData>,
    /// A condition report's stage and author (`reports`).
    #[serde(default)]
    pub stage: Option<String>,
    #[serde(default)]
    pub author: Option<String>,
    #[serde(default)]
    pub report_version: Option<u64>,
    /// Claim events' claim (`claims`).
    #[serde(default)]
    pub claim: Option<ClaimEventData>,
}

/// What claim events carry of the claim.
#[derive(Debug, Deserialize)]
pub struct ClaimEventData {
    pub amount: i64,
    pub currency: String,
    #[serde(default)]
    pub settled_for: Option<i64>,
    pub answer_by: DateTime<Utc>,
}

/// What deposit events carry of the hold.
#[derive(Debug, Deserialize)]
pub struct DepositEventData {
    pub amount: i64,
    pub currency: String,
    #[serde(default)]
    pub captured: i64,
}

/// The notifications `event` produces: one for the renter and one for the owner of a booking,
/// one for an owner about their payouts, or none for events nobody is told about. A malformed
/// event is an error (retried, then DLQ).
pub fn for_event(event: &DomainEvent) -> Result<Vec<Notification>, AppError> {
    match event.kind.as_str() {
        kind if kind.starts_with("booking.") => for_booking_event(event),
        kinds::PAYOUT_ACCOUNT_UPDATED | kinds::PAYOUT_FAILED => for_payout_event(event),
        kinds::MESSAGE_SENT
        | kinds::REVIEW_WRITTEN
        | kinds::REVIEW_PUBLISHED
        | kinds::REVIEW_ANSWERED
        | kinds::REVIEW_REMOVED => for_recipient_event(event),
        _ => Ok(Vec::new()),
    }
}

fn for_booking_event(event: &DomainEvent) -> Result<Vec<Notification>, AppError> {
    let data: BookingEventData = serde_json::from_value(event.data.clone())
        .map_err(|e| AppError::bad_request("invalid_event", format!("booking event {} lacks fields: {e}", event.id)))?;
    let title = &data.listing_title;
    let (renter_text, owner_text) = match event.kind.as_str() {
        kinds::BOOKING_REQUESTED if data.status == "requested" => (
            format!("Your booking request for \"{title}\" was sent; the owner has 24 hours to answer."),
            format!("New booking request for \"{title}\": accept or decline within 24 hours."),
        ),
        kinds::BOOKING_REQUESTED => (
            format!("Your booking of \"{title}\" is reserved: pay within 30 minutes to confirm it."),
            format!("\"{title}\" was booked; waiting for the renter's payment."),
        ),
        kinds::BOOKING_ACCEPTED => (
            format!("Your request for \"{title}\" was accepted: pay within 30 minutes to confirm it."),
            format!("You accepted the booking of \"{title}\"; waiting for the renter's payment."),
        ),
        kinds::BOOKING_DECLINED => {
            (format!("Your request for \"{title}\" was declined."), format!("You declined the booking of \"{title}\"."))
        }
        kinds::BOOKING_CONFIRMED => (
            format!("Your booking of \"{title}\" is confirmed."),
            format!("The booking of \"{title}\" is confirmed and paid."),
        ),
        kinds::BOOKING_CANCELLED => (
            format!("Your booking of \"{title}\" was cancelled."),
            format!("The booking of \"{title}\" was cancelled."),
        ),
        kinds::BOOKING_EXPIRED => (
            format!("Your booking of \"{title}\" expired before it was confirmed; the dates are free again."),
            format!("The booking of \"{title}\" expired; the dates are free again."),
        ),
        kinds::BOOKING_PICKED_UP => (
            format!("You picked up \"{title}\". Enjoy, and bring it back by the end of the stay."),
            format!("\"{title}\" was picked up. Your return code is on the booking."),
        ),
        kinds::BOOKING_RETURNED => (format!("You returned \"{title}\". Thanks!"), format!("\"{title}\" is back.")),
        kinds::BOOKING_RETURN_OVERDUE => {
            let due = data.end_date.map(|d| format!(" on {d}")).unwrap_or_default();
            (
                format!(
                    "\"{title}\" was due back{due}. Please return it now: each started day late costs one daily price."
                ),
                format!("\"{title}\" was due back{due} and has not been returned yet. The renter was told."),
            )
        }
        kinds::DEPOSIT_HELD => (
            format!("The deposit for \"{title}\" is held on your card (not charged); it is released after the return."),
            format!("The renter's deposit for \"{title}\" is held on their card."),
        ),
        kinds::DEPOSIT_FAILED => (
            format!(
                "We could not hold the deposit for \"{title}\" on your card. Confirm the hold with another card on \
                 the booking."
            ),
            // Before the pickup the owner may still cancel; once the item is out, they may not.
            if data.status == "confirmed" {
                format!(
                    "The renter's deposit for \"{title}\" could not be held; they were asked for another card. If it \
                     is still missing at the start, you may cancel: the renter is refunded in full and you are not \
                     penalized."
                )
            } else {
                format!("The renter's deposit for \"{title}\" is no longer held; they were asked for another card.")
            },
        ),
        kinds::DEPOSIT_RELEASED => (
            format!("The deposit hold for \"{title}\" was released: nothing was taken."),
            format!("The deposit hold for \"{title}\" was released."),
        ),
        kinds::DEPOSIT_CAPTURED => {
            let taken = deposit_taken(&data).ok_or_else(|| {
                AppError::bad_request("invalid_event", format!("deposit event {} lacks its amounts", event.id))
            })?;
            (
                format!(
                    "{taken} of your deposit for \"{title}\" was taken (late return, damage claim); the rest was released."
                ),
                format!("{taken} of the deposit for \"{title}\" was taken (late return, damage claim)."),
            )
        }
        kinds::DEPOSIT_PAID_OUT => {
            let taken = deposit_taken(&data).ok_or_else(|| {
                AppError::bad_request("invalid_event", format!("deposit event {} lacks its amounts", event.id))
            })?;
            (
                format!("The {taken} taken from your deposit for \"{title}\" was paid to the owner."),
                format!("{taken} taken from the renter's deposit for \"{title}\" is on its way to your account."),
            )
        }
        kinds::BOOKING_COMPLETED => (
            format!("Your rental of \"{title}\" is complete. Thanks!"),
            format!("The rental of \"{title}\" is complete."),
        ),
        kinds::CLAIM_FILED | kinds::CLAIM_ACCEPTED | kinds::CLAIM_CONTESTED | kinds::CLAIM_DECIDED => {
            claim_texts(event, &data)?
        }
        kinds::PAYMENT_FAILED => return payment_failed(event, &data),
        // Told of a new report; its edits are in the audit trail.
        kinds::CONDITION_REPORTED if data.report_version.unwrap_or(1) > 1 => return Ok(Vec::new()),
        kinds::CONDITION_REPORTED => return condition_reported(event, &data),
        _ => return Ok(Vec::new()),
    };
    let user = |raw: &str| {
        UserId::parse(raw).map_err(|_| {
            AppError::bad_request("invalid_event", format!("booking event {} has an invalid user id", event.id))
        })
    };
    let make = |user_id: UserId, role: &str, text: String| Notification {
        id: format!("{}-{role}", event.id),
        user_id,
        kind: event.kind.clone(),
        booking_id: Some(data.booking_id.clone()),
        inquiry_id: None,
        text,
        read: false,
        created_at: event.occurred_at,
        read_at: None,
    };
    Ok(vec![make(user(&data.renter_id)?, "renter", renter_text), make(user(&data.owner_id)?, "owner", owner_text)])
}

/// A failed payment is the renter's to fix: one notification, theirs.
fn payment_failed(event: &DomainEvent, data: &BookingEventData) -> Result<Vec<Notification>, AppError> {
    let user_id = UserId::parse(&data.renter_id).map_err(|_| {
        AppError::bad_request("invalid_event", format!("booking event {} has an invalid user id", event.id))
    })?;
    Ok(vec![Notification {
        id: format!("{}-renter", event.id),
        user_id,
        kind: event.kind.clone(),
        booking_id: Some(data.booking_id.clone()),
        inquiry_id: None,
        text: format!(
            "Your payment for \"{}\" did not go through. Try again, or with another card, before the booking's hold ends.",
            data.listing_title
        ),
        read: false,
        created_at: event.occurred_at,
        read_at: None,
    }])
}

/// A condition report tells the other party (its author knows): one notification.
fn condition_reported(event: &DomainEvent, data: &BookingEventData) -> Result<Vec<Notification>, AppError> {
    let invalid =
        || AppError::bad_request("invalid_event", format!("report event {} lacks its stage or author", event.id));
    let stage = match data.stage.as_deref() {
        Some("pickup") => "pickup",
        Some("return") => "return",
        _ => return Err(invalid()),
    };
    let (recipient, role, author) = match data.author.as_deref() {
        Some("renter") => (&data.owner_id, "owner", "The renter"),
        Some("owner") => (&data.renter_id, "renter", "The owner"),
        _ => return Err(invalid()),
    };
    let user_id = UserId::parse(recipient).map_err(|_| invalid())?;
    Ok(vec![Notification {
        id: format!("{}-{role}", event.id),
        user_id,
        kind: event.kind.clone(),
        booking_id: Some(data.booking_id.clone()),
        inquiry_id: None,
        text: format!(
            "{author} recorded the condition of \"{}\" at the {stage}. Read it on the booking, and add yours.",
            data.listing_title
        ),
        read: false,
        created_at: event.occurred_at,
        read_at: None,
    }])
}

/// What the renter and the owner are told of a claim's step.
fn claim_texts(event: &DomainEvent, data: &BookingEventData) -> Result<(String, String), AppError> {
    let invalid = || AppError::bad_request("invalid_event", format!("claim event {} lacks its claim", event.id));
    let claim = data.claim.as_ref().ok_or_else(invalid)?;
    let currency = Currency::parse(&claim.currency).ok_or_else(invalid)?;
    let money = |amount| Money { amount, currency };
    let (title, claimed) = (&data.listing_title, money(claim.amount));
    let settled = || claim.settled_for.map(money).ok_or_else(invalid);
    let answer_by = claim.answer_by.format("%Y-%m-%d %H:%M UTC");
    Ok(match event.kind.as_str() {
        kinds::CLAIM_FILED => (
            format!(
                "The owner of \"{title}\" claims {claimed} from your deposit for damage. Accept or contest it by \
                 {answer_by}; without an answer it is accepted."
            ),
            format!("Your claim of {claimed} for \"{title}\" was filed; the renter has until {answer_by} to answer."),
        ),
        kinds::CLAIM_ACCEPTED => {
            let how = if event.actor.as_deref() == Some("system") { "was not answered in time and is" } else { "was" };
            (
                format!("The claim of {claimed} for \"{title}\" {how} accepted; it is taken from your deposit hold."),
                format!("Your claim of {claimed} for \"{title}\" {how} accepted; it is taken from the deposit hold."),
            )
        }
        kinds::CLAIM_CONTESTED => (
            format!("You contested the claim for \"{title}\"; an operator will decide."),
            format!("The renter contested your claim for \"{title}\"; an operator will decide."),
        ),
        _ => {
            let settled = settled()?;
            (
                format!("An operator decided the claim for \"{title}\": {settled} is taken from your deposit hold."),
                format!("An operator decided your claim for \"{title}\": {settled} is taken from the deposit hold."),
            )
        }
    })
}

/// What a deposit event says was taken, as money.
fn deposit_taken(data: &BookingEventData) -> Option<Money> {
    let d = data.deposit.as_ref()?;
    Some(Money { amount: d.captured, currency: Currency::parse(&d.currency)? })
}

/// What `message.sent` and `review.*` carry (`messages::post`, `reviews`): never the text.
#[derive(Debug, Deserialize)]
struct RecipientEventData {
    /// A message in an inquiry's thread names the inquiry instead (decision 0041).
    #[serde(default)]
    booking_id: Option<String>,
    #[serde(default)]
    inquiry_id: Option<String>,
    listing_title: String,
    recipient_id: String,
}

/// One notification for the event's recipient: the new message's, or the reviewed member.
fn for_recipient_event(event: &DomainEvent) -> Result<Vec<Notification>, AppError> {
    let invalid = |what: String| AppError::bad_request("invalid_event", format!("{} {}: {what}", event.kind, event.id));
    let data: RecipientEventData = serde_json::from_value(event.data.clone()).map_err(|e| invalid(e.to_string()))?;
    let user_id = UserId::parse(&data.recipient_id).map_err(|_| invalid("invalid recipient".into()))?;
    // A message names its booking or its inquiry; a review always its booking.
    let names_inquiry = event.kind == kinds::MESSAGE_SENT && data.inquiry_id.is_some();
    if data.booking_id.is_none() && !names_inquiry {
        return Err(invalid("no booking_id".into()));
    }
    let title = &data.listing_title;
    let text = match event.kind.as_str() {
        kinds::REVIEW_WRITTEN => {
            format!("You were reviewed for \"{title}\". Write your review to read it: both appear once both are in.")
        }
        kinds::REVIEW_PUBLISHED => format!("A review of you for \"{title}\" is published."),
        kinds::REVIEW_ANSWERED => format!("Your review for \"{title}\" was answered."),
        kinds::REVIEW_REMOVED => format!("Your review for \"{title}\" was removed for breaking the review rules."),
        _ => format!("New message about \"{title}\"."),
    };
    Ok(vec![Notification {
        id: format!("{}-recipient", event.id),
        user_id,
        kind: event.kind.clone(),
        booking_id: data.booking_id,
        inquiry_id: data.inquiry_id,
        text,
        read: false,
        created_at: event.occurred_at,
        read_at: None,
    }])
}

/// A notification id as sent in a path: `{uuid}-{renter|owner}`; anything else is not found.
pub fn parse_id(raw: &str) -> Result<String, AppError> {
    let ok = raw.rsplit_once('-').is_some_and(|(event, role)| {
        matches!(role, "renter" | "owner") && uuid::Uuid::try_parse(event).is_ok_and(|u| u.to_string() == event)
    });
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(AppError::NotFound("notification"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, status: &str) -> DomainEvent {
        DomainEvent::new(
            kind,
            "booking/b1".into(),
            Some("u-renter".into()),
            Utc::now(),
            serde_json::json!({"booking_id": "b1", "listing_title": "Drill", "renter_id": "u-renter", "owner_id": "u-owner", "status": status}),
        )
    }

    #[test]
    fn each_move_tells_both_parties_once() {
        for kind in [
            kinds::BOOKING_REQUESTED,
            kinds::BOOKING_ACCEPTED,
            kinds::BOOKING_DECLINED,
            kinds::BOOKING_CONFIRMED,
            kinds::BOOKING_CANCELLED,
            kinds::BOOKING_EXPIRED,
            kinds::BOOKING_PICKED_UP,
            kinds::BOOKING_RETURNED,
            kinds::BOOKING_RETURN_OVERDUE,
            kinds::BOOKING_COMPLETED,
        ] {
            let e = event(kind, "requested");
            let ns = for_event(&e).unwrap();
            assert_eq!(ns.len(), 2, "{kind}");
            assert_eq!(ns[0].user_id.as_str(), "u-renter");
            assert_eq!(ns[1].user_id.as_str(), "u-owner");
            assert_eq!(ns[0].id, format!("{}-renter", e.id));
            assert!(ns.iter().all(|n| n.text.contains("Drill") && !n.read));
            // The same event gives the same ids: the store's conditional put dedupes.
            assert_eq!(
                for_event(&e).unwrap().iter().map(|n| n.id.clone()).collect::<Vec<_>>(),
                ns.iter().map(|n| n.id.clone()).collect::<Vec<_>>()
            );
        }
        assert!(for_event(&event("user.registered", "x")).unwrap().is_empty());
        let mut broken = event(kinds::BOOKING_ACCEPTED, "x");
        broken.data = serde_json::json!({"booking_id": "b1"});
        assert_eq!(for_event(&broken).unwrap_err().code(), "invalid_event");
    }

    #[test]
    fn a_failed_payment_tells_the_renter_only() {
        let n = for_event(&event(kinds::PAYMENT_FAILED, "pending_payment")).unwrap();
        assert_eq!(n.len(), 1);
        assert_eq!((n[0].user_id.as_str(), n[0].id.ends_with("-renter")), ("u-renter", true));
        assert!(n[0].text.contains("did not go through"), "{}", n[0].text);
    }

    #[test]
    fn a_condition_report_tells_the_other_party() {
        let mut e = event(kinds::CONDITION_REPORTED, "x");
        e.data["stage"] = serde_json::json!("return");
        e.data["author"] = serde_json::json!("owner");
        let ns = for_event(&e).unwrap();
        assert_eq!(ns.len(), 1);
        assert_eq!(ns[0].user_id.as_str(), "u-renter");
        assert!(
            ns[0].text.starts_with("The owner recorded the condition of \"Drill\" at the return."),
            "{}",
            ns[0].text
        );
        e.data["report_version"] = serde_json::json!(2);
        assert!(for_event(&e).unwrap().is_empty(), "an edit is not told");
        e.data["report_version"] = serde_json::json!(1);
        e.data["author"] = serde_json::json!("stranger");
        assert_eq!(for_event(&e).unwrap_err().code(), "invalid_event");
    }

    #[test]
    fn a_message_tells_its_recipient_without_its_text() {
        let e = DomainEvent::new(
            kinds::MESSAGE_SENT,
            "booking/b1".into(),
            Some("u-renter".into()),
            Utc::now(),
            serde_json::json!({"booking_id": "b1", "listing_title": "Drill", "message_id": "m1",
                "sender_id": "u-renter", "recipient_id": "u-owner"}),
        );
        let ns = for_event(&e).unwrap();
        assert_eq!(ns.len(), 1);
        assert_eq!((ns[0].user_id.as_str(), ns[0].booking_id.as_deref()), ("u-owner", Some("b1")));
        assert_eq!(ns[0].text, "New message about \"Drill\".");
        assert!(e.goes_to(crate::domain::events::Route::BookingEvents));
        let mut inquiry = e.clone();
        inquiry.data = serde_json::json!({"inquiry_id": "i1", "listing_title": "Drill", "message_id": "m2",
            "sender_id": "u-renter", "recipient_id": "u-owner"});
        let ns = for_event(&inquiry).unwrap();
        assert_eq!((ns[0].booking_id.as_deref(), ns[0].inquiry_id.as_deref()), (None, Some("i1")));
        let mut review = inquiry.clone();
        review.kind = kinds::REVIEW_PUBLISHED.into();
        assert_eq!(for_event(&review).unwrap_err().code(), "invalid_event", "a review names its booking");
    }

    fn owner_event(kind: &str, data: serde_json::Value) -> DomainEvent {
        DomainEvent::new(kind, "user/u-owner".into(), None, Utc::now(), data)
    }

    #[test]
    fn owners_are_told_of_their_payouts() {
        let failed = owner_event(
            kinds::PAYOUT_FAILED,
            serde_json::json!({"payout_id": "po_1", "amount": 4250, "currency": "EUR", "failure_code": "account_closed"}),
        );
        let ns = for_event(&failed).unwrap();
        assert_eq!(ns.len(), 1);
        assert_eq!((ns[0].user_id.as_str(), ns[0].booking_id.as_deref()), ("u-owner", None));
        assert_eq!(ns[0].id, format!("{}-owner", failed.id));
        assert!(ns[0].text.contains("42.50 EUR") && ns[0].text.contains("account closed"), "{}", ns[0].text);

        let update = |change: serde_json::Value, tell_owner| {
            let e = owner_event(
                kinds::PAYOUT_ACCOUNT_UPDATED,
                serde_json::json!({"change": change, "tell_owner": tell_owner}),
            );
            for_event(&e).unwrap().into_iter().map(|n| n.text).collect::<Vec<_>>()
        };
        let paused = update(
            serde_json::json!({"newly_due": ["external_account", "individual.address.city", "individual.address.line1"],
                "transfers": false}),
            true,
        );
        assert_eq!(
            paused,
            vec![
                "Transfers to your payout account are paused: Stripe needs your bank account, \
            your address. Your earnings wait until you provide it."
            ]
        );
        let ready = update(serde_json::json!({"newly_due": [], "transfers": true}), true);
        assert!(ready[0].contains("is ready"), "{ready:?}");
        let due =
            update(serde_json::json!({"newly_due": ["individual.verification.document"], "transfers": null}), true);
        assert!(due[0].starts_with("Stripe needs an identity document"), "{due:?}");
        assert!(update(serde_json::json!({"newly_due": ["x"], "transfers": null}), false).is_empty(), "not news");
        let opened =
            owner_event(kinds::PAYOUT_ACCOUNT_UPDATED, serde_json::json!({"account_id": "acct_1", "opened": true}));
        assert!(for_event(&opened).unwrap().is_empty());

        let mut broken = failed.clone();
        broken.data = serde_json::json!({"amount": 1});
        assert_eq!(for_event(&broken).unwrap_err().code(), "invalid_event");
        broken.data = failed.data.clone();
        broken.subject = "listing/l1".into();
        assert_eq!(for_event(&broken).unwrap_err().code(), "invalid_event");
    }

    #[test]
    fn ids_from_paths() {
        let id = format!("{}-owner", uuid::Uuid::now_v7());
        assert_eq!(parse_id(&id).unwrap(), id);
        for bad in ["", "x-owner", "0192d3f4-5a6b-7c8d-9e0f-112233445566-admin", "0192d3f4-5a6b-7c8d-9e0f-112233445566"]
        {
            assert_eq!(parse_id(bad).unwrap_err().status(), 404, "{bad}");
        }
    }
}
