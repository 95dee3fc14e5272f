//! Damage claims (issue 23, decision 0043): after the return, while the claim window is open,
//! the owner claims up to the deposit with a description and evidence; the renter has 48 hours
//! to accept (settled for the amount) or contest with a statement and their own evidence
//! (escalated to an operator, who decides an amount); no answer by then counts as accepted.
//! The settled amount is taken from the deposit hold (with any late fee, never more than the
//! hold), which is kept while the claim is open.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use super::booking::{Booking, BookingId, BookingStatus, Party};
use super::condition::text;
use super::deposit::Deposit;
use super::evidence::file::{parse_ids, EvidenceId};
use super::money::Currency;
use super::user::UserId;
use crate::error::{AppError, FieldError};

id_type!(
    /// A claim's id: a UUID v7.
    ClaimId,
    uuid "claim"
);

string_enum!(
    /// Where a claim stands.
    ClaimStatus {
        /// Filed; the renter has until `answer_by` to answer.
        Open => "open",
        /// Contested by the renter: an operator decides.
        Escalated => "escalated",
        /// Accepted by the renter, or by nobody answering in time: settled for the amount.
        Accepted => "accepted",
        /// Decided by an operator: settled for the decision's amount.
        Decided => "decided",
    }
);

/// How long the renter has to answer a claim.
pub const ANSWER_WINDOW: Duration = Duration::hours(48);
pub const MAX_DESCRIPTION_CHARS: usize = 5_000;
pub const MAX_NOTE_CHARS: usize = 2_000;

/// `POST /bookings/{id}/claims` as sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimRequest {
    pub amount: i64,
    pub description: String,
    #[serde(default)]
    pub evidence: Vec<String>,
}

/// `POST /bookings/{id}/claim/answer` as sent: `accept`, or `contest` with a statement.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    pub answer: String,
    #[serde(default)]
    pub statement: Option<String>,
    #[serde(default)]
    pub evidence: Vec<String>,
}

/// `POST /admin/claims/{id}/decision` as sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    pub amount: i64,
    pub note: String,
}

/// The renter's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Answer {
    /// `false`: nobody answered by the deadline (accepted by the scheduled task).
    pub by_renter: bool,
    pub accepted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<String>,
    pub evidence: Vec<EvidenceId>,
    pub at: DateTime<Utc>,
}

/// An operator's decision on a contested claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub amount: i64,
    pub note: String,
    pub operator_id: UserId,
    pub at: DateTime<Utc>,
}

/// An owner's claim against one booking's deposit (at most one per booking).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DamageClaim {
    pub id: ClaimId,
    pub booking_id: BookingId,
    pub owner_id: UserId,
    pub renter_id: UserId,
    pub currency: Currency,
    pub amount: i64,
    pub description: String,
    pub evidence: Vec<EvidenceId>,
    pub status: ClaimStatus,
    pub answer_by: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<Answer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    pub filed_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

/// A claim as filed: checked against the booking and its deposit, its evidence not yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClaim {
    pub amount: i64,
    pub description: String,
    pub evidence: Vec<EvidenceId>,
}

impl ClaimRequest {
    /// The claim's fields, every problem at once; the amount is bounded by the deposit held.
    pub fn parse(&self, deposit: &Deposit) -> Result<NewClaim, AppError> {
        let mut errors = Vec::new();
        if self.amount < 1 || self.amount > deposit.amount {
            let max = deposit.amount;
            errors.push(FieldError::new("amount", format!("must be 1 to {max} (the deposit, in minor units)")));
        }
        let description = text("description", &self.description, MAX_DESCRIPTION_CHARS, true, &mut errors);
        let evidence = parse_ids("evidence", &self.evidence, &mut errors);
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        Ok(NewClaim { amount: self.amount, description, evidence })
    }
}

/// What the renter answered: accept, or contest with a statement and evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParsedAnswer {
    Accept,
    Contest { statement: String, evidence: Vec<EvidenceId> },
}

impl AnswerRequest {
    pub fn parse(self) -> Result<ParsedAnswer, AppError> {
        let mut errors = Vec::new();
        let evidence = parse_ids("evidence", &self.evidence, &mut errors);
        let answer = match self.answer.as_str() {
            "accept" if self.statement.is_some() || !evidence.is_empty() => {
                errors.push(FieldError::new("statement", "an accepted claim takes no statement or evidence"));
                None
            }
            "accept" => Some(ParsedAnswer::Accept),
            "contest" => {
                let statement = text(
                    "statement",
                    self.statement.as_deref().unwrap_or(""),
                    MAX_DESCRIPTION_CHARS,
                    true,
                    &mut errors,
                );
                Some(ParsedAnswer::Contest { statement, evidence })
            }
            _ => {
                errors.push(FieldError::new("answer", "must be accept or contest"));
                None
            }
        };
        match answer {
            Some(answer) if errors.is_empty() => Ok(answer),
            _ => Err(AppError::Validation(errors)),
        }
    }
}

