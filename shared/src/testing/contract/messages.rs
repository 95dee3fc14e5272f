//! Threads (a booking's, an inquiry's): messages come back newest first, a page at a time;
//! each party's inbox lists its threads by last activity with what is unread, until a read
//! receipt (which never moves back); and each sender is held to its limits per minute and per
//! day (whatever the thread), refused with the wait until the window ends and nothing stored.
//! Small limits here: the mechanism is the adapter's, the numbers the workflow's
//! (`SendLimits::DEFAULT`, tested over HTTP). Inquiries: one open per renter and listing, until
//! a booking adopts it.

use chrono::{DateTime, Duration, SubsecRound, Utc};

use super::{book, create, event_for, listing, range, user, ContractStore, Must, MustFail};
use crate::domain::booking::BookingId;
use crate::domain::inquiry::{Inquiry, InquiryId};
use crate::domain::message::{Delivery, Message, MessageId, SendLimits, ThreadId};
use crate::domain::user::UserId;
use crate::error::AppError;
use crate::ports::{Created, IdempotencyKey};

async fn send(
    store: &impl ContractStore,
    thread: &ThreadId,
    (from, to): (&UserId, &UserId),
    text: &str,
    at: DateTime<Utc>,
) -> Result<Message, AppError> {
    open(store, thread, (from, to), text, at, None).await
}

async fn open(
    store: &impl ContractStore,
    thread: &ThreadId,
    (from, to): (&UserId, &UserId),
    text: &str,
    at: DateTime<Utc>,
    opens: Option<&Inquiry>,
) -> Result<Message, AppError> {
    let m = Message::write(thread, from, text, true, at)?;
    let limits = SendLimits { per_minute: 4, per_day: 7 };
    let delivery = Delivery { message: &m, recipient: to, listing_title: "Contract tent", opens };
    store.post_message(delivery, &event_for(thread.subject(), "message.sent"), limits).await?;
    Ok(m)
}

pub async fn message_threads(store: &impl ContractStore) -> Result<(), String> {
    let (thread, other) = (ThreadId::Booking(BookingId::generate()), ThreadId::Inquiry(InquiryId::generate()));
    let (me, you) = (user()?, user()?);
    let (to_you, to_me) = ((&me, &you), (&you, &me));
    // A day far ahead, so no one else's messages share the windows.
    let day = (Utc::now() + Duration::days(400)).date_naive().and_hms_opt(0, 0, 0).must("midnight")?.and_utc();
    let minute = day + Duration::hours(10);
    for n in 0..4 {
        let on = if n % 2 == 0 { &thread } else { &other };
        send(store, on, to_you, &format!("m{n}"), minute + Duration::seconds(n))
            .await
            .must("within the minute's limit")?;
    }
    let err =
        send(store, &thread, to_you, "5th", minute + Duration::seconds(45)).await.must_fail("the 5th in a minute")?;
    assert!(matches!(err, AppError::TooManyRequests { retry_after: 15 }), "{err:?}");
    send(store, &thread, to_me, "the other party", minute + Duration::seconds(46))
        .await
        .must("another sender's own limit")?;
    send(store, &thread, to_you, "next minute", minute + Duration::seconds(60)).await.must("a new minute")?;

    let page = store.messages(&thread, 10, None).await.must("a page")?;
    let texts: Vec<&str> = page.items.iter().map(|m| m.text.as_str()).collect();
    assert!(page.last_key.is_none(), "one page holds it all");
    assert_eq!(texts[..3], ["next minute", "the other party", "m2"], "newest first");
    let all = store.messages(&thread, 100, None).await.must("the thread")?;
    assert_eq!(all.items.len(), 4, "2 of the first 4, the other party's and the next minute's; not the refused one");
    let first = store.messages(&thread, 2, None).await.must("a short page")?;
    let rest = store.messages(&thread, 2, first.last_key.clone()).await.must("the next page")?;
    assert_eq!(rest.items.first().map(|m| m.id.clone()), all.items.get(2).map(|m| m.id.clone()), "pages continue");
    let stored = &all.items[0];
    assert_eq!(
        (stored.sender_id.clone(), stored.masked, stored.sent_at),
        (me.clone(), false, (minute + Duration::seconds(60)).trunc_subsecs(3))
    );

    // Your inbox: the thread last active first, with what I sent unread, until you read it.
    let inbox = store.threads_of(&you, 10, None).await.must("your inbox")?;
    let unread: Vec<(ThreadId, u64)> = inbox.items.iter().map(|t| (t.thread.clone(), t.unread)).collect();
    assert_eq!(unread, [(thread.clone(), 3), (other.clone(), 2)], "most recently active first");
    assert_eq!(
        (inbox.items[0].other_party_id.clone(), inbox.items[0].last_message_preview.as_str()),
        (me.clone(), "next minute")
    );
    let m2 = all.items.iter().find(|m| m.text == "m2").must("m2")?.id.clone();
    let m0 = all.items.iter().find(|m| m.text == "m0").must("m0")?.id.clone();
    assert_eq!(
        store.mark_thread_read(&thread, &you, &m2).await.must("read up to m2")?,
        1,
        "the next minute's is unread"
    );
    assert_eq!(store.mark_thread_read(&thread, &you, &m0).await.must("read back")?, 1, "a receipt never moves back");
    assert_eq!(store.read_up_to(&thread, &you).await.must("your receipt")?, Some(m2.clone()));
    assert_eq!(store.read_up_to(&thread, &me).await.must("my receipt")?, None);
    let err =
        store.mark_thread_read(&thread, &you, &MessageId::generate()).await.must_fail("a message not in the thread")?;
    assert!(matches!(err, AppError::NotFound(_)), "{err:?}");
    let stranger = user()?;
    let err = store.mark_thread_read(&thread, &stranger, &m2).await.must_fail("a stranger's receipt")?;
    assert!(matches!(err, AppError::NotFound(_)), "not a party: {err:?}");
    let mine = store.threads_of(&me, 1, None).await.must("my inbox")?;
    assert_eq!((mine.items[0].thread.clone(), mine.items[0].unread), (thread.clone(), 1), "your one message");
    let more = store.threads_of(&me, 1, mine.last_key.clone()).await.must("my inbox's next page")?;
    assert_eq!((more.items.len(), more.last_key.is_none()), (1, true));

    // 7 a day: 5 sent so far; 2 more in other minutes, then refused till midnight.
    for n in 0..2 {
        send(store, &other, to_you, "day", minute + Duration::minutes(2 + n)).await.must("within the day's limit")?;
    }
    let late = day + Duration::hours(23);
    let err = send(store, &other, to_you, "8th", late).await.must_fail("the 8th in a day")?;
    assert!(matches!(err, AppError::TooManyRequests { retry_after: 3600 }), "{err:?}");
    send(store, &other, to_you, "a new day", day + Duration::days(1)).await.must("the next day")?;
    Ok(())
}

