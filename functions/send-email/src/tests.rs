//! `send-email`'s unit tests (compiled for tests only: `#[cfg(test)] mod tests` in lib.rs).
#![cfg(test)]

use super::*;
use aws_lambda_events::event::sqs::SqsEvent;
use chrono::{DateTime, Duration, Utc};
use shared::domain::email::{Category, EmailAddress, EmailSettings, Suppression, SuppressionReason};
use shared::domain::user::{Profile, UserId};
use shared::email::LinkKey;
use shared::ports::{EmailPreferences, Suppressions};
use shared::testing::{FakeMailer, FixedClock, MemoryStore};

const RENTER: &str = "0b6c1b4e-7c1d-4a8e-9a51-3f1e8d1c2a10";
const OWNER: &str = "owner-1";

type TestDeps = Deps<MemoryStore, FakeMailer, LinkKey, FixedClock>;

fn deps() -> TestDeps {
    let store = MemoryStore::default();
    for (id, email) in [(RENTER, "Renter@Example.com"), (OWNER, "owner@example.com")] {
        let user = UserId::parse(id).unwrap();
        let mut profile = Profile::register(user.clone(), Some(id), Some(email.into()), FixedClock::default().0);
        profile.email_verified = true;
        store.profiles.lock().unwrap().insert(user, profile);
    }
    Deps {
        store,
        mailer: FakeMailer::default(),
        keys: LinkKey::new(b"test-link-key-0123456789"),
        config: EmailConfig {
            product: "Rental Portal".into(),
            from: "Rental Portal <notifications@mail.example.com>".into(),
            app_base_url: "https://app.example.com".into(),
            api_base_url: "https://api.example.com".into(),
            configuration_set: "rp-email".into(),
        },
        clock: FixedClock::default(),
    }
}

fn fixture() -> SqsEvent {
    serde_json::from_str(include_str!("../../../events/send-email.json")).unwrap()
}

async fn run(event: SqsEvent, deps: &TestDeps) -> Vec<String> {
    let resp = shared::consumer::process_batch(event, &|m| handle(m, deps)).await;
    resp.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect()
}

fn sent_to(deps: &TestDeps) -> Vec<String> {
    deps.mailer.sent.lock().unwrap().iter().map(|e| e.to.to_string()).collect()
}

/// A `message.sent` to the renter in the fixture's booking thread, `minutes` after noon.
fn message_at(minutes: i64, n: u32) -> SqsEvent {
    let mut event = fixture();
    event.records.truncate(2);
    event.records.remove(0);
    let mut body: serde_json::Value = serde_json::from_str(event.records[0].body.as_deref().unwrap()).unwrap();
    body["id"] = serde_json::json!(format!("0192d3f6-0000-7000-8000-0000000001{n:02}"));
    let at: DateTime<Utc> = "2026-11-21T12:00:00Z".parse().unwrap();
    body["occurred_at"] = serde_json::json!(at + Duration::minutes(minutes));
    event.records[0].body = Some(body.to_string());
    event
}

#[tokio::test]
async fn fixture_batch_sends_once_and_fails_only_the_bad_record() {
    let deps = deps();
    assert_eq!(run(fixture(), &deps).await, vec!["bad-1"]);
    let with = deps.mailer.sent_with.lock().unwrap().clone();
    assert!(with
        .iter()
        .all(|(from, set)| (from.as_str(), set.as_str()) == ("notifications@mail.example.com", "rp-email")));
    assert_eq!(sent_to(&deps), vec!["Renter@Example.com", "owner@example.com", "Renter@Example.com"], "as given");
    run(fixture(), &deps).await;
    assert_eq!(sent_to(&deps).len(), 3, "redelivery sends nothing twice");
}

