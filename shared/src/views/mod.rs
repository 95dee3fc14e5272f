//! Response bodies: what clients see of domain objects.

use chrono::{DateTime, Utc};
use serde::Serialize;

mod profiles;
pub use profiles::*;

/// A photo as clients see it: renditions as URLs under the media domain (CloudFront).
#[derive(Debug, Serialize)]
pub struct PhotoView {
    pub id: String,
    pub status: &'static str,
    pub position: u32,
    pub is_cover: bool,
    pub content_type: String,
    pub size_bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Why the image was refused (`not_an_image`, `too_small`, ...), for the owner to see.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejection_reason: Option<String>,
    pub renditions: std::collections::BTreeMap<String, RenditionView>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
pub struct RenditionView {
    pub url: String,
    pub width: u32,
    pub height: u32,
}

impl PhotoView {
    pub fn new(p: &crate::domain::photo::Photo, cover: Option<&str>, media_base_url: &str) -> Self {
        PhotoView {
            id: p.id.to_string(),
            status: p.status.as_str(),
            position: p.position,
            is_cover: cover == Some(p.id.as_str()),
            content_type: p.content_type.clone(),
            size_bytes: p.size_bytes,
            width: p.width,
            height: p.height,
            rejection_reason: p.rejection.clone(),
            renditions: p
                .renditions
                .iter()
                .map(|r| {
                    (
                        r.name.clone(),
                        RenditionView {
                            url: format!("{}/{}", media_base_url.trim_end_matches('/'), r.key),
                            width: r.width,
                            height: r.height,
                        },
                    )
                })
                .collect(),
            created_at: p.created_at,
        }
    }
}

/// An owner's payout account as they see it: Stripe's last report.
#[derive(Debug, Serialize)]
pub struct PayoutAccountView<'a> {
    pub id: &'a str,
    pub country: &'static str,
    pub details_submitted: bool,
    pub charges_enabled: bool,
    pub payouts_enabled: bool,
    /// Whether transfers reach it (and its owner's listings may be published).
    pub can_receive_transfers: bool,
    pub requirements: RequirementsView<'a>,
    /// When Stripe reported this state.
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
pub struct RequirementsView<'a> {
    pub currently_due: &'a [String],
    pub past_due: &'a [String],
    pub disabled_reason: Option<&'a str>,
}

impl<'a> From<&'a crate::domain::payout_account::PayoutAccount> for PayoutAccountView<'a> {
    fn from(a: &'a crate::domain::payout_account::PayoutAccount) -> Self {
        PayoutAccountView {
            id: &a.id,
            country: a.country.code(),
            details_submitted: a.details_submitted,
            charges_enabled: a.charges_enabled,
            payouts_enabled: a.payouts_enabled,
            can_receive_transfers: a.can_receive_transfers(),
            requirements: RequirementsView {
                currently_due: &a.currently_due,
                past_due: &a.past_due,
                disabled_reason: a.disabled_reason.as_deref(),
            },
            updated_at: a.reported_at,
        }
    }
}

/// One booking's money as its owner sees it on `GET /me/earnings`.
#[derive(Debug, Serialize)]
pub struct EarningView<'a> {
    pub booking_id: &'a str,
    pub currency: &'static str,
    /// The rental kept (less any refund of it), the platform's commission on it, the owner's net.
    pub gross: i64,
    pub commission: i64,
    pub net: i64,
    pub status: &'static str,
    /// When the transfer is due, while it is `scheduled` or `blocked`.
    pub scheduled_for: Option<DateTime<Utc>>,
    pub blocked_reason: Option<&'a str>,
    pub transferred: i64,
    pub reversed: i64,
    pub created_at: DateTime<Utc>,
}

impl<'a> From<&'a crate::domain::payout::Payout> for EarningView<'a> {
    fn from(p: &'a crate::domain::payout::Payout) -> Self {
        use crate::domain::payout::PayoutStatus;
        let status = p.status();
        EarningView {
            booking_id: p.booking_id.as_str(),
            currency: p.currency.code(),
            gross: p.rental,
            commission: p.commission(),
            net: p.owed,
            status: status.as_str(),
            scheduled_for: matches!(status, PayoutStatus::Scheduled | PayoutStatus::Blocked).then_some(p.due_at),
            blocked_reason: p.blocked_reason.as_deref(),
            transferred: p.transferred,
            reversed: p.reversed,
            created_at: p.created_at,
        }
    }
}

