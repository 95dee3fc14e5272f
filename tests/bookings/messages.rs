//! Booking threads over HTTP on the shared stack: the two parties write to each other, contact
//! details are masked before the booking is confirmed and not after, strangers see nothing,
//! the recipient is notified, inboxes count what is unread until a read receipt, and a sender
//! is held to 30 messages a minute.

use super::*;

async fn thread(api: &str, token: &str, booking: &str) -> reqwest::Response {
    http().get(format!("{api}/bookings/{booking}/messages")).bearer_auth(token).send().await.unwrap()
}

#[tokio::test]
async fn parties_talk_masked_until_confirmed_and_rate_limited() {
    let api = &env().api;
    let (owner_t, renter_t, stranger_t) =
        (token(&new_user()).await, token(&new_user()).await, token(&new_user()).await);
    let listing = listing(api, &owner_t, "request", 14).await;
    let booking: Value = book(api, &renter_t, &listing, day(40), day(42), None).await.json().await.unwrap();
    let id = booking["id"].as_str().unwrap().to_owned();

    let contact = "call +49 151 12345678 or mail ada@example.com, see www.ada.de";
    let resp = say(api, &renter_t, &id, contact).await;
    assert_eq!(resp.status(), 201);
    let sent: Value = resp.json().await.unwrap();
    assert_eq!(sent["text"], "call [phone hidden] or mail [e-mail hidden], see [link hidden]");
    assert_eq!(sent["masked"], true);
    assert_eq!(say(api, &stranger_t, &id, "hello").await.status(), 404);
    assert_eq!(thread(api, &stranger_t, &id).await.status(), 404);
    assert_eq!(code(say(api, &owner_t, &id, "").await).await, (400, "validation_failed".into()));

    // Accepted and paid: contacts pass.
    assert_eq!(act(api, &owner_t, &id, "accept", None).await.status(), 200);
    let config = aws_config(&env().aws_endpoint).await;
    let store =
        shared::adapters::dynamodb::DynamoTable::new(aws_sdk_dynamodb::Client::new(&config), env().reference("Table"));
    let booking_id = shared::domain::booking::BookingId::parse(&id).unwrap();
    shared::bookings::confirm_payment(&store, &booking_id, Utc::now()).await.unwrap();
    let reply: Value = say(api, &owner_t, &id, "mail me: otto@example.com").await.json().await.unwrap();
    assert_eq!((reply["text"].as_str(), reply["masked"].as_bool()), (Some("mail me: otto@example.com"), Some(false)));

    let page: Value = thread(api, &renter_t, &id).await.json().await.unwrap();
    let texts: Vec<&str> = page["items"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["mail me: otto@example.com", "call [phone hidden] or mail [e-mail hidden], see [link hidden]"]);
    assert!(!page.to_string().contains("ada@example.com"), "the original was never stored");

    // The owner was told of the renter's message (without its text).
    eventually(Duration::from_secs(30), "a message notification", || async {
        let v: Value =
            http().get(format!("{api}/me/notifications")).bearer_auth(&owner_t).send().await.ok()?.json().await.ok()?;
        v["items"]
            .as_array()?
            .iter()
            .any(|n| n["type"] == "message.sent" && n["booking_id"] == id.as_str())
            .then_some(())
    })
    .await;

    // The owner's inbox has the thread with the renter's message unread; a read receipt clears
    // it, and the renter sees the receipt.
    let threads: Value =
        http().get(format!("{api}/me/threads")).bearer_auth(&owner_t).send().await.unwrap().json().await.unwrap();
    let entry = threads["items"].as_array().unwrap().iter().find(|t| t["booking_id"] == id.as_str()).unwrap().clone();
    assert_eq!(
        (entry["unread"].as_u64(), entry["last_message_preview"].as_str()),
        (Some(1), Some("mail me: otto@example.com"))
    );
    let renters = page["items"][1]["id"].as_str().unwrap().to_owned();
    let read = |t: String, up_to: String| {
        let (api, id) = (api.clone(), id.clone());
        async move {
            http()
                .post(format!("{api}/bookings/{id}/messages/read"))
                .bearer_auth(t)
                .json(&json!({ "up_to": up_to }))
                .send()
                .await
                .unwrap()
        }
    };
    let resp = read(owner_t.clone(), renters.clone()).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({"unread": 0}));
    let again = read(owner_t.clone(), renters.clone()).await;
    assert_eq!(again.json::<Value>().await.unwrap(), json!({"unread": 0}), "a repeated receipt changes nothing");
    let seen: Value = thread(api, &renter_t, &id).await.json().await.unwrap();
    assert_eq!(seen["other_party_read_up_to"].as_str(), Some(renters.as_str()), "the renter sees the receipt");
    assert_eq!(read(stranger_t.clone(), renters.clone()).await.status(), 404);
    assert_eq!(read(owner_t.clone(), uuid::Uuid::now_v7().to_string()).await.status(), 404, "not in this thread");

    // 30 a minute: the renter has sent one; a minute boundary may reset the count once.
    let mut accepted = 1;
    let retry = loop {
        let resp = say(api, &renter_t, &id, "are you there?").await;
        if resp.status() == 429 {
            break resp.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap();
        }
        assert_eq!(resp.status(), 201);
        accepted += 1;
        assert!(accepted <= 60, "no limit after {accepted} messages");
    };
    assert!(accepted >= 30 && (1..=60).contains(&retry), "{accepted} accepted, retry after {retry}");
    assert_eq!(say(api, &owner_t, &id, "still here").await.status(), 201, "the other party's limit is its own");
}

