//! Reviews and the ratings they add (decision 0038).
//!
//! | item           | PK                   | SK                  | index entry while...                               |
//! |----------------|----------------------|---------------------|----------------------------------------------------|
//! | review         | `REVIEWS#{booking}`  | `BY#{renter,owner}` | hidden: GSI3 `DUE#reviews` / `{closes}#{booking}#{role}` |
//! |                |                      |                     | published: GSI1 `REVIEWS_OF#USER#{subject}` / `R#{published}#{booking}#{role}`, and the renter's also GSI2 `REVIEWS_OF#LISTING#{listing}` (same key) |
//! | listing rating | `LISTING#{listing}`  | `LISTING#RATING`    | -                                                  |
//! | member rating  | `MEMBER#{user}`      | `STATS`             | - (`rating_sum`, `rating_count` beside the rental counts) |
//!
//! A review turns published only in a transaction conditional on it being hidden (or not stored
//! yet), which also adds its rating: the totals move exactly once per review.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::listings::listing_pk;
use super::outbox::event_put;
use super::profiles::{stats_pk, STATS_SK};
use super::{put, s, timestamp, DynamoTable, Item, Partition, QueryPage, DEP};
use crate::adapters::sdk_error;
use crate::cursor::LastKey;
use crate::domain::booking::{BookingId, Party};
use crate::domain::events::DomainEvent;
use crate::domain::listing::ListingId;
use crate::domain::review::{Answer, RatingTotals, Removal, Review, ReviewId, ReviewStatus};
use crate::domain::user::UserId;
use crate::error::AppError;
use crate::ports::{Page, ReviewStore};

/// The listing's rating totals, beside the listing item (sorted right after it).
pub(super) const LISTING_RATING_SK: &str = "LISTING#RATING";
const DUE_PK: &str = "DUE#reviews";

#[derive(Debug, Serialize, Deserialize)]
struct ReviewItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    booking_id: BookingId,
    listing_id: ListingId,
    listing_title: String,
    author_id: UserId,
    author_role: String,
    subject_id: UserId,
    rating: u8,
    text: String,
    status: ReviewStatus,
    written_at: DateTime<Utc>,
    window_closes_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    published_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    answer: Option<Answer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    removal: Option<Removal>,
    #[serde(rename = "GSI1PK", default, skip_serializing_if = "Option::is_none")]
    gsi1pk: Option<String>,
    #[serde(rename = "GSI1SK", default, skip_serializing_if = "Option::is_none")]
    gsi1sk: Option<String>,
    #[serde(rename = "GSI2PK", default, skip_serializing_if = "Option::is_none")]
    gsi2pk: Option<String>,
    #[serde(rename = "GSI2SK", default, skip_serializing_if = "Option::is_none")]
    gsi2sk: Option<String>,
    #[serde(rename = "GSI3PK", default, skip_serializing_if = "Option::is_none")]
    gsi3pk: Option<String>,
    #[serde(rename = "GSI3SK", default, skip_serializing_if = "Option::is_none")]
    gsi3sk: Option<String>,
}

fn role(p: Party) -> &'static str {
    match p {
        Party::Renter => "renter",
        Party::Owner => "owner",
    }
}

fn reviews_pk(booking: &BookingId) -> String {
    format!("REVIEWS#{booking}")
}

fn review_item(r: &Review) -> Result<Item, AppError> {
    let role = role(r.author_role);
    let mut item = ReviewItem {
        pk: reviews_pk(&r.booking_id),
        sk: format!("BY#{role}"),
        entity: "review".into(),
        booking_id: r.booking_id.clone(),
        listing_id: r.listing_id.clone(),
        listing_title: r.listing_title.clone(),
        author_id: r.author_id.clone(),
        author_role: role.into(),
        subject_id: r.subject_id.clone(),
        rating: r.rating,
        text: r.text.clone(),
        status: r.status,
        written_at: r.written_at,
        window_closes_at: r.window_closes_at,
        published_at: r.published_at,
        answer: r.answer.clone(),
        removal: r.removal.clone(),
        gsi1pk: None,
        gsi1sk: None,
        gsi2pk: None,
        gsi2sk: None,
        gsi3pk: None,
        gsi3sk: None,
    };
    match (r.status, r.published_at) {
        (ReviewStatus::Published, Some(at)) => {
            let sk = format!("R#{}#{}#{role}", timestamp(at), r.booking_id);
            item.gsi1pk = Some(format!("REVIEWS_OF#USER#{}", r.subject_id));
            item.gsi1sk = Some(sk.clone());
            if let Some(listing) = r.rated_listing() {
                item.gsi2pk = Some(format!("REVIEWS_OF#LISTING#{listing}"));
                item.gsi2sk = Some(sk);
            }
        }
        (ReviewStatus::Hidden, _) => {
            item.gsi3pk = Some(DUE_PK.into());
            item.gsi3sk = Some(format!("{}#{}#{role}", timestamp(r.window_closes_at), r.booking_id));
        }
        // Removed: in no list.
        _ => {}
    }
    serde_dynamo::to_item(item).map_err(AppError::internal)
}

