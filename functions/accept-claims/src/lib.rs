//! Scheduled (every 15 minutes): a claim the renter did not answer within 48 hours is accepted,
//! settled for its amount (the deposit task then takes it from the hold); both parties are
//! told. Overlapping runs and a renter answering at the same moment accept nothing twice: each
//! step is conditioned on the claim's version (decision 0043).

mod wiring;
pub use wiring::run;

use shared::domain::Clock;
use shared::ports::ClaimStore;
use shared::AppError;

/// Claims accepted per run at most; the next run takes the rest.
const BATCH: u32 = 200;

pub struct Deps<S, C> {
    pub store: S,
    pub clock: C,
    /// Whether the event may set the clock (`{"now": ...}`): tests and local runs, never prod.
    pub allow_clock_override: bool,
}

pub async fn handle<S, C>(event: serde_json::Value, deps: &Deps<S, C>) -> Result<serde_json::Value, AppError>
where
    S: ClaimStore,
    C: Clock,
{
    let now = shared::scheduled::run_time(&event, &deps.clock, deps.allow_clock_override)?;
    let (accepted, failed) = shared::claims::accept_overdue(&deps.store, now, BATCH).await?;
    shared::metrics::emit("ClaimAcceptancesFailed", shared::metrics::Unit::Count, failed as f64, &[]);
    tracing::info!(accepted, failed, now = %now, "claims accepted by the deadline");
    Ok(serde_json::json!({ "accepted": accepted, "failed": failed }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::claim::{ClaimRequest, ANSWER_WINDOW};
    use shared::testing::{caller, claimable, FixedClock, MemoryStore};

    #[tokio::test]
    async fn unanswered_claims_are_accepted_once_at_their_deadline() {
        let deps = Deps { store: MemoryStore::default(), clock: FixedClock::default(), allow_clock_override: true };
        let now = deps.clock.now();
        let (b, _) = claimable(&deps.store, now).await.unwrap();
        let claim = ClaimRequest { amount: 700, description: "Torn seat".into(), evidence: vec![] };
        let window = chrono::Duration::hours(48);
        shared::claims::file(&deps.store, &b.id, &caller("owner", &[]).unwrap(), claim, window, now).await.unwrap();
        let at = |t: chrono::DateTime<chrono::Utc>| serde_json::json!({ "now": t.to_rfc3339() });
        let early = handle(at(now + ANSWER_WINDOW - chrono::Duration::seconds(1)), &deps).await.unwrap();
        assert_eq!(early["accepted"], 0);
        assert_eq!(handle(at(now + ANSWER_WINDOW), &deps).await.unwrap()["accepted"], 1);
        assert_eq!(handle(at(now + ANSWER_WINDOW), &deps).await.unwrap()["accepted"], 0, "once");
        let stored = shared::ports::ClaimStore::booking_claim(&deps.store, &b.id).await.unwrap().unwrap();
        assert_eq!(stored.answer.map(|a| a.by_renter), Some(false));
    }
}
