//! Bookings over HTTP through the local gateway and the real functions: the request ->
//! accept -> confirm -> cancel flow, holds expiring under a set clock, owner blocks, who may
//! see what, idempotent retries, and the race that must never double-book. `bookings/` holds
//! the stay's middle (handover) and the parties' messages.

use std::time::Duration;

use chrono::{NaiveDate, Utc};
use integration_tests::{aws_config, env, eventually, http, new_user, run_scheduled, token, token_for, PrivateRunner};
use serde_json::{json, Value};

#[path = "bookings/claims.rs"]
mod claims;
#[path = "bookings/deposits.rs"]
mod deposits;
#[path = "bookings/email.rs"]
mod email;
#[path = "bookings/handover.rs"]
mod handover;
#[path = "bookings/messages.rs"]
mod messages;
#[path = "bookings/reports.rs"]
mod reports;
#[path = "bookings/reviews.rs"]
mod reviews;

fn day(offset: i64) -> NaiveDate {
    Utc::now().date_naive() + chrono::Duration::days(offset)
}

async fn listing(api: &str, owner_token: &str, mode: &str, max_days: u32) -> String {
    integration_tests::onboard_on(api, owner_token).await;
    let body = json!({
        "title": "Camping tent", "description": "Four people", "category": "outdoor",
        "location": {"city": "Berlin", "country": "DE"},
        "daily_price": {"amount": 1250, "currency": "EUR"}, "deposit": {"amount": 5000, "currency": "EUR"},
        "min_days": 1, "max_days": max_days, "booking_mode": mode, "status": "active"
    });
    let resp = http().post(format!("{api}/listings")).bearer_auth(owner_token).json(&body).send().await.unwrap();
    assert_eq!(resp.status(), 201);
    resp.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

async fn book(
    api: &str,
    renter_token: &str,
    listing: &str,
    start: NaiveDate,
    end: NaiveDate,
    key: Option<&str>,
) -> reqwest::Response {
    let mut req = http().post(format!("{api}/bookings")).bearer_auth(renter_token).json(&json!({
        "listing_id": listing, "start_date": start, "end_date": end, "message": "Hello!"
    }));
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    req.send().await.unwrap()
}

async fn act(api: &str, token: &str, booking: &str, action: &str, body: Option<Value>) -> reqwest::Response {
    let mut req = http().post(format!("{api}/bookings/{booking}/{action}")).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap()
}

async fn unavailable(api: &str, listing: &str) -> Vec<(String, String)> {
    let url = format!("{api}/listings/{listing}/availability?from={}&to={}", day(0), day(366));
    let v: Value = http().get(url).send().await.unwrap().json().await.unwrap();
    v["unavailable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["start_date"].as_str().unwrap().to_owned(), r["end_date"].as_str().unwrap().to_owned()))
        .collect()
}

/// Posts `text` to booking `booking`'s thread as `token`.
async fn say(api: &str, token: &str, booking: &str, text: &str) -> reqwest::Response {
    http()
        .post(format!("{api}/bookings/{booking}/messages"))
        .bearer_auth(token)
        .json(&json!({ "text": text }))
        .send()
        .await
        .unwrap()
}

async fn code(resp: reqwest::Response) -> (u16, String) {
    let status = resp.status().as_u16();
    let v: Value = resp.json().await.unwrap_or(Value::Null);
    (status, v["code"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn request_accept_confirm_cancel_with_notifications_and_privacy() {
    let api = &env().api;
    let (owner, renter, stranger) = (new_user(), new_user(), new_user());
    let (owner_t, renter_t, stranger_t) = (token(&owner).await, token(&renter).await, token(&stranger).await);
    let listing = listing(api, &owner_t, "request", 14).await;

    // A quote first: 3 days x 12.50 + 10% + deposit.
    let q: Value = http()
        .post(format!("{api}/listings/{listing}/quote"))
        .json(&json!({"start_date": day(10), "end_date": day(13)}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            q["quote"]["rental"].as_i64(),
            q["quote"]["service_fee"].as_i64(),
            q["quote"]["total"].as_i64(),
            q["available"].as_bool()
        ),
        (Some(3750), Some(375), Some(4125), Some(true)),
        "the rental and the fee; the deposit is held, not charged"
    );

    let resp = book(api, &renter_t, &listing, day(10), day(13), None).await;
    assert_eq!(resp.status(), 201);
    let booking: Value = resp.json().await.unwrap();
    let id = booking["id"].as_str().unwrap().to_owned();
    assert_eq!(booking["status"], "requested");
    assert_eq!((booking["quote"]["total"].as_i64(), booking["quote"]["deposit"].as_i64()), (Some(4125), Some(5000)));
    assert_eq!(unavailable(api, &listing).await, vec![(day(10).to_string(), day(13).to_string())]);

    // The owner cannot book their own listing; a stranger sees nothing and can do nothing.
    assert_eq!(code(book(api, &owner_t, &listing, day(20), day(22), None).await).await, (409, "own_listing".into()));
    assert_eq!(http().get(format!("{api}/bookings/{id}")).bearer_auth(&stranger_t).send().await.unwrap().status(), 404);
    for action in ["accept", "decline"] {
        assert_eq!(code(act(api, &stranger_t, &id, action, None).await).await.0, 404);
    }
    assert_eq!(code(act(api, &stranger_t, &id, "cancel", Some(json!({"reason": "mine"}))).await).await.0, 404);
    for role in ["renter", "owner"] {
        let v: Value = http()
            .get(format!("{api}/bookings?role={role}"))
            .bearer_auth(&stranger_t)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["items"], json!([]), "{role}");
    }
    // The renter may not accept their own request.
    assert_eq!(code(act(api, &renter_t, &id, "accept", None).await).await, (403, "forbidden".into()));

    let accepted: Value = act(api, &owner_t, &id, "accept", None).await.json().await.unwrap();
    assert_eq!(accepted["status"], "pending_payment");
    assert_eq!(code(act(api, &owner_t, &id, "accept", None).await).await, (409, "booking_is_pending_payment".into()));

    // Payment succeeded: confirmed through the same shared function the payment worker calls.
    let config = aws_config(&env().aws_endpoint).await;
    let store =
        shared::adapters::dynamodb::DynamoTable::new(aws_sdk_dynamodb::Client::new(&config), env().reference("Table"));
    let booking_id = shared::domain::booking::BookingId::parse(&id).unwrap();
    let confirmed = shared::bookings::confirm_payment(&store, &booking_id, Utc::now()).await.unwrap();
    assert_eq!(confirmed.status, shared::domain::booking::BookingStatus::Confirmed);

    let owner_view: Value = http()
        .get(format!("{api}/bookings?role=owner&status=confirmed"))
        .bearer_auth(&owner_t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(owner_view["items"][0]["id"], id.as_str());

    assert_eq!(
        code(act(api, &renter_t, &id, "cancel", Some(json!({"reason": ""}))).await).await,
        (400, "validation_failed".into())
    );
    let cancelled: Value =
        act(api, &renter_t, &id, "cancel", Some(json!({"reason": "Plans changed"}))).await.json().await.unwrap();
    assert_eq!((cancelled["status"].as_str(), cancelled["cancelled_by"].as_str()), (Some("cancelled"), Some("renter")));
    assert!(unavailable(api, &listing).await.is_empty(), "cancelling released the days");
    assert_eq!(code(act(api, &owner_t, &id, "decline", None).await).await, (409, "booking_is_cancelled".into()));

    // Both parties were told about every move, once each, newest first.
    for (t, who) in [(&renter_t, "renter"), (&owner_t, "owner")] {
        let kinds = eventually(Duration::from_secs(30), "notifications", || async {
            let v: Value =
                http().get(format!("{api}/me/notifications")).bearer_auth(t).send().await.ok()?.json().await.ok()?;
            // The owner's own payout news (onboarding) is not about this booking.
            let kinds: Vec<String> = v["items"]
                .as_array()?
                .iter()
                .filter_map(|n| n["type"].as_str().filter(|k| k.starts_with("booking.")).map(str::to_owned))
                .collect();
            (kinds.len() >= 4).then_some(kinds)
        })
        .await;
        assert_eq!(
            kinds,
            vec!["booking.cancelled", "booking.confirmed", "booking.accepted", "booking.requested"],
            "{who}"
        );
    }
    // Once archived, the listing stays readable by its past renter, and only by them.
    let resp = http().delete(format!("{api}/listings/{listing}")).bearer_auth(&owner_t).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(
        http().get(format!("{api}/listings/{listing}")).bearer_auth(&renter_t).send().await.unwrap().status(),
        200,
        "past renter"
    );
    assert_eq!(
        http().get(format!("{api}/listings/{listing}")).bearer_auth(&stranger_t).send().await.unwrap().status(),
        404
    );
    assert_eq!(http().get(format!("{api}/listings/{listing}")).send().await.unwrap().status(), 404);
    assert_eq!(
        code(book(api, &renter_t, &listing, day(30), day(32), None).await).await.0,
        404,
        "archived listings cannot be booked"
    );

    let v: Value = http()
        .get(format!("{api}/me/notifications?limit=1"))
        .bearer_auth(&renter_t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let nid = v["items"][0]["id"].as_str().unwrap().to_owned();
    let read: Value = http()
        .post(format!("{api}/me/notifications/{nid}/read"))
        .bearer_auth(&renter_t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read["read"], true);
    assert_eq!(
        http().post(format!("{api}/me/notifications/{nid}/read")).bearer_auth(&owner_t).send().await.unwrap().status(),
        404,
        "not the owner's"
    );
}

#[tokio::test]
async fn a_declined_request_frees_its_days_and_stays_declined() {
    let api = &env().api;
    let (owner, renter) = (new_user(), new_user());
    let (owner_t, renter_t) = (token(&owner).await, token(&renter).await);
    let listing = listing(api, &owner_t, "request", 14).await;
    let booking: Value = book(api, &renter_t, &listing, day(30), day(32), None).await.json().await.unwrap();
    let id = booking["id"].as_str().unwrap();
    assert_eq!(unavailable(api, &listing).await, vec![(day(30).to_string(), day(32).to_string())]);

    assert_eq!(code(act(api, &renter_t, id, "decline", None).await).await, (403, "forbidden".into()));
    let declined: Value = act(api, &owner_t, id, "decline", None).await.json().await.unwrap();
    assert_eq!(declined["status"], "declined");
    assert!(unavailable(api, &listing).await.is_empty(), "declining released the days");
    assert_eq!(code(act(api, &owner_t, id, "accept", None).await).await.0, 409, "a declined request stays declined");
}

#[tokio::test]
async fn idempotent_retries_blocks_and_bad_input() {
    let api = &env().api;
    let (owner_t, renter_t) = (token(&new_user()).await, token(&new_user()).await);
    let listing = listing(api, &owner_t, "instant", 30).await;
    let key = uuid::Uuid::new_v4().to_string();
    let first = book(api, &renter_t, &listing, day(5), day(8), Some(&key)).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["status"], "pending_payment");
    let retry = book(api, &renter_t, &listing, day(5), day(8), Some(&key)).await;
    assert_eq!(retry.status(), 201);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(retry.json::<Value>().await.unwrap()["id"], first["id"], "the same booking, not a second");
    assert_eq!(
        code(book(api, &renter_t, &listing, day(20), day(22), Some(&key)).await).await,
        (409, "idempotency_key_reused".into())
    );
    let mine: Value =
        http().get(format!("{api}/bookings")).bearer_auth(&renter_t).send().await.unwrap().json().await.unwrap();
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);

    // Owner blocks: not over held days; blocked days cannot be booked; unblocking frees them.
    let block = |start: NaiveDate, end: NaiveDate, method: reqwest::Method| {
        http()
            .request(method, format!("{api}/listings/{listing}/blocked-dates"))
            .bearer_auth(&owner_t)
            .json(&json!({"start_date": start, "end_date": end}))
            .send()
    };
    assert_eq!(
        code(block(day(7), day(10), reqwest::Method::POST).await.unwrap()).await,
        (409, "dates_unavailable".into())
    );
    assert_eq!(block(day(8), day(10), reqwest::Method::POST).await.unwrap().status(), 204);
    assert_eq!(
        unavailable(api, &listing).await,
        vec![(day(5).to_string(), day(10).to_string())],
        "held and blocked, merged"
    );
    assert_eq!(
        code(book(api, &renter_t, &listing, day(9), day(11), None).await).await,
        (409, "dates_unavailable".into())
    );
    assert_eq!(block(day(5), day(10), reqwest::Method::DELETE).await.unwrap().status(), 204);
    assert_eq!(
        unavailable(api, &listing).await,
        vec![(day(5).to_string(), day(8).to_string())],
        "the booking's days stay held"
    );
    // A range with no booked day (the days around a block are free ones) unblocks all at once.
    assert_eq!(block(day(12), day(15), reqwest::Method::POST).await.unwrap().status(), 204);
    assert_eq!(
        unavailable(api, &listing).await,
        vec![(day(5).to_string(), day(8).to_string()), (day(12).to_string(), day(15).to_string())]
    );
    assert_eq!(block(day(11), day(16), reqwest::Method::DELETE).await.unwrap().status(), 204);
    assert_eq!(
        unavailable(api, &listing).await,
        vec![(day(5).to_string(), day(8).to_string())],
        "the block is gone, the booking's days stay held"
    );
    let resp = http()
        .post(format!("{api}/listings/{listing}/blocked-dates"))
        .bearer_auth(&renter_t)
        .json(&json!({"start_date": day(40), "end_date": day(41)}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404, "only the owner blocks");

    for (start, end, what) in [
        (day(-2), day(1), "past"),
        (day(3), day(2), "inverted"),
        (day(400), day(402), "too far ahead"),
        (day(50), day(90), "over max_days"),
    ] {
        assert_eq!(
            code(book(api, &renter_t, &listing, start, end, None).await).await,
            (400, "validation_failed".into()),
            "{what}"
        );
    }
    let resp = http()
        .post(format!("{api}/bookings"))
        .bearer_auth(&renter_t)
        .json(&json!({"listing_id": listing, "start_date": day(50), "end_date": day(52), "extra": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(code(resp).await, (400, "unknown_field".into()));
    let resp = book(api, &renter_t, &uuid::Uuid::new_v4().to_string(), day(50), day(52), None).await;
    assert_eq!(code(resp).await, (404, "not_found".into()));
}

/// 50 renters race for overlapping days of one listing: exactly one wins, everyone else gets
/// 409 `dates_unavailable`, and availability shows only the winner's days. Then 20 disjoint
/// ranges, all at once, all succeed. Several rounds, each on a fresh listing.
#[tokio::test]
async fn no_double_booking_under_concurrency() {
    let api = env().api.clone();
    for round in 0..3 {
        let owner_t = token(&new_user()).await;
        let listing = listing(&api, &owner_t, "instant", 30).await;
        let mut renters = Vec::new();
        for _ in 0..50 {
            renters.push(token(&new_user()).await);
        }
        let mut tasks = tokio::task::JoinSet::new();
        for (i, t) in renters.iter().enumerate() {
            // Every range contains day 20; lengths and starts differ (1 to 30 days).
            let (start, end) = (day(20 - (i as i64 % 7)), day(21 + (i as i64 * 3) % 23));
            let (api, t, listing) = (api.clone(), t.clone(), listing.clone());
            tasks.spawn(async move {
                let resp = book(&api, &t, &listing, start, end, None).await;
                let status = resp.status().as_u16();
                let body: Value = resp.json().await.unwrap_or(Value::Null);
                (status, body, start, end)
            });
        }
        let mut won = Vec::new();
        let mut lost = 0;
        while let Some(r) = tasks.join_next().await {
            let (status, body, start, end) = r.unwrap();
            match status {
                201 => won.push((start, end)),
                409 => {
                    assert_eq!(body["code"], "dates_unavailable", "round {round}: {body}");
                    lost += 1;
                }
                other => panic!("round {round}: unexpected {other}: {body}"),
            }
        }
        assert_eq!((won.len(), lost), (1, 49), "round {round}: exactly one booking wins");
        let (start, end) = won[0];
        assert_eq!(unavailable(&api, &listing).await, vec![(start.to_string(), end.to_string())], "round {round}");

        let mut tasks = tokio::task::JoinSet::new();
        for (i, t) in renters.iter().take(20).enumerate() {
            let (s, e) = (day(60 + i as i64 * 3), day(62 + i as i64 * 3));
            let (api, t, listing) = (api.clone(), t.clone(), listing.clone());
            tasks.spawn(async move { book(&api, &t, &listing, s, e, None).await.status().as_u16() });
        }
        let mut statuses = Vec::new();
        while let Some(r) = tasks.join_next().await {
            statuses.push(r.unwrap());
        }
        assert!(statuses.iter().all(|s| *s == 201), "round {round}: disjoint ranges all book: {statuses:?}");
        assert_eq!(unavailable(&api, &listing).await.len(), 21, "round {round}");
    }
}

/// Holds expire by the scheduled function, run with a clock set by the test (a stack of its
/// own: expiring "everything due in 25 hours" must not touch other tests' holds).
#[tokio::test]
async fn holds_expire_on_schedule_and_release_their_days() {
    let runner = PrivateRunner::start("expiry").await;
    let api = runner.api.clone();
    let (owner_t, renter_t) =
        (token_for(&api, json!({"sub": new_user()})).await, token_for(&api, json!({"sub": new_user()})).await);
    let instant = listing(&api, &owner_t, "instant", 10).await;
    let request = listing(&api, &owner_t, "request", 10).await;
    let paying: Value = book(&api, &renter_t, &instant, day(3), day(5), None).await.json().await.unwrap();
    let asking: Value = book(&api, &renter_t, &request, day(3), day(5), None).await.json().await.unwrap();

    let run = |at: chrono::DateTime<Utc>| run_scheduled(&api, "ExpireHoldsFunction", at);
    let status = |id: String, t: String| {
        let api = api.clone();
        async move {
            http()
                .get(format!("{api}/bookings/{id}"))
                .bearer_auth(t)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()["status"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let (pid, rid) = (paying["id"].as_str().unwrap().to_owned(), asking["id"].as_str().unwrap().to_owned());

    run(Utc::now() + chrono::Duration::minutes(29)).await;
    assert_eq!(status(pid.clone(), renter_t.clone()).await, "pending_payment", "30 minutes not over");
    let r = run(Utc::now() + chrono::Duration::minutes(31)).await;
    assert_eq!(r["expired"], 1, "{r}");
    assert_eq!(status(pid.clone(), renter_t.clone()).await, "expired");
    assert!(unavailable(&api, &instant).await.is_empty(), "expiry released the days");
    assert_eq!(status(rid.clone(), renter_t.clone()).await, "requested", "24 hours not over");

    // Two runs at once: the hold expires once, the other run finds nothing left to do.
    let at = Utc::now() + chrono::Duration::hours(25);
    let (a, b) = tokio::join!(run(at), run(at));
    assert_eq!(a["expired"].as_i64().unwrap() + b["expired"].as_i64().unwrap(), 1, "{a} {b}");
    assert_eq!(status(rid.clone(), renter_t.clone()).await, "expired");
    assert!(unavailable(&api, &request).await.is_empty());
    // Expired bookings cannot be accepted any more.
    assert_eq!(code(act(&api, &owner_t, &rid, "accept", None).await).await, (409, "booking_is_expired".into()));
}

#[tokio::test]
async fn a_confirmed_booking_completes_after_its_end_date_and_frees_its_days() {
    let runner = PrivateRunner::start("completion").await;
    let api = runner.api.clone();
    let (owner_t, renter_t) =
        (token_for(&api, json!({"sub": new_user()})).await, token_for(&api, json!({"sub": new_user()})).await);
    let instant = listing(&api, &owner_t, "instant", 10).await;
    let booking: Value = book(&api, &renter_t, &instant, day(3), day(5), None).await.json().await.unwrap();
    let id = booking["id"].as_str().unwrap().to_owned();

    // Paid: confirmed through the function the payment worker calls, on this runner's stack.
    let config = aws_config(&env().aws_endpoint).await;
    let store =
        shared::adapters::dynamodb::DynamoTable::new(aws_sdk_dynamodb::Client::new(&config), runner.reference("Table"));
    let booking_id = shared::domain::booking::BookingId::parse(&id).unwrap();
    shared::bookings::confirm_payment(&store, &booking_id, Utc::now()).await.unwrap();

    let run = |at: chrono::DateTime<Utc>| run_scheduled(&api, "CompleteBookingsFunction", at);
    assert_eq!(run(Utc::now() + chrono::Duration::days(4)).await["completed"], 0, "still renting");
    assert_eq!(run(Utc::now() + chrono::Duration::days(6)).await["completed"], 1);
    let v: Value =
        http().get(format!("{api}/bookings/{id}")).bearer_auth(&renter_t).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["status"], "completed");
    assert!(unavailable(&api, &instant).await.is_empty(), "a completed booking holds no days");
}
