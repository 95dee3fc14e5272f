//! Deposits held on the renter's card, never charged up front (decision 0040): the card saved
//! at payment is authorized for the deposit (`capture_method=manual`) `DepositHoldLeadHours`
//! before the start, renewed before the authorization lapses, and at settlement released or
//! captured in part (late fees, later claims). `Deposit::next_step` is the one rule the
//! scheduled task, the completion task, cancellations and the payment worker follow. Every
//! Stripe call that places or ends a hold is claimed (written) before it is made, so whoever
//! looks next finishes that call, with the same idempotency key, before anything else.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use super::booking::{Booking, BookingId, BookingStatus};
use super::claim::ClaimId;
use super::money::Currency;
use super::user::UserId;

/// Default lead between placing the hold and the start (00:00 UTC of the start date).
pub const DEFAULT_HOLD_LEAD_HOURS: i64 = 24;
/// Card authorizations lapse after 7 days, merchant-initiated Visa ones (our off-session
/// holds) after 5: a hold older than this is renewed first.
pub const RENEW_AFTER: Duration = Duration::days(4);

string_enum!(
    /// Where a booking's deposit stands.
    DepositStatus {
        /// To be held at `hold_at`.
        Scheduled => "scheduled",
        /// Authorized on the renter's card (`intent_id`), nothing taken.
        Held => "held",
        /// The last hold failed (`failure_code`): the renter is asked to confirm one with
        /// another card (`POST /bookings/{id}/deposit`).
        Failed => "failed",
        /// Settled: nothing taken, the hold cancelled (or never placed).
        Released => "released",
        /// Settled: `captured` taken, the rest released.
        Captured => "captured",
    }
);

/// An authorization in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hold {
    pub intent_id: String,
    pub authorized_at: DateTime<Utc>,
}

/// How a deposit was settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Settlement {
    pub captured: i64,
    /// What was owed beyond the hold and could not be taken from it.
    pub uncollected: i64,
    pub at: DateTime<Utc>,
}

/// A booking's deposit: created when its payment confirms (`BOOKING#{id}` / `DEPOSIT`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deposit {
    pub booking_id: BookingId,
    pub renter_id: UserId,
    pub currency: Currency,
    pub amount: i64,
    /// The renter's Stripe Customer and the card saved at payment.
    pub customer_id: String,
    pub payment_method: Option<String>,
    pub hold_at: DateTime<Utc>,
    pub hold: Option<Hold>,
    /// An older hold a renewal replaced: cancelled once the new one is authorized.
    pub replaced_intent: Option<String>,
    /// A hold the renter is confirming on-session after a failure.
    pub pending_intent: Option<String>,
    /// Holds asked of Stripe so far (each has its own idempotency key).
    pub holds_placed: u32,
    pub failure_code: Option<String>,
    pub settlement: Option<Settlement>,
    /// A Stripe call claimed and not yet recorded (see `Claim`).
    pub claim: Option<Claim>,
    /// The last Stripe error of a step to retry (the due list keeps the deposit while set).
    pub last_error: Option<String>,
    /// The owner's damage claim against it, if any (decision 0043).
    pub damage: Option<Damage>,
    /// The charge a capture made: what the owner's transfer of it draws on (decision 0044).
    pub capture_charge: Option<String>,
    /// The transfer of what was captured to the owner's connected account, once made.
    pub owner_transfer_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

/// A damage claim against the deposit: while open the hold is kept past the claim window; once
/// settled, `owed` is taken with any late fee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Damage {
    pub claim_id: ClaimId,
    pub owed: Option<i64>,
}

/// What the booking needs of its deposit now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Held until settlement.
    Keep,
    /// Settled, taking this much (late fees; 0 releases all).
    Settle(i64),
}

/// A Stripe call that places or ends a hold, written on the deposit before it is made: until
/// its answer is recorded, every look makes it again with the same idempotency key (Stripe
/// answers the first result), so a crash, a timeout or an overlapping run never leaves a hold
/// unrecorded nor moves money twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "call", rename_all = "snake_case")]
pub enum Claim {
    /// The `number`-th hold asked of Stripe, off-session on the saved card.
    Hold { number: u32 },
    /// Capture `amount` of `owed` from the hold; Stripe releases the rest.
    Capture { intent_id: String, amount: i64, owed: i64 },
    /// Cancel the hold: nothing taken of `owed`.
    Release { intent_id: String, owed: i64 },
}

