//! Condition reports over HTTP on the shared stack (decision 0042): each party writes and
//! edits their report of the pickup while it is open, the return's opens at the pickup, the
//! other party is told, strangers read and write nothing while operators read, and a stage
//! closes a day after its handover.

use super::*;
use shared::ports::{BookingReader, BookingWriter};

async fn report(api: &str, token: &str, booking: &str, stage: &str, body: Value) -> reqwest::Response {
    http()
        .put(format!("{api}/bookings/{booking}/condition-reports/{stage}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn reports(api: &str, token: &str, booking: &str) -> reqwest::Response {
    http().get(format!("{api}/bookings/{booking}/condition-reports")).bearer_auth(token).send().await.unwrap()
}

#[tokio::test]
async fn parties_report_each_handover_while_it_is_open_and_strangers_see_nothing() {
    let api = &env().api;
    let (owner_t, renter_t, stranger_t) =
        (token(&new_user()).await, token(&new_user()).await, token(&new_user()).await);
    let operator_t = token_for(api, json!({"sub": new_user(), "groups": ["operators"]})).await;
    let camera = listing(api, &owner_t, "instant", 10).await;
    // Starts tomorrow: the pickup (and its reports) open at 00:00 UTC today.
    let booking: Value = book(api, &renter_t, &camera, day(1), day(3), None).await.json().await.unwrap();
    let id = booking["id"].as_str().unwrap().to_owned();
    let notes = |n: &str| json!({ "notes": n, "checklist": [{"item": "lens", "ok": true}, {"item": "strap", "ok": false, "note": "frayed"}] });
    assert_eq!(
        code(report(api, &renter_t, &id, "pickup", notes("before payment")).await).await,
        (409, "report_not_open".into())
    );

    let config = aws_config(&env().aws_endpoint).await;
    let store =
        shared::adapters::dynamodb::DynamoTable::new(aws_sdk_dynamodb::Client::new(&config), env().reference("Table"));
    let booking_id = shared::domain::booking::BookingId::parse(&id).unwrap();
    shared::bookings::confirm_payment(&store, &booking_id, Utc::now()).await.unwrap();

    let first = report(api, &renter_t, &id, "pickup", notes("as described")).await;
    assert_eq!(first.status(), 201);
    let edited = report(api, &renter_t, &id, "pickup", notes("as described; strap frayed")).await;
    assert_eq!(edited.status(), 200);
    let edited: Value = edited.json().await.unwrap();
    assert_eq!((edited["version"].as_u64(), edited["author"].as_str()), (Some(2), Some("renter")));
    assert_eq!(report(api, &owner_t, &id, "pickup", notes("all there")).await.status(), 201);
    assert_eq!(report(api, &stranger_t, &id, "pickup", notes("me")).await.status(), 404);
    assert_eq!(report(api, &operator_t, &id, "pickup", notes("ops")).await.status(), 404, "operators read only");
    let again = report(api, &owner_t, &id, "pickup", notes("all there")).await;
    assert_eq!(again.status(), 200, "a retried PUT");
    assert_eq!(again.json::<Value>().await.unwrap()["version"], 1, "is no new version");
    assert_eq!(
        code(report(api, &renter_t, &id, "return", notes("early")).await).await,
        (409, "report_not_open".into())
    );
    assert_eq!(
        code(report(api, &renter_t, &id, "pickup", json!({"notes": ""})).await).await,
        (400, "validation_failed".into())
    );
    assert_eq!(report(api, &renter_t, &id, "midway", notes("x")).await.status(), 404);

    for t in [&renter_t, &owner_t, &operator_t] {
        let v: Value = reports(api, t, &id).await.json().await.unwrap();
        let items = v["items"].as_array().unwrap();
        let authors: Vec<&str> = items.iter().map(|r| r["author"].as_str().unwrap()).collect();
        assert_eq!(authors, ["owner", "renter"], "both pickup reports");
        assert_eq!(items[1]["checklist"][1], json!({"item": "strap", "ok": false, "note": "frayed"}));
    }
    assert_eq!(reports(api, &stranger_t, &id).await.status(), 404);
    eventually(Duration::from_secs(30), "the owner told of the renter's report", || async {
        let v: Value =
            http().get(format!("{api}/me/notifications")).bearer_auth(&owner_t).send().await.ok()?.json().await.ok()?;
        v["items"]
            .as_array()?
            .iter()
            .any(|n| n["type"] == "booking.condition_reported" && n["booking_id"] == id.as_str())
            .then_some(())
    })
    .await;

    // Picked up: the return's reports open.
    let renters: Value =
        http().get(format!("{api}/bookings/{id}")).bearer_auth(&renter_t).send().await.unwrap().json().await.unwrap();
    let pickup_code = renters["handover"]["code"].as_str().unwrap();
    assert_eq!(act(api, &owner_t, &id, "pickup", Some(json!({ "code": pickup_code }))).await.status(), 200);
    assert_eq!(report(api, &renter_t, &id, "return", notes("strap came off")).await.status(), 201);

    // A day after the pickup (its time moved back in the store), the pickup's reports close.
    let back_in_time = |pickup: bool| {
        let (store, booking_id) = (store.clone(), booking_id.clone());
        async move {
            let now = store.get_booking(&booking_id).await.unwrap().unwrap();
            let mut earlier = now.clone();
            let at = Some(Utc::now() - chrono::Duration::hours(25));
            if pickup {
                earlier.handover.picked_up_at = at;
            } else {
                earlier.handover.returned_at = at;
            }
            earlier.version += 1;
            store.move_booking(&now, &earlier, None).await.unwrap();
        }
    };
    back_in_time(true).await;
    assert_eq!(code(report(api, &owner_t, &id, "pickup", notes("late")).await).await, (409, "report_closed".into()));
    let v: Value = reports(api, &owner_t, &id).await.json().await.unwrap();
    let closes = v["items"][0]["editable_until"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(closes).unwrap() < Utc::now(), "closed at {closes}");
    assert!(v["items"][2]["editable_until"].is_null(), "the return's open while the item is out");
    assert_eq!(report(api, &owner_t, &id, "return", notes("back soon")).await.status(), 201, "the return's still open");

    // Returned (the owner confirms), then a day on: the return's close too.
    assert_eq!(act(api, &owner_t, &id, "return", Some(json!({}))).await.status(), 200);
    assert_eq!(report(api, &owner_t, &id, "return", notes("back, lens hood cracked")).await.status(), 200);
    back_in_time(false).await;
    assert_eq!(code(report(api, &renter_t, &id, "return", notes("late")).await).await, (409, "report_closed".into()));
}
