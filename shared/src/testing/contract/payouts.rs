//! The money ports' contract: payout accounts on profiles, the payouts Stripe reports to
//! owners, and bookings' payouts with their due list and the owner's earnings. Dates of the
//! payouts lie in 2200, so the shared stack's payout task (which runs at today's dates) never
//! picks up the contract's payouts; every check settles what it made.

use chrono::{DateTime, Duration, SubsecRound, Utc};

use super::{event_for, user, ContractStore, Must, MustFail};
use crate::domain::booking::BookingId;
use crate::domain::country::Country;
use crate::domain::money::Currency;
use crate::domain::payout::Payout;
use crate::domain::payout_account::{OwnerPayout, PayoutAccount};
use crate::domain::user::Profile;
use crate::error::AppError;

fn account(id: &str, ready: bool, reported_at: DateTime<Utc>) -> Result<PayoutAccount, String> {
    Ok(PayoutAccount {
        id: id.to_owned(),
        country: Country::parse("DE").must("DE is a country")?,
        details_submitted: ready,
        charges_enabled: ready,
        payouts_enabled: ready,
        transfers_active: ready,
        currently_due: if ready { vec![] } else { vec!["external_account".into()] },
        past_due: vec![],
        disabled_reason: None,
        reported_at,
    })
}

fn kinds_of(events: Vec<crate::domain::events::DomainEvent>) -> Vec<String> {
    events.into_iter().map(|e| e.kind).collect()
}

/// One account per profile, however many first calls race; Stripe's reports apply to that
/// account only, newest wins; each stored change carries its event and a refused one none.
pub async fn payout_accounts(store: &impl ContractStore) -> Result<(), String> {
    let me = user()?;
    let subject = format!("user/{me}");
    let now = Utc::now().trunc_subsecs(3);
    let first = account(&format!("acct_{}", uuid::Uuid::new_v4().simple()), false, now)?;
    let second = account(&format!("acct_{}", uuid::Uuid::new_v4().simple()), false, now)?;
    let linked = |kind| event_for(subject.clone(), kind);
    let refused = store.link_payout_account(&me, &first, &linked("user.no_profile")).await.must_fail("no profile")?;
    assert!(matches!(refused, AppError::NotFound(_)), "linking needs a profile: {refused:?}");

    let profile = Profile::register(me.clone(), Some("Payee"), None, now);
    store.create_profile_if_absent(&profile, &linked("user.registered")).await.must("profile")?;
    // Two first calls at once, each with the account Stripe opened for it: one is linked.
    let (one, other) = (linked("user.linked"), linked("user.linked"));
    let (a, b) =
        tokio::join!(store.link_payout_account(&me, &first, &one), store.link_payout_account(&me, &second, &other));
    let (a, b) = (a.must("link")?, b.must("link")?);
    assert_eq!(a, b, "both calls answer the one linked account");
    let (winner, loser) = if a == first { (first, second) } else { (second, first) };
    assert_eq!(store.owner_of_account(&winner.id).await.must("owner")?, Some(me.clone()));
    assert_eq!(store.owner_of_account(&loser.id).await.must("owner")?, None, "the unlinked account");
    let kept = store.link_payout_account(&me, &loser, &linked("user.linked_again")).await.must("link again")?;
    assert_eq!(kept, winner, "a later call keeps it too");

    let ready = account(&winner.id, true, now + Duration::seconds(2))?;
    let stale = account(&winner.id, false, now + Duration::seconds(1))?;
    assert!(store.report_payout_account(&me, &ready, &linked("user.reported")).await.must("report")?);
    assert!(!store.report_payout_account(&me, &stale, &linked("user.stale")).await.must("stale")?, "older");
    let other = account(&loser.id, true, now + Duration::seconds(3))?;
    assert!(!store.report_payout_account(&me, &other, &linked("user.other")).await.must("other")?, "not theirs");
    let stranger = user()?;
    assert!(!store
        .report_payout_account(&stranger, &ready, &event_for(format!("user/{stranger}"), "user.x"))
        .await
        .must("stranger")?);

    let shown = store.get_profile(&me).await.must("profile")?.must("the profile")?;
    assert_eq!(shown.payout_account, Some(ready), "the newest report");
    let kinds = kinds_of(store.events_of(&subject).await.must("events")?);
    assert_eq!(kinds, ["user.registered", "user.linked", "user.reported"], "only the stored changes' events");
    Ok(())
}

