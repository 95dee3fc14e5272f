//! SES's local part (decision 0045). moto's SES keeps what was sent; our launcher lists it
//! (`scripts/moto_ses.py`), and the runner answers it decoded at `GET /_local/emails`. moto sends
//! no bounce or complaint reports, so the runner plays SES there: `POST /_local/emails/{id}/bounce`
//! (or `/complaint`) builds the report SES's event publishing writes for that message and
//! delivers it the way the template wires it: the configuration set's SNS destination, the
//! topic's SQS subscription (in the SNS envelope unless it delivers raw), the queue.

use anyhow::{bail, Context, Result};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};

use crate::resolve::Resolver;

/// Where SES feedback goes: the queue subscribed to the configuration set's event topic.
pub struct FeedbackRoute {
    pub sqs: aws_sdk_sqs::Client,
    pub topic_arn: String,
    pub queue_url: String,
    pub raw: bool,
    pub configuration_set: String,
}

impl FeedbackRoute {
    /// The route the template declares, if it declares one.
    pub fn from_template(template: &Value, resolver: &Resolver, sqs: &aws_sdk_sqs::Client) -> Option<Self> {
        let resources = template["Resources"].as_object()?;
        let of_type = |t: &'static str| resources.iter().filter(move |(_, r)| r["Type"] == t);
        let (_, destination) = of_type("AWS::SES::ConfigurationSetEventDestination").next()?;
        let props = resolver.resolve(&destination["Properties"]).ok()?;
        let topic_arn = props["EventDestination"]["SnsDestination"]["TopicARN"].as_str()?.to_owned();
        let configuration_set = props["ConfigurationSetName"].as_str()?.to_owned();
        let subscription = of_type("AWS::SNS::Subscription").find_map(|(_, s)| {
            let p = resolver.resolve(&s["Properties"]).ok()?;
            (p["TopicArn"] == topic_arn.as_str() && p["Protocol"] == "sqs").then_some(p)
        })?;
        let queue_arn = subscription["Endpoint"].as_str()?;
        let queue = of_type("AWS::SQS::Queue")
            .map(|(logical, _)| logical)
            .find(|logical| resolver.attribute(logical, "Arn").is_ok_and(|arn| arn == queue_arn))?;
        Some(FeedbackRoute {
            sqs: sqs.clone(),
            topic_arn,
            queue_url: resolver.attribute(queue, "QueueUrl").ok()?,
            raw: subscription["RawMessageDelivery"] == true || subscription["RawMessageDelivery"] == "true",
            configuration_set,
        })
    }

    /// Delivers SES's `kind` report (`bounce`: permanent, `complaint`: abuse) of `message`.
    pub async fn report(&self, message: &Value, kind: &str, account: &str, region: &str) -> Result<Value> {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let event = ses_event(message, kind, &self.configuration_set, account, region, &now)?;
        let body = if self.raw {
            event.to_string()
        } else {
            json!({"Type": "Notification", "MessageId": uuid::Uuid::new_v4().to_string(), "TopicArn": self.topic_arn,
                "Message": event.to_string(), "Timestamp": now, "SignatureVersion": "1", "Signature": "local-runner",
                "SigningCertURL": "https://sns.local/SimpleNotificationService.pem",
                "UnsubscribeURL": "https://sns.local/?Action=Unsubscribe"})
            .to_string()
        };
        self.sqs
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .send()
            .await
            .context("delivering the report")?;
        Ok(event)
    }
}

