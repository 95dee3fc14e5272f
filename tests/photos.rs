//! Photos end to end: presign -> PUT the bytes straight to S3 (moto) with a plain HTTP client
//! -> moto's S3 notification -> the image function -> the photo is ready with three WebP
//! renditions of the right sizes; a text file sent as a JPEG is rejected; a repeated S3 event
//! does nothing twice; only the owner manages photos.

use std::time::Duration;

use integration_tests::{env, eventually, http, new_user, token};
use serde_json::{json, Value};

fn jpeg(w: u16, h: u16) -> Vec<u8> {
    let mut pixels = Vec::with_capacity(usize::from(w) * usize::from(h) * 3);
    for y in 0..h {
        for x in 0..w {
            pixels.extend_from_slice(&[(x % 256) as u8, (y % 256) as u8, ((x ^ y) % 256) as u8]);
        }
    }
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 85).encode(&pixels, w, h, jpeg_encoder::ColorType::Rgb).unwrap();
    out
}

async fn listing(owner: &str) -> String {
    integration_tests::onboard(owner).await;
    let body = json!({
        "title": "Camera", "category": "cameras", "location": {"city": "Berlin", "country": "DE"},
        "daily_price": {"amount": 3000, "currency": "EUR"}, "deposit": {"amount": 20000, "currency": "EUR"},
        "min_days": 1, "max_days": 7, "booking_mode": "request", "status": "active"
    });
    let resp = http().post(env().url("/listings")).bearer_auth(owner).json(&body).send().await.unwrap();
    resp.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

async fn presign(owner: &str, listing: &str, content_type: &str, size: usize) -> reqwest::Response {
    http()
        .post(env().url(&format!("/listings/{listing}/photos")))
        .bearer_auth(owner)
        .json(&json!({"content_type": content_type, "size_bytes": size}))
        .send()
        .await
        .unwrap()
}

/// Uploads like a browser: PUT with exactly the headers the server returned.
async fn upload(owner: &str, listing: &str, content_type: &str, bytes: Vec<u8>) -> String {
    let resp = presign(owner, listing, content_type, bytes.len()).await;
    assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
    let v: Value = resp.json().await.unwrap();
    let url = v["upload"]["url"].as_str().unwrap();
    assert_eq!(v["upload"]["method"], "PUT");
    // The signature covers the type and the length: another file cannot be sent with it.
    let signed = url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "X-Amz-SignedHeaders")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    assert!(
        signed.split(';').any(|h| h == "content-type") && signed.split(';').any(|h| h == "content-length"),
        "signed headers: {signed}"
    );
    assert!(url.contains(&format!("uploads/listings/{listing}/")), "the server chose the key: {url}");
    let mut put = reqwest::Client::new().put(url).body(bytes);
    for (k, val) in v["upload"]["headers"].as_object().unwrap() {
        put = put.header(k.as_str(), val.as_str().unwrap());
    }
    let r = put.send().await.unwrap();
    assert!(r.status().is_success(), "PUT to S3: {}", r.status());
    v["photo_id"].as_str().unwrap().to_owned()
}

async fn photos(token: Option<&str>, listing: &str) -> Vec<Value> {
    let mut req = http().get(env().url(&format!("/listings/{listing}/photos")));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap().json::<Value>().await.unwrap()["items"].as_array().unwrap().clone()
}

/// Hands the image function the S3 event of an upload to `key` directly (what moto's bucket
/// notification would deliver), returning the runner's invoke answer.
async fn process_upload_event(key: &str) -> Value {
    let event = json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "eu-central-1", "eventTime": "2026-11-21T12:00:00.000Z",
        "eventName": "ObjectCreated:Put", "userIdentity": {"principalId": "local"}, "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {}, "s3": {"s3SchemaVersion": "1.0", "configurationId": "local",
            "bucket": {"name": env().reference("UploadsBucket"), "ownerIdentity": {"principalId": "local"}, "arn": "arn:aws:s3:::x"},
            "object": {"key": key.replace('/', "%2F"), "size": 1, "eTag": "x", "sequencer": "0"}}
    }]});
    http()
        .post(env().url("/_local/functions/ProcessPhotoFunction/invoke"))
        .json(&event)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn finished(owner: &str, listing: &str, photo: &str) -> Value {
    eventually(Duration::from_secs(60), "the image function to finish the photo", || async {
        photos(Some(owner), listing).await.into_iter().find(|p| p["id"] == photo && p["status"] != "pending_upload")
    })
    .await
}

