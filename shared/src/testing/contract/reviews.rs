//! Reviews: a party reviews once; the second review publishes both in one write, or the window's
//! close publishes the one left; each review's stars reach its subject's and its listing's
//! totals exactly once, however often publication is retried; published reviews list newest
//! first by listing and by member.

use chrono::{Duration, SubsecRound, Utc};

use super::{event_for, listing, range, user, ContractStore, Must, MustFail};
use crate::domain::booking::{Booking, Party, Transition};
use crate::domain::review::{RatingTotals, Review, ReviewStatus};
use crate::domain::user::Profile;
use crate::error::AppError;

/// A stay of `listing` by a new renter, 300 days ahead, returned at its end: the review window
/// is open from then, so no scheduled run of a test on the same table publishes these reviews.
fn returned(l: &crate::domain::listing::Listing) -> Result<Booking, String> {
    let now = Utc::now().trunc_subsecs(3);
    let b = Booking::request(l, user()?, range(300, 302)?, None, now, Default::default()).must("a booking")?;
    let back = b.ends_at();
    let b = b.moved(Transition::Accept, now).must("accept")?.moved(Transition::ConfirmPayment, now).must("pay")?;
    let b = b.moved(Transition::PickUp, now).must("pick up")?;
    let mut b = b.moved(Transition::Return, back).must("return")?;
    b.handover.returned_at = Some(back);
    Ok(b)
}