/// The record SES's event publishing writes for `kind` (`bounce`, `complaint`) of sent `message`
/// (as `sent` decodes it), at `now` (docs: "Examples of event data that Amazon SES publishes to
/// Amazon SNS").
fn ses_event(
    message: &Value,
    kind: &str,
    configuration_set: &str,
    account: &str,
    region: &str,
    now: &str,
) -> Result<Value> {
    // moto lists the To header's entries as destinations, a display name included.
    let bare = |a: &Value| {
        let a = a.as_str().unwrap_or_default();
        json!(a.rsplit_once('<').map(|(_, r)| r.trim_end_matches('>')).unwrap_or(a).trim())
    };
    let recipients: Vec<Value> = message["to"].as_array().map(|to| to.iter().map(bare).collect()).unwrap_or_default();
    let from_domain = message["from_address"].as_str().unwrap_or_default().rsplit('@').next().unwrap_or_default();
    let feedback_id = format!("{}-{}-000000", uuid::Uuid::new_v4().simple(), kind);
    // moto keeps no send time: the report's own stands in for `mail.timestamp`.
    let mail = json!({
        "timestamp": now,
        "source": message["from"],
        "sourceArn": format!("arn:aws:ses:{region}:{account}:identity/{from_domain}"),
        "sendingAccountId": account,
        "messageId": message["id"],
        "destination": recipients,
        "headersTruncated": false,
        "commonHeaders": {"from": [message["from"]], "to": message["to"], "subject": message["subject"]},
        "tags": {"ses:configuration-set": [configuration_set], "ses:from-domain": [from_domain],
                 "ses:source-ip": ["127.0.0.1"]},
    });
    let event = match kind {
        "bounce" => json!({"eventType": "Bounce", "mail": mail, "bounce": {
                "bounceType": "Permanent", "bounceSubType": "General", "feedbackId": feedback_id, "timestamp": now,
                "reportingMTA": "dsn; local-runner",
                "bouncedRecipients": recipients.iter().map(|r| json!({"emailAddress": r, "action": "failed",
                    "status": "5.1.1", "diagnosticCode": "smtp; 550 5.1.1 user unknown"})).collect::<Vec<_>>()}}),
        "complaint" => json!({"eventType": "Complaint", "mail": mail, "complaint": {
                "feedbackId": feedback_id, "timestamp": now, "complaintFeedbackType": "abuse",
                "complainedRecipients": recipients.iter().map(|r| json!({"emailAddress": r})).collect::<Vec<_>>()}}),
        other => bail!("no SES report of kind {other}: bounce or complaint"),
    };
    Ok(event)
}

/// What was sent through SES in `region`, oldest first, each decoded (`to`: only those to it).
pub async fn sent(aws_endpoint: &str, region: &str, to: Option<&str>) -> Result<Vec<Value>> {
    let url = format!("{}/_local_ses/messages?region={region}", aws_endpoint.trim_end_matches('/'));
    let request = http::Request::get(&url).body(http_body_util::Full::new(bytes::Bytes::new()))?;
    let client = shared::adapters::http_client::LazyClient::new(std::time::Duration::from_secs(10));
    let response = client.send(request).await.with_context(|| format!("reading {url}"))?;
    if response.status != http::StatusCode::OK {
        bail!("{url} answered {}", response.status);
    }
    let listed: Vec<Value> = serde_json::from_slice(&response.body).context("the launcher's sent list")?;
    let wanted = to.map(str::to_lowercase);
    Ok(listed
        .iter()
        .map(decode)
        .filter(|m| {
            wanted.as_ref().is_none_or(|w| {
                m["to"]
                    .as_array()
                    .is_some_and(|to| to.iter().any(|a| a.as_str().is_some_and(|a| a.to_lowercase() == *w)))
            })
        })
        .collect())
}

/// One sent message as the tests read it: headers, both parts decoded, the unsubscribe link.
fn decode(message: &Value) -> Value {
    let raw = message["raw_data"].as_str().unwrap_or_default();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw, ""));
    let headers = unfold(head);
    let header = |name: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
    let mut parts = serde_json::Map::new();
    if let Some(boundary) = header("Content-Type").as_deref().and_then(boundary_of) {
        for part in body.split(&format!("--{boundary}")) {
            let Some((h, b)) = part.split_once("\r\n\r\n") else { continue };
            let h = unfold(h);
            let get = |name: &str| h.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
            let mime = get("Content-Type").unwrap_or_default();
            let text = match get("Content-Transfer-Encoding").as_deref() {
                Some(e) if e.eq_ignore_ascii_case("base64") => {
                    STANDARD.decode(b.replace(['\r', '\n'], "")).ok().and_then(|d| String::from_utf8(d).ok())
                }
                _ => Some(b.to_owned()),
            };
            let key = if mime.starts_with("text/plain") {
                "text"
            } else if mime.starts_with("text/html") {
                "html"
            } else {
                continue;
            };
            parts.insert(key.into(), json!(text.unwrap_or_default()));
        }
    }
    let unsubscribe =
        header("List-Unsubscribe").map(|v| v.trim().trim_start_matches('<').trim_end_matches('>').to_owned());
    let from = header("From").unwrap_or_default();
    let from_address = from.rsplit_once('<').map(|(_, a)| a.trim_end_matches('>').to_owned()).unwrap_or(from.clone());
    json!({
        "id": message["id"],
        "from": from,
        "from_address": from_address,
        "to": message["destinations"],
        "subject": header("Subject").map(|s| decode_words(&s)),
        "headers": headers.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "list_unsubscribe": unsubscribe,
        "text": parts.get("text"),
        "html": parts.get("html"),
    })
}