async fn inquire(api: &str, token: &str, listing: &str, message: &str) -> reqwest::Response {
    http()
        .post(format!("{api}/listings/{listing}/inquiries"))
        .bearer_auth(token)
        .json(&json!({ "message": message }))
        .send()
        .await
        .unwrap()
}

async fn in_inquiry(api: &str, token: &str, inquiry: &str, text: &str) -> reqwest::Response {
    http()
        .post(format!("{api}/inquiries/{inquiry}/messages"))
        .bearer_auth(token)
        .json(&json!({ "text": text }))
        .send()
        .await
        .unwrap()
}

/// An inquiry before booking (decision 0041): one open thread per renter and listing, masked,
/// closed to strangers and to the owner's own listing; the renter's booking adopts it, after
/// which it takes no messages and a new inquiry opens a new thread.
#[tokio::test]
async fn an_inquiry_is_one_thread_per_renter_and_the_booking_adopts_it() {
    let api = &env().api;
    let (owner_t, renter_t, stranger_t) =
        (token(&new_user()).await, token(&new_user()).await, token(&new_user()).await);
    let listing = listing(api, &owner_t, "request", 14).await;
    assert_eq!(code(inquire(api, &owner_t, &listing, "my own?").await).await, (409, "own_listing".into()));

    let resp = inquire(api, &renter_t, &listing, "Free next month? Mail ada@example.com").await;
    assert_eq!(resp.status(), 201);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let opened: Value = resp.json().await.unwrap();
    let id = opened["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/inquiries/{id}/messages"));
    assert_eq!(opened["message"]["text"], "Free next month? Mail [e-mail hidden]");
    let resp = inquire(api, &renter_t, &listing, "Or the one after?").await;
    assert_eq!(resp.status(), 200, "written in the open one");
    let again: Value = resp.json().await.unwrap();
    assert_eq!(again["id"].as_str(), Some(id.as_str()), "one open inquiry per renter and listing");

    // The owner answers (masked too) and reads it; strangers see nothing.
    let reply = in_inquiry(api, &owner_t, &id, "Yes! Call 0151 2345 6789").await;
    assert_eq!(reply.status(), 201);
    assert_eq!(reply.json::<Value>().await.unwrap()["text"], "Yes! Call [phone hidden]");
    assert_eq!(in_inquiry(api, &stranger_t, &id, "me too").await.status(), 404);
    let read = |t: String| http().get(format!("{api}/inquiries/{id}/messages")).bearer_auth(t).send();
    assert_eq!(read(stranger_t.clone()).await.unwrap().status(), 404);
    let page: Value = read(owner_t.clone()).await.unwrap().json().await.unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 3);
    assert!(page["inquiry"]["booking_id"].is_null());
    let newest = page["items"][0]["id"].as_str().unwrap().to_owned();
    let receipt = http()
        .post(format!("{api}/inquiries/{id}/messages/read"))
        .bearer_auth(&renter_t)
        .json(&json!({ "up_to": newest }))
        .send()
        .await
        .unwrap();
    assert_eq!(receipt.json::<Value>().await.unwrap(), json!({"unread": 0}));
    let threads: Value =
        http().get(format!("{api}/me/threads")).bearer_auth(&owner_t).send().await.unwrap().json().await.unwrap();
    let entry = threads["items"].as_array().unwrap().iter().find(|t| t["inquiry_id"] == id.as_str()).unwrap().clone();
    assert_eq!((entry["unread"].as_u64(), entry.get("booking_id")), (Some(2), None), "the owner's inbox");
    eventually(Duration::from_secs(30), "an inquiry notification", || async {
        let v: Value =
            http().get(format!("{api}/me/notifications")).bearer_auth(&owner_t).send().await.ok()?.json().await.ok()?;
        v["items"].as_array()?.iter().any(|n| n["inquiry_id"] == id.as_str()).then_some(())
    })
    .await;

    // The renter books: the booking names the inquiry, which names it and closes.
    let booking: Value = book(api, &renter_t, &listing, day(50), day(52), None).await.json().await.unwrap();
    assert_eq!(booking["inquiry_id"].as_str(), Some(id.as_str()));
    let page: Value = read(renter_t.clone()).await.unwrap().json().await.unwrap();
    assert_eq!(page["inquiry"]["booking_id"], booking["id"]);
    assert_eq!(code(in_inquiry(api, &renter_t, &id, "and?").await).await, (409, "inquiry_booked".into()));
    let next: Value = inquire(api, &renter_t, &listing, "Another date?").await.json().await.unwrap();
    assert_ne!(next["id"].as_str(), Some(id.as_str()), "a new inquiry after the booking");
}
