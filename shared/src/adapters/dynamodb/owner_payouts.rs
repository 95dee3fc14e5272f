//! Which owner a connected account belongs to, and the payouts Stripe reported to owners.
//!
//! | item            | PK                          | SK                                   |
//! |-----------------|-----------------------------|--------------------------------------|
//! | account owner   | `PAYOUT_ACCOUNT#{account}`  | `PAYOUT_ACCOUNT`                     |
//! | owner payout    | `USER#{user}`               | `PAYOUT#{arrival ms:013}#{payout id}` |

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::outbox::event_put;
use super::{put, s, DynamoTable, Item, Partition, QueryPage, DEP};
use crate::adapters::sdk_error;
use crate::cursor::LastKey;
use crate::domain::events::DomainEvent;
use crate::domain::money::Currency;
use crate::domain::payout_account::OwnerPayout;
use crate::domain::user::UserId;
use crate::error::AppError;
use crate::ports::{OwnerPayouts, Page};

pub(super) fn account_owner_put(table: &str, account_id: &str, user: &UserId) -> Result<TransactWriteItem, AppError> {
    put(Put::builder()
        .table_name(table)
        .item("PK", s(format!("PAYOUT_ACCOUNT#{account_id}")))
        .item("SK", s("PAYOUT_ACCOUNT"))
        .item("entity", s("payout_account_owner"))
        .item("user_id", s(user.to_string())))
}

#[derive(Debug, Serialize, Deserialize)]
struct OwnerPayoutItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    id: String,
    account_id: String,
    amount: i64,
    currency: String,
    arrival_date: DateTime<Utc>,
    status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    failure_code: Option<String>,
    /// When Stripe reported it, in milliseconds: the newest-wins condition compares numbers.
    reported_ms: i64,
}

impl OwnerPayoutItem {
    fn new(owner: &UserId, p: &OwnerPayout) -> Self {
        OwnerPayoutItem {
            pk: format!("USER#{owner}"),
            sk: payout_sk(p),
            entity: "owner_payout".into(),
            id: p.id.clone(),
            account_id: p.account_id.clone(),
            amount: p.amount,
            currency: p.currency.code().to_owned(),
            arrival_date: p.arrival_date,
            status: p.status.clone(),
            failure_code: p.failure_code.clone(),
            reported_ms: p.reported_at.timestamp_millis(),
        }
    }

    fn payout(self) -> Result<OwnerPayout, AppError> {
        Ok(OwnerPayout {
            currency: Currency::parse(&self.currency).ok_or_else(|| AppError::internal("stored payout currency"))?,
            reported_at: DateTime::from_timestamp_millis(self.reported_ms).unwrap_or_default(),
            id: self.id,
            account_id: self.account_id,
            amount: self.amount,
            arrival_date: self.arrival_date,
            status: self.status,
            failure_code: self.failure_code,
        })
    }
}

fn payout_sk(payout: &OwnerPayout) -> String {
    format!("PAYOUT#{:013}#{}", payout.arrival_date.timestamp_millis(), payout.id)
}

#[async_trait]
impl OwnerPayouts for DynamoTable {
    async fn owner_of_account(&self, account_id: &str) -> Result<Option<UserId>, AppError> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .key("PK", s(format!("PAYOUT_ACCOUNT#{account_id}")))
            .key("SK", s("PAYOUT_ACCOUNT"))
            .send()
            .await
            .map_err(|e| sdk_error(DEP, e))?;
        let user = out.item.as_ref().and_then(|i| i.get("user_id")).and_then(|v| v.as_s().ok());
        user.map(|u| UserId::parse(u).map_err(|_| AppError::internal("account owner item holds an invalid user id")))
            .transpose()
    }

    async fn record_owner_payout(
        &self,
        owner: &UserId,
        payout: &OwnerPayout,
        event: Option<&DomainEvent>,
    ) -> Result<bool, AppError> {
        let item: Item = serde_dynamo::to_item(OwnerPayoutItem::new(owner, payout)).map_err(AppError::internal)?;
        let mut writes = vec![put(Put::builder()
            .table_name(self.table())
            .set_item(Some(item))
            // Newer; or as new (Stripe's `created` is in seconds) and a failure over a `paid`,
            // since a payout fails after it was paid, never the reverse. Never the same report
            // again, so a redelivered event announces nothing twice.
            .condition_expression(
                "attribute_not_exists(PK) OR reported_ms < :at \
                 OR (reported_ms = :at AND #status <> :status AND :status = :failed)",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":at", AttributeValue::N(payout.reported_at.timestamp_millis().to_string()))
            .expression_attribute_values(":status", s(&payout.status))
            .expression_attribute_values(":failed", s("failed")))?];
        if let Some(event) = event {
            writes.push(event_put(self.table(), event)?);
        }
        self.transact_guarded(writes).await
    }

    async fn owner_payouts(
        &self,
        owner: &UserId,
        limit: u32,
        start: Option<LastKey>,
    ) -> Result<Page<OwnerPayout>, AppError> {
        let QueryPage { items, last_key, items_read, bytes_read } =
            self.newest_first(&Partition::TABLE, format!("USER#{owner}"), "PAYOUT#", limit, start).await?;
        let payouts = items
            .into_iter()
            .map(|i| serde_dynamo::from_item::<_, OwnerPayoutItem>(i).map_err(AppError::internal)?.payout())
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items: payouts, last_key, items_read, bytes_read, capacity_units: 0.0 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payouts_sort_by_arrival() {
        let at = |t: i64| DateTime::<Utc>::from_timestamp(t, 0).unwrap();
        let p = |t: i64| OwnerPayout {
            id: "po_1".into(),
            account_id: "acct_1".into(),
            amount: 1,
            currency: Currency::parse("EUR").unwrap(),
            arrival_date: at(t),
            status: "paid".into(),
            failure_code: None,
            reported_at: at(t),
        };
        assert!(payout_sk(&p(999_999_999)) < payout_sk(&p(1_800_000_000)));
    }
}
