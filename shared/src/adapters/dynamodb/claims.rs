//! Damage claims (decision 0043), in their booking's partition; its evidence files are in
//! `evidence.rs`.
//!
//! | item     | PK             | SK               | GSI1 (by status)                      | GSI2 (by id)           | GSI3 (due, sparse)                    |
//! |----------|----------------|------------------|---------------------------------------|------------------------|---------------------------------------|
//! | claim    | `BOOKING#{id}` | `CLAIM`          | `CLAIMS#{status}` / `CLAIM#{filed_at}#{id}` | `CLAIM#{id}` / `CLAIM` | `DUE#claim` / `{answer_by}#{id}` open |
//!
//! A claim's case (booking, claim, deposit, evidence, reports) is one query of the partition.
//! A claim's write, the deposit's when it changes, and the event are one transaction.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::bookings::{booking_from, booking_pk, BOOKING_SK};
use super::deposits::{deposit_from, deposit_item, DEPOSIT_SK};
use super::evidence::evidence_from;
use super::outbox::event_put;
use super::reports::report_from;
use super::{
    put, s, sort_key, timestamp, transaction_conflicted, transaction_failures, DynamoTable, Item, Partition, QueryPage,
    DEP,
};
use crate::adapters::sdk_error;
use crate::cursor::LastKey;
use crate::domain::booking::BookingId;
use crate::domain::claim::{Answer, ClaimId, ClaimStatus, DamageClaim, Decision};
use crate::domain::deposit::Deposit;
use crate::domain::events::DomainEvent;
use crate::domain::evidence::file::{EvidenceFile, EvidenceId};
use crate::domain::money::Currency;
use crate::domain::user::UserId;
use crate::error::AppError;
use crate::ports::{ClaimCase, ClaimStore, Page};

const CLAIM_SK: &str = "CLAIM";
const DUE_PK: &str = "DUE#claim";

#[derive(Debug, Serialize, Deserialize)]
struct AnswerItem {
    by_renter: bool,
    accepted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    statement: Option<String>,
    evidence: Vec<String>,
    at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize)]
struct DecisionItem {
    amount: i64,
    note: String,
    operator_id: String,
    at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ClaimItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    #[serde(rename = "GSI1PK")]
    gsi1pk: String,
    #[serde(rename = "GSI1SK")]
    gsi1sk: String,
    #[serde(rename = "GSI2PK")]
    gsi2pk: String,
    #[serde(rename = "GSI2SK")]
    gsi2sk: String,
    #[serde(rename = "GSI3PK", default, skip_serializing_if = "Option::is_none")]
    gsi3pk: Option<String>,
    #[serde(rename = "GSI3SK", default, skip_serializing_if = "Option::is_none")]
    gsi3sk: Option<String>,
    entity: String,
    claim_id: String,
    booking_id: String,
    owner_id: String,
    renter_id: String,
    currency: String,
    amount: i64,
    description: String,
    evidence: Vec<String>,
    status: String,
    answer_by: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    answer: Option<AnswerItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    decision: Option<DecisionItem>,
    filed_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: u64,
}

fn claim_item(c: &DamageClaim) -> Result<Item, AppError> {
    let (id, booking) = (c.id.to_string(), c.booking_id.to_string());
    let open = c.status == ClaimStatus::Open;
    let ids = |ids: &[EvidenceId]| ids.iter().map(ToString::to_string).collect::<Vec<_>>();
    let item = ClaimItem {
        pk: booking_pk(&c.booking_id),
        sk: CLAIM_SK.into(),
        gsi1pk: format!("CLAIMS#{}", c.status.as_str()),
        gsi1sk: format!("CLAIM#{}#{id}", timestamp(c.filed_at)),
        gsi2pk: format!("CLAIM#{id}"),
        gsi2sk: CLAIM_SK.into(),
        gsi3pk: open.then(|| DUE_PK.to_owned()),
        gsi3sk: open.then(|| format!("{}#{booking}", timestamp(c.answer_by))),
        entity: "claim".into(),
        claim_id: id,
        booking_id: booking,
        owner_id: c.owner_id.to_string(),
        renter_id: c.renter_id.to_string(),
        currency: c.currency.code().to_owned(),
        amount: c.amount,
        description: c.description.clone(),
        evidence: ids(&c.evidence),
        status: c.status.as_str().into(),
        answer_by: c.answer_by,
        answer: c.answer.as_ref().map(|a| AnswerItem {
            by_renter: a.by_renter,
            accepted: a.accepted,
            statement: a.statement.clone(),
            evidence: ids(&a.evidence),
            at: a.at,
        }),
        decision: c.decision.as_ref().map(|d| DecisionItem {
            amount: d.amount,
            note: d.note.clone(),
            operator_id: d.operator_id.to_string(),
            at: d.at,
        }),
        filed_at: c.filed_at,
        updated_at: c.updated_at,
        version: c.version,
    };
    serde_dynamo::to_item(item).map_err(AppError::internal)
}

