//! Threads (decision 0037): a booking's renter and owner write to each other; contact details
//! are masked until the booking is confirmed (paid); the recipient is told through the event
//! flow. Before any booking, a would-be renter asks the owner in an inquiry (decision 0041),
//! masked throughout, which their next booking of the listing adopts.

use chrono::{DateTime, Utc};

use crate::bookings::visible_booking;
use crate::domain::booking::{BookingId, Party};
use crate::domain::events::{kinds, DomainEvent};
use crate::domain::inquiry::{Inquiry, InquiryId};
use crate::domain::message::{Delivery, Message, MessageId, SendLimits, ThreadId};
use crate::domain::user::UserId;
use crate::error::AppError;
use crate::paging::{Paging, QueryParams};
use crate::ports::{BookingReader, CursorKeys, InquiryStore, ListingReader, MessageStore};

/// `caller` writes `text` in booking `id`'s thread at `now`. Strangers get 404.
pub async fn post<S>(
    store: &S,
    id: &BookingId,
    caller: &UserId,
    text: &str,
    now: DateTime<Utc>,
) -> Result<Message, AppError>
where
    S: BookingReader + MessageStore,
{
    let (booking, party) = visible_booking(store, id, caller).await?;
    // Only a standing, paid stay (confirmed or later) lets contacts through; a cancelled one
    // no longer does, though it was paid (a deal around the platform is what masking stops).
    let thread = ThreadId::Booking(booking.id.clone());
    let message = Message::write(&thread, caller, text, booking.status.is_paid_stay(), now)?;
    let recipient = booking.other_party(party);
    let delivery = Delivery { message: &message, recipient, listing_title: &booking.listing_title, opens: None };
    send(store, delivery).await?;
    Ok(message)
}

/// `caller` asks the owner of listing `listing_id` (active, not their own) with `text`: in
/// their open inquiry about it, or in a new one. The inquiry, the message, and whether the
/// inquiry is new.
pub async fn inquire<S>(
    store: &S,
    listing_id: &str,
    caller: &UserId,
    text: &str,
    now: DateTime<Utc>,
) -> Result<(Inquiry, Message, bool), AppError>
where
    S: ListingReader + InquiryStore + MessageStore,
{
    let listing = crate::bookings::public_listing(store, listing_id).await?;
    // Checked first, so a refused inquiry never shows whether one is open.
    let fresh = Inquiry::open(&listing, caller, now)?;
    // Two first inquiries at once: one opens it, the other writes in the one it opened.
    for _ in 0..2 {
        let (inquiry, opens) = match store.open_inquiry(&listing.id, caller).await? {
            Some(open) => (open, false),
            None => (fresh.clone(), true),
        };
        let thread = ThreadId::Inquiry(inquiry.id.clone());
        let message = Message::write(&thread, caller, text, false, now)?;
        let delivery = Delivery {
            message: &message,
            recipient: &inquiry.owner_id,
            listing_title: &inquiry.listing_title,
            opens: opens.then_some(&inquiry),
        };
        match send(store, delivery).await {
            Ok(()) => {
                if opens {
                    tracing::info!(inquiry_id = %inquiry.id, listing_id = %listing.id, "inquiry opened");
                    crate::metrics::count("InquiriesOpened", &[]);
                }
                return Ok((inquiry, message, opens));
            }
            Err(AppError::Conflict { code: "inquiry_open", .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(AppError::Unavailable { dependency: "inquiries".into() })
}

/// Inquiry `id` and what `caller` is in it; `NotFound` for anyone but its two parties.
pub async fn visible_inquiry<S: InquiryStore>(
    store: &S,
    id: &InquiryId,
    caller: &UserId,
) -> Result<(Inquiry, Party), AppError> {
    let inquiry = store.inquiry(id).await?.ok_or(AppError::NotFound("inquiry"))?;
    let party = inquiry.party(caller).ok_or(AppError::NotFound("inquiry"))?;
    Ok((inquiry, party))
}

/// `caller` writes `text` in inquiry `id` (masked: nothing is paid); 409 once a booking
/// adopted it, 404 for strangers.
pub async fn post_in_inquiry<S>(
    store: &S,
    id: &InquiryId,
    caller: &UserId,
    text: &str,
    now: DateTime<Utc>,
) -> Result<Message, AppError>
where
    S: InquiryStore + MessageStore,
{
    let (inquiry, party) = visible_inquiry(store, id, caller).await?;
    inquiry.check_open()?;
    let message = Message::write(&ThreadId::Inquiry(inquiry.id.clone()), caller, text, false, now)?;
    let delivery = Delivery {
        message: &message,
        recipient: inquiry.other(party),
        listing_title: &inquiry.listing_title,
        opens: None,
    };
    send(store, delivery).await?;
    Ok(message)
}

/// Stores the delivery with its `message.sent` event, within the sender's limits.
async fn send<S: MessageStore>(store: &S, delivery: Delivery<'_>) -> Result<(), AppError> {
    let message = delivery.message;
    let mut data = serde_json::json!({
        "listing_title": delivery.listing_title,
        "message_id": message.id.as_str(),
        "sender_id": message.sender_id.as_str(),
        "recipient_id": delivery.recipient.as_str(),
    });
    let (name, id) = match &message.thread {
        ThreadId::Booking(id) => ("booking_id", id.as_str()),
        ThreadId::Inquiry(id) => ("inquiry_id", id.as_str()),
    };
    data[name] = serde_json::json!(id);
    let event = DomainEvent::new(
        kinds::MESSAGE_SENT,
        message.thread.subject(),
        Some(message.sender_id.to_string()),
        message.sent_at,
        data,
    );
    store.post_message(delivery, &event, SendLimits::DEFAULT).await?;
    tracing::info!(thread = %message.thread.subject(), message_id = %message.id, masked = message.masked, event_id = %event.id, "message sent");
    crate::metrics::count("MessagesSent", &[("Masked", if message.masked { "yes" } else { "no" })]);
    Ok(())
}

/// `caller` has read `thread` up to message `up_to`: their unread count for it. Strangers get
/// 404, as does a message not in the thread: a party is whoever has an inbox entry for it (the
/// thread's first message gives both parties one), so the booking or inquiry is not read.
pub async fn mark_read<S>(store: &S, thread: &ThreadId, caller: &UserId, up_to: &str) -> Result<u64, AppError>
where
    S: MessageStore,
{
    let up_to = MessageId::parse(up_to).map_err(|_| AppError::field("up_to", "must be a message id"))?;
    let unread = store.mark_thread_read(thread, caller, &up_to).await?;
    tracing::info!(thread = %thread.subject(), up_to = %up_to, unread, "thread read");
    Ok(unread)
}

/// A page of `thread` as its party `caller` reads it (`limit`, `cursor` from `params`; the
/// cursor bound to the thread and the caller), with `other`'s read receipt:
/// `other_party_read_up_to`.
pub async fn page_of<S, K>(
    store: &S,
    keys: &K,
    params: &QueryParams,
    thread: &ThreadId,
    caller: &UserId,
    other: &UserId,
) -> Result<serde_json::Value, AppError>
where
    S: MessageStore,
    K: CursorKeys,
{
    let paging = Paging::from_params(keys, params, format!("messages|{thread}|{caller}")).await?;
    let page = store.messages(thread, paging.limit, paging.start.clone()).await?;
    let mut body = serde_json::to_value(paging.view(page)).map_err(AppError::internal)?;
    body["other_party_read_up_to"] =
        serde_json::to_value(store.read_up_to(thread, other).await?).map_err(AppError::internal)?;
    Ok(body)
}
