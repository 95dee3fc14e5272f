//! `GET /me/earnings` (auth): the caller's money as an owner, per booking, newest first (gross
//! rental, commission, net, and where the transfer stands: `scheduled` with its date,
//! `blocked` with the reason, `transferred`, `partially_reversed`, `reversed`, `cancelled`),
//! paged with a signed cursor bound to the caller. The first page also carries the totals per
//! currency over every booking.

mod wiring;
pub use wiring::run;

use lambda_http::{Body, Request, Response};
use shared::domain::payout::Payout;
use shared::http::json;
use shared::identity::Caller;
use shared::paging::{Paging, QueryParams};
use shared::ports::{CursorKeys, PayoutStore};
use shared::views::{EarningTotals, EarningView};
use shared::AppError;

pub struct Deps<S, K> {
    pub store: S,
    pub cursor_keys: K,
}

pub async fn handle<S, K>(req: Request, deps: &Deps<S, K>) -> Result<Response<Body>, AppError>
where
    S: PayoutStore,
    K: CursorKeys,
{
    let caller = Caller::from_request(&req)?;
    let params = QueryParams::only(&req, &["limit", "cursor"])?;
    let paging = Paging::from_params(&deps.cursor_keys, &params, format!("earnings|{}", caller.user_id)).await?;
    let first_page = paging.start.is_none();
    let page = deps.store.earnings(&caller.user_id, paging.limit, paging.start.clone()).await?;
    let totals = match (first_page, &page.last_key) {
        (false, _) => None,
        // One page holds them all: no second read.
        (true, None) => Some(EarningTotals::of(&page.items)),
        (true, Some(_)) => Some(EarningTotals::of(&all_earnings(&deps.store, &caller).await?)),
    };
    let view = paging.view(page.map_items(EarningView::from));
    json(200, &serde_json::json!({ "items": view.items, "next_cursor": view.next_cursor, "totals": totals }))
}

/// Every payout of the caller, for the totals: 100 a query.
async fn all_earnings<S: PayoutStore>(store: &S, caller: &Caller) -> Result<Vec<Payout>, AppError> {
    let mut all = Vec::new();
    let mut start = None;
    loop {
        let page = store.earnings(&caller.user_id, 100, start).await?;
        all.extend(page.items);
        match page.last_key {
            Some(key) => start = Some(key),
            None => return Ok(all),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::cursor::CursorKey;
    use shared::testing::{confirmed_booking, MemoryStore};

    #[tokio::test]
    async fn an_owner_sees_each_bookings_money_and_the_totals() {
        let deps = Deps { store: MemoryStore::default(), cursor_keys: CursorKey::new(b"k") };
        let mut fixture: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/list-earnings.json")).unwrap();
        fixture["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = serde_json::json!("owner");
        let now = chrono::Utc::now();
        for (start, transferred) in [("2026-12-10", true), ("2026-12-20", false)] {
            let booking = confirmed_booking(start, 2, 5_000).unwrap();
            let mut p = Payout::schedule(&booking, "ch_1".into(), 24, now);
            if transferred {
                (p.transfer_id, p.transferred) = (Some("tr_1".into()), p.owed);
            }
            deps.store.save_payout(&p, None).await.unwrap();
        }
        let resp = handle(lambda_http::request::from_str(&fixture.to_string()).unwrap(), &deps).await.unwrap();
        assert_eq!(resp.status(), 200);
        let Body::Text(text) = resp.body() else { panic!() };
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        let statuses: Vec<&str> =
            v["items"].as_array().unwrap().iter().map(|i| i["status"].as_str().unwrap()).collect();
        assert!(statuses.contains(&"transferred") && statuses.contains(&"scheduled"), "{v}");
        assert_eq!(v["items"][0]["gross"].as_i64(), Some(10_000));
        assert_eq!(v["items"][0]["commission"].as_i64(), Some(300));
        assert_eq!(
            v["totals"],
            serde_json::json!([{"currency": "EUR", "gross": 20_000, "commission": 600, "net": 19_400,
                "paid_out": 9_700, "pending": 9_700}])
        );
    }
}
