//! E-mail through moto's SES on the shared stack (decision 0045): a booking's notifications go
//! out once each, with both parts and the page's link; a thread's second message within 15
//! minutes is not e-mailed again; a redelivered event sends nothing; a switched-off category
//! gets nothing; the signed one-click link unsubscribes and a forged one is refused; a bounce
//! stops the next e-mail and shows on the profile, as a complaint does.

use super::*;

/// What SES sent to `address`, oldest first (`GET /_local/emails`).
async fn emails(api: &str, address: &str) -> Vec<Value> {
    let v: Value = http().get(format!("{api}/_local/emails?to={address}")).send().await.unwrap().json().await.unwrap();
    v["emails"].as_array().cloned().unwrap_or_default()
}

/// What SES sent to `address` linking to `page` (others, such as the owner's payout account
/// news, are left out).
async fn about(api: &str, address: &str, page: &str) -> Vec<Value> {
    let all = emails(api, address).await;
    all.into_iter().filter(|m| m["text"].as_str().is_some_and(|t| t.contains(page))).collect()
}

/// Waits until `address` has had `n` e-mails linking to `page`, and returns them.
async fn emails_n(api: &str, address: &str, page: &str, n: usize) -> Vec<Value> {
    eventually(Duration::from_secs(30), &format!("{n} e-mails to {address} about {page}"), || async {
        let got = about(api, address, page).await;
        (got.len() >= n).then_some(got)
    })
    .await
}

/// How send-email's ledger says notification `id`'s e-mail to `user` ended, once it has.
async fn outcome(user: &str, id: &str) -> String {
    let config = aws_config(&env().aws_endpoint).await;
    let db = aws_sdk_dynamodb::Client::new(&config);
    let key = |v: &str| aws_sdk_dynamodb::types::AttributeValue::S(v.to_owned());
    eventually(Duration::from_secs(30), &format!("the e-mail of {id}"), || async {
        let out = db
            .get_item()
            .table_name(env().reference("Table"))
            .key("PK", key(&format!("USER#{user}")))
            .key("SK", key(&format!("EMAIL#{id}")))
            .send()
            .await
            .ok()?;
        let status = out.item?.get("status")?.as_s().ok()?.clone();
        (status != "sending").then_some(status)
    })
    .await
}

/// The id of `token`'s in-app notification of `kind` (a message: in an inquiry), once it is there.
async fn notification(api: &str, token: &str, kind: &str) -> String {
    eventually(Duration::from_secs(30), &format!("a {kind} notification"), || async {
        let v: Value =
            http().get(format!("{api}/me/notifications")).bearer_auth(token).send().await.ok()?.json().await.ok()?;
        let items = v["items"].as_array()?.clone();
        let found = items.iter().find(|n| n["type"] == kind && (kind != "message.sent" || n["inquiry_id"].is_string()));
        found.and_then(|n| n["id"].as_str().map(str::to_owned))
    })
    .await
}

async fn me(api: &str, token: &str) -> Value {
    let v: Option<Value> =
        async { http().get(format!("{api}/me")).bearer_auth(token).send().await.ok()?.json().await.ok() }.await;
    v.unwrap_or_default()
}

fn path_and_query(url: &str) -> String {
    let u = url::Url::parse(url).unwrap();
    format!("{}?{}", u.path(), u.query().unwrap_or_default())
}