impl DecisionRequest {
    /// The decided amount (0 up to what was claimed) and the operator's note.
    pub fn parse(&self, claim: &DamageClaim) -> Result<(i64, String), AppError> {
        let mut errors = Vec::new();
        if self.amount < 0 || self.amount > claim.amount {
            errors.push(FieldError::new("amount", format!("must be 0 to {} (what was claimed)", claim.amount)));
        }
        let note = text("note", &self.note, MAX_NOTE_CHARS, true, &mut errors);
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        Ok((self.amount, note))
    }
}

/// Whether the owner may claim against `booking` now: it was returned and its claim window is
/// open, and its deposit is neither settled nor being settled.
pub fn check_claimable(
    booking: &Booking,
    deposit: &Deposit,
    window: Duration,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let returned = match (booking.status, booking.handover.returned_at) {
        (BookingStatus::Returned, Some(at)) => at,
        _ => return Err(AppError::conflict("claim_not_open", "a claim can be filed once the item is returned")),
    };
    if now >= returned + window || !deposit.settleable() {
        return Err(AppError::conflict("claim_window_closed", "the claim window after the return has closed"));
    }
    if deposit.damage.is_some() {
        return Err(AppError::conflict("claim_exists", "this booking already has a claim"));
    }
    Ok(())
}

impl DamageClaim {
    pub fn file(booking: &Booking, deposit: &Deposit, new: NewClaim, now: DateTime<Utc>) -> Self {
        let now = now.trunc_subsecs(3);
        DamageClaim {
            id: ClaimId::generate(),
            booking_id: booking.id.clone(),
            owner_id: booking.owner_id.clone(),
            renter_id: booking.renter_id.clone(),
            currency: deposit.currency,
            amount: new.amount,
            description: new.description,
            evidence: new.evidence,
            status: ClaimStatus::Open,
            answer_by: now + ANSWER_WINDOW,
            answer: None,
            decision: None,
            filed_at: now,
            updated_at: now,
            version: 1,
        }
    }

    /// What the claim settled for; `None` while it is open or escalated.
    pub fn settled_for(&self) -> Option<i64> {
        match self.status {
            ClaimStatus::Open | ClaimStatus::Escalated => None,
            ClaimStatus::Accepted => Some(self.amount),
            ClaimStatus::Decided => self.decision.as_ref().map(|d| d.amount),
        }
    }

    fn next(&self, status: ClaimStatus, now: DateTime<Utc>) -> DamageClaim {
        DamageClaim { status, updated_at: now.trunc_subsecs(3), version: self.version + 1, ..self.clone() }
    }

    /// The renter's answer (`by_renter`), or the deadline's (accepted): 409 `claim_answered`
    /// once answered, `answer_window_closed` after `answer_by`.
    pub fn answered(&self, answer: ParsedAnswer, by_renter: bool, now: DateTime<Utc>) -> Result<DamageClaim, AppError> {
        if self.status != ClaimStatus::Open {
            return Err(AppError::conflict("claim_answered", "this claim was already answered"));
        }
        if by_renter && now >= self.answer_by {
            return Err(AppError::conflict("answer_window_closed", "the time to answer this claim has passed"));
        }
        let (status, accepted, statement, evidence) = match answer {
            ParsedAnswer::Accept => (ClaimStatus::Accepted, true, None, Vec::new()),
            ParsedAnswer::Contest { statement, evidence } => (ClaimStatus::Escalated, false, Some(statement), evidence),
        };
        let mut next = self.next(status, now);
        next.answer = Some(Answer { by_renter, accepted, statement, evidence, at: next.updated_at });
        Ok(next)
    }

    /// An operator's decision on an escalated claim (409 `claim_not_escalated` otherwise).
    pub fn decided(
        &self,
        amount: i64,
        note: String,
        operator_id: UserId,
        now: DateTime<Utc>,
    ) -> Result<DamageClaim, AppError> {
        if self.status != ClaimStatus::Escalated {
            return Err(AppError::conflict("claim_not_escalated", "only a contested claim is decided by an operator"));
        }
        let mut next = self.next(ClaimStatus::Decided, now);
        next.decision = Some(Decision { amount, note, operator_id, at: next.updated_at });
        Ok(next)
    }

    /// Which party `user` is in this claim.
    pub fn party(&self, user: &UserId) -> Option<Party> {
        if *user == self.owner_id {
            Some(Party::Owner)
        } else if *user == self.renter_id {
            Some(Party::Renter)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests;
