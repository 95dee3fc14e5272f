//! The deposit ports' contract: a booking's deposit stored once, changed only from the version
//! read (with its event, and none for a refused write), on the due list while a step is due,
//! off it once settled; a renter's Stripe Customer linked once. Dates lie in 2200, so the
//! shared stack's deposit task (which runs at today's dates) never picks these up.

use chrono::{Duration, SubsecRound, TimeZone, Utc};

use super::{event_for, user, ContractStore, Must, MustFail};
use crate::domain::deposit::Deposit;
use crate::error::AppError;

pub async fn deposits(store: &impl ContractStore) -> Result<(), String> {
    let booking = crate::testing::confirmed_booking("2200-01-10", 3, 4_000).must("a booking")?;
    let subject = format!("booking/{}", booking.id);
    let created = Utc.with_ymd_and_hms(2199, 12, 1, 0, 0, 0).single().must("a date")?;
    let d = Deposit::schedule(&booking, "cus_contract".into(), Some("pm_contract".into()), 24, created);
    store.save_deposit(&d, None, None).await.must("the first save")?;
    let again = store.save_deposit(&d, None, None).await.must_fail("a second first save")?;
    assert!(matches!(again, AppError::PreconditionFailed), "stored once: {again:?}");
    assert_eq!(store.get_deposit(&booking.id).await.must("read")?, Some(d.clone()));

    let due = |at| store.due_deposits(at, 1_000);
    let listed = |ids: Vec<crate::domain::booking::BookingId>| ids.contains(&booking.id);
    assert!(!listed(due(d.hold_at - Duration::seconds(1)).await.must("due")?), "not before its lead time");
    assert!(listed(due(d.hold_at).await.must("due")?), "due at its lead time");

    let now = d.hold_at.trunc_subsecs(3);
    let mut held = d.held("pi_contract".into(), None, now);
    (held.version, held.updated_at) = (d.version + 1, now);
    let told = event_for(subject.clone(), "booking.deposit_held");
    store.save_deposit(&held, Some(d.version), Some(&told)).await.must("held")?;
    let stale = event_for(subject.clone(), "booking.stale");
    let refused = store.save_deposit(&held, Some(d.version), Some(&stale)).await.must_fail("from an old version")?;
    assert!(matches!(refused, AppError::PreconditionFailed), "{refused:?}");
    let renewal = now + crate::domain::deposit::RENEW_AFTER;
    assert!(!listed(due(renewal - Duration::seconds(1)).await.must("due")?), "held: due again at its renewal only");
    assert!(listed(due(renewal).await.must("due")?), "due for renewal");

    let mut settled = held.settled(0, 0, now);
    (settled.version, settled.updated_at) = (held.version + 1, now);
    store.save_deposit(&settled, Some(held.version), None).await.must("settled")?;
    assert!(!listed(due(now + Duration::days(400)).await.must("due")?), "settled: off the due list");
    assert_eq!(store.get_deposit(&booking.id).await.must("read")?, Some(settled));
    let kinds: Vec<String> = store.events_of(&subject).await.must("events")?.into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, ["booking.deposit_held"], "only the stored change's event");

    let renter = user()?;
    assert_eq!(store.customer_of(&renter).await.must("customer")?, None);
    let (a, b) = tokio::join!(store.link_customer(&renter, "cus_a"), store.link_customer(&renter, "cus_b"));
    let (a, b) = (a.must("link")?, b.must("link")?);
    assert_eq!(a, b, "racing first payments link one Customer");
    assert_eq!(store.customer_of(&renter).await.must("customer")?, Some(a));
    Ok(())
}
