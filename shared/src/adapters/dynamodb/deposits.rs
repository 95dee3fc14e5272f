//! Bookings' deposits, beside the booking in its partition, and renters' Stripe Customers.
//!
//! | item     | PK             | SK                | GSI3 (due, sparse)                               |
//! |----------|----------------|-------------------|--------------------------------------------------|
//! | deposit  | `BOOKING#{id}` | `DEPOSIT`         | `DUE#deposit` / `{Deposit::due_at}#{id}` while due; then `DUE#deposit_transfer` / `{settled}#{id}` until the owner is paid |
//! | customer | `USER#{id}`    | `STRIPE_CUSTOMER` |                                                  |
//!
//! Deposit writes are conditional on `version`, with their event in the same transaction.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::outbox::event_put;
use super::{is_condition_failure, put, s, timestamp, DynamoTable, Item, DEP};
use crate::adapters::sdk_error;
use crate::domain::booking::BookingId;
use crate::domain::claim::ClaimId;
use crate::domain::deposit::{Claim, Damage, Deposit, Hold, Settlement};
use crate::domain::events::DomainEvent;
use crate::domain::money::Currency;
use crate::domain::user::UserId;
use crate::error::AppError;
use crate::ports::{CustomerStore, DepositStore};

pub(super) const DEPOSIT_SK: &str = "DEPOSIT";
const CUSTOMER_SK: &str = "STRIPE_CUSTOMER";
const DUE_PK: &str = "DUE#deposit";
const OWNER_DUE_PK: &str = "DUE#deposit_transfer";

#[derive(Debug, Serialize, Deserialize)]
struct DepositItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    #[serde(rename = "GSI3PK", default, skip_serializing_if = "Option::is_none")]
    gsi3pk: Option<String>,
    #[serde(rename = "GSI3SK", default, skip_serializing_if = "Option::is_none")]
    gsi3sk: Option<String>,
    entity: String,
    booking_id: String,
    renter_id: String,
    currency: String,
    amount: i64,
    customer_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    payment_method: Option<String>,
    hold_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hold_intent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    authorized_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    replaced_intent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pending_intent: Option<String>,
    holds_placed: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    failure_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    settled_at: Option<DateTime<Utc>>,
    #[serde(default)]
    captured: i64,
    #[serde(default)]
    uncollected: i64,
    /// A Stripe call claimed and not yet recorded (`call`: hold, capture, release).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    claim: Option<Claim>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_error: Option<String>,
    /// A damage claim against it, and what it settled for (decision 0043).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    claim_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    claim_owed: Option<i64>,
    /// The capture's charge, and the transfer of what it took to the owner (decision 0044).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    capture_charge: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owner_transfer_id: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: u64,
}

pub(super) fn deposit_item(d: &Deposit) -> Result<Item, AppError> {
    let id = d.booking_id.to_string();
    // Its steps first; once settled, the transfer of what was captured to the owner (a failed
    // or blocked one counted from its last try, so it never starves newer ones).
    let due = match (d.due_at(), d.owed_to_owner()) {
        (Some(at), _) => Some((DUE_PK, at)),
        (None, Some(_)) if d.last_error.is_some() => Some((OWNER_DUE_PK, d.updated_at)),
        (None, Some(_)) => Some((OWNER_DUE_PK, d.settlement.map_or(d.updated_at, |s| s.at))),
        (None, None) => None,
    };
    let item = DepositItem {
        pk: format!("BOOKING#{id}"),
        sk: DEPOSIT_SK.into(),
        gsi3pk: due.map(|(pk, _)| pk.to_owned()),
        gsi3sk: due.map(|(_, at)| format!("{}#{id}", timestamp(at))),
        entity: "deposit".into(),
        booking_id: id,
        renter_id: d.renter_id.to_string(),
        currency: d.currency.code().to_owned(),
        amount: d.amount,
        customer_id: d.customer_id.clone(),
        payment_method: d.payment_method.clone(),
        hold_at: d.hold_at,
        hold_intent: d.hold.as_ref().map(|h| h.intent_id.clone()),
        authorized_at: d.hold.as_ref().map(|h| h.authorized_at),
        replaced_intent: d.replaced_intent.clone(),
        pending_intent: d.pending_intent.clone(),
        holds_placed: d.holds_placed,
        failure_code: d.failure_code.clone(),
        settled_at: d.settlement.map(|s| s.at),
        captured: d.settlement.map_or(0, |s| s.captured),
        uncollected: d.settlement.map_or(0, |s| s.uncollected),
        claim: d.claim.clone(),
        last_error: d.last_error.clone(),
        claim_id: d.damage.as_ref().map(|c| c.claim_id.to_string()),
        claim_owed: d.damage.as_ref().and_then(|c| c.owed),
        capture_charge: d.capture_charge.clone(),
        owner_transfer_id: d.owner_transfer_id.clone(),
        created_at: d.created_at,
        updated_at: d.updated_at,
        version: d.version,
    };
    serde_dynamo::to_item(item).map_err(AppError::internal)
}