#[tokio::test]
async fn only_switchable_categories_carry_a_signed_one_click_link() {
    let deps = deps();
    run(fixture(), &deps).await;
    let sent = deps.mailer.sent.lock().unwrap();
    let raw = |i: usize| String::from_utf8(sent[i].raw.clone()).unwrap();
    assert!(!raw(0).contains("List-Unsubscribe"), "booking e-mails are transactional");
    let message = raw(2);
    assert!(message.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
    let url = message.split("List-Unsubscribe: <").nth(1).unwrap().split('>').next().unwrap();
    let url = url::Url::parse(url).unwrap();
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!((q["user"].as_str(), q["category"].as_str()), (RENTER, "messages"));
    let renter = UserId::parse(RENTER).unwrap();
    assert!(deps.keys.verify(&renter, Category::Messages, &q["token"]));
}

#[tokio::test]
async fn a_switched_off_category_or_a_suppressed_address_gets_nothing() {
    let deps = deps();
    let renter = UserId::parse(RENTER).unwrap();
    deps.store.switch_email(&renter, &[(Category::Messages, false)], Utc::now()).await.unwrap();
    assert_eq!(deps.store.email_settings(&renter).await.unwrap(), EmailSettings { messages: false, reviews: true });
    deps.store
        .suppress(&Suppression {
            address: EmailAddress::parse("owner@example.com").unwrap(),
            reason: SuppressionReason::Bounced,
            since: Utc::now(),
            feedback_id: "fb".into(),
        })
        .await
        .unwrap();
    run(fixture(), &deps).await;
    assert_eq!(sent_to(&deps), vec!["Renter@Example.com"], "the renter's booking e-mail only");
}

#[tokio::test]
async fn a_thread_is_emailed_at_most_every_fifteen_minutes() {
    let deps = deps();
    for (minutes, n) in [(0, 1), (5, 2), (14, 3), (15, 4), (16, 5)] {
        assert!(run(message_at(minutes, n), &deps).await.is_empty());
    }
    assert_eq!(sent_to(&deps).len(), 2, "at 12:00 and at 12:15");
    assert!(run(message_at(15, 4), &deps).await.is_empty());
    assert_eq!(sent_to(&deps).len(), 2, "a redelivered slot holder sends nothing again");
}

#[tokio::test]
async fn a_refused_send_is_retried_once_the_lease_runs_out() {
    let mut deps = deps();
    *deps.mailer.refuse.lock().unwrap() = true;
    assert_eq!(run(message_at(0, 1), &deps).await.len(), 1, "retried");
    *deps.mailer.refuse.lock().unwrap() = false;
    assert_eq!(run(message_at(0, 1), &deps).await.len(), 1, "held by the first delivery's lease");
    deps.clock = FixedClock(deps.clock.0 + Duration::seconds(60));
    assert!(run(message_at(0, 1), &deps).await.is_empty());
    assert_eq!(sent_to(&deps).len(), 1, "sent once, its thread slot kept by the same notification");
}

#[tokio::test]
async fn a_final_refusal_is_recorded_and_never_holds_back_the_other_party() {
    let deps = deps();
    deps.mailer.reject.lock().unwrap().push("renter@example.com".into());
    let mut event = fixture();
    event.records.truncate(1);
    assert!(run(event.clone(), &deps).await.is_empty(), "not retried");
    assert_eq!(sent_to(&deps), vec!["owner@example.com"]);
    deps.mailer.reject.lock().unwrap().clear();
    run(event, &deps).await;
    assert_eq!(sent_to(&deps), vec!["owner@example.com"], "a refusal is final");
}

#[tokio::test]
async fn a_retried_failure_tries_every_recipient_then_sends_only_what_is_left() {
    let mut deps = deps();
    deps.mailer.refuse_to.lock().unwrap().push("renter@example.com".into());
    let mut event = fixture();
    event.records.truncate(1);
    assert_eq!(run(event.clone(), &deps).await.len(), 1, "the message fails, to be retried");
    assert_eq!(sent_to(&deps), vec!["owner@example.com"], "the owner's went out all the same");
    deps.mailer.refuse_to.lock().unwrap().clear();
    deps.clock = FixedClock(deps.clock.0 + Duration::seconds(60));
    assert!(run(event, &deps).await.is_empty());
    assert_eq!(sent_to(&deps), vec!["owner@example.com", "Renter@Example.com"], "the retry sends the renter's alone");
}

#[tokio::test]
async fn a_retried_failure_keeps_no_thread_slot() {
    let mut deps = deps();
    *deps.mailer.refuse.lock().unwrap() = true;
    assert_eq!(run(message_at(0, 1), &deps).await.len(), 1);
    assert!(deps.store.email_threads.lock().unwrap().is_empty(), "a failed send holds no slot");
    *deps.mailer.refuse.lock().unwrap() = false;
    deps.clock = FixedClock(deps.clock.0 + Duration::seconds(60));
    assert!(run(message_at(5, 2), &deps).await.is_empty(), "another message of the thread");
    assert_eq!(sent_to(&deps).len(), 1, "it is e-mailed: the failed one held nothing");
}

#[tokio::test]
async fn unverified_addresses_get_nothing() {
    let deps = deps();
    for p in deps.store.profiles.lock().unwrap().values_mut() {
        p.email_verified = false;
    }
    assert_eq!(run(fixture(), &deps).await, vec!["bad-1"]);
    assert!(sent_to(&deps).is_empty());
}
