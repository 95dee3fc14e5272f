//! Reviews over HTTP on the shared stack: refused before the return, blind until both parties
//! wrote theirs (then both public at once, rated once on the listing and both profiles), a
//! stranger and a second review refused, the other party asked for theirs, and a review left
//! alone published when its window closes by the scheduled task, once however often it runs.

use super::*;

async fn review(api: &str, token: &str, booking: &str, rating: i64, text: &str) -> reqwest::Response {
    let body = json!({ "rating": rating, "text": text });
    http().post(format!("{api}/bookings/{booking}/reviews")).bearer_auth(token).json(&body).send().await.unwrap()
}

async fn get_json(url: String) -> Value {
    http().get(url).send().await.unwrap().json().await.unwrap()
}

async fn texts(url: String) -> Vec<String> {
    let v = get_json(url).await;
    v["items"].as_array().unwrap().iter().map(|r| r["text"].as_str().unwrap().to_owned()).collect()
}

/// A paid stay of `listing` from tomorrow, picked up and returned now: its id.
async fn returned_stay(api: &str, owner_t: &str, renter_t: &str, listing: &str) -> String {
    let booked: Value = book(api, renter_t, listing, day(1), day(3), None).await.json().await.unwrap();
    let id = booked["id"].as_str().unwrap().to_owned();
    let config = aws_config(&env().aws_endpoint).await;
    let store =
        shared::adapters::dynamodb::DynamoTable::new(aws_sdk_dynamodb::Client::new(&config), env().reference("Table"));
    let booking_id = shared::domain::booking::BookingId::parse(&id).unwrap();
    shared::bookings::confirm_payment(&store, &booking_id, Utc::now()).await.unwrap();
    assert_eq!(code(review(api, renter_t, &id, 5, "Too early").await).await, (409, "booking_not_finished".into()));
    let seen: Value =
        http().get(format!("{api}/bookings/{id}")).bearer_auth(renter_t).send().await.unwrap().json().await.unwrap();
    let pickup_code = seen["handover"]["code"].as_str().unwrap().to_owned();
    assert_eq!(act(api, owner_t, &id, "pickup", Some(json!({ "code": pickup_code }))).await.status(), 200);
    assert_eq!(act(api, owner_t, &id, "return", Some(json!({}))).await.status(), 200);
    id
}

