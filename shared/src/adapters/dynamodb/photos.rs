//! DynamoDB adapter for photos.
//!
//! | item          | PK                   | SK               | what                               |
//! |---------------|----------------------|------------------|------------------------------------|
//! | photo         | `LISTING#{listing}`  | `PHOTO#{photo}`  | one per photo                      |
//! | photo count   | `LISTING#{listing}`  | `PHOTOS`         | `photo_count`, `cover_photo_id`    |
//!
//! The count is changed in the same transaction as the photo, with a condition, so twenty
//! concurrent uploads can never make twenty-one photos.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::DEP;
use super::{s, sort_key, DynamoTable, Item};
use crate::adapters::sdk_error;
use crate::domain::listing::ListingId;
use crate::domain::photo::{Photo, PhotoId, PhotoStatus, RenditionRef};
use crate::error::AppError;
use crate::ports::{PhotoStore, Recorded};

fn pk(listing: &ListingId) -> String {
    format!("LISTING#{listing}")
}

/// The sort key of a listing's photo count and cover; it sorts after every `PHOTO#…`.
pub(super) const COUNTER_SK: &str = "PHOTOS";

pub(super) fn sk(photo: &PhotoId) -> String {
    format!("PHOTO#{photo}")
}

#[derive(Serialize, Deserialize)]
struct PhotoItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    id: String,
    listing_id: String,
    status: String,
    content_type: String,
    size_bytes: u64,
    position: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rejection: Option<String>,
    #[serde(default)]
    renditions: Vec<RenditionItem>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize)]
struct RenditionItem {
    name: String,
    key: String,
    width: u32,
    height: u32,
}

fn to_item(p: &Photo) -> Result<Item, AppError> {
    serde_dynamo::to_item(PhotoItem {
        pk: pk(&p.listing_id),
        sk: sk(&p.id),
        entity: "photo".into(),
        id: p.id.to_string(),
        listing_id: p.listing_id.to_string(),
        status: p.status.as_str().into(),
        content_type: p.content_type.clone(),
        size_bytes: p.size_bytes,
        position: p.position,
        width: p.width,
        height: p.height,
        rejection: p.rejection.clone(),
        renditions: p
            .renditions
            .iter()
            .map(|r| RenditionItem { name: r.name.clone(), key: r.key.clone(), width: r.width, height: r.height })
            .collect(),
        created_at: p.created_at,
        updated_at: p.updated_at,
    })
    .map_err(AppError::internal)
}

/// A listing's `PHOTO#…` items and its `PHOTOS` counter -> the photos in order, and the cover.
pub(super) fn photos_from_items(items: Vec<Item>) -> Result<(Vec<Photo>, Option<String>), AppError> {
    let mut photos = Vec::new();
    let mut cover = None;
    for item in items {
        if sort_key(&item) == Some(COUNTER_SK) {
            cover = item.get("cover_photo_id").and_then(|v| v.as_s().ok()).cloned();
        } else {
            photos.push(from_item(item)?);
        }
    }
    photos.sort_by(|a, b| (a.position, a.created_at, a.id.as_str()).cmp(&(b.position, b.created_at, b.id.as_str())));
    Ok((photos, cover))
}

/// The `photo_count` of a listing's `PHOTOS` counter, if it is among `items` (0 without one).
pub(super) fn count_from_items(items: &[Item]) -> Result<u32, AppError> {
    let Some(counter) = items.iter().find(|i| sort_key(i) == Some(COUNTER_SK)) else { return Ok(0) };
    match counter.get("photo_count") {
        None => Ok(0),
        Some(AttributeValue::N(n)) => {
            n.parse().map_err(|_| AppError::internal(format!("stored photo count {n:?} is not a count")))
        }
        Some(_) => Err(AppError::internal("stored photo count is not a number")),
    }
}

fn from_item(item: Item) -> Result<Photo, AppError> {
    let i: PhotoItem = serde_dynamo::from_item(item).map_err(AppError::internal)?;
    let corrupt = |what: &str| AppError::internal(format!("stored photo {} has an invalid {what}", i.id));
    Ok(Photo {
        id: PhotoId::parse(&i.id).map_err(|_| corrupt("id"))?,
        listing_id: ListingId::parse(&i.listing_id).map_err(|_| corrupt("listing id"))?,
        status: PhotoStatus::parse(&i.status).ok_or_else(|| corrupt("status"))?,
        content_type: i.content_type.clone(),
        size_bytes: i.size_bytes,
        position: i.position,
        width: i.width,
        height: i.height,
        rejection: i.rejection.clone(),
        renditions: i
            .renditions
            .into_iter()
            .map(|r| RenditionRef { name: r.name, key: r.key, width: r.width, height: r.height })
            .collect(),
        created_at: i.created_at,
        updated_at: i.updated_at,
    })
}

