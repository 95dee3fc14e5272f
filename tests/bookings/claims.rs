//! Damage claims (decision 0043), end to end on a private stack with the local Stripe: evidence
//! uploaded by presigned PUT and checked by its bytes (a PDF with JavaScript, an encrypted PDF
//! and a text file named .pdf refused with reasons, an empty file refused at the request); a
//! claim contested and decided by an operator, one accepted by the renter, one accepted by the
//! deadline; each settled by capturing from the deposit hold exactly once, the rest released,
//! and the hold kept while the claim is open; strangers read no claim and no evidence.

use super::deposits::{booked, code_of, deposit_becomes, get, get_json, notified, pay, stored_deposit, stripe};
use super::*;

/// A PDF of one page with `catalog` in its catalog and `trailer` in its trailer, its
/// cross-reference offsets right.
fn pdf(catalog: &str, trailer: &str) -> Vec<u8> {
    let objects = [
        format!("<< /Type /Catalog /Pages 2 0 R {catalog} >>"),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>".to_owned(),
    ];
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (n, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", n + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    let size = objects.len() + 1;
    out.extend_from_slice(
        format!("trailer\n<< /Size {size} /Root 1 0 R {trailer} >>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
    );
    out
}

/// A 320x240 JPEG photo with EXIF data saying it was taken at 2026-12-01 09:30:15 (big-endian
/// TIFF: IFD0 points to the Exif IFD, whose `DateTimeOriginal` is 20 ASCII bytes at offset 44),
/// spliced in right after the start-of-image marker, where cameras put it.
fn photo_taken() -> Vec<u8> {
    let pixels: Vec<u8> = (0..320u32 * 240).flat_map(|i| [(i % 251) as u8, (i % 241) as u8, 90]).collect();
    let mut jpeg = Vec::new();
    jpeg_encoder::Encoder::new(&mut jpeg, 85).encode(&pixels, 320, 240, jpeg_encoder::ColorType::Rgb).unwrap();
    let mut tiff = b"MM\0*".to_vec();
    tiff.extend(8u32.to_be_bytes());
    let entry = |tag: u16, kind: u16, count: u32, value: u32| {
        [tag.to_be_bytes().as_slice(), &kind.to_be_bytes(), &count.to_be_bytes(), &value.to_be_bytes()].concat()
    };
    tiff.extend([1u16.to_be_bytes().as_slice(), &entry(0x8769, 4, 1, 26), &0u32.to_be_bytes()].concat());
    tiff.extend([1u16.to_be_bytes().as_slice(), &entry(0x9003, 2, 20, 44), &0u32.to_be_bytes()].concat());
    tiff.extend(b"2026:12:01 09:30:15\0");
    let app1 = [b"Exif\0\0".as_slice(), &tiff].concat();
    [&[0xFF, 0xD8, 0xFF, 0xE1][..], &((app1.len() + 2) as u16).to_be_bytes(), &app1, &jpeg[2..]].concat()
}

/// Asks for an upload as `token` and PUTs `bytes` like a browser; returns the file's id and
/// the upload the server answered.
async fn upload(api: &str, token: &str, booking: &str, content_type: &str, bytes: Vec<u8>) -> (String, Value) {
    let body = json!({ "content_type": content_type, "size_bytes": bytes.len() });
    let resp =
        http().post(format!("{api}/bookings/{booking}/evidence")).bearer_auth(token).json(&body).send().await.unwrap();
    assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
    let v: Value = resp.json().await.unwrap();
    assert!(v["upload"]["url"].as_str().unwrap().contains(&format!("evidence/{booking}/")), "the server chose the key");
    let status = put(&v, bytes).await;
    assert!(status.is_success(), "PUT to S3: {status}");
    (v["evidence_id"].as_str().unwrap().to_owned(), v)
}

/// PUTs `bytes` with exactly the headers the server returned.
async fn put(upload: &Value, bytes: Vec<u8>) -> reqwest::StatusCode {
    let mut put = reqwest::Client::new().put(upload["upload"]["url"].as_str().unwrap()).body(bytes);
    for (k, val) in upload["upload"]["headers"].as_object().unwrap() {
        put = put.header(k.as_str(), val.as_str().unwrap());
    }
    put.send().await.unwrap().status()
}

async fn claim_view(api: &str, token: &str, booking: &str) -> reqwest::Response {
    http().get(format!("{api}/bookings/{booking}/claim")).bearer_auth(token).send().await.unwrap()
}

/// The booking's evidence once the check has finished with all `count` files.
async fn checked(api: &str, token: &str, booking: &str, count: usize) -> Vec<Value> {
    eventually(Duration::from_secs(30), "the evidence check", || async {
        let v: Value = claim_view(api, token, booking).await.json().await.ok()?;
        let files = v["evidence"].as_array()?.clone();
        (files.len() == count && files.iter().all(|f| f["status"] != "pending_upload")).then_some(files)
    })
    .await
}

fn by_id<'a>(files: &'a [Value], id: &str) -> &'a Value {
    files.iter().find(|f| f["evidence_id"] == id || f["id"] == id).unwrap_or_else(|| panic!("{id} in {files:?}"))
}

