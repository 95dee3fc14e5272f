//! Condition reports (decision 0042), in their booking's partition.
//!
//! | item    | PK              | SK                         |
//! |---------|-----------------|----------------------------|
//! | report  | `BOOKING#{id}`  | `REPORT#{stage}#{party}`   |
//!
//! A report and its event are one transaction, conditioned on the version it replaces. The
//! booking and its reports are one query of the partition, from `BOOKING` to the last
//! `REPORT#…`: the booking's case (`claims.rs`), which also holds its claim, deposit and
//! evidence; every call a function saves is about a tenth of a millisecond of CPU
//! (docs/benchmarks.md).

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::outbox::event_put;
use super::{put, transaction_conflicted, transaction_failures, DynamoTable, Item, DEP};
use crate::adapters::sdk_error;
use crate::domain::booking::{Booking, BookingId, Party};
use crate::domain::condition::{ChecklistEntry, ConditionReport, ReportStage};
use crate::domain::events::DomainEvent;
use crate::domain::user::UserId;
use crate::error::AppError;
use crate::ports::ReportStore;

#[derive(Debug, Serialize, Deserialize)]
struct ReportItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    booking_id: String,
    stage: String,
    author: String,
    author_id: String,
    notes: String,
    checklist: Vec<ChecklistEntry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    photos: Vec<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: u64,
}

fn party_str(p: Party) -> &'static str {
    match p {
        Party::Renter => "renter",
        Party::Owner => "owner",
    }
}

pub(super) fn report_from(item: Item) -> Result<ConditionReport, AppError> {
    let i: ReportItem = serde_dynamo::from_item(item).map_err(AppError::internal)?;
    let corrupt = |what: &str| AppError::internal(format!("stored report {} has an invalid {what}", i.sk));
    Ok(ConditionReport {
        booking_id: BookingId::parse(&i.booking_id).map_err(|_| corrupt("booking_id"))?,
        stage: ReportStage::parse(&i.stage).ok_or_else(|| corrupt("stage"))?,
        author: match i.author.as_str() {
            "renter" => Party::Renter,
            "owner" => Party::Owner,
            _ => return Err(corrupt("author")),
        },
        author_id: UserId::parse(&i.author_id).map_err(|_| corrupt("author_id"))?,
        notes: i.notes,
        checklist: i.checklist,
        photos: i
            .photos
            .iter()
            .map(|p| crate::domain::evidence::file::EvidenceId::parse(p).map_err(|_| corrupt("photo")))
            .collect::<Result<_, _>>()?,
        created_at: i.created_at,
        updated_at: i.updated_at,
        version: i.version,
    })
}

#[async_trait]
impl ReportStore for DynamoTable {
    async fn booking_reports(&self, id: &BookingId) -> Result<Option<(Booking, Vec<ConditionReport>)>, AppError> {
        // The booking's case is the same one query of its partition (`claims.rs`).
        Ok(crate::ports::ClaimStore::claim_case(self, id).await?.map(|case| (case.booking, case.reports)))
    }

    async fn put_report(&self, r: &ConditionReport, event: &DomainEvent) -> Result<(), AppError> {
        let author = party_str(r.author);
        let item = serde_dynamo::to_item(ReportItem {
            pk: format!("BOOKING#{}", r.booking_id),
            sk: format!("REPORT#{}#{author}", r.stage.as_str()),
            entity: "condition_report".into(),
            booking_id: r.booking_id.to_string(),
            stage: r.stage.as_str().into(),
            author: author.into(),
            author_id: r.author_id.to_string(),
            notes: r.notes.clone(),
            checklist: r.checklist.clone(),
            photos: r.photos.iter().map(ToString::to_string).collect(),
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        })
        .map_err(AppError::internal)?;
        let mut report = Put::builder().table_name(self.table()).set_item(Some(item));
        report = if r.version <= 1 {
            report.condition_expression("attribute_not_exists(PK)")
        } else {
            report
                .condition_expression("version = :previous")
                .expression_attribute_values(":previous", AttributeValue::N((r.version - 1).to_string()))
        };
        let writes = vec![put(report)?, event_put(self.table(), event)?];
        let err = match self.client().transact_write_items().set_transact_items(Some(writes)).send().await {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        // Stale, or an edit of the same report at the same moment: either way, read and retry.
        if transaction_failures(&err).first() == Some(&true) || transaction_conflicted(&err) {
            return Err(AppError::conflict("report_changed", "the report was edited meanwhile; read it and try again"));
        }
        Err(sdk_error(DEP, err))
    }
}