impl Claim {
    /// Its idempotency key at Stripe.
    pub fn key(&self, booking: &BookingId) -> String {
        match self {
            Claim::Hold { number } => format!("deposit-{booking}-{number}"),
            Claim::Capture { intent_id, .. } => format!("capture-{intent_id}"),
            Claim::Release { intent_id, .. } => format!("release-{intent_id}"),
        }
    }
}

/// What to do next with a deposit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DepositStep {
    Nothing,
    /// Claim this call, then make it: a hold (the first, or a renewal before the lapse), a
    /// capture or a release at settlement.
    Call(Claim),
    /// A claimed call whose answer was not recorded: make it again, then record it.
    Resume(Claim),
    /// Cancel a hold a renewal or a replacement card made redundant (or one the renter
    /// confirmed too late).
    CancelReplaced(String),
    /// Settle without Stripe, `owed` uncollected: nothing is held (never placed, refused, lapsed).
    Close {
        owed: i64,
    },
}

impl Need {
    /// What `booking` needs of its deposit at `now`, its claim window closing `claim_window`
    /// after the return and `damage` claimed against it: a claim keeps the hold until it is
    /// settled, then is owed at once with the late fee.
    pub fn of(booking: &Booking, damage: Option<&Damage>, claim_window: Duration, now: DateTime<Utc>) -> Need {
        let late_fee = booking.handover.late_fee;
        match booking.status {
            BookingStatus::Requested | BookingStatus::PendingPayment | BookingStatus::InProgress => Need::Keep,
            // Never picked up: nothing to claim once the stay is over.
            BookingStatus::Confirmed if now.date_naive() >= booking.end_date => Need::Settle(0),
            BookingStatus::Confirmed => Need::Keep,
            BookingStatus::Returned | BookingStatus::Completed => match (damage, booking.handover.returned_at) {
                (Some(Damage { owed: None, .. }), _) => Need::Keep,
                (Some(Damage { owed: Some(owed), .. }), _) => Need::Settle(late_fee.saturating_add(*owed)),
                (None, _) if booking.status == BookingStatus::Completed => Need::Settle(late_fee),
                (None, Some(at)) if now >= at + claim_window => Need::Settle(late_fee),
                (None, _) => Need::Keep,
            },
            BookingStatus::Cancelled | BookingStatus::Expired | BookingStatus::Declined => Need::Settle(0),
        }
    }
}