#[tokio::test]
async fn blind_reviews_published_together_or_at_the_close_and_rated_once() {
    let api = &env().api;
    let (owner, renter) = (new_user(), new_user());
    let (owner_t, renter_t, stranger_t) = (token(&owner).await, token(&renter).await, token(&new_user()).await);
    for t in [&owner_t, &renter_t] {
        assert_eq!(http().get(format!("{api}/me")).bearer_auth(t).send().await.unwrap().status(), 200);
    }
    let tent = listing(api, &owner_t, "instant", 14).await;
    let id = returned_stay(api, &owner_t, &renter_t, &tent).await;
    let (tent_reviews, owner_reviews) =
        (format!("{api}/listings/{tent}/reviews"), format!("{api}/users/{owner}/reviews"));

    // The renter's review stays hidden, and the owner is asked for theirs.
    let resp = review(api, &renter_t, &id, 5, "Dry all week, easy pickup").await;
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.json::<Value>().await.unwrap()["status"], "hidden");
    assert_eq!(code(review(api, &renter_t, &id, 4, "Again").await).await, (409, "already_reviewed".into()));
    assert_eq!(review(api, &stranger_t, &id, 1, "Never rented it").await.status(), 404);
    assert_eq!(code(review(api, &owner_t, &id, 9, "Out of range").await).await, (400, "validation_failed".into()));
    assert!(texts(tent_reviews.clone()).await.is_empty(), "blind: nothing public yet");
    assert!(texts(owner_reviews.clone()).await.is_empty());
    let told = |t: String, kind: &'static str| async move {
        eventually(Duration::from_secs(30), kind, || async {
            let v: Value =
                http().get(format!("{api}/me/notifications")).bearer_auth(&t).send().await.ok()?.json().await.ok()?;
            v["items"].as_array()?.iter().any(|n| n["type"] == kind).then_some(())
        })
        .await
    };
    told(owner_t.clone(), "review.written").await;

    // The owner's review publishes both; each rates once.
    let resp = review(api, &owner_t, &id, 3, "Returned it a little muddy").await;
    assert_eq!(resp.json::<Value>().await.unwrap()["status"], "published");
    assert_eq!(texts(tent_reviews.clone()).await, ["Dry all week, easy pickup"]);
    assert_eq!(texts(owner_reviews).await, ["Dry all week, easy pickup"]);
    assert_eq!(texts(format!("{api}/users/{renter}/reviews")).await, ["Returned it a little muddy"]);
    let rating = |url: String| async move { get_json(url).await["rating"].clone() };
    assert_eq!(rating(format!("{api}/listings/{tent}")).await, json!({"average": 5.0, "count": 1}));
    assert_eq!(rating(format!("{api}/users/{owner}")).await, json!({"average": 5.0, "count": 1}));
    assert_eq!(rating(format!("{api}/users/{renter}")).await, json!({"average": 3.0, "count": 1}));
    told(renter_t.clone(), "review.published").await;

    // Search shows the rating and sorts by it: the rated tent before a newer unrated listing.
    let stove = listing(api, &owner_t, "instant", 14).await;
    let ranked = || async {
        let url = format!("{api}/listings?owner_id={owner}&sort=rating");
        let v: Value = http().get(url).send().await.ok()?.json().await.ok()?;
        let items = v["items"].as_array()?.clone();
        (items.len() == 2 && items[0]["rating"]["count"] == 1).then_some(items)
    };
    let items = eventually(Duration::from_secs(20), "the rating indexed", ranked).await;
    assert_eq!((items[0]["id"].as_str(), items[1]["id"].as_str()), (Some(tent.as_str()), Some(stove.as_str())));
    assert_eq!(
        (items[0]["rating"].clone(), items[1]["rating"].clone()),
        (json!({"average": 5.0, "count": 1}), json!({"average": null, "count": 0}))
    );

    // A review left alone is published when the window closes, once, however often the task runs.
    let lone = returned_stay(api, &owner_t, &renter_t, &stove).await;
    assert_eq!(review(api, &renter_t, &lone, 2, "Burner did not light").await.status(), 201);
    let closed = Utc::now() + chrono::Duration::days(15);
    let stove_reviews = format!("{api}/listings/{stove}/reviews");
    assert!(texts(stove_reviews.clone()).await.is_empty());
    for _ in 0..2 {
        run_scheduled(api, "PublishReviewsFunction", closed).await;
    }
    assert_eq!(texts(stove_reviews).await, ["Burner did not light"]);
    assert_eq!(rating(format!("{api}/listings/{stove}")).await, json!({"average": 2.0, "count": 1}), "counted once");
    assert_eq!(rating(format!("{api}/users/{owner}")).await, json!({"average": 3.5, "count": 2}));
    // Today the owner's window is still open (the task ran with a later clock): theirs goes
    // public at once, since the renter's is.
    let resp = review(api, &owner_t, &lone, 4, "Fine renter").await;
    assert_eq!(resp.json::<Value>().await.unwrap()["status"], "published");
    assert_eq!(rating(format!("{api}/users/{renter}")).await, json!({"average": 3.5, "count": 2}));

    // The owner answers the renter's review of the tent, once; only the owner may.
    let answer = |t: String, review_id: String, text: &'static str| async move {
        let url = format!("{api}/reviews/{review_id}/answer");
        http().post(url).bearer_auth(t).json(&json!({ "text": text })).send().await.unwrap()
    };
    let tent_review = format!("{id}.renter");
    assert_eq!(answer(renter_t.clone(), tent_review.clone(), "Me").await.status(), 403);
    assert_eq!(answer(owner_t.clone(), tent_review.clone(), "Glad it kept you dry").await.status(), 200);
    let again = answer(owner_t.clone(), tent_review.clone(), "Again").await;
    assert_eq!(code(again).await, (409, "already_answered".into()));
    let listed = get_json(tent_reviews.clone()).await;
    assert_eq!(
        (listed["items"][0]["id"].as_str(), listed["items"][0]["answer"]["text"].as_str()),
        (Some(tent_review.as_str()), Some("Glad it kept you dry"))
    );
    told(renter_t.clone(), "review.answered").await;

    // An operator removes the stove's review: gone from the lists, its stars taken back.
    let operator_t = token_for(api, json!({"sub": new_user(), "groups": ["operators"]})).await;
    let lone = lone.as_str();
    let remove = |t: String| async move {
        let url = format!("{api}/reviews/{lone}.renter/removal");
        http().post(url).bearer_auth(t).json(&json!({ "reason": "Off-topic" })).send().await.unwrap()
    };
    assert_eq!(remove(owner_t.clone()).await.status(), 403, "operators only");
    assert_eq!(remove(operator_t.clone()).await.status(), 200);
    assert_eq!(code(remove(operator_t).await).await, (409, "review_removed".into()));
    assert!(texts(format!("{api}/listings/{stove}/reviews")).await.is_empty());
    assert_eq!(rating(format!("{api}/listings/{stove}")).await, json!({"average": null, "count": 0}));
    assert_eq!(rating(format!("{api}/users/{owner}")).await, json!({"average": 5.0, "count": 1}));
    told(renter_t.clone(), "review.removed").await;
}
