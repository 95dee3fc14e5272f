//! Messages between a booking's renter and owner (decision 0037), or an inquiry's before any
//! booking (decision 0041). Until the booking is paid, contact details are masked as a message
//! is written, so the platform never stores a way around it: e-mail addresses, phone numbers
//! (9 or more digits, whatever the separators) and links (a scheme, `www.`, or a host ending in
//! a common top-level domain).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::booking::BookingId;
use crate::domain::inquiry::{Inquiry, InquiryId};
use crate::domain::user::UserId;
use crate::error::AppError;

id_type!(
    /// A message's id: a UUID v7, so ids sort by time.
    MessageId,
    uuid "message"
);

pub const MAX_MESSAGE_CHARS: usize = 5_000;
/// How many messages one sender may send per minute and per day (UTC), over all their threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendLimits {
    pub per_minute: u32,
    pub per_day: u32,
}

impl SendLimits {
    /// The platform's limits.
    pub const DEFAULT: SendLimits = SendLimits { per_minute: 30, per_day: 200 };

    /// The windows a message sent `at` counts in: its UTC day, then its UTC minute (when both
    /// are full, the day's later end is the one to wait for).
    pub fn windows(self, at: DateTime<Utc>) -> Result<[SendWindow; 2], AppError> {
        use chrono::{Duration, DurationRound};
        let day = at.duration_trunc(Duration::days(1)).map_err(AppError::internal)?;
        let minute = at.duration_trunc(Duration::minutes(1)).map_err(AppError::internal)?;
        Ok([
            SendWindow { key: day.format("%Y-%m-%d").to_string(), limit: self.per_day, ends: day + Duration::days(1) },
            SendWindow {
                key: minute.format("%Y-%m-%dT%H:%M").to_string(),
                limit: self.per_minute,
                ends: minute + Duration::minutes(1),
            },
        ])
    }
}

/// One of a sender's counting windows: its key, its limit and when it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendWindow {
    pub key: String,
    pub limit: u32,
    pub ends: DateTime<Utc>,
}

/// `POST /bookings/{id}/messages` as sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostMessageRequest {
    pub text: String,
}

/// The thread a message is in: a booking's, or an inquiry's before any booking (decision 0041).
/// Sent as `booking_id` or `inquiry_id`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum ThreadId {
    #[serde(rename = "booking_id")]
    Booking(BookingId),
    #[serde(rename = "inquiry_id")]
    Inquiry(InquiryId),
}

impl ThreadId {
    /// What its items are keyed by: both kinds are UUIDs, so keys never collide.
    pub fn key(&self) -> &str {
        match self {
            ThreadId::Booking(id) => id.as_str(),
            ThreadId::Inquiry(id) => id.as_str(),
        }
    }

    /// The subject of its events (`booking/{id}`, `inquiry/{id}`).
    pub fn subject(&self) -> String {
        match self {
            ThreadId::Booking(id) => format!("booking/{id}"),
            ThreadId::Inquiry(id) => format!("inquiry/{id}"),
        }
    }

    /// The thread of stored ids: `booking_id` unless `inquiry_id` is set.
    pub fn parse(booking_id: Option<&str>, inquiry_id: Option<&str>) -> Result<Self, AppError> {
        match (booking_id, inquiry_id) {
            (_, Some(i)) => Ok(ThreadId::Inquiry(InquiryId::parse(i)?)),
            (Some(b), None) => Ok(ThreadId::Booking(BookingId::parse(b)?)),
            (None, None) => Err(AppError::NotFound("thread")),
        }
    }
}

impl std::fmt::Display for ThreadId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub id: MessageId,
    #[serde(flatten)]
    pub thread: ThreadId,
    pub sender_id: UserId,
    pub text: String,
    /// Whether contact details were masked (the booking was not paid yet).
    pub masked: bool,
    pub sent_at: DateTime<Utc>,
}

