//! How a booking is stored: its item, with the index keys of the renter's, the owner's and
//! the due lists, mapped to and from the domain type.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::adapters::dynamodb::timestamp;
use crate::adapters::dynamodb::Item;
use crate::domain::booking::{
    Booking, BookingId, BookingStatus, CancellationPolicy, Handover, HandoverCode, Party, PaymentState, PaymentStatus,
    Quote, RefundPlan, RefundStatus,
};
use crate::domain::inquiry::InquiryId;
use crate::domain::listing::ListingId;
use crate::domain::money::Currency;
use crate::domain::user::UserId;
use crate::error::AppError;

pub(in crate::adapters::dynamodb) fn booking_pk(id: &BookingId) -> String {
    format!("BOOKING#{id}")
}
pub(in crate::adapters::dynamodb) const BOOKING_SK: &str = "BOOKING";

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct BookingItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    #[serde(rename = "GSI1PK")]
    gsi1pk: String,
    #[serde(rename = "GSI1SK")]
    gsi1sk: String,
    #[serde(rename = "GSI2PK")]
    gsi2pk: String,
    #[serde(rename = "GSI2SK")]
    gsi2sk: String,
    /// Present only while a scheduled task has something to do with the booking.
    #[serde(rename = "GSI3PK", default, skip_serializing_if = "Option::is_none")]
    gsi3pk: Option<String>,
    #[serde(rename = "GSI3SK", default, skip_serializing_if = "Option::is_none")]
    gsi3sk: Option<String>,
    entity: String,
    id: String,
    listing_id: String,
    listing_title: String,
    owner_id: String,
    renter_id: String,
    start_date: NaiveDate,
    end_date: NaiveDate,
    status: String,
    days: i64,
    daily_price: i64,
    rental: i64,
    service_fee_bps: i64,
    service_fee: i64,
    /// Absent on bookings made before commissions (and policies) existed: 0, `moderate`.
    #[serde(default)]
    owner_commission_bps: i64,
    #[serde(default)]
    cancellation_policy: Option<String>,
    deposit: i64,
    total: i64,
    currency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    inquiry_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hold_expires_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cancelled_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cancel_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    payment_intent_id: Option<String>,
    #[serde(default)]
    payment_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    payment_failure_code: Option<String>,
    #[serde(default)]
    refund_status: String,
    #[serde(default)]
    refund_amount: i64,
    #[serde(default)]
    refund_rental: i64,
    #[serde(default)]
    refund_fee: i64,
    #[serde(default)]
    refund_deposit: i64,
    #[serde(default)]
    refunded_amount: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refund_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dispute_status: Option<String>,
    #[serde(default)]
    dispute_event_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    review: Option<String>,
    /// Absent on bookings made before handovers: they match no code.
    #[serde(default)]
    pickup_code: String,
    #[serde(default)]
    return_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    picked_up_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    returned_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    return_confirmed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    overdue_since: Option<DateTime<Utc>>,
    #[serde(default)]
    late_days: i64,
    #[serde(default)]
    late_fee: i64,
    #[serde(default)]
    handover_failures: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    handover_locked_until: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: u64,
}

