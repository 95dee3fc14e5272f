//! E-mail: switches default to on, and each switch changes alone; an address is suppressed once,
//! the first report kept; the recipient is the profile's verified address with the switches; a
//! notification's e-mail is held by one delivery at a time until its lease runs out (to the
//! millisecond), and finished once, by its holder; a thread's slot is free at most every 15
//! minutes, and kept by its holder.

use chrono::{Duration, SubsecRound, Utc};

use super::{user, ContractStore, Must};
use crate::domain::email::{Category, EmailAddress, EmailSettings, Suppression, SuppressionReason};
use crate::domain::events::DomainEvent;
use crate::domain::user::Profile;
use crate::ports::{Begun, Recorded};

pub async fn email(store: &impl ContractStore) -> Result<(), String> {
    let now = Utc::now().trunc_subsecs(3);
    let me = user()?;
    assert_eq!(store.recipient(&me).await.must("no member")?, None);
    assert_eq!(store.email_settings(&me).await.must("defaults")?, EmailSettings::default());
    let address = format!("Contract-{me}@Example.com");
    let mut profile = Profile::register(me.clone(), Some("Contract"), Some(address.clone()), now);
    profile.email_verified = true;
    let registered = DomainEvent::new("user.registered", format!("user/{me}"), None, now, serde_json::json!({}));
    store.create_profile_if_absent(&profile, &registered).await.must("a profile")?;
    store.switch_email(&me, &[(Category::Messages, false), (Category::Reviews, false)], now).await.must("both off")?;
    store.switch_email(&me, &[(Category::Reviews, true)], now).await.must("one on")?;
    let off = EmailSettings { messages: false, reviews: true };
    assert_eq!(store.email_settings(&me).await.must("read back")?, off, "a change keeps the other switch");
    let r = store.recipient(&me).await.must("the recipient")?.must("a member")?;
    let lower = EmailAddress::parse(&address.to_lowercase()).must("an address")?;
    assert_eq!((r.address.as_ref(), r.name.as_str(), r.settings), (Some(&lower), "Contract", off));
    assert_eq!(r.address.as_ref().map(|a| a.as_str()), Some(address.as_str()), "sent to as given");

    let first = Suppression {
        address: lower.clone(),
        reason: SuppressionReason::Bounced,
        since: now,
        feedback_id: "fb-1".into(),
    };
    assert_eq!(store.suppress(&first).await.must("suppressing")?, Recorded::New);
    let later = Suppression { reason: SuppressionReason::Complained, feedback_id: "fb-2".into(), ..first.clone() };
    assert_eq!(store.suppress(&later).await.must("again")?, Recorded::Duplicate);
    let kept = store.suppression(&lower).await.must("read")?.must("suppressed")?;
    assert_eq!((kept.reason, kept.since, kept.feedback_id.as_str()), (SuppressionReason::Bounced, now, "fb-1"));
    let other = EmailAddress::parse(&format!("other-{me}@example.com")).must("an address")?;
    assert_eq!(store.suppression(&other).await.must("read")?, None);

    let id = format!("{}-renter", uuid::Uuid::now_v7());
    let lease = Duration::seconds(45);
    let started = |b: Begun| match b {
        Begun::Started(token) => Ok(token),
        other => Err(format!("not started: {other:?}")),
    };
    let first = started(store.begin_email(&me, &id, now, lease).await.must("begin")?)?;
    assert_eq!(store.begin_email(&me, &id, now + Duration::seconds(10), lease).await.must("again")?, Begun::Busy);
    assert_eq!(store.begin_email(&me, &id, now + lease, lease).await.must("at the lease's end")?, Begun::Busy);
    let later_on = now + lease + Duration::milliseconds(1);
    let second = started(store.begin_email(&me, &id, later_on, lease).await.must("after the lease")?)?;
    assert!(!store.finish_email(&me, &id, &first, "sent:ses-0", later_on).await.must("the first")?, "taken over");
    assert!(store.finish_email(&me, &id, &second, "sent:ses-1", later_on).await.must("finish")?);
    let done = store.begin_email(&me, &id, later_on + Duration::hours(1), lease).await.must("after finishing")?;
    assert_eq!(done, Begun::Finished("sent:ses-1".into()));
    assert!(!store.finish_email(&me, &id, &second, "sent:ses-2", later_on).await.must("twice")?, "finished once");

    let thread = format!("booking/{}", uuid::Uuid::now_v7());
    assert!(store.thread_free(&me, &thread, "n1", now).await.must("free")?);
    assert!(store.hold_thread(&me, &thread, "n1", now).await.must("first")?);
    assert!(!store.thread_free(&me, &thread, "n2", now + Duration::minutes(14)).await.must("held")?);
    assert!(store.thread_free(&me, &thread, "n1", now + Duration::minutes(14)).await.must("its holder")?);
    assert!(store.thread_free(&me, &thread, "n2", now + Duration::minutes(15)).await.must("15 on")?);
    assert!(store.hold_thread(&me, &thread, "n1", now + Duration::minutes(1)).await.must("its holder")?);
    assert!(!store.hold_thread(&me, &thread, "n2", now + Duration::minutes(14)).await.must("within 15")?);
    assert!(store.hold_thread(&me, &thread, "n3", now + Duration::minutes(16)).await.must("after 15")?);
    assert!(!store.hold_thread(&me, &thread, "n1", now + Duration::minutes(17)).await.must("taken over")?);
    Ok(())
}