pub(super) fn deposit_from(item: Item) -> Result<Deposit, AppError> {
    let i: DepositItem = serde_dynamo::from_item(item).map_err(AppError::internal)?;
    let invalid = || AppError::internal("stored deposit has an invalid id");
    Ok(Deposit {
        booking_id: BookingId::parse(&i.booking_id).map_err(|_| invalid())?,
        renter_id: UserId::parse(&i.renter_id).map_err(|_| invalid())?,
        currency: Currency::parse(&i.currency).ok_or_else(|| AppError::internal("stored deposit currency"))?,
        amount: i.amount,
        customer_id: i.customer_id,
        payment_method: i.payment_method,
        hold_at: i.hold_at,
        hold: i.hold_intent.zip(i.authorized_at).map(|(intent_id, authorized_at)| Hold { intent_id, authorized_at }),
        replaced_intent: i.replaced_intent,
        pending_intent: i.pending_intent,
        holds_placed: i.holds_placed,
        failure_code: i.failure_code,
        settlement: i.settled_at.map(|at| Settlement { captured: i.captured, uncollected: i.uncollected, at }),
        claim: i.claim,
        last_error: i.last_error,
        damage: match i.claim_id {
            Some(id) => Some(Damage { claim_id: ClaimId::parse(&id).map_err(|_| invalid())?, owed: i.claim_owed }),
            None => None,
        },
        capture_charge: i.capture_charge,
        owner_transfer_id: i.owner_transfer_id,
        created_at: i.created_at,
        updated_at: i.updated_at,
        version: i.version,
    })
}

#[async_trait]
impl DepositStore for DynamoTable {
    async fn get_deposit(&self, booking: &BookingId) -> Result<Option<Deposit>, AppError> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .key("PK", s(format!("BOOKING#{booking}")))
            .key("SK", s(DEPOSIT_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(DEP, e))?;
        out.item.map(deposit_from).transpose()
    }

    async fn save_deposit(
        &self,
        next: &Deposit,
        previous_version: Option<u64>,
        event: Option<&DomainEvent>,
    ) -> Result<(), AppError> {
        let mut write = Put::builder().table_name(self.table()).set_item(Some(deposit_item(next)?));
        write = match previous_version {
            None => write.condition_expression("attribute_not_exists(PK)"),
            Some(v) => write
                .condition_expression("version = :v")
                .expression_attribute_values(":v", AttributeValue::N(v.to_string())),
        };
        let mut writes = vec![put(write)?];
        if let Some(event) = event {
            writes.push(event_put(self.table(), event)?);
        }
        match self.transact_guarded(writes).await? {
            true => Ok(()),
            false => Err(AppError::PreconditionFailed),
        }
    }

    async fn due_deposits(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<BookingId>, AppError> {
        self.due_booking_ids(DUE_PK, format!("{}#~", timestamp(now)), limit).await
    }

    async fn due_owner_transfers(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<BookingId>, AppError> {
        self.due_booking_ids(OWNER_DUE_PK, format!("{}#~", timestamp(now)), limit).await
    }
}

#[async_trait]
impl CustomerStore for DynamoTable {
    async fn customer_of(&self, user: &UserId) -> Result<Option<String>, AppError> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .key("PK", s(format!("USER#{user}")))
            .key("SK", s(CUSTOMER_SK))
            .projection_expression("customer_id")
            .send()
            .await
            .map_err(|e| sdk_error(DEP, e))?;
        Ok(out.item.and_then(|i| i.get("customer_id").and_then(|v| v.as_s().ok()).cloned()))
    }

    async fn link_customer(&self, user: &UserId, customer_id: &str) -> Result<String, AppError> {
        let put = self
            .client()
            .put_item()
            .table_name(self.table())
            .item("PK", s(format!("USER#{user}")))
            .item("SK", s(CUSTOMER_SK))
            .item("entity", s("stripe_customer"))
            .item("customer_id", s(customer_id))
            .condition_expression("attribute_not_exists(PK)");
        match put.send().await {
            Ok(_) => Ok(customer_id.to_owned()),
            // A racing first payment linked one: use it (the other Customer stays empty).
            Err(e) if is_condition_failure(&e) => {
                self.customer_of(user).await?.ok_or_else(|| AppError::internal("customer link vanished"))
            }
            Err(e) => Err(sdk_error(DEP, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::SubsecRound;

    #[test]
    fn a_deposit_round_trips_and_leaves_the_due_index_when_settled() {
        let booking = crate::testing::confirmed_booking("2026-12-10", 3, 4_000).unwrap();
        let now = Utc::now().trunc_subsecs(3);
        let d = Deposit::schedule(&booking, "cus_1".into(), Some("pm_1".into()), 24, now);
        let item = deposit_item(&d).unwrap();
        assert_eq!((item["GSI3PK"].clone(), item["SK"].clone()), (s(DUE_PK), s(DEPOSIT_SK)));
        assert_eq!(deposit_from(item).unwrap(), d);
        let claimed =
            d.claimed(crate::domain::deposit::Claim::Capture { intent_id: "pi_0".into(), amount: 5, owed: 9 });
        assert_eq!(deposit_from(deposit_item(&claimed).unwrap()).unwrap(), claimed, "with its claim");
        let held = d.held("pi_1".into(), Some("pm_2".into()), now);
        assert_eq!(deposit_from(deposit_item(&held).unwrap()).unwrap(), held);
        let settled = held.settled(500, 300, now);
        let item = deposit_item(&settled).unwrap();
        assert!(!item.contains_key("GSI3PK"), "settled without a charge: out of the due index");
        assert_eq!(deposit_from(item).unwrap(), settled);
        // Captured: due for the owner's transfer until it is made.
        let captured = settled.captured_by("ch_1".into());
        let item = deposit_item(&captured).unwrap();
        assert_eq!(item["GSI3PK"], s(OWNER_DUE_PK));
        assert_eq!(deposit_from(item).unwrap(), captured);
        let paid = Deposit { owner_transfer_id: Some("tr_1".into()), ..captured };
        let item = deposit_item(&paid).unwrap();
        assert!(!item.contains_key("GSI3PK"), "paid to the owner: out of every due index");
        assert_eq!(deposit_from(item).unwrap(), paid);
    }
}