impl Message {
    /// A message of `sender` in `thread`: 1-5,000 characters after trimming, no control
    /// characters but line breaks and tabs; masked unless `paid`.
    pub fn write(
        thread: &ThreadId,
        sender: &UserId,
        raw: &str,
        paid: bool,
        now: DateTime<Utc>,
    ) -> Result<Self, AppError> {
        // Line breaks as some clients send them (`\r\n`) count as one.
        let normalized = raw.replace("\r\n", "\n");
        let text = normalized.trim();
        if text.is_empty() || text.chars().count() > MAX_MESSAGE_CHARS {
            return Err(AppError::field("text", format!("must be 1-{MAX_MESSAGE_CHARS} characters")));
        }
        if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            return Err(AppError::field("text", "must not contain control characters"));
        }
        let (text, masked) = if paid { (text.to_owned(), false) } else { mask_contacts(text) };
        Ok(Message {
            id: MessageId::generate(),
            thread: thread.clone(),
            sender_id: sender.clone(),
            text,
            masked,
            sent_at: chrono::SubsecRound::trunc_subsecs(now, 3),
        })
    }
}

/// `POST /bookings/{id}/messages/read` as sent: the newest message the caller has read.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadRequest {
    pub up_to: String,
}

/// Who a message goes to, and the thread's title, for both parties' inboxes.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    pub message: &'a Message,
    pub recipient: &'a UserId,
    pub listing_title: &'a str,
    /// The inquiry this message opens (its first): stored with it, as its renter's one open
    /// inquiry about the listing.
    pub opens: Option<&'a Inquiry>,
}

/// How long a thread's preview of its last message is.
pub const PREVIEW_CHARS: usize = 100;

/// One of a member's threads as their inbox lists it (`GET /me/threads`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThreadSummary {
    #[serde(flatten)]
    pub thread: ThreadId,
    pub listing_title: String,
    pub other_party_id: UserId,
    pub last_message_at: DateTime<Utc>,
    /// The start of the last message, as stored (masked where it was).
    pub last_message_preview: String,
    /// Messages from the other party after the newest one this member has read.
    pub unread: u64,
}

/// The start of `text` a preview shows.
pub fn preview(text: &str) -> String {
    text.chars().take(PREVIEW_CHARS).collect()
}

pub const EMAIL_HIDDEN: &str = "[e-mail hidden]";
pub const PHONE_HIDDEN: &str = "[phone hidden]";
pub const LINK_HIDDEN: &str = "[link hidden]";

/// Top-level domains a bare host is recognised by (`rent-my-drill.com`).
const TLDS: [&str; 24] = [
    "com", "net", "org", "info", "biz", "io", "co", "app", "me", "ly", "eu", "de", "at", "ch", "fr", "es", "it", "nl",
    "be", "uk", "us", "pl", "se", "dk",
];

/// `text` with e-mail addresses, phone numbers and links replaced, and whether any was.
pub fn mask_contacts(text: &str) -> (String, bool) {
    // Addresses and links first, whole words, so a number inside one goes with it.
    let mut out = String::with_capacity(text.len());
    let mut masked = false;
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| !c.is_whitespace()) {
        out.push_str(&rest[..start]);
        let word_len = rest[start..].find(char::is_whitespace).unwrap_or(rest.len() - start);
        let word = &rest[start..start + word_len];
        match hidden(word) {
            Some(replacement) => {
                masked = true;
                // Keep the brackets and punctuation around what was hidden.
                let lead = word.len() - word.trim_start_matches(['(', '[', '<', '"', '\'']).len();
                let tail =
                    word.len() - word.trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '>', '"', '\'']).len();
                out.push_str(&word[..lead]);
                out.push_str(replacement);
                out.push_str(&word[word.len() - tail.min(word.len() - lead)..]);
            }
            None => out.push_str(word),
        }
        rest = &rest[start + word_len..];
    }
    out.push_str(rest);
    let (out, phones) = mask_phones(&out);
    (out, masked || phones)
}