impl From<&Booking> for BookingItem {
    fn from(b: &Booking) -> Self {
        let newest = format!("BOOKING#{:013}#{}", b.created_at.timestamp_millis(), b.id);
        // The due index: holds by their deadline, confirmed stays by their end date, items
        // out by their end (until flagged overdue), returned ones by their return.
        let due = |pk: &str, at: String| (Some(pk.to_owned()), Some(format!("{at}#{}", b.id)));
        let (gsi3pk, gsi3sk) = match (b.status, b.hold_expires_at) {
            (BookingStatus::Requested | BookingStatus::PendingPayment, Some(at)) => due("DUE#hold", timestamp(at)),
            (BookingStatus::Confirmed, _) => due("DUE#complete", b.end_date.to_string()),
            (BookingStatus::InProgress, _) if b.handover.overdue_since.is_none() => {
                due("DUE#return", timestamp(b.ends_at()))
            }
            (BookingStatus::Returned, _) => match b.handover.returned_at {
                Some(at) => due("DUE#settle", timestamp(at)),
                None => (None, None),
            },
            _ => (None, None),
        };
        BookingItem {
            pk: booking_pk(&b.id),
            sk: BOOKING_SK.into(),
            gsi1pk: format!("RENTER#{}", b.renter_id),
            gsi1sk: newest.clone(),
            gsi2pk: format!("OWNER#{}", b.owner_id),
            gsi2sk: newest,
            gsi3pk,
            gsi3sk,
            entity: "booking".into(),
            id: b.id.to_string(),
            listing_id: b.listing_id.to_string(),
            listing_title: b.listing_title.clone(),
            owner_id: b.owner_id.to_string(),
            renter_id: b.renter_id.to_string(),
            start_date: b.start_date,
            end_date: b.end_date,
            status: b.status.as_str().into(),
            days: b.quote.days,
            daily_price: b.quote.daily_price,
            rental: b.quote.rental,
            service_fee_bps: b.quote.service_fee_bps,
            service_fee: b.quote.service_fee,
            owner_commission_bps: b.quote.owner_commission_bps,
            cancellation_policy: Some(b.cancellation_policy.as_str().into()),
            deposit: b.quote.deposit,
            total: b.quote.total,
            currency: b.quote.currency.code().into(),
            message: b.message.clone(),
            inquiry_id: b.inquiry_id.as_ref().map(ToString::to_string),
            hold_expires_at: b.hold_expires_at,
            cancelled_by: b.cancelled_by.map(|p| party_name(p).to_owned()),
            cancel_reason: b.cancel_reason.clone(),
            payment_intent_id: b.payment.intent_id.clone(),
            payment_status: b.payment.status.as_str().into(),
            payment_failure_code: b.payment.failure_code.clone(),
            refund_status: b.payment.refund_status.as_str().into(),
            refund_amount: b.payment.refund_amount,
            refund_rental: b.payment.refund_plan.rental,
            refund_fee: b.payment.refund_plan.service_fee,
            refund_deposit: b.payment.refund_plan.deposit,
            refunded_amount: b.payment.refunded_amount,
            refund_id: b.payment.refund_id.clone(),
            dispute_status: b.payment.dispute_status.clone(),
            dispute_event_at: b.payment.dispute_event_at,
            review: b.payment.review.clone(),
            pickup_code: b.handover.pickup_code.as_str().to_owned(),
            return_code: b.handover.return_code.as_str().to_owned(),
            picked_up_at: b.handover.picked_up_at,
            returned_at: b.handover.returned_at,
            return_confirmed_by: b.handover.return_confirmed_by.map(|p| party_name(p).to_owned()),
            overdue_since: b.handover.overdue_since,
            late_days: b.handover.late_days,
            late_fee: b.handover.late_fee,
            handover_failures: b.handover.failed_attempts,
            handover_locked_until: b.handover.locked_until,
            created_at: b.created_at,
            updated_at: b.updated_at,
            version: b.version,
        }
    }
}