pub async fn reviews_blind_and_rated_once(store: &impl ContractStore) -> Result<(), String> {
    let owner = user()?;
    let l = listing(&owner)?;
    store.create_listing(&l, &event_for(format!("listing/{}", l.id), "listing.created")).await.must("a listing")?;
    let b = returned(&l)?;
    let now = b.ends_at();
    let written = |kind: &str| [event_for(format!("booking/{}", b.id), kind)];

    let renters = Review::write(&b, Party::Renter, 4, "Worked well", now).must("a review")?;
    store.add_review(&renters, None, &written("review.written")).await.must("the first review")?;
    let err = store.add_review(&renters, None, &written("review.written")).await.must_fail("reviewing twice")?;
    assert!(matches!(err, AppError::PreconditionFailed), "{err:?}");
    let owners = Review::write(&b, Party::Owner, 2, "Came back dirty", now).must("a review")?;
    let err = store.add_review(&owners, None, &written("review.written")).await.must_fail("blind past the other")?;
    assert!(matches!(err, AppError::PreconditionFailed), "the other party's review is in: {err:?}");
    assert_eq!(store.booking_reviews(&b.id).await.must("the reviews")?, vec![renters.clone()], "hidden, as written");
    let closes = renters.window_closes_at;
    let due = |at| async move { store.due_reviews(at, 1000).await.must("due reviews") };
    assert!(!due(closes - Duration::milliseconds(1)).await?.contains(&(b.id.clone(), Party::Renter)), "open");
    assert!(due(closes).await?.contains(&(b.id.clone(), Party::Renter)), "due when the window closes");
    for who in [&owner, &b.renter_id] {
        let p = Profile::register(who.clone(), Some("Reviewed"), None, now);
        store
            .create_profile_if_absent(&p, &event_for(format!("user/{who}"), "user.registered"))
            .await
            .must("a profile")?;
    }
    let rating =
        |who| async move { Ok::<_, String>(store.public_member(who).await.must("a member")?.must("one")?.1.rating) };
    assert_eq!(rating(&owner).await?, RatingTotals::default(), "nothing published, nothing rated");

    // The owner's review publishes both, each rated once.
    let later = now + Duration::seconds(1);
    let (owners, theirs) = (owners.published(later), renters.clone().published(later));
    store.add_review(&owners, Some(&theirs), &written("review.published")).await.must("the second review")?;
    assert!(!store.publish_review(&theirs, &written("review.published")[0]).await.must("a retry")?, "once");
    assert!(!due(closes).await?.contains(&(b.id.clone(), Party::Renter)), "published: no longer due");
    let detail = store.listing_detail(&l.id).await.must("the listing")?.must("a listing")?;
    assert_eq!(detail.rating, RatingTotals { sum: 4, count: 1 }, "the renter's stars rate the listing");
    assert_eq!(rating(&owner).await?, RatingTotals { sum: 4, count: 1 }, "and its owner");
    assert_eq!(rating(&b.renter_id).await?, RatingTotals { sum: 2, count: 1 }, "the owner's rate the renter");
    let of_owner = store.member_reviews(&owner, 10, None).await.must("the owner's reviews")?.items;
    assert_eq!(of_owner, vec![theirs.clone()]);
    let of_renter = store.member_reviews(&b.renter_id, 10, None).await.must("the renter's reviews")?.items;
    assert_eq!(of_renter, vec![owners.clone()]);

    // A review left alone is published at the window's close, once.
    let b2 = returned(&l)?;
    let lone = Review::write(&b2, Party::Renter, 5, "Perfect", now).must("a review")?;
    store.add_review(&lone, None, &[event_for(format!("booking/{}", b2.id), "review.written")]).await.must("lone")?;
    let at_close = lone.clone().published(lone.window_closes_at);
    let published = event_for(format!("booking/{}", b2.id), "review.published");
    let publish = || store.publish_review(&at_close, &published);
    assert!(publish().await.must("publishing")?, "published");
    assert!(!publish().await.must("publishing again")?, "a second run finds it published");
    let detail = store.listing_detail(&l.id).await.must("the listing")?.must("a listing")?;
    assert_eq!(detail.rating, RatingTotals { sum: 9, count: 2 }, "each review counted once");
    let page = store.listing_reviews(&l.id, 1, None).await.must("a page")?;
    assert_eq!(page.items, vec![at_close.clone()], "newest first");
    let rest = store.listing_reviews(&l.id, 1, page.last_key).await.must("the next page")?;
    assert_eq!((rest.items, rest.last_key.is_none()), (vec![theirs.clone()], true), "then the older, and the end");
    assert!(store.booking_reviews(&b2.id).await.must("reviews")?.iter().all(|r| r.status == ReviewStatus::Published));

    // The subject answers once; an operator's removal takes the stars back, once.
    let ev = |kind: &str| event_for(format!("booking/{}", b.id), kind);
    let answered = theirs.answered(&owner, "Thanks!", later).must("an answer")?;
    assert!(store.update_review(&theirs, &answered, &ev("review.answered")).await.must("answering")?, "answered");
    let stale = store.update_review(&theirs, &answered, &ev("review.answered")).await.must("a stale answer")?;
    assert!(!stale, "read before the answer: nothing written");
    assert_eq!(store.get_review(&theirs.id()).await.must("the review")?, Some(answered.clone()));
    let removed = answered.removed(&user()?, "Personal data", later).must("a removal")?;
    assert!(store.update_review(&answered, &removed, &ev("review.removed")).await.must("removing")?, "removed");
    let again = store.update_review(&answered, &removed, &ev("review.removed")).await.must("removing again")?;
    assert!(!again, "removed once");
    assert_eq!(store.get_review(&theirs.id()).await.must("the review")?, Some(removed), "kept, with why");
    let detail = store.listing_detail(&l.id).await.must("the listing")?.must("a listing")?;
    assert_eq!(detail.rating, RatingTotals { sum: 5, count: 1 }, "its stars taken back from the listing");
    assert_eq!(rating(&owner).await?, RatingTotals { sum: 5, count: 1 }, "and from the owner");
    let listed = store.listing_reviews(&l.id, 10, None).await.must("a page")?.items;
    assert_eq!(listed, vec![at_close.clone()], "removed: in no list");

    // The other party's review removed does not block a late writer: theirs is public at once.
    let gone = at_close.removed(&user()?, "Spam", later).must("a removal")?;
    assert!(store.update_review(&at_close, &gone, &ev("review.removed")).await.must("removing")?);
    let late = Review::write(&b2, Party::Owner, 3, "Fine renter", now).must("a review")?.published(now);
    store.add_review(&late, None, &[ev("review.published")]).await.must("writing after a removal")?;
    Ok(())
}
