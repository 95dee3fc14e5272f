//! Inquiries before a booking (decision 0041).
//!
//! | item        | PK                                | SK             |
//! |-------------|-----------------------------------|----------------|
//! | inquiry     | `INQUIRY#{id}`                    | `INQUIRY`      |
//! | open marker | `OPEN_INQUIRY#{listing}#{renter}` | `OPEN_INQUIRY` |
//!
//! The marker has a partition of its own, so the functions that write or delete it need no
//! grant on listings. It holds the whole inquiry, so a renter's open one is one (strongly
//! consistent) read; its put, conditioned
//! on there being none, goes with the inquiry's first message (`messages.rs`), which makes it
//! one open inquiry per renter and listing. A booking adopts it in its own transaction: the
//! marker goes, and the inquiry records the booking.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{put, s, DynamoTable, Item, DEP};
use crate::adapters::sdk_error;
use crate::domain::booking::BookingId;
use crate::domain::inquiry::{Inquiry, InquiryId};
use crate::domain::listing::ListingId;
use crate::domain::user::UserId;
use crate::error::AppError;
use crate::ports::InquiryStore;

#[derive(Debug, Serialize, Deserialize)]
struct InquiryItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    id: String,
    listing_id: String,
    listing_title: String,
    owner_id: String,
    renter_id: String,
    opened_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    booking_id: Option<String>,
}

fn record_key(id: &InquiryId) -> (String, String) {
    (format!("INQUIRY#{id}"), "INQUIRY".to_owned())
}

fn marker_key(listing: &ListingId, renter: &UserId) -> (String, String) {
    (format!("OPEN_INQUIRY#{listing}#{renter}"), "OPEN_INQUIRY".to_owned())
}

fn item_of(i: &Inquiry, (pk, sk): (String, String), entity: &str) -> Result<Item, AppError> {
    serde_dynamo::to_item(InquiryItem {
        pk,
        sk,
        entity: entity.to_owned(),
        id: i.id.to_string(),
        listing_id: i.listing_id.to_string(),
        listing_title: i.listing_title.clone(),
        owner_id: i.owner_id.to_string(),
        renter_id: i.renter_id.to_string(),
        opened_at: i.opened_at,
        booking_id: i.booking_id.as_ref().map(ToString::to_string),
    })
    .map_err(AppError::internal)
}

fn inquiry_from(item: Item) -> Result<Inquiry, AppError> {
    let i: InquiryItem = serde_dynamo::from_item(item).map_err(AppError::internal)?;
    let corrupt = |what: &str| AppError::internal(format!("stored inquiry {} has an invalid {what}", i.id));
    Ok(Inquiry {
        id: InquiryId::parse(&i.id).map_err(|_| corrupt("id"))?,
        listing_id: ListingId::parse(&i.listing_id).map_err(|_| corrupt("listing_id"))?,
        listing_title: i.listing_title,
        owner_id: UserId::parse(&i.owner_id).map_err(|_| corrupt("owner_id"))?,
        renter_id: UserId::parse(&i.renter_id).map_err(|_| corrupt("renter_id"))?,
        opened_at: i.opened_at,
        booking_id: i.booking_id.map(|b| BookingId::parse(&b)).transpose().map_err(|_| corrupt("booking_id"))?,
    })
}

/// The writes that open `inquiry` with its first message: the inquiry, and its marker as the
/// renter's open one about the listing, refused when they have one (the last write).
pub(super) fn opening(table: &str, inquiry: &Inquiry) -> Result<[TransactWriteItem; 2], AppError> {
    Ok([
        put(Put::builder()
            .table_name(table)
            .set_item(Some(item_of(inquiry, record_key(&inquiry.id), "inquiry")?))
            .condition_expression("attribute_not_exists(PK)"))?,
        put(Put::builder()
            .table_name(table)
            .set_item(Some(item_of(inquiry, marker_key(&inquiry.listing_id, &inquiry.renter_id), "open_inquiry")?))
            .condition_expression("attribute_not_exists(PK)"))?,
    ])
}

/// The writes by which `booking` adopts inquiry `id` of its renter about its listing: the
/// marker goes, and the inquiry names the booking. Unconditional, so an adoption never costs a
/// booking: two bookings made at once may both name the inquiry (the later one is its), and
/// one racing a new inquiry may close that one early (it stays open to messages, unadopted).
pub(super) fn adoption(
    table: &str,
    id: &InquiryId,
    listing: &ListingId,
    renter: &UserId,
    booking: &BookingId,
) -> Result<[TransactWriteItem; 2], AppError> {
    let (pk, sk) = marker_key(listing, renter);
    let delete =
        Delete::builder().table_name(table).key("PK", s(pk)).key("SK", s(sk)).build().map_err(AppError::internal)?;
    let (pk, sk) = record_key(id);
    let update = Update::builder()
        .table_name(table)
        .key("PK", s(pk))
        .key("SK", s(sk))
        .update_expression("SET booking_id = :booking")
        .expression_attribute_values(":booking", s(booking.to_string()))
        .build()
        .map_err(AppError::internal)?;
    Ok([TransactWriteItem::builder().delete(delete).build(), TransactWriteItem::builder().update(update).build()])
}

impl DynamoTable {
    async fn inquiry_at(&self, (pk, sk): (String, String)) -> Result<Option<Inquiry>, AppError> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .key("PK", s(pk))
            .key("SK", s(sk))
            // A marker just put by a racing first inquiry, or just deleted by the booking that
            // adopted it, must be seen (`messages::inquire`, `create-booking`).
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(DEP, e))?;
        out.item.map(inquiry_from).transpose()
    }
}

#[async_trait]
impl InquiryStore for DynamoTable {
    async fn inquiry(&self, id: &InquiryId) -> Result<Option<Inquiry>, AppError> {
        self.inquiry_at(record_key(id)).await
    }

    async fn open_inquiry(&self, listing: &ListingId, renter: &UserId) -> Result<Option<Inquiry>, AppError> {
        self.inquiry_at(marker_key(listing, renter)).await
    }
}
