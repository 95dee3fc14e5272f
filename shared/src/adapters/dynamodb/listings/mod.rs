//! DynamoDB adapter for listings.
//!
//! | item          | PK                           | SK                  | GSI1PK           | GSI1SK                        |
//! |---------------|------------------------------|---------------------|------------------|-------------------------------|
//! | listing       | `LISTING#{id}`               | `LISTING`           | `OWNER#{owner}`  | `LISTING#{created_ms}#{id}`   |
//!
//! A listing changes in one transaction with its event; search reads the engine, which the
//! table's stream feeds (decision 0034).

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};

use super::outbox::event_put;
use super::DEP;
use super::{capacity, key_item, projection, query_page, s, sort_key, start_key, DynamoTable, Item, QueryPage};
use crate::adapters::sdk_error;
use crate::cursor::LastKey;
use crate::domain::events::DomainEvent;
use crate::domain::listing::{Listing, ListingId, OwnedListingSummary};
use crate::domain::photo::PhotoId;
use crate::domain::user::UserId;
use crate::error::AppError;
use crate::ports::{
    ListingDetail, ListingDetailReader, ListingPhoto, ListingPhotoReader, ListingReader, ListingWriter, OwnerListings,
    Page,
};

mod items;
mod snapshot;
pub(super) use items::listing_pk;
use items::*;
pub use snapshot::listing_of_stream_keys;

#[async_trait]
impl ListingReader for DynamoTable {
    async fn get_listing(&self, id: &ListingId) -> Result<Option<Listing>, AppError> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .key("PK", s(listing_pk(id)))
            .key("SK", s(LISTING_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(DEP, e))?;
        out.item.map(listing_from_item).transpose()
    }
}

#[async_trait]
impl ListingDetailReader for DynamoTable {
    async fn listing_detail(&self, id: &ListingId) -> Result<Option<ListingDetail>, AppError> {
        // The listing, its rating, its photos and their counter share the partition and sort
        // together: `LISTING` < `LISTING#RATING` < `PHOTO#{id}` < `PHOTOS` (its `DAY#` items
        // sort before, `RENTER#` after).
        // One query instead of a GetItem and a Query; at most 22 small items, one page.
        let out = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("PK = :pk AND SK BETWEEN :first AND :last")
            .expression_attribute_values(":pk", s(listing_pk(id)))
            .expression_attribute_values(":first", s(LISTING_SK))
            .expression_attribute_values(":last", s(super::photos::COUNTER_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(DEP, e))?;
        if out.last_evaluated_key.is_some() {
            tracing::warn!(listing_id = %id, "listing detail spans more than one page; later photos are left out");
        }
        let (listing, photo_items): (Vec<Item>, Vec<Item>) =
            out.items.unwrap_or_default().into_iter().partition(|i| sort_key(i) == Some(LISTING_SK));
        let Some(listing) = listing.into_iter().next().map(listing_from_item).transpose()? else { return Ok(None) };
        let (rating, photo_items): (Vec<Item>, Vec<Item>) =
            photo_items.into_iter().partition(|i| sort_key(i) == Some(super::reviews::LISTING_RATING_SK));
        let (photos, cover) = super::photos::photos_from_items(photo_items)?;
        let rating = rating.first().map(super::reviews::rating_totals).unwrap_or_default();
        Ok(Some(ListingDetail { listing, photos, cover, rating }))
    }
}

impl DynamoTable {
    /// The listing `id` and those of the items with sort keys `others` in its partition that
    /// exist, in one consistent BatchGetItem.
    async fn listing_and(&self, id: &ListingId, others: &[&str]) -> Result<Option<(Listing, Vec<Item>)>, AppError> {
        let pk = listing_pk(id);
        let keys = std::iter::once(LISTING_SK).chain(others.iter().copied()).map(|sk| key_item(&pk, sk)).collect();
        let items = self.batch_get(keys, true).await?;
        let (listing, rest): (Vec<Item>, Vec<Item>) = items.into_iter().partition(|i| sort_key(i) == Some(LISTING_SK));
        let Some(listing) = listing.into_iter().next().map(listing_from_item).transpose()? else { return Ok(None) };
        Ok(Some((listing, rest)))
    }
}

#[async_trait]
impl ListingPhotoReader for DynamoTable {
    async fn listing_with_photo_count(&self, id: &ListingId) -> Result<Option<(Listing, u32)>, AppError> {
        let Some((listing, items)) = self.listing_and(id, &[super::photos::COUNTER_SK]).await? else { return Ok(None) };
        Ok(Some((listing, super::photos::count_from_items(&items)?)))
    }