/// Stripe's payouts to an owner: newest report wins, its event stored with it; listed newest
/// arrival first, page by page.
pub async fn owner_payouts(store: &impl ContractStore) -> Result<(), String> {
    let me = user()?;
    let subject = format!("user/{me}");
    let at = Utc::now().trunc_subsecs(3);
    let eur = Currency::parse("EUR").must("EUR")?;
    let payout = |id: &str, arrives: i64, status: &str, reported: i64| OwnerPayout {
        id: id.to_owned(),
        account_id: "acct_contract".into(),
        amount: 1_000 + arrives,
        currency: eur,
        arrival_date: (at + Duration::days(arrives)).trunc_subsecs(0),
        status: status.to_owned(),
        failure_code: (status == "failed").then(|| "account_closed".to_owned()),
        reported_at: at + Duration::seconds(reported),
    };
    let first = payout("po_c1", 1, "paid", 0);
    assert!(store.record_owner_payout(&me, &first, None).await.must("record")?);
    let again = store.record_owner_payout(&me, &first, Some(&event_for(subject.clone(), "user.again"))).await;
    assert!(!again.must("the same report")?, "a redelivered report is not stored (nor announced) twice");
    let failed = payout("po_c1", 1, "failed", 5);
    assert!(store
        .record_owner_payout(&me, &failed, Some(&event_for(subject.clone(), "user.failed")))
        .await
        .must("newer")?);
    let same_second = payout("po_c1", 1, "paid", 5);
    let paid_again = store.record_owner_payout(&me, &same_second, Some(&event_for(subject.clone(), "user.paid"))).await;
    assert!(!paid_again.must("as new, paid")?, "a payout fails after it was paid, never the reverse");
    let late = payout("po_c1", 1, "paid", 2);
    let refused = store.record_owner_payout(&me, &late, Some(&event_for(subject.clone(), "user.late"))).await;
    assert!(!refused.must("older")?, "an older report of a payout never replaces a newer one");
    let (later, earlier) = (payout("po_c2", 3, "paid", 0), payout("po_c3", 0, "paid", 0));
    for p in [&later, &earlier] {
        assert!(store.record_owner_payout(&me, p, None).await.must("record")?);
    }

    let page = store.owner_payouts(&me, 2, None).await.must("first page")?;
    assert_eq!(page.items, vec![later, failed], "newest arrival first, newest report of each");
    let rest = store.owner_payouts(&me, 2, Some(page.last_key.must("a next page")?)).await.must("next page")?;
    assert_eq!((rest.items, rest.last_key.is_none()), (vec![earlier], true));
    assert!(store.owner_payouts(&user()?, 10, None).await.must("another owner")?.items.is_empty());
    assert_eq!(kinds_of(store.events_of(&subject).await.must("events")?), ["user.failed"]);
    Ok(())
}