/// An inquiry is opened with its first message, once per renter and listing (a second opening
/// stores nothing), read by id and as the renter's open one, until their booking adopts it.
pub async fn inquiries(store: &impl ContractStore) -> Result<(), String> {
    let (owner, renter) = (user()?, user()?);
    let drill = listing(&owner)?;
    let at = Utc::now().trunc_subsecs(3);
    let first = Inquiry::open(&drill, &renter, at).must("an inquiry")?;
    let thread = ThreadId::Inquiry(first.id.clone());
    open(store, &thread, (&renter, &owner), "is it free?", at, Some(&first)).await.must("opened")?;
    assert_eq!(store.inquiry(&first.id).await.must("read")?, Some(first.clone()));
    assert_eq!(store.open_inquiry(&drill.id, &renter).await.must("the open one")?, Some(first.clone()));
    assert_eq!(store.open_inquiry(&drill.id, &owner).await.must("none")?, None, "the renter's own");

    let second = Inquiry::open(&drill, &renter, at).must("another")?;
    let twice = ThreadId::Inquiry(second.id.clone());
    let err =
        open(store, &twice, (&renter, &owner), "again", at, Some(&second)).await.must_fail("a second open one")?;
    assert_eq!(err.code(), "inquiry_open");
    assert_eq!(store.inquiry(&second.id).await.must("read")?, None, "nothing stored");
    assert!(store.messages(&twice, 10, None).await.must("its thread")?.items.is_empty());

    // A booking that adopts it, with its Idempotency-Key: the replay and a clash on its days
    // are told apart as without an inquiry (the adoption's writes come after the days').
    let mut booking = book(&drill, &renter, range(3, 5)?)?;
    booking.inquiry_id = Some(first.id.clone());
    let key =
        IdempotencyKey { scope: renter.to_string(), key: uuid::Uuid::new_v4().to_string(), fingerprint: "f".into() };
    create(store, &booking, Some(&key)).await.must("a booking adopting it")?;
    let mut retried = book(&drill, &renter, range(3, 5)?)?;
    retried.inquiry_id = Some(first.id.clone());
    match create(store, &retried, Some(&key)).await.must("the same key")? {
        Created::Replayed(earlier) => assert_eq!(earlier.id, booking.id),
        Created::New => return Err("a replayed key made a second booking".into()),
    }
    let mut clash = book(&drill, &renter, range(4, 6)?)?;
    clash.inquiry_id = Some(first.id.clone());
    let err = create(store, &clash, None).await.must_fail("a day taken")?;
    assert_eq!(err.code(), "dates_unavailable");
    assert_eq!(store.open_inquiry(&drill.id, &renter).await.must("none open")?, None);
    let adopted = store.inquiry(&first.id).await.must("read")?.must("kept")?;
    assert_eq!(adopted.booking_id, Some(booking.id.clone()));
    let stored = store.get_booking(&booking.id).await.must("the booking")?.must("stored")?;
    assert_eq!(stored.inquiry_id, Some(first.id.clone()));
    open(store, &twice, (&renter, &owner), "a new one", at, Some(&second)).await.must("a new inquiry after")?;
    Ok(())
}