impl TryFrom<BookingItem> for Booking {
    type Error = AppError;
    fn try_from(i: BookingItem) -> Result<Self, AppError> {
        let corrupt = |what: &str| AppError::internal(format!("stored booking {} has an invalid {what}", i.id));
        Ok(Booking {
            id: BookingId::parse(&i.id).map_err(|_| corrupt("id"))?,
            listing_id: ListingId::parse(&i.listing_id).map_err(|_| corrupt("listing_id"))?,
            listing_title: i.listing_title.clone(),
            owner_id: UserId::parse(&i.owner_id).map_err(|_| corrupt("owner_id"))?,
            renter_id: UserId::parse(&i.renter_id).map_err(|_| corrupt("renter_id"))?,
            start_date: i.start_date,
            end_date: i.end_date,
            status: BookingStatus::parse(&i.status).ok_or_else(|| corrupt("status"))?,
            quote: Quote {
                days: i.days,
                daily_price: i.daily_price,
                rental: i.rental,
                service_fee_bps: i.service_fee_bps,
                service_fee: i.service_fee,
                owner_commission_bps: i.owner_commission_bps,
                deposit: i.deposit,
                total: i.total,
                currency: Currency::parse(&i.currency).ok_or_else(|| corrupt("currency"))?,
            },
            cancellation_policy: match i.cancellation_policy.as_deref() {
                None => CancellationPolicy::default(),
                Some(raw) => CancellationPolicy::parse(raw).ok_or_else(|| corrupt("cancellation_policy"))?,
            },
            message: i.message.clone(),
            inquiry_id: i.inquiry_id.as_deref().map(InquiryId::parse).transpose().map_err(|_| corrupt("inquiry_id"))?,
            hold_expires_at: i.hold_expires_at,
            cancelled_by: i
                .cancelled_by
                .as_deref()
                .map(|p| party_of(p).ok_or_else(|| corrupt("cancelled_by")))
                .transpose()?,
            cancel_reason: i.cancel_reason.clone(),
            payment: PaymentState {
                intent_id: i.payment_intent_id.clone(),
                status: PaymentStatus::parse(&i.payment_status).unwrap_or_default(),
                failure_code: i.payment_failure_code.clone(),
                refund_status: RefundStatus::parse(&i.refund_status).unwrap_or_default(),
                refund_amount: i.refund_amount,
                refund_plan: RefundPlan {
                    rental: i.refund_rental,
                    service_fee: i.refund_fee,
                    deposit: i.refund_deposit,
                },
                refunded_amount: i.refunded_amount,
                refund_id: i.refund_id.clone(),
                dispute_status: i.dispute_status.clone(),
                dispute_event_at: i.dispute_event_at,
                review: i.review.clone(),
            },
            handover: Handover {
                pickup_code: HandoverCode::from_stored(i.pickup_code.clone()),
                return_code: HandoverCode::from_stored(i.return_code.clone()),
                picked_up_at: i.picked_up_at,
                returned_at: i.returned_at,
                return_confirmed_by: i
                    .return_confirmed_by
                    .as_deref()
                    .map(|p| party_of(p).ok_or_else(|| corrupt("return_confirmed_by")))
                    .transpose()?,
                overdue_since: i.overdue_since,
                late_days: i.late_days,
                late_fee: i.late_fee,
                failed_attempts: i.handover_failures,
                locked_until: i.handover_locked_until,
            },
            created_at: i.created_at,
            updated_at: i.updated_at,
            version: i.version,
        })
    }
}

fn party_name(p: Party) -> &'static str {
    match p {
        Party::Renter => "renter",
        Party::Owner => "owner",
    }
}

fn party_of(raw: &str) -> Option<Party> {
    match raw {
        "renter" => Some(Party::Renter),
        "owner" => Some(Party::Owner),
        _ => None,
    }
}

pub(in crate::adapters::dynamodb) fn booking_from(item: Item) -> Result<Booking, AppError> {
    serde_dynamo::from_item::<_, BookingItem>(item).map_err(AppError::internal)?.try_into()
}

