//! Bookings, their idempotency records and the past-renter markers.
//!
//! | item          | PK                                  | SK                | GSI1 (renter)                | GSI2 (owner)                 | GSI3 (due, sparse)                |
//! |---------------|-------------------------------------|-------------------|------------------------------|------------------------------|-----------------------------------|
//! | booking       | `BOOKING#{id}`                      | `BOOKING`         | `RENTER#{u}` / `BOOKING#{ms}#{id}` | `OWNER#{u}` / `BOOKING#{ms}#{id}` | `DUE#hold` / `{expires}#{id}`, `DUE#complete` / `{end}#{id}` |
//! | held day      | `LISTING#{listing}`                 | `DAY#{yyyy-mm-dd}`| -                            | -                            | -                                 |
//! | idempotency   | `IDEMPOTENCY#{user}#{key}`          | `IDEMPOTENCY`     | -                            | -                            | -                                 |
//! | notification  | `USER#{user}`                       | `NOTIF#{id}`      | -                            | -                            | -                                 |
//! | past renter   | `LISTING#{listing}`                 | `RENTER#{user}`   | -                            | -                            | -                                 |
//!
//! No double booking: a day can be held by one thing only, because holding it means creating
//! its `DAY#` item with `attribute_not_exists`, in the same transaction as the booking (or the
//! owner's block). Releasing the days happens in the same transaction as the state change,
//! conditioned on the day still belonging to that booking, so it happens exactly once.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::calendar::{dates_unavailable, day_sk, listing_pk};
use super::DEP;
use super::{delete_write, put, timestamp};
use super::{item_size, key_item, last_key_of, s, start_key, transaction_failures, DynamoTable, Item};
use crate::adapters::sdk_error;
use crate::cursor::LastKey;
use crate::domain::booking::{
    Booking, BookingId, BookingStatus, Party, PaymentState, PaymentStatus, Quote, RefundStatus,
};
use crate::domain::listing::ListingId;
use crate::domain::money::Currency;
use crate::domain::user::UserId;
use crate::error::AppError;
use crate::ports::{
    BookingLists, BookingReader, BookingWriter, Created, Due, DueBookings, IdempotencyKey, ListingRenters, Page,
};

/// How long an idempotency key is remembered.
const IDEMPOTENCY_TTL_HOURS: i64 = 24;

fn booking_pk(id: &BookingId) -> String {
    format!("BOOKING#{id}")
}
const BOOKING_SK: &str = "BOOKING";

#[derive(Debug, Serialize, Deserialize)]
struct BookingItem {
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
    deposit: i64,
    total: i64,
    currency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message: Option<String>,
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
    refunded_amount: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refund_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dispute_status: Option<String>,
    #[serde(default)]
    dispute_event_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    review: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: u64,
}