async fn post(url: String, token: &str, body: Value) -> reqwest::Response {
    http().post(url).bearer_auth(token).json(&body).send().await.unwrap()
}

/// A stay of `listing` from tomorrow, paid (the hold placed at payment), picked up and returned.
async fn returned_stay(api: &str, owner: &str, renter: &str, listing: &str) -> String {
    let id = booked(api, renter, listing, 1, 4).await;
    pay(api, renter, &id, "pm_card_visa").await;
    deposit_becomes(api, renter, &id, "held").await;
    let code = get(api, renter, &id).await["handover"]["code"].as_str().unwrap().to_owned();
    assert_eq!(act(api, owner, &id, "pickup", Some(json!({ "code": code }))).await.status(), 200);
    assert_eq!(act(api, owner, &id, "return", Some(json!({}))).await.status(), 200);
    id
}

#[tokio::test]
async fn claims_are_settled_from_the_hold_once_contested_accepted_or_unanswered() {
    let runner = PrivateRunner::start("claims").await;
    let api = runner.api.clone();
    let [owner, renter, stranger] = [
        token_for(&api, json!({"sub": new_user()})).await,
        token_for(&api, json!({"sub": new_user()})).await,
        token_for(&api, json!({"sub": new_user()})).await,
    ];
    let operator = token_for(&api, json!({"sub": new_user(), "groups": ["operators"]})).await;
    let [camera, drone, bike] = [
        listing(&api, &owner, "instant", 10).await,
        listing(&api, &owner, "instant", 10).await,
        listing(&api, &owner, "instant", 10).await,
    ];
    let contested = returned_stay(&api, &owner, &renter, &camera).await;

    // Evidence: told by its bytes, a PDF checked; refusals carry their reason.
    let good = pdf("", "");
    let (photo, photo_upload) = upload(&api, &owner, &contested, "application/pdf", good.clone()).await;
    let (script, _) = upload(
        &api,
        &owner,
        &contested,
        "application/pdf",
        pdf("/OpenAction << /S /JavaScript /JS (app.alert(1)) >>", ""),
    )
    .await;
    let (locked, _) =
        upload(&api, &owner, &contested, "application/pdf", pdf("", "/Encrypt << /Filter /Standard >>")).await;
    let (text, _) =
        upload(&api, &owner, &contested, "application/pdf", b"just a text file named claim.pdf".to_vec()).await;
    let (jpeg, _) = upload(&api, &owner, &contested, "image/jpeg", photo_taken()).await;
    let broken = [&photo_taken()[..400], &[0u8; 200][..]].concat();
    let (unreadable, _) = upload(&api, &owner, &contested, "image/jpeg", broken).await;
    let empty = json!({ "content_type": "application/pdf", "size_bytes": 0 });
    let resp = post(format!("{api}/bookings/{contested}/evidence"), &owner, empty).await;
    assert_eq!((resp.status().as_u16(), code_of(resp).await), (400, "validation_failed".to_owned()), "an empty file");
    let files = checked(&api, &owner, &contested, 6).await;
    let taken = by_id(&files, &jpeg);
    assert_eq!(
        (taken["kind"].as_str(), taken["captured_at"].as_str()),
        (Some("image/jpeg"), Some("2026-12-01T09:30:15"))
    );
    let accepted = by_id(&files, &photo);
    assert_eq!((accepted["status"].as_str(), accepted["kind"].as_str()), (Some("accepted"), Some("application/pdf")));
    assert_eq!(accepted["sha256"], shared::domain::evidence::file::sha256_hex(&good));
    assert!(accepted["received_at"].is_string());
    let refusals = [
        (&script, "pdf_javascript"),
        (&locked, "pdf_encrypted"),
        (&text, "unknown_type"),
        (&unreadable, "image_unreadable"),
    ];
    for (id, reason) in refusals {
        let f = by_id(&files, id);
        assert_eq!((f["status"].as_str(), f["refusal"].as_str()), (Some("refused"), Some(reason)), "{f}");
        assert!(f.get("download").is_none(), "a refused file is never served");
    }
    // Photos go into condition reports: the owner's return report shows the JPEG, not the PDF.
    let report = format!("{api}/bookings/{contested}/condition-reports/return");
    let with = |photos: &[&String]| json!({ "notes": "Lens cracked", "photos": photos });
    let write = |body: Value| http().put(&report).bearer_auth(&owner).json(&body).send();
    assert_eq!(write(with(&[&photo])).await.unwrap().status(), 400, "a PDF is no photo");
    assert_eq!(write(with(&[&jpeg])).await.unwrap().status(), 201);
    let reports = get_json(&format!("{api}/bookings/{contested}/condition-reports"), &renter).await;
    let shown = &reports["items"][0]["photo_files"][0];
    assert_eq!(shown["captured_at"], "2026-12-01T09:30:15", "{reports}");
    let photo_link = shown["download"]["url"].as_str().unwrap();
    assert_eq!(reqwest::get(photo_link).await.unwrap().bytes().await.unwrap().as_ref(), photo_taken().as_slice());
    // Rendered by the image pipeline into three WebP sizes, kept privately, linked for five minutes.
    let sizes = shown["renditions"].as_array().unwrap();
    assert_eq!(sizes.len(), 3, "{shown}");
    let webp = reqwest::get(sizes[0]["url"].as_str().unwrap()).await.unwrap().bytes().await.unwrap();
    assert!(webp.starts_with(b"RIFF") && &webp[8..12] == b"WEBP", "a WebP rendition");

    // Served only through a short-lived presigned GET, to the parties and operators.
    // Its URL cannot replace the checked bytes (a same-length file with a script, say).
    let swapped = pdf("/OpenAction << /S /JavaScript /JS (x) >>", "");
    let same_length = [swapped.as_slice(), &vec![b'\n'; good.len().saturating_sub(swapped.len())]].concat();
    assert_eq!(put(&photo_upload, same_length[..good.len()].to_vec()).await, 412, "create-only");
    let link = accepted["download"]["url"].as_str().unwrap();
    let expires =
        url::Url::parse(link).unwrap().query_pairs().find(|(k, _)| k == "X-Amz-Expires").map(|(_, v)| v.into_owned());
    assert_eq!(expires.as_deref(), Some("300"), "five minutes: {link}");
    assert_eq!(reqwest::get(link).await.unwrap().bytes().await.unwrap().as_ref(), good.as_slice());
    assert_eq!(claim_view(&api, &stranger, &contested).await.status(), 404);
    let stranger_upload = json!({ "content_type": "application/pdf", "size_bytes": 10 });
    assert_eq!(post(format!("{api}/bookings/{contested}/evidence"), &stranger, stranger_upload).await.status(), 404);

    // The claim: at most the deposit, citing only accepted files of the owner's.
    let claims = format!("{api}/bookings/{contested}/claims");
    let claim = |amount: i64, evidence: &[&String]| json!({ "amount": amount, "description": "Cracked lens", "evidence": evidence });
    let resp = post(claims.clone(), &owner, claim(1000, &[&script])).await;
    assert_eq!(resp.status(), 400, "a refused file is no evidence");
    assert_eq!(post(claims.clone(), &owner, claim(5001, &[&photo])).await.status(), 400, "more than the deposit");
    assert_eq!(post(claims.clone(), &renter, claim(1000, &[])).await.status(), 403);
    let resp = post(claims.clone(), &owner, claim(4000, &[&photo])).await;
    assert_eq!(resp.status(), 201);
    let filed: Value = resp.json().await.unwrap();
    let claim_id = filed["id"].as_str().unwrap().to_owned();
    let resp = post(claims.clone(), &owner, claim(1000, &[])).await;
    assert_eq!((resp.status().as_u16(), code_of(resp).await), (409, "claim_exists".to_owned()));
    notified(&api, &renter, "booking.claim_filed", 1).await;

    // Operators read the parties' thread once the claim is contested, not before.
    let thread = format!("{api}/bookings/{contested}/messages");
    assert_eq!(post(thread.clone(), &renter, json!({"text": "The crack was there at pickup"})).await.status(), 201);
    assert_eq!(http().get(&thread).bearer_auth(&operator).send().await.unwrap().status(), 404, "not contested yet");

    // Contested with the renter's statement: escalated, the hold kept past the claim window.
    let answer = format!("{api}/bookings/{contested}/claim/answer");
    assert_eq!(post(answer.clone(), &owner, json!({"answer": "accept"})).await.status(), 403);
    let resp =
        post(answer.clone(), &renter, json!({"answer": "contest", "statement": "It was cracked at pickup"})).await;
    assert_eq!(resp.status(), 200);
    let resp = post(answer.clone(), &renter, json!({"answer": "accept"})).await;
    assert_eq!((resp.status().as_u16(), code_of(resp).await), (409, "claim_answered".to_owned()));
    let read = get_json(&thread, &operator).await;
    assert_eq!(read["items"][0]["text"], "The crack was there at pickup", "{read}");
    let complete = |at| run_scheduled(&api, "CompleteBookingsFunction", at);
    let after_window = Utc::now() + chrono::Duration::hours(49);
    assert_eq!(complete(after_window).await["completed"], 0, "an open claim keeps the booking and its hold");
    assert_eq!(get(&api, &renter, &contested).await["deposit"]["status"], "held");

    // The operator's queue and case; nobody else's.
    let queue = format!("{api}/admin/claims?status=escalated");
    assert_eq!(http().get(&queue).bearer_auth(&owner).send().await.unwrap().status(), 403);
    let page = get_json(&queue, &operator).await;
    assert!(page["items"].as_array().unwrap().iter().any(|c| c["id"] == claim_id.as_str()), "{page}");
    let case = get_json(&format!("{api}/admin/claims/{claim_id}"), &operator).await;
    assert_eq!(
        (case["claim"]["status"].as_str(), case["booking"]["id"].as_str()),
        (Some("escalated"), Some(contested.as_str()))
    );
    let operator_link =
        by_id(case["evidence"].as_array().unwrap(), &photo)["download"]["url"].as_str().unwrap().to_owned();
    assert_eq!(reqwest::get(&operator_link).await.unwrap().bytes().await.unwrap().as_ref(), good.as_slice());
    let decision = format!("{api}/admin/claims/{claim_id}/decision");
    assert_eq!(post(decision.clone(), &renter, json!({"amount": 0, "note": "mine"})).await.status(), 403);
    let resp =
        post(decision.clone(), &operator, json!({"amount": 2500, "note": "Half: the pickup report shows a mark"}))
            .await;
    assert_eq!(resp.status(), 200);
    let decided: Value = resp.json().await.unwrap();
    assert_eq!((decided["status"].as_str(), decided["decision"]["amount"].as_i64()), (Some("decided"), Some(2500)));
    notified(&api, &owner, "booking.claim_decided", 1).await;

    // Settled by the deposit task: 25.00 captured, the rest released; completed after.
    let holds = |at| run_scheduled(&api, "HoldDepositsFunction", at);
    holds(Utc::now()).await;
    let intent = stored_deposit(&runner, &contested).await.hold.unwrap().intent_id;
    let at_stripe = stripe(&format!("/v1/payment_intents/{intent}"), &[]).await;
    assert_eq!((at_stripe["status"].as_str(), at_stripe["amount_received"].as_i64()), (Some("succeeded"), Some(2500)));
    assert_eq!(complete(after_window).await["completed"], 1);
    holds(Utc::now()).await;
    assert_eq!(stripe(&format!("/v1/payment_intents/{intent}"), &[]).await["amount_received"], 2500, "exactly once");

    // What was taken goes to the owner's connected account, drawn on the capture's charge, once.
    let payouts = |at| run_scheduled(&api, "TransferPayoutsFunction", at);
    assert_eq!(payouts(Utc::now()).await["deposits"]["transferred"], 1);
    assert_eq!(payouts(Utc::now()).await["deposits"]["transferred"], 0, "once");
    let made = stripe(&format!("/v1/transfers?transfer_group=deposit-{contested}"), &[]).await;
    let transfers = made["data"].as_array().unwrap();
    assert_eq!(transfers.len(), 1, "{made}");
    assert_eq!(transfers[0]["amount"], 2500);
    assert_eq!(
        transfers[0]["source_transaction"],
        at_stripe["latest_charge"].as_str().map_or(at_stripe["latest_charge"]["id"].clone(), |c| json!(c))
    );
    notified(&api, &owner, "booking.deposit_paid_out", 1).await;

    // Accepted by the renter: settled at once for the claim's amount.
    let accepted_stay = returned_stay(&api, &owner, &renter, &drone).await;
    let resp = post(
        format!("{api}/bookings/{accepted_stay}/claims"),
        &owner,
        json!({"amount": 1200, "description": "Bent propeller"}),
    )
    .await;
    assert_eq!(resp.status(), 201);
    let resp = post(format!("{api}/bookings/{accepted_stay}/claim/answer"), &renter, json!({"answer": "accept"})).await;
    assert_eq!(resp.status(), 200);
    holds(Utc::now()).await;
    assert_eq!(deposit_becomes(&api, &renter, &accepted_stay, "captured").await["captured"], 1200);

    // Not answered in 48 hours: accepted by the deadline task, once.
    let silent = returned_stay(&api, &owner, &renter, &bike).await;
    let resp =
        post(format!("{api}/bookings/{silent}/claims"), &owner, json!({"amount": 700, "description": "Torn seat"}))
            .await;
    let answer_by: chrono::DateTime<Utc> =
        resp.json::<Value>().await.unwrap()["answer_by"].as_str().unwrap().parse().unwrap();
    let accept = |at| run_scheduled(&api, "AcceptClaimsFunction", at);
    assert_eq!(accept(answer_by - chrono::Duration::minutes(1)).await["accepted"], 0);
    assert_eq!(accept(answer_by).await["accepted"], 1);
    assert_eq!(accept(answer_by).await["accepted"], 0, "once");
    let late = post(
        format!("{api}/bookings/{silent}/claim/answer"),
        &renter,
        json!({"answer": "contest", "statement": "late"}),
    )
    .await;
    assert_eq!((late.status().as_u16(), code_of(late).await), (409, "claim_answered".to_owned()));
    holds(answer_by).await;
    assert_eq!(deposit_becomes(&api, &renter, &silent, "captured").await["captured"], 700);
    let told = notified(&api, &renter, "booking.claim_accepted", 2).await;
    assert!(told.iter().any(|n| n["text"].as_str().unwrap().contains("not answered in time")), "{told:?}");
}
