//! An e-mail from a notification: its subject, its call to action and the page it links to,
//! filled into the repository's templates (`shared/templates/email/`, a plain-text and an HTML
//! part), wrapped in one raw MIME message with the unsubscribe headers when the category can be
//! switched off (RFC 8058).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, Utc};

use crate::config::{env_required, ConfigError};
use crate::domain::email::{Category, EmailAddress};
use crate::domain::events::kinds;
use crate::domain::notification::Notification;
use crate::error::AppError;

const LAYOUT_TEXT: &str = include_str!("../../templates/email/layout.txt");
const LAYOUT_HTML: &str = include_str!("../../templates/email/layout.html");

/// What the deployment says of its mail (template parameters, decision 0045).
#[derive(Debug, Clone)]
pub struct EmailConfig {
    /// The product's name, in subjects and signatures.
    pub product: String,
    /// `Name <address>` on the verified domain, so SPF and DKIM align with it for DMARC.
    pub from: String,
    /// The frontend's origin: links in the e-mails point there.
    pub app_base_url: String,
    /// The HTTP API's origin: the one-click unsubscribe endpoint is there.
    pub api_base_url: String,
    /// The SES configuration set: its event destination reports bounces and complaints.
    pub configuration_set: String,
}

impl EmailConfig {
    /// `PRODUCT_NAME`, `EMAIL_FROM`, `APP_BASE_URL`, `API_BASE_URL`, `SES_CONFIGURATION_SET`.
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(EmailConfig {
            product: env_required("PRODUCT_NAME")?,
            from: env_required("EMAIL_FROM")?,
            app_base_url: env_required("APP_BASE_URL")?.trim_end_matches('/').to_owned(),
            api_base_url: env_required("API_BASE_URL")?.trim_end_matches('/').to_owned(),
            configuration_set: env_required("SES_CONFIGURATION_SET")?,
        })
    }

    /// The address part of `from` (SES checks its identity).
    pub fn from_address(&self) -> &str {
        match (self.from.rfind('<'), self.from.rfind('>')) {
            (Some(a), Some(b)) if a < b => &self.from[a + 1..b],
            _ => self.from.trim(),
        }
    }
}

/// One e-mail, ready for SES.
#[derive(Debug, Clone)]
pub struct Composed {
    pub to: EmailAddress,
    pub category: Category,
    pub subject: String,
    /// The whole RFC 5322 message.
    pub raw: Vec<u8>,
}

/// Subject line, call to action and page of each e-mailed kind.
fn content(n: &Notification) -> (&'static str, &'static str, String) {
    let booking = n.booking_id.as_deref().map(|b| format!("/bookings/{b}"));
    let booking_page = || booking.clone().unwrap_or_else(|| "/bookings".into());
    let (subject, action) = match n.kind.as_str() {
        kinds::BOOKING_REQUESTED => ("A booking request", "View the booking"),
        kinds::BOOKING_ACCEPTED => ("A booking was accepted", "View the booking"),
        kinds::BOOKING_DECLINED => ("A booking was declined", "View the booking"),
        kinds::BOOKING_CONFIRMED => ("A booking is confirmed", "View the booking"),
        kinds::BOOKING_CANCELLED => ("A booking was cancelled", "View the booking"),
        kinds::BOOKING_EXPIRED => ("A booking expired", "View the booking"),
        kinds::BOOKING_RETURN_OVERDUE => ("A return is overdue", "View the booking"),
        kinds::CLAIM_FILED => ("A damage claim was filed", "View the claim"),
        kinds::CLAIM_ACCEPTED => ("A damage claim was accepted", "View the claim"),
        kinds::CLAIM_CONTESTED => ("A damage claim was contested", "View the claim"),
        kinds::CLAIM_DECIDED => ("A damage claim was decided", "View the claim"),
        kinds::PAYMENT_FAILED => ("A payment did not go through", "Pay again"),
        kinds::DEPOSIT_FAILED => ("The deposit could not be held", "Confirm the deposit"),
        kinds::DEPOSIT_CAPTURED => ("Part of a deposit was taken", "View the booking"),
        kinds::DEPOSIT_PAID_OUT => ("A deposit was paid out", "View the booking"),
        kinds::PAYOUT_FAILED => ("A payout failed", "Open your payouts"),
        kinds::PAYOUT_ACCOUNT_UPDATED => ("Your payout account", "Open your payouts"),
        kinds::MESSAGE_SENT => ("A new message", "Read and reply"),
        kinds::REVIEW_WRITTEN => ("You were reviewed", "Write your review"),
        kinds::REVIEW_PUBLISHED => ("A review of you is published", "Read it"),
        kinds::REVIEW_ANSWERED => ("Your review was answered", "Read it"),
        kinds::REVIEW_REMOVED => ("Your review was removed", "View the booking"),
        _ => ("News about your rentals", "Open the app"),
    };
    let page = match n.kind.as_str() {
        kinds::PAYOUT_FAILED | kinds::PAYOUT_ACCOUNT_UPDATED => "/account/payouts".into(),
        kinds::MESSAGE_SENT => match (&booking, &n.inquiry_id) {
            (Some(b), _) => format!("{b}/messages"),
            (None, Some(i)) => format!("/inquiries/{i}"),
            (None, None) => "/threads".into(),
        },
        kinds::CLAIM_FILED | kinds::CLAIM_ACCEPTED | kinds::CLAIM_CONTESTED | kinds::CLAIM_DECIDED => {
            format!("{}/claim", booking_page())
        }
        _ => booking_page(),
    };
    (subject, action, page)
}

