//! Damage claims and evidence files (decision 0043): a claim written with its deposit in one
//! transaction, each conditioned on the version read (a stale or repeated write stores
//! nothing); the case read whole; open claims due by their deadline, claims listed by status
//! and found by id; an evidence file finished once.

use chrono::{Duration, SubsecRound, Utc};

use super::{book, booking_event, create, listing, range, user, ContractStore, Must, MustFail};
use crate::domain::booking::Party;
use crate::domain::claim::{ClaimStatus, DamageClaim, NewClaim, ParsedAnswer};
use crate::domain::deposit::{Damage, Deposit};
use crate::domain::evidence::file::{Checked, EvidenceFile, EvidenceUploadSpec};
use crate::domain::evidence::EvidenceType;
use crate::ports::Recorded;

pub async fn claims(store: &impl ContractStore) -> Result<(), String> {
    let (owner, renter) = (user()?, user()?);
    let booking = book(&listing(&owner)?, &renter, range(5, 7)?)?;
    create(store, &booking, None).await.must("a booking")?;
    let now = Utc::now().trunc_subsecs(3);
    let deposit = Deposit::schedule(&booking, "cus_1".into(), None, 24, now);
    store.save_deposit(&deposit, None, None).await.must("a deposit")?;

    // Evidence: stored pending, finished once, read in the case oldest first.
    let spec = EvidenceUploadSpec { content_type: "application/pdf", size_bytes: 9 };
    let first = EvidenceFile::pending(booking.id.clone(), Party::Owner, owner.clone(), spec, now);
    let second =
        EvidenceFile::pending(booking.id.clone(), Party::Renter, renter.clone(), spec, now + Duration::seconds(1));
    store.add_evidence(&first).await.must("a file")?;
    store.add_evidence(&second).await.must("another")?;
    // Checks are counted once per delivery: a racing one (the same count read) counts nothing.
    assert_eq!(store.begin_check(&first).await.must("a check")?, Some(1));
    assert_eq!(store.begin_check(&first).await.must("a racing check")?, None, "read at 0, now 1");
    let first = EvidenceFile { check_attempts: 1, ..first };
    assert_eq!(store.get_evidence(&booking.id, &first.id).await.must("read")?, Some(first.clone()));
    let checked = Checked {
        kind: EvidenceType::Pdf,
        sha256: "ab".into(),
        size_bytes: 9,
        received_at: now,
        captured_at: None,
        renditions: vec![],
    };
    let accepted = first.checked(Ok(checked));
    assert_eq!(store.finish_evidence(&accepted).await.must("checked")?, Recorded::New);
    let again = first.checked(Err(crate::domain::evidence::Refusal::Empty));
    assert_eq!(store.finish_evidence(&again).await.must("checked again")?, Recorded::Duplicate, "once");
    assert_eq!(store.get_evidence(&booking.id, &first.id).await.must("read")?, Some(accepted.clone()));

    // Filed with the deposit, once.
    let new = NewClaim { amount: 900, description: "Dent".into(), evidence: vec![first.id.clone()] };
    let claim = DamageClaim::file(&booking, &deposit, new, now);
    let claimed = deposit.with_damage(Damage { claim_id: claim.id.clone(), owed: None }, now);
    let event = || booking_event(&booking, "booking.claim_filed");
    store.save_claim(&claim, None, Some((&claimed, deposit.version)), &event()).await.must("filed")?;
    let twice = store.save_claim(&claim, None, Some((&claimed, claimed.version)), &event()).await;
    assert_eq!(twice.must_fail("a second claim")?.code(), "precondition_failed");
    let case = store.claim_case(&booking.id).await.must("read")?.must("the case")?;
    assert_eq!((case.claim.as_ref(), case.deposit.as_ref()), (Some(&claim), Some(&claimed)));
    assert_eq!(case.evidence, vec![accepted, second], "oldest first");
    assert_eq!(store.claim_booking(&claim.id).await.must("by id")?, Some(booking.id.clone()));
    assert_eq!(store.booking_claim(&booking.id).await.must("by booking")?, Some(claim.clone()));

    // Due by its deadline while open.
    let due = |at| store.due_claims(at, 1000);
    assert!(due(claim.answer_by).await.must("due")?.contains(&booking.id));
    assert!(!due(claim.answer_by - Duration::seconds(1)).await.must("due")?.contains(&booking.id));
    let open = store.claims_in(ClaimStatus::Open, 1000, None).await.must("open claims")?;
    assert!(open.items.iter().any(|c| c.id == claim.id));

    // Answered over a stale deposit: nothing stored. Over the current one: escalated.
    let contest = ParsedAnswer::Contest { statement: "no".into(), evidence: vec![] };
    let escalated = claim.answered(contest, true, now).must("answered")?;
    let stale = store.save_claim(&escalated, Some(claim.version), Some((&claimed, deposit.version)), &event()).await;
    assert_eq!(stale.must_fail("over a stale deposit")?.code(), "precondition_failed");
    let unchanged = store.claim_case(&booking.id).await.must("read")?.must("the case")?;
    assert_eq!(unchanged.claim, Some(claim.clone()), "nothing of a failed transaction is stored");
    store.save_claim(&escalated, Some(claim.version), None, &event()).await.must("escalated")?;
    assert!(!due(claim.answer_by).await.must("due")?.contains(&booking.id), "answered: no longer due");
    let queue = store.claims_in(ClaimStatus::Escalated, 1000, None).await.must("escalated claims")?;
    assert!(queue.items.iter().any(|c| c.id == claim.id));
    let open = store.claims_in(ClaimStatus::Open, 1000, None).await.must("open claims")?;
    assert!(!open.items.iter().any(|c| c.id == claim.id));
    // Captured: due for the owner's transfer until it is recorded.
    let current = store.get_deposit(&booking.id).await.must("read")?.must("the deposit")?;
    let captured = Deposit {
        capture_charge: Some("ch_1".into()),
        version: current.version + 1,
        ..current.held("pi_1".into(), None, now).settled(900, 900, now)
    };
    store.save_deposit(&captured, Some(current.version), None).await.must("captured")?;
    let owed = store.due_owner_transfers(now, 1000).await.must("due transfers")?;
    assert!(owed.contains(&booking.id), "captured: owed to the owner");
    let paid = Deposit { owner_transfer_id: Some("tr_1".into()), version: captured.version + 1, ..captured.clone() };
    store.save_deposit(&paid, Some(captured.version), None).await.must("paid")?;
    assert!(!store.due_owner_transfers(now, 1000).await.must("due transfers")?.contains(&booking.id), "paid");
    Ok(())
}
