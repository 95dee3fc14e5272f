//! The booking's middle over HTTP on a private stack (its scheduled tasks run with a set
//! clock): pickup by the renter's code, wrong codes locked out, the pickup window, an overdue
//! item flagged once, the return by the owner's code releasing the days, completion once the
//! claim window closed (counted on both members' public profiles), and both parties told of
//! each step.

use super::*;

/// The store of `runner`'s stack, to confirm a payment as the payment worker does.
async fn confirm(runner: &PrivateRunner, id: &str) {
    let config = aws_config(&env().aws_endpoint).await;
    let store =
        shared::adapters::dynamodb::DynamoTable::new(aws_sdk_dynamodb::Client::new(&config), runner.reference("Table"));
    let booking_id = shared::domain::booking::BookingId::parse(id).unwrap();
    shared::bookings::confirm_payment(&store, &booking_id, Utc::now()).await.unwrap();
}

async fn get(api: &str, token: &str, id: &str) -> Value {
    http().get(format!("{api}/bookings/{id}")).bearer_auth(token).send().await.unwrap().json().await.unwrap()
}

async fn booked(api: &str, token: &str, listing: &str, from: i64, to: i64) -> String {
    let v: Value = book(api, token, listing, day(from), day(to), None).await.json().await.unwrap();
    v["id"].as_str().unwrap().to_owned()
}

fn not(code: &str) -> String {
    if code == "000000" { "000001" } else { "000000" }.to_owned()
}