/// The e-mail of notification `n` to `to` (greeted as `name`) in `category`; `unsubscribe` is the
/// signed one-click URL, present exactly when the category can be switched off.
pub fn compose(
    n: &Notification,
    category: Category,
    to: &EmailAddress,
    name: &str,
    unsubscribe: Option<&str>,
    config: &EmailConfig,
    now: DateTime<Utc>,
) -> Result<Composed, AppError> {
    let (subject, action, page) = content(n);
    let subject = format!("{}: {subject}", config.product);
    let why = if category.can_switch_off() {
        format!(
            "You get {} e-mails because you switched them on; one click in your mail program stops them.",
            category.as_str()
        )
    } else {
        "Booking and payment e-mails are part of the service and cannot be switched off.".to_owned()
    };
    let link = format!("{}{page}", config.app_base_url);
    let settings = format!("{}/account/notifications", config.app_base_url);
    let values = [
        ("product", config.product.as_str()),
        ("subject", subject.as_str()),
        ("name", name),
        ("text", n.text.as_str()),
        ("action", action),
        ("link", link.as_str()),
        ("why", why.as_str()),
        ("settings_link", settings.as_str()),
    ];
    let text = fill(LAYOUT_TEXT, &values, |v| v.to_owned())?;
    let html = fill(LAYOUT_HTML, &values, escape_html)?;

    let boundary = format!("=_part_{}", n.id);
    let mut head = vec![
        format!("From: {}", config.from),
        format!("To: {to}"),
        format!("Subject: {}", encode_header(&subject)),
        format!("Date: {}", now.to_rfc2822()),
        "MIME-Version: 1.0".to_owned(),
        format!("X-Notification-Id: {}", n.id),
    ];
    if let Some(url) = unsubscribe {
        head.push(format!("List-Unsubscribe: <{url}>"));
        head.push("List-Unsubscribe-Post: List-Unsubscribe=One-Click".to_owned());
    }
    head.push(format!("Content-Type: multipart/alternative; boundary=\"{boundary}\""));
    let mut raw = head.join("\r\n");
    raw.push_str("\r\n\r\n");
    for (mime, body) in [("text/plain", &text), ("text/html", &html)] {
        raw.push_str(&format!(
            "--{boundary}\r\nContent-Type: {mime}; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        ));
        // Text's line breaks are CRLF before it is encoded (RFC 2045 6.8, RFC 2046 4.1.1).
        raw.push_str(&base64_lines(crlf(body).as_bytes()));
    }
    raw.push_str(&format!("--{boundary}--\r\n"));
    Ok(Composed { to: to.clone(), category, subject, raw: raw.into_bytes() })
}

/// `template` with each `{{name}}` replaced by its value through `escape`; a placeholder without
/// a value is an error, so a template edit cannot ship an unfilled one.
fn fill(template: &str, values: &[(&str, &str)], escape: impl Fn(&str) -> String) -> Result<String, AppError> {
    let mut out = String::with_capacity(template.len() + 512);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").ok_or_else(|| AppError::internal("an unclosed {{ in an e-mail template"))?;
        let name = &rest[start + 2..start + end];
        let value = values.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
        let value =
            value.ok_or_else(|| AppError::internal(format!("e-mail template placeholder {name} has no value")))?;
        out.push_str(&escape(value));
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn escape_html(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `text` with every line break CRLF.
fn crlf(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\n', "\r\n")
}

/// A header value as is when it is printable ASCII, else RFC 2047 encoded words (split on
/// character boundaries) short enough that even the first, after `Subject: `, keeps its line
/// within 76 characters.
fn encode_header(value: &str) -> String {
    if value.chars().all(|c| c.is_ascii() && !c.is_ascii_control()) {
        return value.to_owned();
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in value.chars() {
        if chunk.len() + c.len_utf8() > 39 {
            words.push(format!("=?UTF-8?B?{}?=", STANDARD.encode(&chunk)));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(format!("=?UTF-8?B?{}?=", STANDARD.encode(&chunk)));
    }
    words.join("\r\n ")
}

/// Base64 in lines of 76 characters (RFC 2045).
fn base64_lines(bytes: &[u8]) -> String {
    let encoded = STANDARD.encode(bytes);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 38 + 2);
    for line in encoded.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::user::UserId;

    fn config() -> EmailConfig {
        EmailConfig {
            product: "Rental Portal".into(),
            from: "Rental Portal <notifications@mail.example.com>".into(),
            app_base_url: "https://app.example.com".into(),
            api_base_url: "https://api.example.com".into(),
            configuration_set: "rp-email".into(),
        }
    }

    fn notification(kind: &str, text: &str) -> Notification {
        Notification {
            id: "0193-recipient".into(),
            user_id: UserId::parse("ada").unwrap(),
            kind: kind.into(),
            booking_id: Some("b-1".into()),
            inquiry_id: None,
            text: text.into(),
            read: false,
            created_at: Utc::now(),
            read_at: None,
        }
    }

    /// The decoded parts of a composed message, by content type.
    fn parts(raw: &[u8]) -> (String, Vec<(String, String)>) {
        let raw = String::from_utf8(raw.to_vec()).unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        let boundary = head.split("boundary=\"").nth(1).unwrap().split('"').next().unwrap();
        let mut out = Vec::new();
        for part in body.split(&format!("--{boundary}")).filter(|p| p.contains("Content-Type")) {
            let (h, b) = part.split_once("\r\n\r\n").unwrap();
            let decoded = STANDARD.decode(b.replace("\r\n", "")).unwrap();
            out.push((
                h.lines().find(|l| l.starts_with("Content-Type")).unwrap().to_owned(),
                String::from_utf8(decoded).unwrap(),
            ));
        }
        (head.to_owned(), out)
    }

    #[test]
    fn a_message_email_has_both_parts_the_link_and_one_click_headers() {
        let n = notification("message.sent", "New message about \"Drill <b>\".");
        let to = EmailAddress::parse("ada@example.com").unwrap();
        let c = compose(
            &n,
            Category::Messages,
            &to,
            "Ada & Co",
            Some("https://api.example.com/email/unsubscribe?x=1"),
            &config(),
            Utc::now(),
        )
        .unwrap();
        let (head, parts) = parts(&c.raw);
        assert!(head.contains("From: Rental Portal <notifications@mail.example.com>\r\n"));
        assert!(head.contains("Subject: Rental Portal: A new message\r\n"));
        assert!(head.contains("List-Unsubscribe: <https://api.example.com/email/unsubscribe?x=1>\r\n"));
        assert!(head.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
        let (text, html) = (&parts[0].1, &parts[1].1);
        assert!(parts[0].0.contains("text/plain") && parts[1].0.contains("text/html"));
        assert!(text.contains("Hello Ada & Co,") && text.contains("https://app.example.com/bookings/b-1/messages"));
        assert!(
            html.contains("Hello Ada &amp; Co,") && html.contains("&quot;Drill &lt;b&gt;&quot;"),
            "escaped: {html}"
        );
        assert!(!text.contains("{{") && !html.contains("{{"), "every placeholder filled");
        assert!(!text.replace("\r\n", "").contains('\n'), "CRLF line breaks only");
    }

    #[test]
    fn transactional_emails_carry_no_unsubscribe_header() {
        let n = notification("booking.claim_filed", "A claim.");
        let to = EmailAddress::parse("ada@example.com").unwrap();
        let c = compose(&n, Category::Bookings, &to, "Ada", None, &config(), Utc::now()).unwrap();
        let (head, parts) = parts(&c.raw);
        assert!(!head.contains("List-Unsubscribe"));
        assert!(parts[0].1.contains("https://app.example.com/bookings/b-1/claim"));
        assert!(parts[0].1.contains("cannot be switched off"));
    }

    #[test]
    fn every_emailed_kind_has_its_own_subject() {
        for kind in crate::domain::email::tests::EMAILED {
            let (subject, _, page) = content(&notification(kind, "x"));
            assert_ne!(subject, "News about your rentals", "{kind}");
            assert!(page.starts_with('/'), "{kind}");
        }
    }

    #[test]
    fn non_ascii_headers_are_encoded_words() {
        let encoded = encode_header("Verleih: Ihre Buchung für Bohrmaschine ist bestätigt und bezahlt");
        let header = format!("Subject: {encoded}");
        assert!(encoded.starts_with("=?UTF-8?B?") && header.lines().all(|l| l.len() <= 76), "{header}");
        assert_eq!(encode_header("Plain"), "Plain");
        assert!(fill("{{missing}}", &[], |v| v.to_owned()).is_err());
        assert_eq!(config().from_address(), "notifications@mail.example.com");
    }
}
