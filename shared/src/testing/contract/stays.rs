//! The stay's due lists and the members' records: each stage of a stay is listed for the task
//! that moves it on from the moment it is due, and no longer once moved; a rental completed
//! after its return counts once for both members, a stay nobody picked up not at all.

use chrono::{Duration, SubsecRound, Utc};

use super::{book, booking_event, create, event_for, listing, range, user, ContractStore, Must, MustFail};
use crate::domain::booking::{Booking, Transition};
use crate::domain::user::{MemberStats, Profile};
use crate::error::AppError;
use crate::ports::Due;

/// `b` accepted and paid.
async fn confirmed(store: &impl ContractStore, b: &Booking, now: chrono::DateTime<Utc>) -> Result<Booking, String> {
    let accepted = step(store, b, b.moved(Transition::Accept, now).must("accept")?, "booking.accepted").await?;
    step(store, &accepted, accepted.moved(Transition::ConfirmPayment, now).must("confirm")?, "booking.confirmed").await
}

/// Writes `next` over `previous` with its announcement.
async fn step(store: &impl ContractStore, previous: &Booking, next: Booking, kind: &str) -> Result<Booking, String> {
    store.move_booking(previous, &next, Some(&booking_event(&next, kind))).await.must(kind)?;
    Ok(next)
}

pub async fn due_lists_and_member_records(store: &impl ContractStore) -> Result<(), String> {
    let (owner, renter) = (user()?, user()?);
    let now = Utc::now().trunc_subsecs(3);
    for (who, name) in [(&owner, "Owner"), (&renter, "Renter")] {
        let registered = event_for(format!("user/{who}"), "user.registered");
        store
            .create_profile_if_absent(&Profile::register(who.clone(), Some(name), None, now), &registered)
            .await
            .must("a profile")?;
    }
    let listed = |what: Due, at| async move { store.due(what, at, 1000).await.must("the due list") };
    let l = listing(&owner)?;
    let b = book(&l, &renter, range(40, 43)?)?;
    create(store, &b, None).await.must("booking")?;
    let paid = confirmed(store, &b, now).await?;
    let mut out = paid.moved(Transition::PickUp, now).must("pick up")?;
    out.handover.picked_up_at = Some(now);
    let out = step(store, &paid, out, "booking.picked_up").await?;

    let grace = Duration::hours(2);
    let overdue = Due::ReturnOverdue { grace };
    let due_at = out.ends_at() + grace;
    assert!(!listed(overdue, due_at - Duration::milliseconds(1)).await?.contains(&b.id), "not within the grace");
    assert!(listed(overdue, due_at).await?.contains(&b.id), "overdue once the grace has passed");
    let flagged = step(store, &out, out.flagged_overdue(grace, due_at).must("flag")?, "booking.return_overdue").await?;
    assert!(!listed(overdue, due_at + Duration::days(1)).await?.contains(&b.id), "flagged once, then no longer listed");

    let returned_at = due_at + Duration::hours(1);
    let mut back = flagged.moved(Transition::Return, returned_at).must("return")?;
    back.handover.returned_at = Some(returned_at);
    let back = step(store, &flagged, back, "booking.returned").await?;
    let window = Duration::hours(48);
    let settle = Due::Settlement { claim_window: window };
    let closes = returned_at + window;
    assert!(!listed(settle, closes - Duration::milliseconds(1)).await?.contains(&b.id), "the claim window is open");
    assert!(listed(settle, closes).await?.contains(&b.id), "due once the window closed");
    let done = back.moved(Transition::Complete, closes).must("complete")?;
    step(store, &back, done.clone(), "booking.completed").await?;
    assert!(!listed(settle, closes + Duration::days(1)).await?.contains(&b.id), "completed: no longer listed");

    let record = |who| async move { store.public_member(who).await.must("a member")?.must("a profile") };
    let counted = (
        MemberStats { completed_as_renter: 1, ..Default::default() },
        MemberStats { completed_as_owner: 1, ..Default::default() },
    );
    assert_eq!((record(&renter).await?.1, record(&owner).await?.1), counted, "one rental, counted once each");
    let err = store.move_booking(&back, &done, None).await.must_fail("completing again")?;
    assert!(matches!(err, AppError::PreconditionFailed), "{err:?}");

    // A stay nobody picked up completes at its end without counting.
    let idle = book(&l, &renter, range(50, 52)?)?;
    create(store, &idle, None).await.must("booking")?;
    let paid = confirmed(store, &idle, now).await?;
    step(store, &paid, paid.moved(Transition::Complete, now).must("complete")?, "booking.completed").await?;
    assert_eq!((record(&renter).await?.1, record(&owner).await?.1), counted, "a stay never picked up is not a rental");
    assert_eq!(record(&renter).await?.0.display_name.as_str(), "Renter");
    assert!(store.public_member(&user()?).await.must("a stranger")?.is_none(), "no profile, no member");
    Ok(())
}
