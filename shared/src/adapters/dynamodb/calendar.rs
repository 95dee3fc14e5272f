//! A listing's calendar: the days held by bookings or blocked by the owner.
//!
//! | item          | PK                   | SK                 |
//! |---------------|----------------------|--------------------|
//! | held day      | `LISTING#{listing}`  | `DAY#{yyyy-mm-dd}` |
//!
//! A day can be held by one thing only: holding it means creating its `DAY#` item with
//! `attribute_not_exists`, in the same transaction as the booking or the owner's block.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};
use chrono::NaiveDate;

use super::{key_item, put, s, transaction_failures, DynamoTable, Item, DEP};
use crate::adapters::sdk_error;
use crate::domain::booking::DateRange;
use crate::domain::listing::ListingId;
use crate::error::AppError;
use crate::ports::Calendar;

pub(super) fn listing_pk(id: &ListingId) -> String {
    format!("LISTING#{id}")
}

pub(super) fn day_sk(day: NaiveDate) -> String {
    format!("DAY#{day}")
}

pub(super) fn dates_unavailable() -> AppError {
    AppError::conflict("dates_unavailable", "some of these days are already booked or blocked")
}

impl DynamoTable {
    /// The day items of `range` on `listing`, each created only if the day is free.
    pub(super) fn hold_days(
        &self,
        listing: &ListingId,
        range: &DateRange,
        holder: HashMap<String, AttributeValue>,
        condition: &str,
        values: &[(&str, AttributeValue)],
    ) -> Result<Vec<TransactWriteItem>, AppError> {
        range
            .each_day()
            .map(|day| {
                let mut item: Item = HashMap::from([
                    ("PK".to_owned(), s(listing_pk(listing))),
                    ("SK".to_owned(), s(day_sk(day))),
                    ("entity".to_owned(), s("day")),
                    ("day".to_owned(), s(day.to_string())),
                ]);
                item.extend(holder.clone());
                let mut p =
                    Put::builder().table_name(self.table()).set_item(Some(item)).condition_expression(condition);
                for (name, value) in values {
                    p = p.expression_attribute_values(*name, value.clone());
                }
                put(p)
            })
            .collect()
    }
}

#[async_trait]
impl Calendar for DynamoTable {
    async fn unavailable_days(&self, listing: &ListingId, window: &DateRange) -> Result<Vec<NaiveDate>, AppError> {
        let mut days = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client()
                .query()
                .table_name(self.table())
                .key_condition_expression("PK = :pk AND SK BETWEEN :from AND :to")
                .expression_attribute_values(":pk", s(listing_pk(listing)))
                .expression_attribute_values(":from", s(day_sk(window.start)))
                .expression_attribute_values(":to", s(day_sk(window.end - chrono::Duration::days(1))))
                .projection_expression("#day")
                .expression_attribute_names("#day", "day")
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_error(DEP, e))?;
            for item in out.items.unwrap_or_default() {
                if let Some(AttributeValue::S(d)) = item.get("day") {
                    days.push(NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(AppError::internal)?);
                }
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(days);
            }
        }
    }

    async fn block_days(&self, listing: &ListingId, range: &DateRange) -> Result<(), AppError> {
        // Free days become blocks, blocked days stay blocks, a booked day cancels it all.
        let holder = HashMap::from([("kind".to_owned(), s("block"))]);
        let writes = self.hold_days(
            listing,
            range,
            holder,
            "attribute_not_exists(PK) OR kind = :block",
            &[(":block", s("block"))],
        )?;
        match self.client().transact_write_items().set_transact_items(Some(writes)).send().await {
            Ok(_) => Ok(()),
            Err(e) if transaction_failures(&e).iter().any(|f| *f) => Err(dates_unavailable()),
            Err(e) => Err(sdk_error(DEP, e)),
        }
    }

    async fn unblock_days(&self, listing: &ListingId, range: &DateRange) -> Result<(), AppError> {
        // Usually no booking holds a day of the range, and one transaction unblocks them all.
        // If one does, the transaction fails as a whole, and each day goes on its own instead:
        // a booked day must not stop the owner's other days from unblocking. Either way the
        // condition keeps a booking's day untouched, even if a booking took it since.
        let unblock = |day: NaiveDate| {
            Delete::builder()
                .table_name(self.table())
                .set_key(Some(key_item(&listing_pk(listing), &day_sk(day))))
                .condition_expression(UNBLOCK_CONDITION)
                .expression_attribute_values(":block", s("block"))
                .build()
                .map(|d| TransactWriteItem::builder().delete(d).build())
                .map_err(AppError::internal)
        };
        let deletes = range.each_day().map(unblock).collect::<Result<Vec<_>, _>>()?;
        match self.client().transact_write_items().set_transact_items(Some(deletes)).send().await {
            Ok(_) => return Ok(()),
            Err(e) if transaction_failures(&e).iter().any(|f| *f) => {}
            Err(e) => return Err(sdk_error(DEP, e)),
        }
        for day in range.each_day() {
            let result = self
                .client()
                .delete_item()
                .table_name(self.table())
                .set_key(Some(key_item(&listing_pk(listing), &day_sk(day))))
                .condition_expression(UNBLOCK_CONDITION)
                .expression_attribute_values(":block", s("block"))
                .send()
                .await;
            match result {
                Ok(_) => {}
                Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => {}
                Err(e) => return Err(sdk_error(DEP, e)),
            }
        }
        Ok(())
    }
}

/// A day item may be deleted by an unblock only if it is the owner's block (or already gone).
const UNBLOCK_CONDITION: &str = "attribute_not_exists(PK) OR kind = :block";