/// A payout is created once and then changed only from the version read. The due list holds
/// it from when it falls due while it has work (a transfer, later a reversal; the latter, and
/// a blocked payout, from its last change), oldest first; earnings list an owner's payouts
/// newest first, paged.
pub async fn payouts(store: &impl ContractStore) -> Result<(), String> {
    let owner = user()?;
    let now = Utc::now().trunc_subsecs(3);
    // 2200 plus up to a day, so parallel runs of the contract interleave without colliding.
    let base = DateTime::from_timestamp(7_258_118_400 + i64::from(rand_seconds()), 0).must("a date")?;
    let mut made: Vec<Payout> = Vec::new();
    for n in 0..3 {
        let booking = crate::testing::confirmed_booking("2026-12-10", 2, 5_000).must("a booking")?;
        let mut p = Payout::schedule(&booking, format!("ch_contract_{n}"), 24, now + Duration::milliseconds(n));
        p.owner_id = owner.clone();
        p.due_at = base + Duration::hours(n);
        store.save_payout(&p, None).await.must("a new payout")?;
        made.push(p);
    }
    let again = store.save_payout(&made[0], None).await.must_fail("a second first write")?;
    assert!(matches!(again, AppError::PreconditionFailed), "{again:?}");
    assert_eq!(store.get_payout(&made[0].booking_id).await.must("read")?, Some(made[0].clone()));
    assert_eq!(store.get_payout(&BookingId::generate()).await.must("read none")?, None);

    let mine = &made;
    let due = |at: DateTime<Utc>| async move {
        let ids = store.due_payouts(at, DUE_READ).await.must("due")?;
        // Oldest first: a full read could end before the contract's 2200 payouts.
        if ids.len() == DUE_READ as usize {
            return Err(format!("{DUE_READ} payouts are due before the contract's: it cannot see its own"));
        }
        Ok::<_, String>(made_order(&ids, mine))
    };
    assert_eq!(due(base - Duration::seconds(1)).await?, Vec::<usize>::new(), "nothing before it falls due");
    assert_eq!(due(base + Duration::hours(1)).await?, vec![0, 1], "oldest first, up to then");

    // Transferred in full: settled, out of the list; a stale write is refused.
    let mut paid = made[0].clone();
    (paid.transfer_id, paid.transferred, paid.version, paid.updated_at) =
        (Some("tr_contract".into()), paid.owed, paid.version + 1, base + Duration::hours(2));
    store.save_payout(&paid, Some(made[0].version)).await.must("the transfer")?;
    let stale = store.save_payout(&paid, Some(made[0].version)).await.must_fail("a stale write")?;
    assert!(matches!(stale, AppError::PreconditionFailed), "{stale:?}");
    assert_eq!(due(base + Duration::hours(9)).await?, vec![1, 2], "settled");

    // A refund after the transfer owes a reversal: due again, from that change.
    let mut refunded = paid.clone();
    (refunded.owed, refunded.version, refunded.updated_at) = (0, paid.version + 1, base + Duration::hours(3));
    store.save_payout(&refunded, Some(paid.version)).await.must("the refund")?;
    assert_eq!(due(base + Duration::hours(3) - Duration::seconds(1)).await?, vec![1, 2]);
    assert_eq!(due(base + Duration::hours(3)).await?, vec![1, 2, 0]);

    // Blocked (the owner's account cannot take transfers): due again from its last check,
    // behind payouts that fell due since, so blocked ones never starve the rest.
    let mut blocked = made[1].clone();
    (blocked.blocked_reason, blocked.version, blocked.updated_at) =
        (Some("payouts_disabled".into()), made[1].version + 1, base + Duration::hours(4));
    store.save_payout(&blocked, Some(made[1].version)).await.must("blocked")?;
    assert_eq!(due(base + Duration::hours(3)).await?, vec![2, 0]);
    assert_eq!(due(base + Duration::hours(4)).await?, vec![2, 0, 1]);

    let page = store.earnings(&owner, 2, None).await.must("earnings")?;
    let ids = |ps: &[Payout]| ps.iter().map(|p| p.booking_id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&page.items), ids(&[made[2].clone(), made[1].clone()]), "newest booking first");
    let rest = store.earnings(&owner, 2, Some(page.last_key.must("a next page")?)).await.must("next page")?;
    assert_eq!((rest.items, rest.last_key.is_none()), (vec![refunded.clone()], true));

    // Settle everything, so nothing of the contract's stays due.
    let mut reversed = refunded.clone();
    (reversed.reversal_id, reversed.reversed, reversed.version) =
        (Some("trr_contract".into()), refunded.transferred, refunded.version + 1);
    store.save_payout(&reversed, Some(refunded.version)).await.must("the reversal")?;
    for p in [&blocked, &made[2]] {
        let cancelled = Payout { owed: 0, blocked_reason: None, version: p.version + 1, ..p.clone() };
        store.save_payout(&cancelled, Some(p.version)).await.must("cancelled")?;
    }
    assert_eq!(due(base + Duration::days(1)).await?, Vec::<usize>::new(), "all settled");
    Ok(())
}

/// How many due payouts a check reads: the shared table's others come first.
const DUE_READ: u32 = 1_000;

/// Which of `made` are in `ids`, in `ids`' order (other payouts on a shared table are skipped).
fn made_order(ids: &[BookingId], made: &[Payout]) -> Vec<usize> {
    ids.iter().filter_map(|id| made.iter().position(|p| &p.booking_id == id)).collect()
}

/// Seconds into the contract's day, from a fresh UUID's random bits.
fn rand_seconds() -> u32 {
    (uuid::Uuid::new_v4().as_u128() % 86_400) as u32
}
