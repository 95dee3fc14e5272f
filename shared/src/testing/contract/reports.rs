//! Condition reports: read with their booking in one go, in key order; each version written
//! only over the one before it (a stale or repeated write stores nothing).

use chrono::{Duration, SubsecRound, Utc};

use super::{book, create, event_for, listing, range, user, ContractStore, Must, MustFail};
use crate::domain::booking::{BookingId, Party};
use crate::domain::condition::{ConditionReport, ReportStage};

pub async fn condition_reports(store: &impl ContractStore) -> Result<(), String> {
    let (owner, renter) = (user()?, user()?);
    let booking = book(&listing(&owner)?, &renter, range(5, 7)?)?;
    create(store, &booking, None).await.must("a booking")?;
    let (stored, none) = store.booking_reports(&booking.id).await.must("read")?.must("the booking")?;
    assert_eq!((stored.id.clone(), none.len()), (booking.id.clone(), 0));
    assert!(store.booking_reports(&BookingId::generate()).await.must("read")?.is_none(), "no such booking");

    let at = Utc::now().trunc_subsecs(3);
    let write = |stage, author, text: &str, previous: Option<&ConditionReport>, at| {
        ConditionReport::write(&booking, stage, author, (text.to_owned(), vec![]), previous, at)
    };
    let subject = format!("booking/{}", booking.id);
    let renters = write(ReportStage::Return, Party::Renter, "scratched", None, at);
    store.put_report(&renters, &event_for(subject.clone(), "v1")).await.must("the renter's return report")?;
    let err = store.put_report(&renters, &event_for(subject.clone(), "v1 again")).await.must_fail("a second v1")?;
    assert_eq!(err.code(), "report_changed");
    let owners = write(ReportStage::Pickup, Party::Owner, "clean", None, at);
    store.put_report(&owners, &event_for(subject.clone(), "owner v1")).await.must("the owner's pickup report")?;
    let edited =
        write(ReportStage::Return, Party::Renter, "scratched, 2 cm", Some(&renters), at + Duration::minutes(5));
    store.put_report(&edited, &event_for(subject.clone(), "v2")).await.must("an edit")?;
    let stale = write(ReportStage::Return, Party::Renter, "stale", Some(&renters), at + Duration::minutes(6));
    assert_eq!(
        store.put_report(&stale, &event_for(subject, "stale")).await.must_fail("over v1 again")?.code(),
        "report_changed"
    );

    let (_, reports) = store.booking_reports(&booking.id).await.must("read")?.must("the booking")?;
    assert_eq!(reports, vec![owners, edited], "the pickup's before the return's");
    Ok(())
}
