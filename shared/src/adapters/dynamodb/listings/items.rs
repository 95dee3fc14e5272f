//! How a listing is stored: its item and the projected summary, each mapped to and from the
//! domain type.

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::adapters::dynamodb::Item;
use crate::domain::booking::CancellationPolicy;
use crate::domain::country::Country;
use crate::domain::listing::{BookingMode, Category, Listing, ListingId, ListingStatus, Location, OwnedListingSummary};
use crate::domain::money::{Currency, Money};
use crate::domain::user::UserId;
use crate::error::AppError;

pub(in crate::adapters::dynamodb) fn listing_pk(id: &ListingId) -> String {
    format!("LISTING#{id}")
}
pub(super) const LISTING_SK: &str = "LISTING";

/// The stored shape of a listing.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct ListingItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    /// An owner's listings, newest first (`GET /me/listings`).
    #[serde(rename = "GSI1PK")]
    gsi1pk: String,
    #[serde(rename = "GSI1SK")]
    gsi1sk: String,
    entity: String,
    id: String,
    owner_id: String,
    title: String,
    description: String,
    category: String,
    city: String,
    country: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lat: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lng: Option<f64>,
    currency: String,
    daily_price: i64,
    deposit: i64,
    min_days: u16,
    max_days: u16,
    booking_mode: String,
    /// Absent on listings stored before policies existed: they are `moderate`.
    #[serde(default)]
    cancellation_policy: Option<String>,
    status: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: u64,
}

impl From<&Listing> for ListingItem {
    fn from(l: &Listing) -> Self {
        ListingItem {
            pk: listing_pk(&l.id),
            sk: LISTING_SK.into(),
            gsi1pk: format!("OWNER#{}", l.owner_id),
            gsi1sk: format!("LISTING#{:013}#{}", l.created_at.timestamp_millis(), l.id),
            entity: "listing".into(),
            id: l.id.to_string(),
            owner_id: l.owner_id.to_string(),
            title: l.title.clone(),
            description: l.description.clone(),
            category: l.category.as_str().into(),
            city: l.location.city.clone(),
            country: l.location.country.code().into(),
            lat: l.location.lat,
            lng: l.location.lng,
            currency: l.daily_price.currency.code().into(),
            daily_price: l.daily_price.amount,
            deposit: l.deposit.amount,
            min_days: l.min_days,
            max_days: l.max_days,
            booking_mode: l.booking_mode.as_str().into(),
            cancellation_policy: Some(l.cancellation_policy.as_str().into()),
            status: l.status.as_str().into(),
            created_at: l.created_at,
            updated_at: l.updated_at,
            version: l.version,
        }
    }
}

impl TryFrom<ListingItem> for Listing {
    type Error = AppError;
    fn try_from(i: ListingItem) -> Result<Self, AppError> {
        // Stored data was valid when written; a failure here is corruption, hence internal.
        let corrupt = |what: &str| AppError::internal(format!("stored listing {} has an invalid {what}", i.id));
        let currency = Currency::parse(&i.currency).ok_or_else(|| corrupt("currency"))?;
        Ok(Listing {
            id: ListingId::parse(&i.id).map_err(|_| corrupt("id"))?,
            owner_id: UserId::parse(&i.owner_id).map_err(|_| corrupt("owner_id"))?,
            title: i.title.clone(),
            description: i.description.clone(),
            category: Category::parse(&i.category).ok_or_else(|| corrupt("category"))?,
            location: Location {
                city: i.city.clone(),
                country: Country::parse(&i.country).ok_or_else(|| corrupt("country"))?,
                lat: i.lat,
                lng: i.lng,
            },
            daily_price: Money { amount: i.daily_price, currency },
            deposit: Money { amount: i.deposit, currency },
            min_days: i.min_days,
            max_days: i.max_days,
            booking_mode: BookingMode::parse(&i.booking_mode).ok_or_else(|| corrupt("booking_mode"))?,
            cancellation_policy: match i.cancellation_policy.as_deref() {
                None => CancellationPolicy::default(),
                Some(raw) => CancellationPolicy::parse(raw).ok_or_else(|| corrupt("cancellation_policy"))?,
            },
            status: ListingStatus::parse(&i.status).ok_or_else(|| corrupt("status"))?,
            created_at: i.created_at,
            updated_at: i.updated_at,
            version: i.version,
        })
    }
}