/// What a whitespace-separated word is replaced with, if it is or holds an address or a link
/// (`see:rent-my-drill.com` and `a,b@c.de` too: punctuation does not separate them).
fn hidden(word: &str) -> Option<&'static str> {
    let mut found = None;
    for part in word.split([',', ';', '(', ')', '"', '\'', '<', '>', '[', ']']) {
        // `see:host` holds a host after its colon; `https://host` is one link.
        let after_colon = part.split_once(':').map(|(_, rest)| rest).filter(|rest| !rest.starts_with("//"));
        for token in std::iter::once(part).chain(after_colon) {
            match hidden_token(token) {
                Some(EMAIL_HIDDEN) => return Some(EMAIL_HIDDEN),
                Some(link) => found = Some(link),
                None => {}
            }
        }
    }
    found
}

fn hidden_token(word: &str) -> Option<&'static str> {
    let core = word.trim_matches(|c: char| "()[]<>\"'.,;:!?".contains(c));
    let lower = core.to_ascii_lowercase();
    if let Some((local, domain)) = lower.split_once('@') {
        if !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') {
            return Some(EMAIL_HIDDEN);
        }
    }
    if lower.contains("://") || lower.starts_with("www.") {
        return Some(LINK_HIDDEN);
    }
    let host = lower.split(['/', '?', '#']).next().unwrap_or("");
    let labels: Vec<&str> = host.split('.').collect();
    let is_host = labels.len() >= 2
        && labels.iter().all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        && labels.last().is_some_and(|tld| TLDS.contains(tld));
    is_host.then_some(LINK_HIDDEN)
}

