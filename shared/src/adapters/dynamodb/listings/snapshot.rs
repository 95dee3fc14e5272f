//! A listing, its held or blocked days and its rating, for its search document: one consistent
//! `Query` of the listing's partition from `DAY#{from}` to `LISTING#RATING` (the days sort
//! before the listing, the rating right after it; outbox items written before decision 0039,
//! `EVENT#`, may sit between them for their 48 h and are skipped).

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::NaiveDate;

use super::super::reviews::LISTING_RATING_SK;
use super::super::{s, sort_key, DynamoTable, Item, DEP};
use super::items::{listing_from_item, listing_pk, LISTING_SK};
use crate::adapters::sdk_error;
use crate::domain::listing::ListingId;
use crate::domain::review::RatingTotals;
use crate::error::AppError;
use crate::ports::{ListingSnapshot, ListingSnapshots};

#[async_trait]
impl ListingSnapshots for DynamoTable {
    async fn snapshot(&self, id: &ListingId, from: NaiveDate) -> Result<Option<ListingSnapshot>, AppError> {
        let mut listing = None;
        let mut rating = RatingTotals::default();
        let mut days = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client()
                .query()
                .table_name(self.table())
                .key_condition_expression("PK = :pk AND SK BETWEEN :from AND :listing")
                .expression_attribute_values(":pk", s(listing_pk(id)))
                .expression_attribute_values(":from", s(format!("DAY#{from}")))
                .expression_attribute_values(":listing", s(LISTING_RATING_SK))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_error(DEP, e))?;
            for item in out.items.unwrap_or_default() {
                match sort_key(&item) {
                    Some(LISTING_SK) => listing = Some(listing_from_item(item)?),
                    Some(LISTING_RATING_SK) => rating = super::super::reviews::rating_totals(&item),
                    Some(sk) if sk.starts_with("DAY#") => {
                        let Some(AttributeValue::S(day)) = item.get("day") else {
                            return Err(AppError::internal(format!("day item {sk} without its day")));
                        };
                        days.push(NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(AppError::internal)?);
                    }
                    _ => {}
                }
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(listing.map(|l| (l, days, rating)));
            }
        }
    }
}

/// The listing a stream record is about, when it changes what the listing's search document
/// holds: the listing item itself, one of its held or blocked days, or its rating.
pub fn listing_of_stream_keys(keys: &serde_dynamo::Item) -> Option<ListingId> {
    let text = |name: &str| match keys.get(name) {
        Some(serde_dynamo::AttributeValue::S(v)) => Some(v.as_str()),
        _ => None,
    };
    let id = text("PK")?.strip_prefix("LISTING#")?;
    let sk = text("SK")?;
    (sk == LISTING_SK || sk == LISTING_RATING_SK || sk.starts_with("DAY#")).then(|| ListingId::parse(id).ok()).flatten()
}

impl DynamoTable {
    /// Every listing's id: a Scan of the whole table for `SK = LISTING`. Only the operator's
    /// index rebuild calls it; nothing that serves requests may.
    pub async fn scan_listing_ids(&self) -> Result<Vec<ListingId>, AppError> {
        let mut ids = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client()
                .scan()
                .table_name(self.table())
                .filter_expression("SK = :listing")
                .expression_attribute_values(":listing", s(LISTING_SK))
                .projection_expression("PK")
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_error(DEP, e))?;
            for item in out.items.unwrap_or_default() {
                if let Some(AttributeValue::S(pk)) = item.get("PK") {
                    if let Some(id) = pk.strip_prefix("LISTING#").and_then(|id| ListingId::parse(id).ok()) {
                        ids.push(id);
                    }
                }
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(ids);
            }
        }
    }
}