impl From<&Booking> for BookingItem {
    fn from(b: &Booking) -> Self {
        let newest = format!("BOOKING#{:013}#{}", b.created_at.timestamp_millis(), b.id);
        // The due index: holds by their deadline, confirmed stays by their end date.
        let (gsi3pk, gsi3sk) = match (b.status, b.hold_expires_at) {
            (BookingStatus::Requested | BookingStatus::PendingPayment, Some(at)) => {
                (Some("DUE#hold".to_owned()), Some(format!("{}#{}", timestamp(at), b.id)))
            }
            (BookingStatus::Confirmed, _) => {
                (Some("DUE#complete".to_owned()), Some(format!("{}#{}", b.end_date, b.id)))
            }
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
            deposit: b.quote.deposit,
            total: b.quote.total,
            currency: b.quote.currency.code().into(),
            message: b.message.clone(),
            hold_expires_at: b.hold_expires_at,
            cancelled_by: b.cancelled_by.map(|p| match p {
                Party::Renter => "renter".to_owned(),
                Party::Owner => "owner".to_owned(),
            }),
            cancel_reason: b.cancel_reason.clone(),
            payment_intent_id: b.payment.intent_id.clone(),
            payment_status: b.payment.status.as_str().into(),
            payment_failure_code: b.payment.failure_code.clone(),
            refund_status: b.payment.refund_status.as_str().into(),
            refund_amount: b.payment.refund_amount,
            refunded_amount: b.payment.refunded_amount,
            refund_id: b.payment.refund_id.clone(),
            dispute_status: b.payment.dispute_status.clone(),
            dispute_event_at: b.payment.dispute_event_at,
            review: b.payment.review.clone(),
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
                deposit: i.deposit,
                total: i.total,
                currency: Currency::parse(&i.currency).ok_or_else(|| corrupt("currency"))?,
            },
            message: i.message.clone(),
            hold_expires_at: i.hold_expires_at,
            cancelled_by: match i.cancelled_by.as_deref() {
                None => None,
                Some("renter") => Some(Party::Renter),
                Some("owner") => Some(Party::Owner),
                Some(_) => return Err(corrupt("cancelled_by")),
            },
            cancel_reason: i.cancel_reason.clone(),
            payment: PaymentState {
                intent_id: i.payment_intent_id.clone(),
                status: PaymentStatus::parse(&i.payment_status).unwrap_or_default(),
                failure_code: i.payment_failure_code.clone(),
                refund_status: RefundStatus::parse(&i.refund_status).unwrap_or_default(),
                refund_amount: i.refund_amount,
                refunded_amount: i.refunded_amount,
                refund_id: i.refund_id.clone(),
                dispute_status: i.dispute_status.clone(),
                dispute_event_at: i.dispute_event_at,
                review: i.review.clone(),
            },
            created_at: i.created_at,
            updated_at: i.updated_at,
            version: i.version,
        })
    }
}

fn booking_from(item: Item) -> Result<Booking, AppError> {
    serde_dynamo::from_item::<_, BookingItem>(item).map_err(AppError::internal)?.try_into()
}

fn booking_item(b: &Booking) -> Result<Item, AppError> {
    serde_dynamo::to_item(BookingItem::from(b)).map_err(AppError::internal)
}

impl DynamoTable {
    async fn idempotency_record(&self, key: &IdempotencyKey) -> Result<Option<(String, String)>, AppError> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .key("PK", s(format!("IDEMPOTENCY#{}#{}", key.scope, key.key)))
            .key("SK", s("IDEMPOTENCY"))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(DEP, e))?;
        let item = out.item.unwrap_or_default();
        let text = |name: &str| match item.get(name) {
            Some(AttributeValue::S(v)) => Some(v.clone()),
            _ => None,
        };
        Ok(text("booking_id").zip(text("fingerprint")))
    }
}

#[async_trait]
impl BookingReader for DynamoTable {
    async fn get_booking(&self, id: &BookingId) -> Result<Option<Booking>, AppError> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .key("PK", s(booking_pk(id)))
            .key("SK", s(BOOKING_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(DEP, e))?;
        out.item.map(booking_from).transpose()
    }
}