fn review_from(item: Item) -> Result<Review, AppError> {
    let i: ReviewItem = serde_dynamo::from_item(item).map_err(AppError::internal)?;
    let author_role = match i.author_role.as_str() {
        "renter" => Party::Renter,
        "owner" => Party::Owner,
        other => return Err(AppError::internal(format!("stored review has author_role {other}"))),
    };
    Ok(Review {
        booking_id: i.booking_id,
        listing_id: i.listing_id,
        listing_title: i.listing_title,
        author_id: i.author_id,
        author_role,
        subject_id: i.subject_id,
        rating: i.rating,
        text: i.text,
        status: i.status,
        written_at: i.written_at,
        window_closes_at: i.window_closes_at,
        published_at: i.published_at,
        answer: i.answer,
        removal: i.removal,
    })
}

/// What the stored review must be for a write over it to land.
enum Guard {
    /// Not stored yet.
    Absent,
    /// Stored with this status, answered or not.
    As { status: ReviewStatus, answered: bool },
}

/// `r` written whole, if the stored review is as `guard` says.
fn review_put(table: &str, r: &Review, guard: Guard) -> Result<TransactWriteItem, AppError> {
    let p = Put::builder().table_name(table).set_item(Some(review_item(r)?));
    let p = match guard {
        Guard::Absent => p.condition_expression("attribute_not_exists(PK)"),
        Guard::As { status, answered } => p
            .condition_expression(if answered {
                "#status = :was AND attribute_exists(answer)"
            } else {
                "#status = :was AND attribute_not_exists(answer)"
            })
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":was", s(status.as_str())),
    };
    put(p)
}

/// Adds `r`'s stars to one rating total (`sign` -1: takes them back).
fn rating_add(
    table: &str,
    (pk, sk): (String, &str),
    r: &Review,
    sign: i64,
    entity: &str,
) -> Result<TransactWriteItem, AppError> {
    let update = Update::builder()
        .table_name(table)
        .key("PK", s(pk))
        .key("SK", s(sk))
        .update_expression("ADD rating_count :one, rating_sum :stars SET entity = if_not_exists(entity, :entity)")
        .expression_attribute_values(":one", AttributeValue::N(sign.to_string()))
        .expression_attribute_values(":stars", AttributeValue::N((sign * i64::from(r.rating)).to_string()))
        .expression_attribute_values(":entity", s(entity))
        .build()
        .map_err(AppError::internal)?;
    Ok(TransactWriteItem::builder().update(update).build())
}

/// The totals a published `r` adds to (`sign` 1) or leaves (-1): its subject's, and its
/// listing's for a renter's review.
fn ratings(table: &str, r: &Review, sign: i64) -> Result<Vec<TransactWriteItem>, AppError> {
    let mut writes = vec![rating_add(table, (stats_pk(&r.subject_id), STATS_SK), r, sign, "member_stats")?];
    if let Some(listing) = r.rated_listing() {
        writes.push(rating_add(table, (listing_pk(listing), LISTING_RATING_SK), r, sign, "listing_rating")?);
    }
    Ok(writes)
}

/// The totals on a rating item (none counted yet: zero).
pub(super) fn rating_totals(item: &Item) -> RatingTotals {
    let n = |name: &str| item.get(name).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()).unwrap_or(0);
    RatingTotals { sum: n("rating_sum"), count: n("rating_count") }
}

impl DynamoTable {
    async fn published_page(
        &self,
        index: &'static str,
        pk: String,
        limit: u32,
        start: Option<LastKey>,
    ) -> Result<Page<Review>, AppError> {
        let (pk_attr, sk_attr) = if index == "GSI1" { ("GSI1PK", "GSI1SK") } else { ("GSI2PK", "GSI2SK") };
        let at = Partition { index: Some(index), pk_attr, sk_attr };
        let QueryPage { items, last_key, items_read, bytes_read } =
            self.newest_first(&at, pk, "R#", limit, start).await?;
        let reviews = items.into_iter().map(review_from).collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items: reviews, last_key, items_read, bytes_read, capacity_units: 0.0 })
    }
}