pub(super) fn booking_item(b: &Booking) -> Result<Item, AppError> {
    serde_dynamo::to_item(BookingItem::from(b)).map_err(AppError::internal)
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, SubsecRound, Utc};

    use super::*;
    use crate::domain::booking::{DateRange, Transition};
    use crate::domain::listing::Listing;

    fn listing() -> Listing {
        let request = serde_json::from_value(serde_json::json!({
            "title": "Camera", "category": "cameras", "location": {"city": "Lyon", "country": "FR"},
            "daily_price": {"amount": 2500, "currency": "EUR"}, "deposit": {"amount": 10000, "currency": "EUR"},
            "min_days": 1, "max_days": 30, "booking_mode": "instant", "status": "active"
        }))
        .unwrap();
        Listing::create(request, UserId::parse("owner-1").unwrap(), Utc::now()).unwrap()
    }

    /// Every field survives the trip through the stored item, the optional ones set and unset.
    #[test]
    fn a_booking_round_trips_through_its_item() {
        let now = Utc::now().trunc_subsecs(3);
        let start = now.date_naive() + Duration::days(3);
        let range = DateRange::new(start, start + Duration::days(4)).unwrap();
        let fresh = Booking::request(
            &listing(),
            UserId::parse("renter-1").unwrap(),
            range,
            Some("hi".into()),
            now,
            Default::default(),
        )
        .unwrap();
        let mut paid = fresh.moved(Transition::ConfirmPayment, now + Duration::minutes(5)).unwrap();
        paid.payment = PaymentState {
            intent_id: Some("pi_1".into()),
            status: PaymentStatus::Succeeded,
            failure_code: Some("card_declined".into()),
            refund_status: RefundStatus::Requested,
            refund_amount: 1234,
            refund_plan: RefundPlan { rental: 1000, service_fee: 100, deposit: 134 },
            refunded_amount: 1000,
            refund_id: Some("re_1".into()),
            dispute_status: Some("needs_response".into()),
            dispute_event_at: 1_700_000_000,
            review: Some("amount_mismatch".into()),
        };
        let mut cancelled = paid.moved(Transition::Cancel, now + Duration::hours(1)).unwrap();
        cancelled.cancelled_by = Some(Party::Owner);
        cancelled.cancel_reason = Some("broken".into());
        let mut out = paid.moved(Transition::PickUp, now + Duration::hours(2)).unwrap();
        out.handover.picked_up_at = Some(now + Duration::hours(2));
        out.handover.failed_attempts = 3;
        out.handover.locked_until = Some(now + Duration::minutes(15));
        out.handover.overdue_since = Some(now + Duration::days(5));
        let mut back = out.moved(Transition::Return, now + Duration::days(6)).unwrap();
        back.handover.returned_at = Some(now + Duration::days(6));
        back.handover.return_confirmed_by = Some(Party::Renter);
        back.handover.late_days = 2;
        back.handover.late_fee = 5000;
        for b in [fresh, paid, cancelled, out, back] {
            assert_eq!(booking_from(booking_item(&b).unwrap()).unwrap(), b, "{:?}", b.status);
        }
    }

    /// Each stage of a stay sits in the due list its scheduled task reads, and only there.
    #[test]
    fn due_entries_follow_the_stay() {
        let now = Utc::now().trunc_subsecs(3);
        let start = now.date_naive() + Duration::days(1);
        let range = DateRange::new(start, start + Duration::days(2)).unwrap();
        let fresh =
            Booking::request(&listing(), UserId::parse("renter-1").unwrap(), range, None, now, Default::default())
                .unwrap();
        let due = |b: &Booking| {
            let item = BookingItem::from(b);
            item.gsi3pk.zip(item.gsi3sk).map(|(pk, sk)| format!("{pk} {sk}"))
        };
        let paid = fresh.moved(Transition::ConfirmPayment, now).unwrap();
        assert_eq!(due(&paid), Some(format!("DUE#complete {}#{}", paid.end_date, paid.id)));
        let out = paid.moved(Transition::PickUp, now).unwrap();
        assert_eq!(due(&out), Some(format!("DUE#return {}#{}", timestamp(out.ends_at()), out.id)));
        let mut flagged = out.clone();
        flagged.handover.overdue_since = Some(now);
        assert_eq!(due(&flagged), None, "flagged once");
        let mut back = out.moved(Transition::Return, now).unwrap();
        back.handover.returned_at = Some(now);
        assert_eq!(due(&back), Some(format!("DUE#settle {}#{}", timestamp(now), back.id)));
        assert_eq!(due(&back.moved(Transition::Complete, now).unwrap()), None);
    }
}