/// A listing from its stored item.
pub(super) fn listing_from_item(item: Item) -> Result<Listing, AppError> {
    serde_dynamo::from_item::<_, ListingItem>(item).map_err(AppError::internal)?.try_into()
}

/// What `owner_listings` reads of each listing item: the summary's attributes and the keys a
/// page's cursor is made of (the index's and the table's).
pub(super) const OWNED_SUMMARY_ATTRIBUTES: [&str; 15] = [
    "PK",
    "SK",
    "GSI1PK",
    "GSI1SK",
    "id",
    "title",
    "category",
    "city",
    "country",
    "currency",
    "daily_price",
    "status",
    "created_at",
    "updated_at",
    "version",
];

/// The projected part of a listing item that `OwnedListingSummary` is made of.
#[derive(Deserialize)]
pub(super) struct OwnedSummaryItem {
    id: String,
    title: String,
    category: String,
    city: String,
    country: String,
    currency: String,
    daily_price: i64,
    status: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: u64,
}

impl TryFrom<OwnedSummaryItem> for OwnedListingSummary {
    type Error = AppError;
    fn try_from(i: OwnedSummaryItem) -> Result<Self, AppError> {
        let corrupt = |what: &str| AppError::internal(format!("stored listing {} has an invalid {what}", i.id));
        Ok(OwnedListingSummary {
            category: Category::parse(&i.category).ok_or_else(|| corrupt("category"))?,
            country: Country::parse(&i.country).ok_or_else(|| corrupt("country"))?,
            daily_price: Money {
                amount: i.daily_price,
                currency: Currency::parse(&i.currency).ok_or_else(|| corrupt("currency"))?,
            },
            status: ListingStatus::parse(&i.status).ok_or_else(|| corrupt("status"))?,
            id: ListingId::parse(&i.id).map_err(|_| corrupt("id"))?,
            title: i.title,
            city: i.city,
            created_at: i.created_at,
            updated_at: i.updated_at,
            version: i.version,
        })
    }
}

/// The item a listing is stored as.
pub(super) fn listing_item(listing: &Listing) -> Result<Item, AppError> {
    serde_dynamo::to_item(ListingItem::from(listing)).map_err(AppError::internal)
}

pub(super) fn put(
    table: &str,
    item: Item,
    condition: Option<(&str, Option<(&str, AttributeValue)>)>,
) -> Result<TransactWriteItem, AppError> {
    let mut p = Put::builder().table_name(table).set_item(Some(item));
    if let Some((expr, value)) = condition {
        p = p.condition_expression(expr);
        if let Some((name, v)) = value {
            p = p.expression_attribute_values(name, v);
        }
    }
    Ok(TransactWriteItem::builder().put(p.build().map_err(AppError::internal)?).build())
}

#[cfg(test)]
mod tests {
    use chrono::{SubsecRound, Utc};

    use super::*;

    #[test]
    fn a_listing_round_trips_through_its_item() {
        let request = serde_json::from_value(serde_json::json!({
            "title": "Tent", "description": "Sleeps four", "category": "outdoor",
            "location": {"city": "Bergen", "country": "NO", "lat": 60.39, "lng": 5.32},
            "daily_price": {"amount": 1500, "currency": "NOK"}, "deposit": {"amount": 0, "currency": "NOK"},
            "min_days": 2, "max_days": 14, "booking_mode": "request", "status": "active"
        }))
        .unwrap();
        let listing = Listing::create(request, UserId::parse("owner-2").unwrap(), Utc::now().trunc_subsecs(3)).unwrap();
        assert_eq!(listing_from_item(listing_item(&listing).unwrap()).unwrap(), listing);
    }
}
