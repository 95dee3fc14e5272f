//! Bookings, their idempotency records and the past-renter markers.
//!
//! | item          | PK                                  | SK                | GSI1 (renter)                | GSI2 (owner)                 | GSI3 (due, sparse)                |
//! |---------------|-------------------------------------|-------------------|------------------------------|------------------------------|-----------------------------------|
//! | booking       | `BOOKING#{id}`                      | `BOOKING`         | `RENTER#{u}` / `BOOKING#{ms}#{id}` | `OWNER#{u}` / `BOOKING#{ms}#{id}` | `DUE#hold` / `{expires}#{id}`, `DUE#complete` / `{end}#{id}`, `DUE#return` / `{ends_at}#{id}`, `DUE#settle` / `{returned_at}#{id}` |
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
use chrono::{DateTime, Utc};

use super::calendar::{dates_unavailable, day_sk, listing_pk};
use super::outbox::event_put;
use super::profiles::member_stats_update;
use super::DEP;
use super::{delete_write, put, timestamp};
use super::{
    item_size, key_item, last_key_of, s, start_key, transaction_conflicted, transaction_failures, DynamoTable, Item,
};
use crate::adapters::sdk_error;
use crate::cursor::LastKey;
use crate::domain::booking::{Booking, BookingId, BookingStatus, Party};
use crate::domain::events::DomainEvent;
use crate::domain::listing::ListingId;
use crate::domain::user::UserId;
use crate::error::AppError;
use crate::ports::{
    BookingLists, BookingReader, BookingWriter, Created, Due, DueBookings, IdempotencyKey, ListingRenters, Page,
};

mod items;
use items::*;
/// For the adapters that read a booking with its partition's other items (condition reports).
pub(super) use items::{booking_from, booking_pk, BOOKING_SK};

/// How long an idempotency key is remembered.
const IDEMPOTENCY_TTL_HOURS: i64 = 24;

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
        event: &DomainEvent,
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
        writes.push(event_put(self.table(), event)?);
        // After the event: the days' failures are found by position up to it.
        if let Some(inquiry) = &booking.inquiry_id {
            writes.extend(super::inquiries::adoption(
                self.table(),
                inquiry,
                &booking.listing_id,
                &booking.renter_id,
                &booking.id,
            )?);
        }
        // A racing write of one of its items (another booking's day, the renter's inquiry
        // opening) cancels it with a conflict, nothing written: the same writes go again.
        let mut tries = 0;
        let err = loop {
            match self.client().transact_write_items().set_transact_items(Some(writes.clone())).send().await {
                Ok(_) => return Ok(Created::New),
                Err(e) if tries < 2 && transaction_conflicted(&e) && !transaction_failures(&e).contains(&true) => {
                    tries += 1
                }
                Err(e) => break e,
            }
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
        // The days sit between the past-renter marker and the event.
        let first_day = if idempotency.is_some() { 3 } else { 2 };
        if failed.iter().skip(first_day).take(booking.range().days() as usize).any(|f| *f) {
            return Err(dates_unavailable());
        }
        Err(AppError::internal("booking transaction cancelled for another reason"))
    }

    async fn move_booking(
        &self,
        previous: &Booking,
        next: &Booking,
        event: Option<&DomainEvent>,
    ) -> Result<(), AppError> {
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
        // A rental completed after its return counts once on both members' records.
        if previous.status == BookingStatus::Returned && next.status == BookingStatus::Completed {
            writes.push(member_stats_update(self.table(), &next.renter_id, "completed_as_renter")?);
            writes.push(member_stats_update(self.table(), &next.owner_id, "completed_as_owner")?);
        }
        if let Some(event) = event {
            writes.push(event_put(self.table(), event)?);
        }
        match self.client().transact_write_items().set_transact_items(Some(writes)).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let failed = transaction_failures(&e);
                // Another write of the booking at the same moment: read again, as for a lost race.
                if failed.first() == Some(&true) || transaction_conflicted(&e) {
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
            Due::ReturnOverdue { grace } => ("DUE#return", format!("{}#~", timestamp(now - grace))),
            Due::Settlement { claim_window } => ("DUE#settle", format!("{}#~", timestamp(now - claim_window))),
        };
        self.due_booking_ids(pk, upper, limit).await
    }
}