impl Deposit {
    /// The deposit of `booking`, whose payment just confirmed with `payment_method` saved to
    /// `customer_id`: held `lead_hours` before the start (or now, when that has passed).
    pub fn schedule(
        booking: &Booking,
        customer_id: String,
        payment_method: Option<String>,
        lead_hours: i64,
        now: DateTime<Utc>,
    ) -> Self {
        let starts = booking.start_date.and_time(NaiveTime::MIN).and_utc();
        Deposit {
            booking_id: booking.id.clone(),
            renter_id: booking.renter_id.clone(),
            currency: booking.quote.currency,
            amount: booking.quote.deposit,
            customer_id,
            payment_method,
            hold_at: starts - Duration::hours(lead_hours),
            hold: None,
            replaced_intent: None,
            pending_intent: None,
            holds_placed: 0,
            failure_code: None,
            settlement: None,
            claim: None,
            last_error: None,
            damage: None,
            capture_charge: None,
            owner_transfer_id: None,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    pub fn status(&self) -> DepositStatus {
        match (&self.settlement, &self.hold, &self.failure_code) {
            (Some(s), _, _) if s.captured > 0 => DepositStatus::Captured,
            (Some(_), _, _) => DepositStatus::Released,
            (None, _, Some(_)) => DepositStatus::Failed,
            (None, Some(_), None) => DepositStatus::Held,
            (None, None, None) => DepositStatus::Scheduled,
        }
    }

    /// The one rule. A claimed call is finished first, then a replaced hold cancelled; a
    /// settled deposit has nothing left to do; otherwise the booking's need decides: hold when
    /// due, renew before the lapse (unless a failure waits for the renter), capture or release
    /// at settlement.
    pub fn next_step(&self, need: Need, now: DateTime<Utc>) -> DepositStep {
        if let Some(claim) = &self.claim {
            return DepositStep::Resume(claim.clone());
        }
        if let Some(old) = &self.replaced_intent {
            return DepositStep::CancelReplaced(old.clone());
        }
        if self.settlement.is_some() {
            return DepositStep::Nothing;
        }
        let hold = Claim::Hold { number: self.holds_placed + 1 };
        match (need, &self.hold) {
            (Need::Keep, None) if self.failure_code.is_none() && now >= self.hold_at => DepositStep::Call(hold),
            (Need::Keep, Some(h)) if self.failure_code.is_none() && now >= h.authorized_at + RENEW_AFTER => {
                DepositStep::Call(hold)
            }
            (Need::Keep, _) => DepositStep::Nothing,
            (Need::Settle(owed), Some(h)) if owed > 0 => DepositStep::Call(Claim::Capture {
                intent_id: h.intent_id.clone(),
                amount: owed.min(self.amount),
                owed,
            }),
            (Need::Settle(owed), Some(h)) => DepositStep::Call(Claim::Release { intent_id: h.intent_id.clone(), owed }),
            (Need::Settle(owed), None) => DepositStep::Close { owed },
        }
    }

    /// When the scheduled task should look at it next: a replaced hold or a failed step at
    /// once, a hold at `hold_at`, a renewal before the lapse; never once settled or while a
    /// failure waits for the renter. Settlement itself follows the booking (its due list).
    pub fn due_at(&self) -> Option<DateTime<Utc>> {
        let claim_settled = self.settlement.is_none() && self.damage.as_ref().is_some_and(|d| d.owed.is_some());
        let unfinished = self.claim.is_some() || self.replaced_intent.is_some() || claim_settled;
        if unfinished || (self.last_error.is_some() && self.settlement.is_none()) {
            return Some(self.updated_at);
        }
        if self.settlement.is_some() || self.failure_code.is_some() {
            return None;
        }
        Some(self.hold.as_ref().map_or(self.hold_at, |h| h.authorized_at + RENEW_AFTER))
    }

    /// This settled deposit with the charge its capture made.
    pub fn captured_by(self, charge: String) -> Deposit {
        Deposit { capture_charge: Some(charge), ..self }
    }

    /// What is owed to the owner of what was captured (late fees and claims, in full: they make
    /// good a loss, no commission is taken), until its transfer is made.
    pub fn owed_to_owner(&self) -> Option<(i64, &str)> {
        let captured = self.settlement.map_or(0, |s| s.captured);
        match (&self.capture_charge, &self.owner_transfer_id) {
            (Some(charge), None) if captured > 0 => Some((captured, charge.as_str())),
            _ => None,
        }
    }

    /// Whether a claim may still be put on it: not settled, nor being settled.
    pub fn settleable(&self) -> bool {
        self.settlement.is_none() && !matches!(self.claim, Some(Claim::Capture { .. } | Claim::Release { .. }))
    }

    /// The next version of this deposit with `damage` claimed against it (filed, then settled):
    /// written over this one, so a racing step of the deposit task finds it changed.
    pub fn with_damage(&self, damage: Damage, now: DateTime<Utc>) -> Deposit {
        Deposit { damage: Some(damage), updated_at: now, version: self.version + 1, ..self.clone() }
    }

    /// The idempotency key of the next hold asked of Stripe (the renter's, on-session).
    pub fn next_hold_key(&self) -> String {
        Claim::Hold { number: self.holds_placed + 1 }.key(&self.booking_id)
    }

    /// This deposit with `claim` written, before its call is made.
    pub fn claimed(&self, claim: Claim) -> Deposit {
        let holds_placed = match claim {
            Claim::Hold { number } => number,
            _ => self.holds_placed,
        };
        Deposit { claim: Some(claim), holds_placed, ..self.clone() }
    }

    /// After Stripe authorized `intent_id` at `now` (off-session, or the renter's own
    /// confirmation with `card`, which later holds use): the hold in force; a hold it replaces
    /// is cancelled next. A claim stays: only the answer to that call clears it.
    pub fn held(&self, intent_id: String, card: Option<String>, now: DateTime<Utc>) -> Deposit {
        let mut next = self.clone();
        if let Some(old) = self.hold.as_ref().filter(|h| h.intent_id != intent_id) {
            next.replaced_intent = Some(old.intent_id.clone());
        }
        next.hold = Some(Hold { intent_id, authorized_at: now });
        next.payment_method = card.or(next.payment_method);
        (next.failure_code, next.pending_intent, next.last_error) = (None, None, None);
        next
    }

    /// The answer to a claimed hold: Stripe authorized `intent_id` at `now`; the claim is done.
    pub fn authorized(&self, intent_id: String, now: DateTime<Utc>) -> Deposit {
        Deposit { claim: None, ..self.held(intent_id, None, now) }
    }

    /// After Stripe refused a hold (`code`): the renter is asked for another card. A hold
    /// still in force (a failed renewal) stays until it lapses.
    pub fn refused(&self, code: String) -> Deposit {
        Deposit { failure_code: Some(code), last_error: None, claim: None, ..self.clone() }
    }

    /// Settled with `captured` of `owed` taken (0: released). A hold the renter was still to
    /// confirm is cancelled next (it may be confirmed meanwhile).
    pub fn settled(&self, owed: i64, captured: i64, now: DateTime<Utc>) -> Deposit {
        let settlement = Settlement { captured, uncollected: (owed - captured).max(0), at: now };
        let replaced_intent = self.replaced_intent.clone().or_else(|| self.pending_intent.clone());
        Deposit {
            settlement: Some(settlement),
            replaced_intent,
            pending_intent: None,
            last_error: None,
            claim: None,
            ..self.clone()
        }
    }

    /// Stripe ended `intent_id` (`payment_intent.canceled`). Our own release or capture in
    /// flight, an older hold, or a settled deposit: nothing. The hold in force ended without
    /// us (a lapse, a cancellation in the Dashboard): when the booking needs settlement, it is
    /// settled with nothing taken; otherwise none is left and the renter is asked for another.
    pub fn lost(&self, intent_id: &str, need: Need, now: DateTime<Utc>) -> Option<Deposit> {
        let ours = matches!(&self.claim, Some(Claim::Capture { intent_id: i, .. } | Claim::Release { intent_id: i, .. }) if i == intent_id);
        if ours || self.settlement.is_some() || self.hold.as_ref().is_none_or(|h| h.intent_id != intent_id) {
            return None;
        }
        let gone = Deposit { hold: None, last_error: None, ..self.clone() };
        Some(match need {
            Need::Settle(owed) => gone.settled(owed, 0, now),
            Need::Keep => Deposit { failure_code: Some("hold_lapsed".into()), ..gone },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::booking::{Booking, DateRange, Pricing};
    use crate::domain::listing::Listing;
    use chrono::TimeZone;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn booking() -> Booking {
        let listing = Listing::create(
            serde_json::from_value(serde_json::json!({
                "title": "Camera", "category": "cameras", "location": {"city": "Berlin", "country": "DE"},
                "daily_price": {"amount": 1500, "currency": "EUR"}, "deposit": {"amount": 20000, "currency": "EUR"},
                "min_days": 1, "max_days": 30, "booking_mode": "instant", "status": "active"
            }))
            .unwrap(),
            UserId::parse("owner").unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
        )
        .unwrap();
        let range = DateRange::parse("2026-12-10", "2026-12-20").unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        Booking::request(&listing, UserId::parse("renter").unwrap(), range, None, now, Pricing::default()).unwrap()
    }

    fn deposit() -> Deposit {
        Deposit::schedule(&booking(), "cus_1".into(), Some("pm_1".into()), 24, at("2026-11-01T00:00:00Z"))
    }

    fn hold(number: u32) -> DepositStep {
        DepositStep::Call(Claim::Hold { number })
    }

    #[test]
    fn held_a_lead_before_the_start_then_renewed_before_the_lapse() {
        let d = deposit();
        assert_eq!((d.hold_at, d.status(), d.amount), (at("2026-12-09T00:00:00Z"), DepositStatus::Scheduled, 20000));
        assert_eq!(d.next_step(Need::Keep, at("2026-12-08T23:59:59Z")), DepositStep::Nothing);
        assert_eq!(d.next_step(Need::Keep, d.hold_at), hold(1));
        assert_eq!(d.due_at(), Some(d.hold_at));
        // Claimed before the call: whoever looks next makes that call again, same key.
        let claimed = d.claimed(Claim::Hold { number: 1 });
        assert_eq!(claimed.next_step(Need::Settle(0), d.hold_at), DepositStep::Resume(Claim::Hold { number: 1 }));
        assert_eq!((claimed.due_at(), claimed.holds_placed), (Some(claimed.updated_at), 1));
        assert_eq!(Claim::Hold { number: 1 }.key(&d.booking_id), format!("deposit-{}-1", d.booking_id));
        let held = claimed.authorized("pi_1".into(), d.hold_at);
        assert_eq!(
            (held.status(), held.due_at(), held.claim.clone()),
            (DepositStatus::Held, Some(d.hold_at + RENEW_AFTER), None)
        );
        assert_eq!(held.next_step(Need::Keep, d.hold_at + RENEW_AFTER - Duration::seconds(1)), DepositStep::Nothing);
        assert_eq!(held.next_step(Need::Keep, d.hold_at + RENEW_AFTER), hold(2));
        assert!(RENEW_AFTER < Duration::days(5), "before a merchant-initiated Visa authorization lapses");
        // The new hold first, then the old one goes.
        let renewed = held.claimed(Claim::Hold { number: 2 }).authorized("pi_2".into(), d.hold_at + RENEW_AFTER);
        assert_eq!((renewed.hold.as_ref().unwrap().intent_id.as_str(), renewed.holds_placed), ("pi_2", 2));
        assert_eq!(renewed.next_step(Need::Keep, d.hold_at + RENEW_AFTER), DepositStep::CancelReplaced("pi_1".into()));
        assert_eq!(renewed.due_at(), Some(renewed.updated_at), "at once");
        let again = renewed.held("pi_2".into(), None, d.hold_at + RENEW_AFTER);
        assert_eq!(again.replaced_intent, Some("pi_1".into()), "a repeated report replaces nothing new");
    }

    #[test]
    fn settles_by_what_the_booking_needs() {
        let mut b = booking();
        let window = Duration::hours(48);
        let now = at("2026-12-12T00:00:00Z");
        b.status = BookingStatus::Confirmed;
        assert_eq!(Need::of(&b, None, window, now), Need::Keep);
        assert_eq!(Need::of(&b, None, window, at("2026-12-20T00:00:00Z")), Need::Settle(0), "never picked up");
        b.status = BookingStatus::Returned;
        b.handover.returned_at = Some(at("2026-12-21T10:00:00Z"));
        b.handover.late_fee = 3000;
        assert_eq!(Need::of(&b, None, window, at("2026-12-23T09:59:59Z")), Need::Keep, "the claim window is open");
        assert_eq!(Need::of(&b, None, window, at("2026-12-23T10:00:00Z")), Need::Settle(3000));
        // A claim keeps the hold past the window, then is owed at once with the late fee.
        let claim_id = crate::domain::claim::ClaimId::generate();
        let open = Damage { claim_id: claim_id.clone(), owed: None };
        let settled_claim = Damage { claim_id, owed: Some(7000) };
        let early = at("2026-12-22T00:00:00Z");
        assert_eq!(Need::of(&b, Some(&open), window, at("2026-12-30T00:00:00Z")), Need::Keep, "open: kept");
        assert_eq!(Need::of(&b, Some(&settled_claim), window, early), Need::Settle(10_000), "settled: at once");
        let claimed = deposit().held("pi_1".into(), None, now).with_damage(settled_claim, early);
        assert_eq!(claimed.due_at(), Some(early), "the deposit task settles it at once");
        assert_eq!(claimed.version, deposit().version + 1, "a new version: a racing step's write fails");
        assert_eq!(claimed.settled(10_000, 10_000, early).due_at(), None);
        b.status = BookingStatus::Cancelled;
        assert_eq!(Need::of(&b, None, window, now), Need::Settle(0));

        let held = deposit().held("pi_1".into(), None, now);
        let release = Claim::Release { intent_id: "pi_1".into(), owed: 0 };
        assert_eq!(held.next_step(Need::Settle(0), now), DepositStep::Call(release.clone()));
        assert_eq!(release.key(&held.booking_id), "release-pi_1");
        let capture = |amount, owed| DepositStep::Call(Claim::Capture { intent_id: "pi_1".into(), amount, owed });
        assert_eq!(held.next_step(Need::Settle(3000), now), capture(3000, 3000));
        assert_eq!(held.next_step(Need::Settle(50_000), now), capture(20000, 50_000), "never more than the hold");
        let settled = held
            .claimed(Claim::Capture { intent_id: "pi_1".into(), amount: 20000, owed: 50_000 })
            .settled(50_000, 20000, now);
        assert_eq!(
            (settled.status(), settled.settlement.unwrap().uncollected, settled.claim.clone()),
            (DepositStatus::Captured, 30_000, None)
        );
        assert_eq!(settled.next_step(Need::Settle(50_000), now), DepositStep::Nothing, "exactly once");
        assert_eq!(settled.due_at(), None);
        assert_eq!(deposit().next_step(Need::Settle(0), now), DepositStep::Close { owed: 0 }, "nothing was ever held");
        assert_eq!(held.settled(0, 0, now).status(), DepositStatus::Released);
    }

    #[test]
    fn a_failed_or_lapsed_hold_waits_for_the_renter() {
        let d = deposit();
        let now = d.hold_at;
        let failed = d.claimed(Claim::Hold { number: 1 }).refused("authentication_required".into());
        assert_eq!((failed.status(), failed.due_at(), failed.claim.clone()), (DepositStatus::Failed, None, None));
        assert_eq!(failed.next_step(Need::Keep, now), DepositStep::Nothing, "not retried off-session");
        let pending = Deposit { pending_intent: Some("pi_9".into()), ..failed.clone() };
        let replaced = pending.held("pi_9".into(), Some("pm_new".into()), now);
        assert_eq!(
            (replaced.status(), replaced.failure_code.clone(), replaced.pending_intent.clone()),
            (DepositStatus::Held, None, None)
        );
        assert_eq!(replaced.payment_method.as_deref(), Some("pm_new"), "later holds use the renter's new card");
        let lapsed = replaced.lost("pi_9", Need::Keep, now).unwrap();
        assert_eq!((lapsed.status(), lapsed.failure_code.as_deref()), (DepositStatus::Failed, Some("hold_lapsed")));
        assert!(replaced.lost("pi_other", Need::Keep, now).is_none(), "an old or released hold's end changes nothing");
        assert!(replaced.settled(0, 0, now).lost("pi_9", Need::Keep, now).is_none());
        let releasing = replaced.claimed(Claim::Release { intent_id: "pi_9".into(), owed: 0 });
        assert!(releasing.lost("pi_9", Need::Settle(0), now).is_none(), "our own release, not a lapse");
        let ended = replaced.lost("pi_9", Need::Settle(0), now).unwrap();
        assert_eq!(ended.status(), DepositStatus::Released, "ended at settlement: nothing to take, nobody to ask");
        // A renewal refused keeps the hold in force until it lapses, and is not retried.
        let renewing = d.held("pi_1".into(), None, now).refused("card_declined".into());
        assert_eq!(renewing.next_step(Need::Keep, now + RENEW_AFTER), DepositStep::Nothing);
        assert_eq!(
            renewing.next_step(Need::Settle(0), now),
            DepositStep::Call(Claim::Release { intent_id: "pi_1".into(), owed: 0 })
        );
        // Settled while the renter was still to confirm a hold: that one is cancelled next.
        let settled = pending.settled(0, 0, now);
        assert_eq!(settled.next_step(Need::Settle(0), now), DepositStep::CancelReplaced("pi_9".into()));
        assert_eq!(d.next_hold_key(), format!("deposit-{}-1", d.booking_id));
    }
}