/// Header lines with their continuations joined (RFC 5322 unfolding).
fn unfold(head: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            out.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    out
}

fn boundary_of(content_type: &str) -> Option<String> {
    let b = content_type.split("boundary=").nth(1)?;
    Some(b.trim_matches('"').split('"').next()?.to_owned())
}

/// RFC 2047 `=?UTF-8?B?...?=` words decoded (the only encoding send-email writes).
fn decode_words(value: &str) -> String {
    value
        .split_whitespace()
        .map(|w| {
            w.strip_prefix("=?UTF-8?B?")
                .and_then(|w| w.strip_suffix("?="))
                .and_then(|b| STANDARD.decode(b).ok())
                .and_then(|d| String::from_utf8(d).ok())
                .unwrap_or_else(|| format!(" {w}"))
        })
        .collect::<String>()
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_as_ses_event_publishing_writes_them_and_our_consumer_reads_them() {
        let sent = json!({"id": "0102-m1", "from": "Rental Portal <n@mail.example.com>", "from_address": "n@mail.example.com",
            "to": ["Ada <Ada@Example.com>"], "subject": "Rental Portal: A new message"});
        let now = "2026-12-01T10:00:00.000Z";
        let bounce = ses_event(&sent, "bounce", "rp-email", "123456789012", "eu-central-1", now).unwrap();
        assert_eq!(bounce["eventType"], "Bounce");
        assert_eq!(
            (bounce["bounce"]["bounceType"].as_str(), bounce["bounce"]["timestamp"].as_str()),
            (Some("Permanent"), Some(now))
        );
        assert_eq!(bounce["bounce"]["bouncedRecipients"][0]["emailAddress"], "Ada@Example.com", "the bare address");
        assert_eq!(bounce["mail"]["messageId"], "0102-m1");
        assert_eq!(bounce["mail"]["destination"], json!(["Ada@Example.com"]));
        assert_eq!(bounce["mail"]["sourceArn"], "arn:aws:ses:eu-central-1:123456789012:identity/mail.example.com");
        assert_eq!(bounce["mail"]["tags"]["ses:configuration-set"], json!(["rp-email"]));
        let read = shared::domain::email::suppressions_from_feedback(&bounce.to_string()).unwrap();
        assert_eq!((read.len(), read[0].address.key()), (1, "ada@example.com"));

        let complaint = ses_event(&sent, "complaint", "rp-email", "123456789012", "eu-central-1", now).unwrap();
        assert_eq!(
            (complaint["eventType"].as_str(), complaint["complaint"]["complaintFeedbackType"].as_str()),
            (Some("Complaint"), Some("abuse"))
        );
        assert_eq!(shared::domain::email::suppressions_from_feedback(&complaint.to_string()).unwrap().len(), 1);
        assert!(ses_event(&sent, "delivery", "rp-email", "1", "r", now).is_err());
    }

    #[test]
    fn decodes_the_parts_and_headers_send_email_writes() {
        let text = STANDARD.encode("Hello Ada,\n\nA new message.");
        let raw = format!(
            "From: Rental Portal <n@mail.example.com>\r\nSubject: =?UTF-8?B?{}?=\r\n =?UTF-8?B?{}?=\r\nList-Unsubscribe: <https://api/x?a=1>\r\nContent-Type: multipart/alternative; boundary=\"=_b\"\r\n\r\n--=_b\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{text}\r\n--=_b--\r\n",
            STANDARD.encode("Grüße "),
            STANDARD.encode("aus Köln")
        );
        let m = decode(&json!({"id": "m1", "destinations": ["ada@example.com"], "raw_data": raw}));
        assert_eq!(m["subject"], "Grüße aus Köln");
        assert_eq!(m["from_address"], "n@mail.example.com");
        assert_eq!(m["list_unsubscribe"], "https://api/x?a=1");
        assert_eq!(m["text"], "Hello Ada,\n\nA new message.");
        assert!(m["html"].is_null());
    }
}
