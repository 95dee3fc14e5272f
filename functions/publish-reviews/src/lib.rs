//! Scheduled (hourly): publishes the reviews whose 14-day window closed while the other party's
//! never came, so a blind review is not hidden for ever, and tells each subject
//! (`review.published`). Each is published, and its stars counted, in one write conditional on
//! it being hidden: a repeated or concurrent run publishes and counts nothing twice
//! (decision 0038).

mod wiring;
pub use wiring::run;

use shared::domain::Clock;
use shared::ports::ReviewStore;
use shared::AppError;

pub struct Deps<S, C> {
    pub store: S,
    pub clock: C,
    /// Whether the event may set the clock (`{"now": ...}`): tests and local runs, never prod.
    pub allow_clock_override: bool,
}

pub async fn handle<S, C>(event: serde_json::Value, deps: &Deps<S, C>) -> Result<serde_json::Value, AppError>
where
    S: ReviewStore,
    C: Clock,
{
    let now = shared::scheduled::run_time(&event, &deps.clock, deps.allow_clock_override)?;
    let (due, published, skipped) = shared::reviews::publish_due(&deps.store, now, 100).await?;
    tracing::info!(due, published, skipped, now = %now, "review publication run");
    Ok(serde_json::json!({ "due": due, "published": published, "skipped": skipped }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::review::WriteReviewRequest;
    use shared::testing::{returned_booking, FixedClock, MemoryStore};

    #[tokio::test]
    async fn publishes_at_the_close_once_and_counts_once() {
        let deps = Deps { store: MemoryStore::default(), clock: FixedClock::default(), allow_clock_override: true };
        let returned_at = deps.clock.now();
        let b = returned_booking("2026-12-01", returned_at).unwrap();
        deps.store.seed_booking(&b).await;
        let body = WriteReviewRequest { rating: 2, text: "Late and dirty".into() };
        shared::reviews::write(&deps.store, &b.id, &b.owner_id, &body, returned_at).await.unwrap();

        let at = |t: chrono::DateTime<chrono::Utc>| serde_json::json!({ "now": t.to_rfc3339() });
        let closes = returned_at + chrono::Duration::days(14);
        let early = handle(at(closes - chrono::Duration::seconds(1)), &deps).await.unwrap();
        assert_eq!(early["due"], 0, "the window is open");
        assert_eq!(handle(at(closes), &deps).await.unwrap()["published"], 1);
        assert_eq!(handle(at(closes), &deps).await.unwrap()["due"], 0, "published once");
        let rating = deps.store.member_stats.lock().unwrap()[&b.renter_id].rating;
        assert_eq!((rating.sum, rating.count), (2, 1));
        let late = WriteReviewRequest { rating: 5, text: "Too late".into() };
        let err = shared::reviews::write(&deps.store, &b.id, &b.renter_id, &late, closes).await.unwrap_err();
        assert!(matches!(err, AppError::Conflict { code: "review_window_closed", .. }), "{err:?}");
        assert_eq!(deps.store.event_kinds().iter().filter(|k| *k == "review.published").count(), 1);
    }
}