    async fn listing_with_photo(&self, id: &ListingId, photo: &PhotoId) -> Result<Option<ListingPhoto>, AppError> {
        let Some((listing, items)) =
            self.listing_and(id, &[&super::photos::sk(photo), super::photos::COUNTER_SK]).await?
        else {
            return Ok(None);
        };
        let (photos, cover) = super::photos::photos_from_items(items)?;
        Ok(Some(ListingPhoto { listing, photo: photos.into_iter().next(), cover }))
    }
}

#[async_trait]
impl ListingWriter for DynamoTable {
    async fn create_listing(&self, listing: &Listing, event: &DomainEvent) -> Result<(), AppError> {
        // Ids are fresh UUIDs; the condition only guards against a programming error.
        let writes = vec![
            put(self.table(), listing_item(listing)?, Some(("attribute_not_exists(PK)", None)))?,
            event_put(self.table(), event)?,
        ];
        self.client()
            .transact_write_items()
            .set_transact_items(Some(writes))
            .send()
            .await
            .map_err(|e| sdk_error(DEP, e))?;
        Ok(())
    }

    async fn replace_listing(&self, previous: &Listing, next: &Listing, event: &DomainEvent) -> Result<(), AppError> {
        // Optimistic concurrency: the write only lands if the stored version is still the one
        // the caller read (and checked against If-Match). A racing writer makes it fail whole.
        let mut writes = vec![put(
            self.table(),
            listing_item(next)?,
            Some(("version = :read_version", Some((":read_version", AttributeValue::N(previous.version.to_string()))))),
        )?];
        writes.push(event_put(self.table(), event)?);
        if !self.transact_guarded(writes).await? {
            return Err(AppError::PreconditionFailed);
        }
        Ok(())
    }
}

#[async_trait]
impl OwnerListings for DynamoTable {
    async fn owner_listings(
        &self,
        owner: &UserId,
        limit: u32,
        start: Option<LastKey>,
    ) -> Result<Page<OwnedListingSummary>, AppError> {
        let (expression, names) = projection(&OWNED_SUMMARY_ATTRIBUTES);
        let out = self
            .client()
            .query()
            .table_name(self.table())
            .index_name("GSI1")
            .projection_expression(expression)
            .set_expression_attribute_names(Some(names))
            .key_condition_expression("GSI1PK = :pk AND begins_with(GSI1SK, :prefix)")
            .expression_attribute_values(":pk", s(format!("OWNER#{owner}")))
            .expression_attribute_values(":prefix", s("LISTING#"))
            .scan_index_forward(false)
            .limit(limit as i32 + 1)
            .set_exclusive_start_key(start_key(start))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| sdk_error(DEP, e))?;
        let QueryPage { items, last_key, items_read, bytes_read } =
            query_page(out.items.unwrap_or_default(), limit, &["PK", "SK", "GSI1PK", "GSI1SK"]);
        let listings = items
            .into_iter()
            .map(|item| serde_dynamo::from_item::<_, OwnedSummaryItem>(item).map_err(AppError::internal)?.try_into())
            .collect::<Result<Vec<OwnedListingSummary>, AppError>>()?;
        Ok(Page {
            items: listings,
            last_key,
            items_read,
            bytes_read,
            capacity_units: capacity(out.consumed_capacity.as_ref()),
        })
    }
}