#[async_trait]
impl BookingWriter for DynamoTable {
    async fn create_booking(
        &self,
        booking: &Booking,
        idempotency: Option<&IdempotencyKey>,
    ) -> Result<Created<Booking>, AppError> {
        let mut writes = vec![put(Put::builder()
            .table_name(self.table())
            .set_item(Some(booking_item(booking)?))
            .condition_expression("attribute_not_exists(PK)"))?];
        if let Some(key) = idempotency {
            let now = booking.created_at;
            // A remembered key blocks a second booking; an expired one (TTL deletion lags)
            // counts as forgotten.
            writes.push(put(Put::builder()
                .table_name(self.table())
                .item("PK", s(format!("IDEMPOTENCY#{}#{}", key.scope, key.key)))
                .item("SK", s("IDEMPOTENCY"))
                .item("entity", s("idempotency"))
                .item("booking_id", s(booking.id.to_string()))
                .item("fingerprint", s(&key.fingerprint))
                .item("expires_at", AttributeValue::N((now.timestamp() + IDEMPOTENCY_TTL_HOURS * 3600).to_string()))
                .condition_expression("attribute_not_exists(PK) OR expires_at < :now")
                .expression_attribute_values(":now", AttributeValue::N(now.timestamp().to_string())))?);
        }
        // Who rented it: past renters may still read the listing once it is archived.
        writes.push(put(Put::builder()
            .table_name(self.table())
            .item("PK", s(listing_pk(&booking.listing_id)))
            .item("SK", s(format!("RENTER#{}", booking.renter_id)))
            .item("entity", s("renter"))
            .item("last_booking_id", s(booking.id.to_string())))?);
        let holder =
            HashMap::from([("kind".to_owned(), s("booking")), ("booking_id".to_owned(), s(booking.id.to_string()))]);
        writes.extend(self.hold_days(
            &booking.listing_id,
            &booking.range(),
            holder,
            "attribute_not_exists(PK)",
            &[],
        )?);
        let err = match self.client().transact_write_items().set_transact_items(Some(writes)).send().await {
            Ok(_) => return Ok(Created::New),
            Err(e) => e,
        };
        let failed = transaction_failures(&err);
        if failed.is_empty() {
            return Err(sdk_error(DEP, err));
        }
        if let (Some(key), Some(true)) = (idempotency, failed.get(1)) {
            // The same key was used before: the same request gets the same booking back.
            let (booking_id, fingerprint) =
                self.idempotency_record(key).await?.ok_or_else(|| AppError::internal("idempotency record vanished"))?;
            if fingerprint != key.fingerprint {
                return Err(AppError::conflict(
                    "idempotency_key_reused",
                    "this Idempotency-Key was used for a different booking request",
                ));
            }
            let id = BookingId::parse(&booking_id)
                .map_err(|_| AppError::internal("stored idempotency record has an invalid booking id"))?;
            let earlier = self
                .get_booking(&id)
                .await?
                .ok_or_else(|| AppError::internal("idempotency record names a missing booking"))?;
            return Ok(Created::Replayed(earlier));
        }
        if failed.iter().skip(if idempotency.is_some() { 3 } else { 2 }).any(|f| *f) {
            return Err(dates_unavailable());
        }
        Err(AppError::internal("booking transaction cancelled for another reason"))
    }

    async fn move_booking(&self, previous: &Booking, next: &Booking) -> Result<(), AppError> {
        // Status and version: a racing move (accept vs expire, confirm vs cancel) fails whole.
        let mut writes = vec![put(Put::builder()
            .table_name(self.table())
            .set_item(Some(booking_item(next)?))
            .condition_expression("#status = :status AND version = :version")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", s(previous.status.as_str()))
            .expression_attribute_values(":version", AttributeValue::N(previous.version.to_string())))?];
        if previous.status.holds_dates() && !next.status.holds_dates() {
            for day in previous.range().each_day() {
                writes.push(delete_write(
                    Delete::builder()
                        .table_name(self.table())
                        .set_key(Some(key_item(&listing_pk(&previous.listing_id), &day_sk(day))))
                        .condition_expression("booking_id = :id")
                        .expression_attribute_values(":id", s(previous.id.to_string())),
                )?);
            }
        }
        match self.client().transact_write_items().set_transact_items(Some(writes)).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let failed = transaction_failures(&e);
                if failed.first() == Some(&true) {
                    Err(AppError::PreconditionFailed)
                } else if failed.iter().any(|f| *f) {
                    Err(AppError::internal(format!("booking {} does not hold all of its days", previous.id)))
                } else {
                    Err(sdk_error(DEP, e))
                }
            }
        }
    }
}

#[async_trait]
impl ListingRenters for DynamoTable {
    async fn has_booked(&self, listing: &ListingId, user: &UserId) -> Result<bool, AppError> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .key("PK", s(listing_pk(listing)))
            .key("SK", s(format!("RENTER#{user}")))
            .projection_expression("PK")
            .send()
            .await
            .map_err(|e| sdk_error(DEP, e))?;
        Ok(out.item.is_some())
    }
}