/// An owner's earnings in one currency, over all their bookings.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct EarningTotals {
    pub currency: &'static str,
    pub gross: i64,
    pub commission: i64,
    pub net: i64,
    /// Transferred less reversed: what reached the owner's Stripe balance.
    pub paid_out: i64,
    /// Net still to transfer.
    pub pending: i64,
}

impl EarningTotals {
    /// Totals per currency, in order of first appearance.
    pub fn of(payouts: &[crate::domain::payout::Payout]) -> Vec<EarningTotals> {
        let mut totals: Vec<EarningTotals> = Vec::new();
        for p in payouts {
            let at = match totals.iter().position(|t| t.currency == p.currency.code()) {
                Some(i) => i,
                None => {
                    totals.push(EarningTotals { currency: p.currency.code(), ..Default::default() });
                    totals.len() - 1
                }
            };
            let t = &mut totals[at];
            let paid_out = p.transferred - p.reversed;
            t.gross += p.rental;
            t.commission += p.commission();
            t.net += p.owed;
            t.paid_out += paid_out;
            t.pending += (p.owed - paid_out).max(0);
        }
        totals
    }
}

/// A payout Stripe made from an owner's balance to their bank (`GET /me/payouts`).
#[derive(Debug, Serialize)]
pub struct OwnerPayoutView<'a> {
    pub id: &'a str,
    pub amount: i64,
    pub currency: &'static str,
    pub arrival_date: DateTime<Utc>,
    pub status: &'a str,
    pub failure_code: Option<&'a str>,
}

impl<'a> From<&'a crate::domain::payout_account::OwnerPayout> for OwnerPayoutView<'a> {
    fn from(p: &'a crate::domain::payout_account::OwnerPayout) -> Self {
        OwnerPayoutView {
            id: &p.id,
            amount: p.amount,
            currency: p.currency.code(),
            arrival_date: p.arrival_date,
            status: &p.status,
            failure_code: p.failure_code.as_deref(),
        }
    }
}

/// What Stripe.js needs to confirm `intent` for `booking` (`PaymentStart` in openapi.yaml): the
/// rental's payment, or a deposit hold the renter confirms.
pub fn payment_start(
    booking: &crate::domain::booking::BookingId,
    intent: &crate::ports::PaymentIntent,
    publishable_key: String,
) -> serde_json::Value {
    serde_json::json!({
        "booking_id": booking,
        "payment_intent_id": intent.id,
        "client_secret": intent.client_secret,
        "amount": intent.amount,
        "currency": intent.currency,
        "publishable_key": publishable_key,
    })
}

/// A booking's deposit as both parties see it (`GET /bookings/{id}`, decision 0040): where the
/// hold stands, when it is placed, what settlement took, and why a hold failed.
#[derive(Debug, Serialize)]
pub struct DepositView<'a> {
    pub status: &'static str,
    pub amount: i64,
    pub currency: &'static str,
    pub hold_at: DateTime<Utc>,
    pub captured: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_code: Option<&'a str>,
}

impl<'a> DepositView<'a> {
    pub fn of(d: &'a crate::domain::deposit::Deposit) -> Self {
        DepositView {
            status: d.status().as_str(),
            amount: d.amount,
            currency: d.currency.code(),
            hold_at: d.hold_at,
            captured: d.settlement.map_or(0, |s| s.captured),
            failure_code: d.failure_code.as_deref(),
        }
    }
}

/// A booking's money as one of its parties may see it (`GET /bookings/{id}`): the renter what
/// they paid and got back, and the deposit held on their card; the owner their share and
/// where its transfer stands.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum BookingMoneyView {
    Renter {
        currency: &'static str,
        paid: i64,
        refunded: i64,
        deposit_held: i64,
    },
    Owner {
        currency: &'static str,
        gross: i64,
        commission: i64,
        net: i64,
        /// `not_paid` until the renter's payment confirms, then the payout's status.
        transfer_status: &'static str,
        scheduled_for: Option<DateTime<Utc>>,
        transferred: i64,
        reversed: i64,
    },
}