/// Replaces runs of 9 or more digits (a leading `+`, and spaces, dots, dashes, slashes and
/// brackets between digits allowed): every phone number, never a date or a price.
fn mask_phones(text: &str) -> (String, bool) {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut masked = false;
    let mut i = 0;
    while i < chars.len() {
        let starts =
            chars[i].is_ascii_digit() || (chars[i] == '+' && chars.get(i + 1).is_some_and(char::is_ascii_digit));
        if starts && is_date(&chars[i..]) {
            // A date followed by a time is not a phone number.
            out.extend(&chars[i..i + 10]);
            i += 10;
            continue;
        }
        if !starts {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        // Extend over digits and separators; the run ends at its last digit.
        let (mut j, mut digits, mut last_digit) = (i, 0, i);
        while j < chars.len() {
            let c = chars[j];
            if c.is_ascii_digit() {
                digits += 1;
                last_digit = j;
            } else if !(" .-/()".contains(c) || (c == '+' && j == i)) {
                break;
            }
            j += 1;
        }
        if digits >= 9 {
            out.push_str(PHONE_HIDDEN);
            masked = true;
        } else {
            out.extend(&chars[i..=last_digit]);
        }
        i = last_digit + 1;
    }
    (out, masked)
}

/// Whether `chars` starts with a date (`2026-12-01`, `01.12.2026`, `01/12/2026`, `12-01-2026`)
/// standing alone or followed by a time (` 10:30`): a phone number in a date's shape is not one.
fn is_date(chars: &[char]) -> bool {
    let number = |from: usize, len: usize| -> Option<u32> {
        chars.get(from..from + len)?.iter().try_fold(0, |n, c| c.to_digit(10).map(|d| n * 10 + d))
    };
    let valid = |a: u32, b: u32| (1..=31).contains(&a) && (1..=31).contains(&b) && (a <= 12 || b <= 12);
    let separated = |at: [usize; 2], sep: char| at.iter().all(|i| chars.get(*i) == Some(&sep));
    let shaped = (separated([4, 7], '-')
        && number(0, 4).is_some()
        && number(5, 2).zip(number(8, 2)).is_some_and(|(m, d)| (1..=12).contains(&m) && (1..=31).contains(&d)))
        || ['.', '/', '-'].into_iter().any(|sep| {
            separated([2, 5], sep)
                && number(6, 4).is_some()
                && number(0, 2).zip(number(3, 2)).is_some_and(|(a, b)| valid(a, b))
        });
    let time_follows = chars.get(10) == Some(&' ')
        && (number(11, 2).is_some() && chars.get(13) == Some(&':')
            || number(11, 1).is_some() && chars.get(12) == Some(&':'));
    let ends_here = chars.get(10).is_none_or(|c| !c.is_ascii_digit() && !" .-/()".contains(*c))
        || (chars.get(10).is_some_and(|c| " .-/(".contains(*c)) && !chars.get(11).is_some_and(char::is_ascii_digit));
    shaped && (time_follows || ends_here)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(text: &str) -> String {
        mask_contacts(text).0
    }

    #[test]
    fn masks_addresses_numbers_and_links() {
        assert_eq!(masked("mail me: ada.l@example.co.uk."), "mail me: [e-mail hidden].");
        assert_eq!(masked("call +49 151 1234-5678 or (030) 123 45 67"), "call [phone hidden] or ([phone hidden]");
        assert_eq!(masked("see https://example.com/x?y=1, or www.drills.net"), "see [link hidden], or [link hidden]");
        assert_eq!(masked("cheaper on rent-my-drill.com!"), "cheaper on [link hidden]!");
        assert_eq!(masked("(ada@example.com)"), "([e-mail hidden])");
        assert_eq!(masked("on 2026-12-01 10:30 call 0151 12345678"), "on 2026-12-01 10:30 call [phone hidden]");
        // Numbers in a date's shape that are not dates, or go on past one, are phone numbers.
        assert_eq!(masked("12-34-5678-90"), "[phone hidden]");
        assert_eq!(masked("0151-12-34 56 78"), "[phone hidden]");
        // A number inside a link goes with the link; punctuation does not hide a host.
        assert_eq!(masked("https://x.example/123456789 ok"), "[link hidden] ok");
        assert_eq!(masked("see:rent-my-drill.com a,b@c.de"), "[link hidden] [e-mail hidden]");
    }

    #[test]
    fn leaves_dates_prices_and_plain_words() {
        for text in [
            "pickup 2026-12-01 at 10:30, return 04.12.2026",
            "pickup 2026-12-01 10:30",
            "back on 12/03/2026, ok?",
            "it costs 1,250.00 EUR; code 123456",
            "e.g. the blue one, Mr.Smith said so",
            "ping me @ada",
            "line one\nline two",
        ] {
            assert_eq!(mask_contacts(text), (text.to_owned(), false), "{text}");
        }
    }

    #[test]
    fn messages_are_checked_and_masked_until_paid() {
        let (b, u) = (ThreadId::Booking(BookingId::generate()), UserId::parse("u1").unwrap());
        let now = Utc::now();
        let m = Message::write(&b, &u, "  write to bob@example.org  ", false, now).unwrap();
        assert_eq!((m.text.as_str(), m.masked), ("write to [e-mail hidden]", true));
        let m = Message::write(&b, &u, "write to bob@example.org", true, now).unwrap();
        assert_eq!((m.text.as_str(), m.masked), ("write to bob@example.org", false));
        assert!(Message::write(&b, &u, "   ", false, now).is_err());
        assert!(Message::write(&b, &u, &"x".repeat(5_001), false, now).is_err());
        assert!(Message::write(&b, &u, &"é".repeat(5_000), false, now).is_ok());
        assert!(Message::write(&b, &u, "bell\u{7}", false, now).is_err());
        assert_eq!(Message::write(&b, &u, "two\r\nlines", true, now).unwrap().text, "two\nlines");
    }

    #[test]
    fn a_message_names_its_thread_by_kind() {
        let u = UserId::parse("u1").unwrap();
        let inquiry = ThreadId::Inquiry(InquiryId::generate());
        let m = serde_json::to_value(Message::write(&inquiry, &u, "hi", false, Utc::now()).unwrap()).unwrap();
        assert_eq!((m["inquiry_id"].as_str(), m.get("booking_id")), (Some(inquiry.key()), None));
        assert_eq!(
            ThreadId::parse(Some(inquiry.key()), None).unwrap(),
            ThreadId::Booking(BookingId::parse(inquiry.key()).unwrap())
        );
        assert_eq!(ThreadId::parse(None, Some(inquiry.key())).unwrap(), inquiry);
        assert_eq!(inquiry.subject(), format!("inquiry/{inquiry}"));
    }
}
