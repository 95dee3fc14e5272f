//! Booking threads (decision 0037): a booking's renter and owner write to each other; contact
//! details are masked until the booking is confirmed (paid); the recipient is told through the event flow.

use chrono::{DateTime, Utc};

use crate::bookings::visible_booking;
use crate::domain::booking::{BookingId, Party};
use crate::domain::events::{kinds, DomainEvent};
use crate::domain::message::{Delivery, Message, MessageId, SendLimits};
use crate::domain::user::UserId;
use crate::error::AppError;
use crate::ports::{BookingReader, MessageStore};

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
    let message = Message::write(&booking.id, caller, text, booking.status.is_paid_stay(), now)?;
    let recipient = match party {
        Party::Renter => &booking.owner_id,
        Party::Owner => &booking.renter_id,
    };
    let event = DomainEvent::new(
        kinds::MESSAGE_SENT,
        format!("booking/{}", booking.id),
        Some(caller.to_string()),
        message.sent_at,
        serde_json::json!({
            "booking_id": booking.id.as_str(),
            "listing_title": booking.listing_title,
            "message_id": message.id.as_str(),
            "sender_id": caller.as_str(),
            "recipient_id": recipient.as_str(),
        }),
    );
    let delivery = Delivery { message: &message, recipient, listing_title: &booking.listing_title };
    store.post_message(delivery, &event, SendLimits::DEFAULT).await?;
    tracing::info!(booking_id = %id, message_id = %message.id, masked = message.masked, event_id = %event.id, "message sent");
    crate::metrics::count("MessagesSent", &[("Masked", if message.masked { "yes" } else { "no" })]);
    Ok(message)
}

/// `caller` has read booking `id`'s thread up to message `up_to`: their unread count for it.
/// Strangers get 404, as does a message not in the thread: a party is whoever has an inbox entry
/// for it (the thread's first message gives both parties one), so the booking is not read.
pub async fn mark_read<S>(store: &S, id: &BookingId, caller: &UserId, up_to: &str) -> Result<u64, AppError>
where
    S: MessageStore,
{
    let up_to = MessageId::parse(up_to).map_err(|_| AppError::field("up_to", "must be a message id"))?;
    let unread = store.mark_thread_read(id, caller, &up_to).await?;
    tracing::info!(booking_id = %id, up_to = %up_to, unread, "thread read");
    Ok(unread)
}