fn claim_from(item: Item) -> Result<DamageClaim, AppError> {
    let i: ClaimItem = serde_dynamo::from_item(item).map_err(AppError::internal)?;
    let corrupt = |what: &str| AppError::internal(format!("stored claim {} has an invalid {what}", i.claim_id));
    let ids = |raw: &[String]| {
        raw.iter().map(|id| EvidenceId::parse(id).map_err(|_| corrupt("evidence id"))).collect::<Result<Vec<_>, _>>()
    };
    let answer = match &i.answer {
        Some(a) => Some(Answer {
            by_renter: a.by_renter,
            accepted: a.accepted,
            statement: a.statement.clone(),
            evidence: ids(&a.evidence)?,
            at: a.at,
        }),
        None => None,
    };
    let decision = match &i.decision {
        Some(d) => Some(Decision {
            amount: d.amount,
            note: d.note.clone(),
            operator_id: UserId::parse(&d.operator_id).map_err(|_| corrupt("operator_id"))?,
            at: d.at,
        }),
        None => None,
    };
    Ok(DamageClaim {
        id: ClaimId::parse(&i.claim_id).map_err(|_| corrupt("id"))?,
        booking_id: BookingId::parse(&i.booking_id).map_err(|_| corrupt("booking_id"))?,
        owner_id: UserId::parse(&i.owner_id).map_err(|_| corrupt("owner_id"))?,
        renter_id: UserId::parse(&i.renter_id).map_err(|_| corrupt("renter_id"))?,
        currency: Currency::parse(&i.currency).ok_or_else(|| corrupt("currency"))?,
        amount: i.amount,
        description: i.description.clone(),
        evidence: ids(&i.evidence)?,
        status: ClaimStatus::parse(&i.status).ok_or_else(|| corrupt("status"))?,
        answer_by: i.answer_by,
        answer,
        decision,
        filed_at: i.filed_at,
        updated_at: i.updated_at,
        version: i.version,
    })
}