async fn one_click(api: &str, path_and_query: &str) -> reqwest::Response {
    http()
        .post(format!("{api}{path_and_query}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn emails_once_per_notification_switchable_unsubscribed_and_stopped_by_bounces() {
    let api = &env().api;
    let (owner, renter) = (new_user(), new_user());
    let (owner_t, renter_t) = (token(&owner).await, token(&renter).await);
    let (owner_mail, renter_mail) = (format!("{owner}@example.test"), format!("{renter}@example.test"));
    me(api, &renter_t).await;
    let tent = listing(api, &owner_t, "request", 14).await;
    let booking: Value = book(api, &renter_t, &tent, day(60), day(62), None).await.json().await.unwrap();
    let id = booking["id"].as_str().unwrap().to_owned();
    let page = format!("https://app.example.com/bookings/{id}");

    // The request: both parties e-mailed, transactional (no unsubscribe), with the booking's link.
    let request = emails_n(api, &owner_mail, &page, 1).await.remove(0);
    assert_eq!(request["subject"], "Rental Portal: A booking request");
    assert_eq!(request["from"], "Rental Portal <notifications@mail.example.com>");
    let text = request["text"].as_str().unwrap();
    assert!(text.contains("New booking request for \"Camping tent\""), "{text}");
    assert!(request["html"].as_str().unwrap().contains("&quot;Camping tent&quot;"));
    assert!(request["list_unsubscribe"].is_null(), "booking e-mails cannot be switched off");
    assert_eq!(emails_n(api, &renter_mail, &page, 1).await.len(), 1);

    // Redelivered: the same event sends nothing again.
    let config = aws_config(&env().aws_endpoint).await;
    let store =
        shared::adapters::dynamodb::DynamoTable::new(aws_sdk_dynamodb::Client::new(&config), env().reference("Table"));
    let events = shared::ports::Outbox::events_of(&store, &format!("booking/{id}")).await.unwrap();
    let requested = events.iter().find(|e| e.kind == "booking.requested").unwrap();
    assert!(outcome(&owner, &format!("{}-owner", requested.id)).await.starts_with("sent:"));
    assert!(outcome(&renter, &format!("{}-renter", requested.id)).await.starts_with("sent:"));
    let owner_before = about(api, &owner_mail, &page).await.len();
    let replay = json!({"Records": [{"messageId": "replay-1", "receiptHandle": "r", "body": serde_json::to_string(requested).unwrap(),
        "attributes": {"ApproximateReceiveCount": "2"}, "messageAttributes": {}, "eventSource": "aws:sqs"}]});
    let answer: Value = http()
        .post(format!("{api}/_local/functions/SendEmailFunction/invoke"))
        .json(&replay)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["response"]["batchItemFailures"], json!([]), "{answer}");
    assert_eq!(about(api, &owner_mail, &page).await.len(), owner_before, "nothing sent again to the owner");
    assert_eq!(emails(api, &renter_mail).await.len(), 1, "nor to the renter");

    // A message: its recipient e-mailed with a signed one-click unsubscribe; a second one within
    // 15 minutes is not (the accepted booking's e-mail, behind both in the booking's queue
    // group, shows they were handled).
    assert_eq!(say(api, &renter_t, &id, "Is it clean?").await.status(), 201);
    assert_eq!(say(api, &renter_t, &id, "And dry?").await.status(), 201);
    assert_eq!(act(api, &owner_t, &id, "accept", None).await.status(), 200);
    let owner_mails = emails_n(api, &owner_mail, &page, 3).await;
    let subjects: Vec<&str> = owner_mails.iter().map(|m| m["subject"].as_str().unwrap()).collect();
    assert_eq!(
        subjects,
        ["Rental Portal: A booking request", "Rental Portal: A new message", "Rental Portal: A booking was accepted"]
    );
    let message = &owner_mails[1];
    assert_eq!(message["headers"]["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click");
    assert!(message["text"].as_str().unwrap().contains(&format!("/bookings/{id}/messages")));
    assert!(!message.to_string().contains("Is it clean?"), "the message's text stays in the app");
    let link = path_and_query(message["list_unsubscribe"].as_str().unwrap());
    assert!(link.starts_with(&format!("/email/unsubscribe?user={owner}&category=messages&token=")), "{link}");

    // The one-click link: a forged one is refused and changes nothing; opened (GET) it changes
    // nothing and sends the member on to the app to confirm; the signed one works, twice.
    let forged = link.replace("category=messages", "category=reviews");
    assert_eq!(one_click(api, &forged).await.status(), 403);
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let opened = browser.get(format!("{api}{link}")).send().await.unwrap();
    assert_eq!(opened.status(), 303);
    let confirm = opened.headers()["location"].to_str().unwrap().to_owned();
    assert!(confirm.starts_with("https://app.example.com/account/unsubscribe?user="), "{confirm}");
    let settings = |t: String| async move { get_json_auth(api, "/me/notification-settings", &t).await };
    assert_eq!(settings(owner_t.clone()).await["email"]["reviews"], true);
    for _ in 0..2 {
        assert_eq!(one_click(api, &link).await.status(), 200);
    }
    assert_eq!(settings(owner_t.clone()).await["email"]["messages"], false);

    // Switched off: the owner's next thread (an inquiry) e-mails nothing, and says why.
    let other = listing(api, &owner_t, "request", 14).await;
    let resp = http()
        .post(format!("{api}/listings/{other}/inquiries"))
        .bearer_auth(&renter_t)
        .json(&json!({"message": "Free next week?"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let told = notification(api, &owner_t, "message.sent").await;
    assert_eq!(outcome(&owner, &told).await, "skipped:switched_off");
    let transactional = http()
        .patch(format!("{api}/me/notification-settings"))
        .bearer_auth(&owner_t)
        .json(&json!({"email": {"bookings": false}}))
        .send()
        .await
        .unwrap();
    assert_eq!(code(transactional).await, (400, "validation_failed".into()));

    // A bounce stops the renter's e-mail and shows on their profile; the owner's still go.
    let renter_mails = emails_n(api, &renter_mail, &page, 2).await;
    let bounced = renter_mails[0]["id"].as_str().unwrap();
    let resp = http().post(format!("{api}/_local/emails/{bounced}/bounce")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let stopped = eventually(Duration::from_secs(30), "the renter's e-mail stopped", || async {
        let v = me(api, &renter_t).await;
        v.get("email_stopped").cloned()
    })
    .await;
    assert_eq!(
        (stopped["reason"].as_str(), stopped["address"].as_str()),
        (Some("bounced"), Some(renter_mail.as_str()))
    );
    assert_eq!(settings(renter_t.clone()).await["email_stopped"]["reason"], "bounced");
    let cancel = act(api, &renter_t, &id, "cancel", Some(json!({"reason": "Plans changed"}))).await;
    assert_eq!(cancel.status(), 200);
    let cancelled = events_of_kind(&store, &id, "booking.cancelled").await;
    assert_eq!(outcome(&renter, &format!("{cancelled}-renter")).await, "skipped:suppressed");
    assert!(outcome(&owner, &format!("{cancelled}-owner")).await.starts_with("sent:"));
    assert_eq!(emails(api, &renter_mail).await.len(), 2, "nothing more to the bounced address");

    // A complaint stops e-mail too.
    let last = emails_n(api, &owner_mail, &page, 4).await.pop().unwrap();
    let resp =
        http().post(format!("{api}/_local/emails/{}/complaint", last["id"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    eventually(Duration::from_secs(30), "the owner's complaint recorded", || async {
        (me(api, &owner_t).await["email_stopped"]["reason"] == "complained").then_some(())
    })
    .await;
}

/// The id of booking `id`'s event of `kind`, once it is in the audit trail.
async fn events_of_kind(store: &shared::adapters::dynamodb::DynamoTable, id: &str, kind: &str) -> uuid::Uuid {
    eventually(Duration::from_secs(10), kind, || async {
        let events = shared::ports::Outbox::events_of(store, &format!("booking/{id}")).await.ok()?;
        events.iter().find(|e| e.kind == kind).map(|e| e.id)
    })
    .await
}

async fn get_json_auth(api: &str, path: &str, token: &str) -> Value {
    http().get(format!("{api}{path}")).bearer_auth(token).send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn settings_are_read_and_changed_by_members_without_a_profile_yet() {
    let api = &env().api;
    let (reader, writer) = (token(&new_user()).await, token(&new_user()).await);
    let v = get_json_auth(api, "/me/notification-settings", &reader).await;
    assert_eq!(v["email"], json!({"bookings": true, "payments": true, "messages": true, "reviews": true}));
    assert!(v["email_address"].as_str().unwrap().ends_with("@example.test"));
    let resp = http()
        .patch(format!("{api}/me/notification-settings"))
        .bearer_auth(&writer)
        .json(&json!({"email": {"reviews": false, "payments": true}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!((v["email"]["reviews"].as_bool(), v["email"]["payments"].as_bool()), (Some(false), Some(true)));
    assert_eq!(me(api, &writer).await["display_name"], "Test User", "the profile was made on the way");
}