#[async_trait]
impl ReviewStore for DynamoTable {
    async fn booking_reviews(&self, booking: &BookingId) -> Result<Vec<Review>, AppError> {
        let out = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("PK = :pk AND begins_with(SK, :by)")
            .expression_attribute_values(":pk", s(reviews_pk(booking)))
            .expression_attribute_values(":by", s("BY#"))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(DEP, e))?;
        out.items.unwrap_or_default().into_iter().map(review_from).collect()
    }

    async fn add_review(
        &self,
        review: &Review,
        other: Option<&Review>,
        events: &[DomainEvent],
    ) -> Result<(), AppError> {
        let table = self.table();
        let mut writes = vec![review_put(table, review, Guard::Absent)?];
        match other {
            Some(o) => writes.push(review_put(table, o, Guard::As { status: ReviewStatus::Hidden, answered: false })?),
            None => {
                let other_role = match review.author_role {
                    Party::Renter => Party::Owner,
                    Party::Owner => Party::Renter,
                };
                let check = ConditionCheck::builder()
                    .table_name(table)
                    .key("PK", s(reviews_pk(&review.booking_id)))
                    .key("SK", s(format!("BY#{}", role(other_role))))
                    .condition_expression("attribute_not_exists(PK) OR #status <> :hidden")
                    .expression_attribute_names("#status", "status")
                    .expression_attribute_values(":hidden", s(ReviewStatus::Hidden.as_str()))
                    .build()
                    .map_err(AppError::internal)?;
                writes.push(TransactWriteItem::builder().condition_check(check).build());
            }
        }
        for r in std::iter::once(review).chain(other) {
            if r.status == ReviewStatus::Published {
                writes.extend(ratings(table, r, 1)?);
            }
        }
        for e in events {
            writes.push(event_put(table, e)?);
        }
        match self.client().transact_write_items().set_transact_items(Some(writes)).send().await {
            Ok(_) => Ok(()),
            Err(e) if super::transaction_conflicted(&e) || super::transaction_failures(&e).contains(&true) => {
                Err(AppError::PreconditionFailed)
            }
            Err(e) => Err(sdk_error(DEP, e)),
        }
    }

    async fn publish_review(&self, review: &Review, event: &DomainEvent) -> Result<bool, AppError> {
        let mut writes =
            vec![review_put(self.table(), review, Guard::As { status: ReviewStatus::Hidden, answered: false })?];
        writes.extend(ratings(self.table(), review, 1)?);
        writes.push(event_put(self.table(), event)?);
        self.transact_guarded_retrying(writes).await
    }

    async fn get_review(&self, id: &ReviewId) -> Result<Option<Review>, AppError> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .key("PK", s(reviews_pk(&id.booking_id)))
            .key("SK", s(format!("BY#{}", role(id.author_role))))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(DEP, e))?;
        out.item.map(review_from).transpose()
    }

    async fn update_review(&self, previous: &Review, next: &Review, event: &DomainEvent) -> Result<bool, AppError> {
        let guard = Guard::As { status: previous.status, answered: previous.answer.is_some() };
        let mut writes = vec![review_put(self.table(), next, guard)?];
        if previous.status == ReviewStatus::Published && next.status != ReviewStatus::Published {
            writes.extend(ratings(self.table(), previous, -1)?);
        }
        writes.push(event_put(self.table(), event)?);
        self.transact_guarded_retrying(writes).await
    }

    async fn due_reviews(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<(BookingId, Party)>, AppError> {
        let out = self
            .client()
            .query()
            .table_name(self.table())
            .index_name("GSI3")
            .key_condition_expression("GSI3PK = :pk AND GSI3SK <= :upper")
            .expression_attribute_values(":pk", s(DUE_PK))
            // Every key of an instant sorts after its bare timestamp, and before the next one's.
            .expression_attribute_values(":upper", s(format!("{}#~", timestamp(now))))
            .limit(limit as i32)
            .send()
            .await
            .map_err(|e| sdk_error(DEP, e))?;
        let text = |item: &Item, name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
        out.items
            .unwrap_or_default()
            .iter()
            .map(|item| {
                let booking = text(item, "PK").strip_prefix("REVIEWS#").and_then(|b| BookingId::parse(b).ok());
                let role = match text(item, "SK").as_str() {
                    "BY#renter" => Some(Party::Renter),
                    "BY#owner" => Some(Party::Owner),
                    _ => None,
                };
                booking.zip(role).ok_or_else(|| AppError::internal("due reviews index holds an invalid key"))
            })
            .collect()
    }

    async fn listing_reviews(
        &self,
        listing: &ListingId,
        limit: u32,
        start: Option<LastKey>,
    ) -> Result<Page<Review>, AppError> {
        self.published_page("GSI2", format!("REVIEWS_OF#LISTING#{listing}"), limit, start).await
    }

    async fn member_reviews(
        &self,
        member: &UserId,
        limit: u32,
        start: Option<LastKey>,
    ) -> Result<Page<Review>, AppError> {
        self.published_page("GSI1", format!("REVIEWS_OF#USER#{member}"), limit, start).await
    }
}
