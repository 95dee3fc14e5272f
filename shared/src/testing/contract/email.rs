//! E-mail: switches default to on and read back as saved; an address is suppressed once, the
//! first report kept; the recipient is the profile's address (lower-cased) with the switches;
//! a notification's e-mail is held by one delivery at a time until its lease runs out, and
//! finished once; a thread's slot is taken at most every 15 minutes, and kept by its holder.

use chrono::{Duration, SubsecRound, Utc};

use super::{user, ContractStore, Must};
use crate::domain::email::{EmailAddress, EmailSettings, Suppression, SuppressionReason};
use crate::domain::events::DomainEvent;
use crate::domain::user::Profile;
use crate::ports::{Begun, Recorded};

pub async fn email(store: &impl ContractStore) -> Result<(), String> {
    let now = Utc::now().trunc_subsecs(3);
    let me = user()?;
    assert_eq!(store.recipient(&me).await.must("no member")?, None);
    assert_eq!(store.email_settings(&me).await.must("defaults")?, EmailSettings::default());
    let address = format!("Contract-{me}@Example.com");
    let profile = Profile::register(me.clone(), Some("Contract"), Some(address.clone()), now);
    let registered = DomainEvent::new("user.registered", format!("user/{me}"), None, now, serde_json::json!({}));
    store.create_profile_if_absent(&profile, &registered).await.must("a profile")?;
    let off = EmailSettings { messages: false, reviews: true };
    store.save_email_settings(&me, off, now).await.must("saving")?;
    assert_eq!(store.email_settings(&me).await.must("read back")?, off);
    let r = store.recipient(&me).await.must("the recipient")?.must("a member")?;
    let lower = EmailAddress::parse(&address).must("an address")?;
    assert_eq!((r.address.as_ref(), r.name.as_str(), r.settings), (Some(&lower), "Contract", off));

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
    assert_eq!(store.begin_email(&me, &id, now, lease).await.must("begin")?, Begun::Started);
    assert_eq!(store.begin_email(&me, &id, now + Duration::seconds(10), lease).await.must("again")?, Begun::Busy);
    let later_on = now + Duration::seconds(46);
    assert_eq!(store.begin_email(&me, &id, later_on, lease).await.must("after the lease")?, Begun::Started);
    store.finish_email(&me, &id, "sent:ses-1", later_on).await.must("finish")?;
    let done = store.begin_email(&me, &id, later_on + Duration::hours(1), lease).await.must("after finishing")?;
    assert_eq!(done, Begun::Finished("sent:ses-1".into()));

    let thread = format!("booking/{}", uuid::Uuid::now_v7());
    assert!(store.hold_thread(&me, &thread, "n1", now).await.must("first")?);
    assert!(store.hold_thread(&me, &thread, "n1", now + Duration::minutes(1)).await.must("its holder")?);
    assert!(!store.hold_thread(&me, &thread, "n2", now + Duration::minutes(14)).await.must("within 15")?);
    assert!(store.hold_thread(&me, &thread, "n3", now + Duration::minutes(16)).await.must("after 15")?);
    assert!(!store.hold_thread(&me, &thread, "n1", now + Duration::minutes(17)).await.must("taken over")?);
    Ok(())
}