#[tokio::test]
async fn upload_becomes_ready_with_three_renditions_once() {
    let owner = token(&new_user()).await;
    let listing = listing(&owner).await;
    let photo = upload(&owner, &listing, "image/jpeg", jpeg(1600, 1200)).await;
    let ready = finished(&owner, &listing, &photo).await;
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!((ready["width"].as_u64(), ready["height"].as_u64()), (Some(1600), Some(1200)));
    let expected = [("thumb", 400, 300), ("medium", 1024, 768), ("large", 1600, 1200)];
    let mut stamps = Vec::new();
    for (name, w, h) in expected {
        let r = &ready["renditions"][name];
        assert_eq!((r["width"].as_u64(), r["height"].as_u64()), (Some(w), Some(h)), "{name}");
        let resp = http().get(r["url"].as_str().unwrap()).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{name}");
        assert_eq!(resp.headers()["content-type"], "image/webp");
        assert_eq!(resp.headers()["cache-control"], "public, max-age=31536000, immutable");
        stamps.push(resp.headers()["last-modified"].to_str().unwrap().to_owned());
        let bytes = resp.bytes().await.unwrap();
        let size = imagesize::blob_size(&bytes).unwrap();
        assert_eq!((size.width as u64, size.height as u64), (w, h), "{name}: the file itself");
    }
    // The public sees it, and the listing includes it. The listing is read with its photos in
    // one query over its partition, which also holds its days: blocked days must not get in.
    let from = chrono::Utc::now().date_naive() + chrono::Days::new(10);
    let block = json!({"start_date": from.to_string(), "end_date": (from + chrono::Days::new(3)).to_string()});
    let r = http()
        .post(env().url(&format!("/listings/{listing}/blocked-dates")))
        .bearer_auth(&owner)
        .json(&block)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204, "{:?}", r.text().await);
    assert_eq!(photos(None, &listing).await.len(), 1);
    let r = http().get(env().url(&format!("/listings/{listing}"))).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let l: Value = r.json().await.unwrap();
    assert_eq!(l["id"], listing.as_str());
    assert_eq!(l["photos"].as_array().map(Vec::len), Some(1), "{l}");
    assert_eq!(l["photos"][0]["id"], photo.as_str());

    // The same S3 event again (at-least-once delivery): nothing is redone, nothing changes.
    let key = format!("uploads/listings/{listing}/{photo}");
    let r = process_upload_event(&key).await;
    assert!(r.get("error").is_none(), "{r}");
    let again = photos(Some(&owner), &listing).await.into_iter().find(|p| p["id"] == photo).unwrap();
    assert_eq!(again, ready, "state unchanged");
    for ((name, ..), before) in expected.iter().zip(stamps) {
        let resp = http().head(ready["renditions"][name]["url"].as_str().unwrap()).send().await.unwrap();
        assert_eq!(resp.headers()["last-modified"].to_str().unwrap(), before, "{name} was not rewritten");
    }

    // Cover and position, then delete: the record and every object go.
    let r = http()
        .patch(env().url(&format!("/listings/{listing}/photos/{photo}")))
        .bearer_auth(&owner)
        .json(&json!({"is_cover": true, "position": 3}))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!((v["is_cover"].as_bool(), v["position"].as_u64()), (Some(true), Some(3)));
    // The answer is computed from the patch; what is stored must say the same.
    let stored = photos(Some(&owner), &listing).await.into_iter().find(|p| p["id"] == photo.as_str()).unwrap();
    assert_eq!((stored["is_cover"].as_bool(), stored["position"].as_u64()), (Some(true), Some(3)), "{stored}");
    assert_eq!(stored["updated_at"], v["updated_at"]);
    let r = http()
        .patch(env().url(&format!("/listings/{listing}/photos/{photo}")))
        .bearer_auth(&owner)
        .json(&json!({"is_cover": false}))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!((v["is_cover"].as_bool(), v["position"].as_u64()), (Some(false), Some(3)));
    let stored = photos(Some(&owner), &listing).await.into_iter().find(|p| p["id"] == photo.as_str()).unwrap();
    assert_eq!(stored["is_cover"].as_bool(), Some(false), "{stored}");
    let r = http()
        .delete(env().url(&format!("/listings/{listing}/photos/{photo}")))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(photos(Some(&owner), &listing).await.is_empty());
    let gone = http().get(ready["renditions"]["thumb"]["url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(gone.status(), 404, "renditions are deleted");
}

#[tokio::test]
async fn a_text_file_sent_as_a_jpeg_is_rejected_not_retried() {
    let owner = token(&new_user()).await;
    let listing = listing(&owner).await;
    let photo = upload(&owner, &listing, "image/jpeg", b"Dear owner, this is not a photograph at all.".to_vec()).await;
    let rejected = finished(&owner, &listing, &photo).await;
    assert_eq!(
        (rejected["status"].as_str(), rejected["rejection_reason"].as_str()),
        (Some("rejected"), Some("not_an_image"))
    );
    assert!(photos(None, &listing).await.is_empty(), "the public sees ready photos only");
}

#[tokio::test]
async fn only_the_owner_manages_photos_and_twenty_is_the_limit() {
    let owner = token(&new_user()).await;
    let stranger = token(&new_user()).await;
    let listing = listing(&owner).await;
    assert_eq!(presign(&stranger, &listing, "image/jpeg", 1000).await.status(), 404);
    let bad = presign(&owner, &listing, "image/gif", 1000).await;
    assert_eq!(bad.status(), 400);
    assert_eq!(presign(&owner, &listing, "image/png", 21 * 1024 * 1024).await.status(), 400);
    let mut ids = Vec::new();
    for _ in 0..20 {
        let r = presign(&owner, &listing, "image/webp", 5000).await;
        assert_eq!(r.status(), 201);
        ids.push(r.json::<Value>().await.unwrap()["photo_id"].as_str().unwrap().to_owned());
    }
    let r = presign(&owner, &listing, "image/webp", 5000).await;
    assert_eq!(r.status(), 409);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "too_many_photos");
    let positions: Vec<_> =
        photos(Some(&owner), &listing).await.iter().map(|p| p["position"].as_u64().unwrap()).collect();
    assert_eq!(positions, (0..20).collect::<Vec<u64>>(), "each new photo goes after those before it");
    let missing = env().url(&format!("/listings/{listing}/photos/{}", uuid::Uuid::new_v4()));
    assert_eq!(
        http().patch(&missing).bearer_auth(&owner).json(&json!({"is_cover": true})).send().await.unwrap().status(),
        404
    );
    assert_eq!(http().delete(&missing).bearer_auth(&owner).send().await.unwrap().status(), 404);
    let url = env().url(&format!("/listings/{listing}/photos/{}", ids[0]));
    assert_eq!(http().delete(&url).bearer_auth(&stranger).send().await.unwrap().status(), 404);
    assert_eq!(
        http().patch(&url).bearer_auth(&stranger).json(&json!({"is_cover": true})).send().await.unwrap().status(),
        404
    );
    assert_eq!(http().delete(&url).bearer_auth(&owner).send().await.unwrap().status(), 204);
    let r = presign(&owner, &listing, "image/webp", 5000).await;
    assert_eq!(r.status(), 201, "a slot is free again");
    let id = r.json::<Value>().await.unwrap()["photo_id"].as_str().unwrap().to_owned();
    let last = photos(Some(&owner), &listing).await.pop().unwrap();
    assert_eq!((last["id"].as_str(), last["position"].as_u64()), (Some(id.as_str()), Some(19)), "after the 19 left");
}

#[tokio::test]
async fn an_event_for_an_original_never_uploaded_is_dropped_not_retried() {
    // Presigned but never uploaded (or deleted before processing): S3 must answer 404, which
    // the function's role earns with s3:ListBucket (without it S3 says 403, a retried error).
    let owner = token(&new_user()).await;
    let listing = listing(&owner).await;
    let resp = presign(&owner, &listing, "image/jpeg", 1000).await;
    assert_eq!(resp.status(), 201);
    let photo = resp.json::<Value>().await.unwrap()["photo_id"].as_str().unwrap().to_owned();
    let key = format!("uploads/listings/{listing}/{photo}");
    let r = process_upload_event(&key).await;
    assert!(r.get("error").is_none(), "a missing original is no error: {r}");
    let still = photos(Some(&owner), &listing).await.into_iter().find(|p| p["id"] == photo.as_str()).unwrap();
    assert_eq!(still["status"], "pending_upload", "nothing to process yet");
}