impl BookingMoneyView {
    pub fn of(
        booking: &crate::domain::booking::Booking,
        payout: Option<&crate::domain::payout::Payout>,
        deposit: Option<&crate::domain::deposit::Deposit>,
        viewer: crate::domain::booking::Party,
    ) -> Self {
        use crate::domain::booking::{Party, PaymentStatus};
        use crate::domain::payout::{Ledger, PayoutStatus};
        let ledger = Ledger::of(booking, &booking.payment.refund_plan, payout);
        let paid = booking.payment.status == PaymentStatus::Succeeded;
        match viewer {
            Party::Renter => BookingMoneyView::Renter {
                currency: ledger.currency.code(),
                paid: if paid { ledger.paid } else { 0 },
                refunded: if paid { booking.payment.refund_amount } else { 0 },
                // Charged with the rental (before decision 0040) and not refunded, or held now.
                deposit_held: if paid { ledger.deposit_held } else { 0 }
                    + deposit.filter(|d| d.hold.is_some() && d.settlement.is_none()).map_or(0, |d| d.amount),
            },
            Party::Owner => {
                let status = payout.map(|p| p.status());
                BookingMoneyView::Owner {
                    currency: ledger.currency.code(),
                    gross: ledger.owner_gross,
                    commission: ledger.commission,
                    net: ledger.owner_net,
                    transfer_status: status.map_or("not_paid", |s| s.as_str()),
                    scheduled_for: payout
                        .filter(|_| matches!(status, Some(PayoutStatus::Scheduled | PayoutStatus::Blocked)))
                        .map(|p| p.due_at),
                    transferred: ledger.transferred,
                    reversed: ledger.reversed,
                }
            }
        }
    }
}

/// A booking as `party` sees it: with `handover.code`, the code they hold now (the renter's
/// pickup code once paid, the owner's return code while the item is out; `Booking::code_for`).
pub fn booking_for(
    booking: &crate::domain::booking::Booking,
    party: crate::domain::booking::Party,
) -> Result<serde_json::Value, crate::AppError> {
    let mut body = serde_json::to_value(booking).map_err(crate::AppError::internal)?;
    if let Some(code) = booking.code_for(party) {
        body["handover"]["code"] = code.into();
    }
    Ok(body)
}

/// A published review as anyone sees it (decision 0038): never the booking or its dates.
#[derive(Debug, Serialize)]
pub struct PublicReviewView<'a> {
    pub id: String,
    pub listing_id: &'a str,
    pub listing_title: &'a str,
    pub author_id: &'a str,
    /// `renter`: a review of the listing and its owner; `owner`: of the renter.
    pub author_role: crate::domain::booking::Party,
    pub subject_id: &'a str,
    pub rating: u8,
    pub text: &'a str,
    pub published_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The reviewed member's answer, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<&'a crate::domain::review::Answer>,
}

/// A review as its author or the member answering it sees it: the whole review and its id.
#[derive(Debug, Serialize)]
pub struct ReviewView<'a> {
    pub id: String,
    #[serde(flatten)]
    pub review: &'a crate::domain::review::Review,
}

impl<'a> ReviewView<'a> {
    pub fn of(review: &'a crate::domain::review::Review) -> Self {
        ReviewView { id: review.id().to_string(), review }
    }
}

impl<'a> PublicReviewView<'a> {
    pub fn of(r: &'a crate::domain::review::Review) -> Self {
        PublicReviewView {
            id: r.id().to_string(),
            listing_id: r.listing_id.as_str(),
            listing_title: &r.listing_title,
            author_id: r.author_id.as_str(),
            author_role: r.author_role,
            subject_id: r.subject_id.as_str(),
            rating: r.rating,
            text: &r.text,
            published_at: r.published_at,
            answer: r.answer.as_ref(),
        }
    }
}