#[tokio::test]
async fn pickup_by_code_overdue_return_and_completion() {
    let runner = PrivateRunner::start("handover").await;
    let api = runner.api.clone();
    let (owner, renter) = (new_user(), new_user());
    let [owner_t, renter_t, stranger_t] = [
        token_for(&api, json!({"sub": owner})).await,
        token_for(&api, json!({"sub": renter, "name": "Rita", "email": "rita@example.com", "email_verified": true}))
            .await,
        token_for(&api, json!({"sub": new_user()})).await,
    ];
    let profile = |user: String| {
        let api = api.clone();
        async move { http().get(format!("{api}/users/{user}")).send().await.unwrap() }
    };
    assert_eq!(profile(renter.clone()).await.status(), 404, "no profile before the first GET /me");
    assert_eq!(http().get(format!("{api}/me")).bearer_auth(&renter_t).send().await.unwrap().status(), 200);
    let (tent, stove) = (listing(&api, &owner_t, "instant", 10).await, listing(&api, &owner_t, "instant", 10).await);
    // Starts tomorrow, so the pickup is open now (from 00:00 UTC today).
    let id = booked(&api, &renter_t, &tent, 1, 3).await;
    let later = booked(&api, &renter_t, &tent, 5, 7).await;
    // Ends at day 4: later than any clock below but the last, whatever the time of day.
    let locked = booked(&api, &renter_t, &stove, 1, 4).await;
    let pickup = |t: &str, b: &str, c: &str| {
        let (t, b, c) = (t.to_owned(), b.to_owned(), c.to_owned());
        let api = api.clone();
        async move { act(&api, &t, &b, "pickup", Some(json!({ "code": c }))).await }
    };
    assert_eq!(get(&api, &renter_t, &id).await["handover"].get("code"), None, "no code before payment");
    for b in [&id, &later, &locked] {
        confirm(&runner, b).await;
    }

    // The renter holds the pickup code; the owner has none yet.
    let code_of = |v: &Value| v["handover"]["code"].as_str().map(str::to_owned);
    let pickup_code = code_of(&get(&api, &renter_t, &id).await).expect("the renter's pickup code");
    assert!(pickup_code.len() == 6 && pickup_code.bytes().all(|b| b.is_ascii_digit()), "{pickup_code}");
    assert_eq!(code_of(&get(&api, &owner_t, &id).await), None);
    assert_eq!(code(pickup(&stranger_t, &id, &pickup_code).await).await.0, 404);
    assert_eq!(code(pickup(&renter_t, &id, &pickup_code).await).await, (403, "forbidden".into()));
    let early_code = code_of(&get(&api, &renter_t, &later).await).unwrap();
    assert_eq!(code(pickup(&owner_t, &later, &early_code).await).await, (409, "pickup_not_open".into()));

    // Five wrong codes lock the handover for 15 minutes; then even the right code waits.
    let stove_code = code_of(&get(&api, &renter_t, &locked).await).unwrap();
    for _ in 0..4 {
        assert_eq!(code(pickup(&owner_t, &locked, &not(&stove_code)).await).await, (400, "validation_failed".into()));
    }
    let resp = pickup(&owner_t, &locked, &not(&stove_code)).await;
    let retry: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((890..=900).contains(&retry), "{retry}");
    assert_eq!(code(resp).await, (429, "too_many_requests".into()));
    assert_eq!(code(pickup(&owner_t, &locked, &stove_code).await).await.0, 429);
    assert_eq!(get(&api, &owner_t, &locked).await["status"], "confirmed");

    // The right code: in progress, and the owner now holds the return code.
    let resp = pickup(&owner_t, &id, &pickup_code).await;
    assert_eq!(resp.status(), 200);
    let out: Value = resp.json().await.unwrap();
    assert_eq!(out["status"], "in_progress");
    let return_code = code_of(&out).expect("the owner's return code");
    assert_eq!(code_of(&get(&api, &owner_t, &id).await).as_deref(), Some(return_code.as_str()));
    assert_eq!(code_of(&get(&api, &renter_t, &id).await), None, "the renter never sees the return code");
    assert_eq!(code(pickup(&owner_t, &id, &pickup_code).await).await, (409, "booking_is_in_progress".into()));

    // Not back 2 h after the end: flagged once.
    let end = day(3).and_hms_opt(0, 0, 0).unwrap().and_utc();
    let flag = |at| run_scheduled(&api, "FlagLateReturnsFunction", at);
    assert_eq!(flag(end + chrono::Duration::minutes(119)).await["flagged"], 0, "within the grace");
    assert_eq!(flag(end + chrono::Duration::minutes(121)).await["flagged"], 1);
    assert_eq!(flag(end + chrono::Duration::minutes(180)).await["due"], 0, "flagged once");
    assert!(get(&api, &renter_t, &id).await["handover"]["overdue_since"].is_string());

    // The renter returns with the owner's code; the days are free again.
    let give_back = |t: &str, body: Value| {
        let (t, api, id) = (t.to_owned(), api.clone(), id.clone());
        async move { act(&api, &t, &id, "return", Some(body)).await }
    };
    assert_eq!(code(give_back(&renter_t, json!({})).await).await, (400, "validation_failed".into()));
    let back: Value = give_back(&renter_t, json!({ "code": return_code })).await.json().await.unwrap();
    assert_eq!(
        (back["status"].as_str(), back["handover"]["return_confirmed_by"].as_str()),
        (Some("returned"), Some("renter"))
    );
    assert_eq!(back["handover"]["late_days"], 0, "back before the end");
    let held = unavailable(&api, &tent).await;
    assert_eq!(held, vec![(day(5).to_string(), day(7).to_string())], "only the later booking holds days");
    assert_eq!(code(give_back(&owner_t, json!({})).await).await, (409, "booking_is_returned".into()));

    // Completed once the 48-hour claim window has closed.
    let complete = |at| run_scheduled(&api, "CompleteBookingsFunction", at);
    assert_eq!(complete(Utc::now() + chrono::Duration::hours(47)).await["completed"], 0, "the window is open");
    assert_eq!(complete(Utc::now() + chrono::Duration::hours(49)).await["completed"], 1);
    assert_eq!(get(&api, &owner_t, &id).await["status"], "completed");

    // The rental counts once on each member's public profile, which shows nothing private.
    let resp = profile(renter.clone()).await;
    assert_eq!(resp.headers()["cache-control"], "public, max-age=30");
    let public: Value = resp.json().await.unwrap();
    assert_eq!((public["display_name"].as_str(), public["verified"]["email"].as_bool()), (Some("Rita"), Some(true)));
    assert_eq!(public["completed_rentals"], json!({"as_renter": 1, "as_owner": 0}));
    assert!(!public.to_string().contains("rita@"), "{public}");
    let public: Value = profile(owner.clone()).await.json().await.unwrap();
    assert_eq!(public["completed_rentals"], json!({"as_renter": 0, "as_owner": 1}));
    assert_eq!(public["verified"], json!({"email": false, "payout_identity": true}), "onboarded with Stripe");
    // The stove, paid and never picked up, completes at its end without counting.
    assert_eq!(complete(Utc::now() + chrono::Duration::hours(97)).await["completed"], 1);
    assert_eq!(get(&api, &owner_t, &locked).await["status"], "completed");
    let public: Value = profile(renter.clone()).await.json().await.unwrap();
    assert_eq!(public["completed_rentals"], json!({"as_renter": 1, "as_owner": 0}), "counted once");

    // Both parties were told of each step of the stay.
    for t in [&renter_t, &owner_t] {
        let mut kinds = eventually(Duration::from_secs(30), "handover notifications", || async {
            let v: Value =
                http().get(format!("{api}/me/notifications")).bearer_auth(t).send().await.ok()?.json().await.ok()?;
            let kinds: Vec<String> = v["items"]
                .as_array()?
                .iter()
                .filter(|n| n["booking_id"] == id.as_str())
                .filter_map(|n| n["type"].as_str().map(str::to_owned))
                .collect();
            (kinds.len() >= 6).then_some(kinds)
        })
        .await;
        // Sorted: the scheduled runs' events carry their set clocks, in the future.
        kinds.sort();
        assert_eq!(
            kinds,
            [
                "booking.completed",
                "booking.confirmed",
                "booking.picked_up",
                "booking.requested",
                "booking.return_overdue",
                "booking.returned",
            ]
        );
    }
}