#[async_trait]
impl ClaimStore for DynamoTable {
    async fn claim_case(&self, id: &BookingId) -> Result<Option<ClaimCase>, AppError> {
        let out = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("PK = :pk AND SK BETWEEN :booking AND :last")
            .expression_attribute_values(":pk", s(booking_pk(id)))
            .expression_attribute_values(":booking", s(BOOKING_SK))
            .expression_attribute_values(":last", s("REPORT#~"))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(DEP, e))?;
        let (mut booking, mut claim, mut deposit) = (None, None, None);
        let (mut evidence, mut reports) = (Vec::new(), Vec::new());
        for item in out.items.unwrap_or_default() {
            match sort_key(&item) {
                Some(BOOKING_SK) => booking = Some(booking_from(item)?),
                Some(CLAIM_SK) => claim = Some(claim_from(item)?),
                Some(DEPOSIT_SK) => deposit = Some(deposit_from(item)?),
                Some(sk) if sk.starts_with("EVIDENCE#") => evidence.push(evidence_from(item)?),
                Some(sk) if sk.starts_with("REPORT#") => reports.push(report_from(item)?),
                _ => {}
            }
        }
        evidence.sort_by(|a: &EvidenceFile, b| {
            a.created_at.cmp(&b.created_at).then_with(|| a.id.as_str().cmp(b.id.as_str()))
        });
        Ok(booking.map(|booking| ClaimCase { booking, claim, deposit, evidence, reports }))
    }

    async fn booking_claim(&self, id: &BookingId) -> Result<Option<DamageClaim>, AppError> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .key("PK", s(booking_pk(id)))
            .key("SK", s(CLAIM_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(DEP, e))?;
        out.item.map(claim_from).transpose()
    }

    async fn claim_booking(&self, id: &ClaimId) -> Result<Option<BookingId>, AppError> {
        let out = self
            .client()
            .query()
            .table_name(self.table())
            .index_name("GSI2")
            .key_condition_expression("GSI2PK = :pk AND GSI2SK = :sk")
            .expression_attribute_values(":pk", s(format!("CLAIM#{id}")))
            .expression_attribute_values(":sk", s(CLAIM_SK))
            .projection_expression("booking_id")
            .send()
            .await
            .map_err(|e| sdk_error(DEP, e))?;
        let first = out.items.unwrap_or_default().into_iter().next();
        let raw = first.as_ref().and_then(|i| i.get("booking_id")).and_then(|v| v.as_s().ok());
        raw.map(|b| BookingId::parse(b).map_err(|_| AppError::internal("claim index holds an invalid booking id")))
            .transpose()
    }

    async fn save_claim(
        &self,
        next: &DamageClaim,
        previous_version: Option<u64>,
        deposit: Option<(&Deposit, u64)>,
        event: &DomainEvent,
    ) -> Result<(), AppError> {
        let versioned = |write: aws_sdk_dynamodb::types::builders::PutBuilder, previous: Option<u64>| match previous {
            None => write.condition_expression("attribute_not_exists(PK)"),
            Some(v) => write
                .condition_expression("version = :v")
                .expression_attribute_values(":v", AttributeValue::N(v.to_string())),
        };
        let claim = Put::builder().table_name(self.table()).set_item(Some(claim_item(next)?));
        let mut writes = vec![put(versioned(claim, previous_version))?];
        if let Some((d, previous)) = deposit {
            let write = Put::builder().table_name(self.table()).set_item(Some(deposit_item(d)?));
            writes.push(put(versioned(write, Some(previous)))?);
        }
        writes.push(event_put(self.table(), event)?);
        // The event's id as the request token: an SDK retry of a write that landed is answered
        // as the success it was, not as a failed condition.
        let token = event.id.to_string();
        let request = self.client().transact_write_items().set_transact_items(Some(writes)).client_request_token(token);
        match request.send().await {
            Ok(_) => Ok(()),
            // Stale, or written at the same moment: the caller reads again.
            Err(e) if transaction_failures(&e).contains(&true) || transaction_conflicted(&e) => {
                Err(AppError::PreconditionFailed)
            }
            Err(e) => Err(sdk_error(DEP, e)),
        }
    }

    async fn due_claims(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<BookingId>, AppError> {
        self.due_booking_ids(DUE_PK, format!("{}#~", timestamp(now)), limit).await
    }

    async fn claims_in(
        &self,
        status: ClaimStatus,
        limit: u32,
        start: Option<LastKey>,
    ) -> Result<Page<DamageClaim>, AppError> {
        let at = Partition { index: Some("GSI1"), pk_attr: "GSI1PK", sk_attr: "GSI1SK" };
        let pk = format!("CLAIMS#{}", status.as_str());
        let QueryPage { items, last_key, items_read, bytes_read } =
            self.newest_first(&at, pk, "CLAIM#", limit, start).await?;
        let claims = items.into_iter().map(claim_from).collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items: claims, last_key, items_read, bytes_read, capacity_units: 0.0 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_round_trip_and_only_open_claims_are_due() {
        let booking = crate::testing::confirmed_booking("2026-12-10", 3, 4_000).unwrap();
        let now = Utc::now();
        let deposit = Deposit::schedule(&booking, "cus_1".into(), None, 24, now);
        let new = crate::domain::claim::NewClaim {
            amount: 100,
            description: "a dent".into(),
            evidence: vec![EvidenceId::generate()],
        };
        let claim = DamageClaim::file(&booking, &deposit, new, now);
        let item = claim_item(&claim).unwrap();
        assert_eq!(item["GSI3PK"], s(DUE_PK));
        assert_eq!(claim_from(item).unwrap(), claim);
        let contest = crate::domain::claim::ParsedAnswer::Contest { statement: "no".into(), evidence: vec![] };
        let escalated = claim.answered(contest, true, now).unwrap();
        let item = claim_item(&escalated).unwrap();
        assert!(!item.contains_key("GSI3PK"), "answered: out of the due index");
        assert_eq!(item["GSI1PK"], s("CLAIMS#escalated"));
        assert_eq!(claim_from(item).unwrap(), escalated);
    }
}