fn is_condition_failure<E: aws_sdk_dynamodb::error::ProvideErrorMetadata, R>(
    err: &aws_sdk_dynamodb::error::SdkError<E, R>,
) -> bool {
    err.as_service_error().and_then(|e| e.code()) == Some("ConditionalCheckFailedException")
}

#[async_trait]
impl PhotoStore for DynamoTable {
    async fn add_photo(&self, photo: &Photo, max: u32) -> Result<(), AppError> {
        let count = Update::builder()
            .table_name(self.table())
            .key("PK", s(pk(&photo.listing_id)))
            .key("SK", s(COUNTER_SK))
            .update_expression("SET photo_count = if_not_exists(photo_count, :zero) + :one, entity = :entity")
            .condition_expression("attribute_not_exists(photo_count) OR photo_count < :max")
            .expression_attribute_values(":zero", AttributeValue::N("0".into()))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":max", AttributeValue::N(max.to_string()))
            .expression_attribute_values(":entity", s("photo_count"))
            .build()
            .map_err(AppError::internal)?;
        let put = Put::builder()
            .table_name(self.table())
            .set_item(Some(to_item(photo)?))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(AppError::internal)?;
        let writes =
            vec![TransactWriteItem::builder().update(count).build(), TransactWriteItem::builder().put(put).build()];
        if !self.transact_guarded(writes).await? {
            return Err(AppError::conflict(
                "too_many_photos",
                format!("a listing has at most {max} photos; delete one first"),
            ));
        }
        Ok(())
    }

    async fn get_photo(&self, listing: &ListingId, id: &PhotoId) -> Result<Option<Photo>, AppError> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .key("PK", s(pk(listing)))
            .key("SK", s(sk(id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(DEP, e))?;
        out.item.map(from_item).transpose()
    }

    async fn photos_of(&self, listing: &ListingId) -> Result<(Vec<Photo>, Option<String>), AppError> {
        // At most 20 photos and a counter item: one page, always.
        let out = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("PK = :pk AND begins_with(SK, :photo)")
            .expression_attribute_values(":pk", s(pk(listing)))
            .expression_attribute_values(":photo", s("PHOTO"))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(DEP, e))?;
        photos_from_items(out.items.unwrap_or_default())
    }

    async fn remove_photo(&self, listing: &ListingId, id: &PhotoId) -> Result<bool, AppError> {
        let delete = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(self.table())
            .key("PK", s(pk(listing)))
            .key("SK", s(sk(id)))
            .condition_expression("attribute_exists(PK)")
            .build()
            .map_err(AppError::internal)?;
        // The count goes down with the record; the cover goes if it was this photo.
        let count = Update::builder()
            .table_name(self.table())
            .key("PK", s(pk(listing)))
            .key("SK", s(COUNTER_SK))
            .update_expression("SET photo_count = photo_count - :one")
            .condition_expression("photo_count > :zero")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":zero", AttributeValue::N("0".into()))
            .build()
            .map_err(AppError::internal)?;
        let writes = vec![
            TransactWriteItem::builder().delete(delete).build(),
            TransactWriteItem::builder().update(count).build(),
        ];
        if !self.transact_guarded(writes).await? {
            return Ok(false);
        }
        self.set_cover(listing, id, false).await?;
        Ok(true)
    }

    async fn set_position(
        &self,
        listing: &ListingId,
        id: &PhotoId,
        position: u32,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .key("PK", s(pk(listing)))
            .key("SK", s(sk(id)))
            .update_expression("SET #position = :p, updated_at = :now")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#position", "position")
            .expression_attribute_values(":p", AttributeValue::N(position.to_string()))
            .expression_attribute_values(":now", s(now.to_rfc3339()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Err(AppError::NotFound("photo")),
            Err(e) => Err(sdk_error(DEP, e)),
        }
    }

    async fn set_cover(&self, listing: &ListingId, id: &PhotoId, cover: bool) -> Result<(), AppError> {
        let req =
            self.client().update_item().table_name(self.table()).key("PK", s(pk(listing))).key("SK", s(COUNTER_SK));
        let result = if cover {
            req.update_expression("SET cover_photo_id = :id")
                .expression_attribute_values(":id", s(id.to_string()))
                .send()
                .await
        } else {
            req.update_expression("REMOVE cover_photo_id")
                .condition_expression("cover_photo_id = :id")
                .expression_attribute_values(":id", s(id.to_string()))
                .send()
                .await
        };
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Ok(()), // not the cover: nothing to clear
            Err(e) => Err(sdk_error(DEP, e)),
        }
    }

    async fn finish_photo(&self, finished: &Photo) -> Result<Recorded, AppError> {
        let result = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(to_item(finished)?))
            // Only a pending photo is finished: a duplicate or an old event after a newer one
            // finds it ready (or deleted) and changes nothing.
            .condition_expression("#status = :pending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":pending", s(PhotoStatus::PendingUpload.as_str()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Recorded::New),
            Err(e) if is_condition_failure(&e) => Ok(Recorded::Duplicate),
            Err(e) => Err(sdk_error(DEP, e)),
        }
    }
}
