//! Owners' payouts, one per confirmed booking, beside the booking in its partition.
//!
//! | item   | PK             | SK       | GSI2 (owner's earnings)                   | GSI3 (due, sparse)                       |
//! |--------|----------------|----------|-------------------------------------------|------------------------------------------|
//! | payout | `BOOKING#{id}` | `PAYOUT` | `OWNER#{u}` / `EARNING#{created ms}#{id}` | `DUE#payout` / `{when}#{id}` while open  |
//!
//! `when` is the due time while nothing was transferred, else when a refund asked for a
//! reversal: the payout task reads the index up to now. Writes are conditional on `version`.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{is_condition_failure, s, timestamp, DynamoTable, Item, Partition, QueryPage, DEP};
use crate::adapters::sdk_error;
use crate::cursor::LastKey;
use crate::domain::booking::BookingId;
use crate::domain::money::Currency;
use crate::domain::payout::Payout;
use crate::domain::user::UserId;
use crate::error::AppError;
use crate::ports::{Page, PayoutStore};

const PAYOUT_SK: &str = "PAYOUT";

#[derive(Debug, Serialize, Deserialize)]
struct PayoutItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    #[serde(rename = "GSI2PK")]
    gsi2pk: String,
    #[serde(rename = "GSI2SK")]
    gsi2sk: String,
    #[serde(rename = "GSI3PK", default, skip_serializing_if = "Option::is_none")]
    gsi3pk: Option<String>,
    #[serde(rename = "GSI3SK", default, skip_serializing_if = "Option::is_none")]
    gsi3sk: Option<String>,
    entity: String,
    booking_id: String,
    owner_id: String,
    currency: String,
    charge_id: String,
    due_at: DateTime<Utc>,
    rental: i64,
    commission_bps: i64,
    owed: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    transfer_id: Option<String>,
    transferred: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reversal_id: Option<String>,
    reversed: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    blocked_reason: Option<String>,
    attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: u64,
}

fn payout_item(p: &Payout) -> Result<Item, AppError> {
    let id = p.booking_id.to_string();
    let open = p.open();
    // A reversal owed, or a blocked payout, counts from its last change (a blocked one is
    // rewritten at each check): newer due payouts are not starved behind them.
    let when = if p.transfer_id.is_some() || p.blocked_reason.is_some() { p.updated_at } else { p.due_at };
    let item = PayoutItem {
        pk: format!("BOOKING#{id}"),
        sk: PAYOUT_SK.into(),
        gsi2pk: format!("OWNER#{}", p.owner_id),
        gsi2sk: format!("EARNING#{:013}#{id}", p.created_at.timestamp_millis()),
        gsi3pk: open.then(|| "DUE#payout".to_owned()),
        gsi3sk: open.then(|| format!("{}#{id}", timestamp(when))),
        entity: "payout".into(),
        booking_id: id,
        owner_id: p.owner_id.to_string(),
        currency: p.currency.code().to_owned(),
        charge_id: p.charge_id.clone(),
        due_at: p.due_at,
        rental: p.rental,
        commission_bps: p.commission_bps,
        owed: p.owed,
        transfer_id: p.transfer_id.clone(),
        transferred: p.transferred,
        reversal_id: p.reversal_id.clone(),
        reversed: p.reversed,
        blocked_reason: p.blocked_reason.clone(),
        attempts: p.attempts,
        last_error: p.last_error.clone(),
        created_at: p.created_at,
        updated_at: p.updated_at,
        version: p.version,
    };
    serde_dynamo::to_item(item).map_err(AppError::internal)
}

fn payout_from(item: Item) -> Result<Payout, AppError> {
    let i: PayoutItem = serde_dynamo::from_item(item).map_err(AppError::internal)?;
    let invalid = || AppError::internal("stored payout has an invalid id");
    Ok(Payout {
        booking_id: BookingId::parse(&i.booking_id).map_err(|_| invalid())?,
        owner_id: UserId::parse(&i.owner_id).map_err(|_| invalid())?,
        currency: Currency::parse(&i.currency).ok_or_else(|| AppError::internal("stored payout currency"))?,
        charge_id: i.charge_id,
        due_at: i.due_at,
        rental: i.rental,
        commission_bps: i.commission_bps,
        owed: i.owed,
        transfer_id: i.transfer_id,
        transferred: i.transferred,
        reversal_id: i.reversal_id,
        reversed: i.reversed,
        blocked_reason: i.blocked_reason,
        attempts: i.attempts,
        last_error: i.last_error,
        created_at: i.created_at,
        updated_at: i.updated_at,
        version: i.version,
    })
}

#[async_trait]
impl PayoutStore for DynamoTable {
    async fn get_payout(&self, booking: &BookingId) -> Result<Option<Payout>, AppError> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .key("PK", s(format!("BOOKING#{booking}")))
            .key("SK", s(PAYOUT_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(DEP, e))?;
        out.item.map(payout_from).transpose()
    }

    async fn save_payout(&self, next: &Payout, previous_version: Option<u64>) -> Result<(), AppError> {
        let mut put = self.client().put_item().table_name(self.table()).set_item(Some(payout_item(next)?));
        put = match previous_version {
            None => put.condition_expression("attribute_not_exists(PK)"),
            Some(v) => put
                .condition_expression("version = :v")
                .expression_attribute_values(":v", AttributeValue::N(v.to_string())),
        };
        match put.send().await {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Err(AppError::PreconditionFailed),
            Err(e) => Err(sdk_error(DEP, e)),
        }
    }

    async fn due_payouts(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<BookingId>, AppError> {
        self.due_booking_ids("DUE#payout", format!("{}#~", timestamp(now)), limit).await
    }

    async fn earnings(&self, owner: &UserId, limit: u32, start: Option<LastKey>) -> Result<Page<Payout>, AppError> {
        let owners = Partition { index: Some("GSI2"), pk_attr: "GSI2PK", sk_attr: "GSI2SK" };
        let QueryPage { items, last_key, items_read, bytes_read } =
            self.newest_first(&owners, format!("OWNER#{owner}"), "EARNING#", limit, start).await?;
        let payouts = items.into_iter().map(payout_from).collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items: payouts, last_key, items_read, bytes_read, capacity_units: 0.0 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::SubsecRound;

    #[test]
    fn a_payout_round_trips_and_leaves_the_due_index_when_settled() {
        let booking = crate::testing::confirmed_booking("2026-12-10", 3, 4_000).unwrap();
        let mut p = Payout::schedule(&booking, "ch_1".into(), 24, Utc::now().trunc_subsecs(3));
        let item = payout_item(&p).unwrap();
        assert_eq!(item["GSI3PK"], s("DUE#payout"));
        assert_eq!(payout_from(item).unwrap(), p);
        (p.transfer_id, p.transferred) = (Some("tr_1".into()), p.owed);
        let item = payout_item(&p).unwrap();
        assert!(!item.contains_key("GSI3PK"), "settled: out of the due index");
        assert_eq!(payout_from(item).unwrap(), p);
    }
}