#[async_trait]
impl BookingLists for DynamoTable {
    async fn bookings_of(
        &self,
        party: Party,
        user: &UserId,
        status: Option<BookingStatus>,
        limit: u32,
        start: Option<LastKey>,
    ) -> Result<Page<Booking>, AppError> {
        let (index, pk_attr, sk_attr, pk) = match party {
            Party::Renter => ("GSI1", "GSI1PK", "GSI1SK", format!("RENTER#{user}")),
            Party::Owner => ("GSI2", "GSI2PK", "GSI2SK", format!("OWNER#{user}")),
        };
        let key_attrs = ["PK", "SK", pk_attr, sk_attr];
        // With a status filter DynamoDB applies `Limit` before the filter, so read in chunks
        // until a full page (plus one) matched, the partition ended, or a read budget ran out.
        let mut matched: Vec<Item> = Vec::new();
        let (mut items_read, mut bytes_read) = (0i32, 0usize);
        let mut next = start_key(start);
        let mut exhausted = false;
        while matched.len() <= limit as usize && items_read < 1_000 {
            let mut q = self
                .client()
                .query()
                .table_name(self.table())
                .index_name(index)
                .key_condition_expression(format!("{pk_attr} = :pk AND begins_with({sk_attr}, :prefix)"))
                .expression_attribute_values(":pk", s(&pk))
                .expression_attribute_values(":prefix", s("BOOKING#"))
                .scan_index_forward(false)
                .limit(limit as i32 + 1)
                .set_exclusive_start_key(next.take());
            if let Some(st) = status {
                q = q
                    .filter_expression("#status = :status")
                    .expression_attribute_names("#status", "status")
                    .expression_attribute_values(":status", s(st.as_str()));
            }
            let out = q.send().await.map_err(|e| sdk_error(DEP, e))?;
            items_read += out.scanned_count;
            let items = out.items.unwrap_or_default();
            bytes_read += items.iter().map(item_size).sum::<usize>();
            matched.extend(items);
            next = out.last_evaluated_key;
            if next.is_none() {
                exhausted = true;
                break;
            }
        }
        let last_key = if matched.len() > limit as usize {
            matched.truncate(limit as usize);
            last_key_of(matched.last(), &key_attrs)
        } else if exhausted {
            None
        } else {
            // Budget ran out mid-partition: continue from where the reading stopped.
            next.map(|k| k.into_iter().filter_map(|(name, v)| v.as_s().ok().map(|v| (name, v.clone()))).collect())
        };
        let bookings = matched.into_iter().map(booking_from).collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items: bookings, last_key, items_read, bytes_read, capacity_units: 0.0 })
    }
}

#[async_trait]
impl DueBookings for DynamoTable {
    async fn due(&self, what: Due, now: DateTime<Utc>, limit: u32) -> Result<Vec<BookingId>, AppError> {
        let (pk, upper) = match what {
            Due::HoldExpiry => ("DUE#hold", format!("{}#~", timestamp(now))),
            // "After the end date": the end date is exclusive, so due once it is today or earlier.
            Due::Completion => ("DUE#complete", format!("{}#~", now.date_naive())),
        };
        let out = self
            .client()
            .query()
            .table_name(self.table())
            .index_name("GSI3")
            .key_condition_expression("GSI3PK = :pk AND GSI3SK < :upper")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":upper", s(upper))
            .limit(limit as i32)
            .send()
            .await
            .map_err(|e| sdk_error(DEP, e))?;
        out.items
            .unwrap_or_default()
            .iter()
            // The index projects keys only: the id is in the table key.
            .filter_map(|item| item.get("PK").and_then(|v| v.as_s().ok()).and_then(|pk| pk.strip_prefix("BOOKING#")))
            .map(|id| BookingId::parse(id).map_err(|_| AppError::internal("due index holds an invalid booking id")))
            .collect()
    }
}
