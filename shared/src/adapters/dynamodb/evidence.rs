//! Evidence files of a booking (decision 0043), in its partition beside the claim.
//!
//! | item     | PK             | SK              |
//! |----------|----------------|-----------------|
//! | evidence | `BOOKING#{id}` | `EVIDENCE#{id}` |
//!
//! A check is counted (`check_attempts`) and finished conditioned on the file being pending.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::bookings::booking_pk;
use super::{s, DynamoTable, Item, DEP};
use crate::adapters::sdk_error;
use crate::domain::booking::{BookingId, Party};
use crate::domain::evidence::file::{Checked, EvidenceFile, EvidenceId, EvidenceStatus, Rendition};
use crate::domain::evidence::{EvidenceType, Refusal};
use crate::domain::user::UserId;
use crate::error::AppError;
use crate::ports::{EvidenceStore, Recorded};

fn party_str(p: Party) -> &'static str {
    match p {
        Party::Renter => "renter",
        Party::Owner => "owner",
    }
}

fn party_from(raw: &str) -> Option<Party> {
    match raw {
        "renter" => Some(Party::Renter),
        "owner" => Some(Party::Owner),
        _ => None,
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct EvidenceItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    evidence_id: String,
    booking_id: String,
    uploader: String,
    uploader_id: String,
    declared_type: String,
    declared_size: u64,
    status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    size_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    received_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    captured_at: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    renditions: Vec<Rendition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refusal: Option<String>,
    #[serde(default)]
    check_attempts: u32,
    created_at: DateTime<Utc>,
}

fn evidence_sk(id: &EvidenceId) -> String {
    format!("EVIDENCE#{id}")
}

fn evidence_item(f: &EvidenceFile) -> Result<Item, AppError> {
    let item = EvidenceItem {
        pk: booking_pk(&f.booking_id),
        sk: evidence_sk(&f.id),
        entity: "evidence".into(),
        evidence_id: f.id.to_string(),
        booking_id: f.booking_id.to_string(),
        uploader: party_str(f.uploader).into(),
        uploader_id: f.uploader_id.to_string(),
        declared_type: f.declared_type.clone(),
        declared_size: f.declared_size,
        status: f.status.as_str().into(),
        kind: f.checked.as_ref().map(|c| c.kind.as_str().to_owned()),
        sha256: f.checked.as_ref().map(|c| c.sha256.clone()),
        size_bytes: f.checked.as_ref().map(|c| c.size_bytes),
        received_at: f.checked.as_ref().map(|c| c.received_at),
        captured_at: f.checked.as_ref().and_then(|c| c.captured_at.clone()),
        renditions: f.checked.as_ref().map(|c| c.renditions.clone()).unwrap_or_default(),
        refusal: f.refusal.map(|r| r.as_str().to_owned()),
        check_attempts: f.check_attempts,
        created_at: f.created_at,
    };
    serde_dynamo::to_item(item).map_err(AppError::internal)
}

pub(super) fn evidence_from(item: Item) -> Result<EvidenceFile, AppError> {
    let i: EvidenceItem = serde_dynamo::from_item(item).map_err(AppError::internal)?;
    let corrupt = |what: &str| AppError::internal(format!("stored evidence {} has an invalid {what}", i.evidence_id));
    let checked = match (&i.kind, &i.sha256, i.size_bytes, i.received_at) {
        (Some(kind), Some(sha256), Some(size_bytes), Some(received_at)) => Some(Checked {
            kind: EvidenceType::ALL.into_iter().find(|t| t.as_str() == kind).ok_or_else(|| corrupt("kind"))?,
            sha256: sha256.clone(),
            size_bytes,
            received_at,
            captured_at: i.captured_at.clone(),
            renditions: i.renditions.clone(),
        }),
        _ => None,
    };
    Ok(EvidenceFile {
        id: EvidenceId::parse(&i.evidence_id).map_err(|_| corrupt("id"))?,
        booking_id: BookingId::parse(&i.booking_id).map_err(|_| corrupt("booking_id"))?,
        uploader: party_from(&i.uploader).ok_or_else(|| corrupt("uploader"))?,
        uploader_id: UserId::parse(&i.uploader_id).map_err(|_| corrupt("uploader_id"))?,
        declared_type: i.declared_type.clone(),
        declared_size: i.declared_size,
        status: EvidenceStatus::parse(&i.status).ok_or_else(|| corrupt("status"))?,
        checked,
        refusal: match &i.refusal {
            Some(r) => Some(Refusal::parse(r).ok_or_else(|| corrupt("refusal"))?),
            None => None,
        },
        check_attempts: i.check_attempts,
        created_at: i.created_at,
    })
}

#[async_trait]
impl EvidenceStore for DynamoTable {
    async fn add_evidence(&self, file: &EvidenceFile) -> Result<(), AppError> {
        self.client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(evidence_item(file)?))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await
            .map_err(|e| sdk_error(DEP, e))?;
        Ok(())
    }

    async fn get_evidence(&self, booking: &BookingId, id: &EvidenceId) -> Result<Option<EvidenceFile>, AppError> {
        let out = self
            .client()
            .get_item()
            .table_name(self.table())
            .key("PK", s(booking_pk(booking)))
            .key("SK", s(evidence_sk(id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(DEP, e))?;
        out.item.map(evidence_from).transpose()
    }

    async fn begin_check(&self, file: &EvidenceFile) -> Result<Option<u32>, AppError> {
        let next = EvidenceFile { check_attempts: file.check_attempts + 1, ..file.clone() };
        let put = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(evidence_item(&next)?))
            .condition_expression("#status = :pending AND check_attempts = :read")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":pending", s(EvidenceStatus::PendingUpload.as_str()))
            .expression_attribute_values(":read", AttributeValue::N(file.check_attempts.to_string()));
        match put.send().await {
            Ok(_) => Ok(Some(next.check_attempts)),
            Err(e) if super::is_condition_failure(&e) => Ok(None),
            Err(e) => Err(sdk_error(DEP, e)),
        }
    }

    async fn finish_evidence(&self, file: &EvidenceFile) -> Result<Recorded, AppError> {
        let put = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(evidence_item(file)?))
            .condition_expression("#status = :pending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":pending", s(EvidenceStatus::PendingUpload.as_str()));
        match put.send().await {
            Ok(_) => Ok(Recorded::New),
            Err(e) if super::is_condition_failure(&e) => Ok(Recorded::Duplicate),
            Err(e) => Err(sdk_error(DEP, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_items_round_trip_pending_accepted_and_refused() {
        let booking = crate::testing::confirmed_booking("2026-12-10", 3, 4_000).unwrap();
        let now = Utc::now();
        let spec = crate::domain::evidence::file::EvidenceUploadSpec { content_type: "application/pdf", size_bytes: 9 };
        let file = EvidenceFile::pending(booking.id.clone(), Party::Owner, booking.owner_id.clone(), spec, now);
        assert_eq!(evidence_from(evidence_item(&file).unwrap()).unwrap(), file);
        let checked = Checked {
            kind: EvidenceType::Pdf,
            sha256: "ab".into(),
            size_bytes: 9,
            received_at: now,
            captured_at: None,
            renditions: vec![],
        };
        let accepted = file.checked(Ok(checked));
        assert_eq!(evidence_from(evidence_item(&accepted).unwrap()).unwrap(), accepted);
        let refused = file.checked(Err(Refusal::PdfEncrypted));
        assert_eq!(evidence_from(evidence_item(&refused).unwrap()).unwrap(), refused);
    }
}
