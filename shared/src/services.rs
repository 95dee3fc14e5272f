//! Application services: small workflows over ports that more than one function runs.

use crate::domain::events::{kinds, DomainEvent};
use crate::domain::user::Profile;
use crate::domain::Clock;
use crate::error::AppError;
use crate::identity::Caller;
use crate::ports::ProfileStore;

/// The caller's profile, created from their token claims on first use. Exactly one
/// concurrent first call creates it and announces `user.registered` (written with it).
pub async fn ensure_profile(
    store: &impl ProfileStore,
    clock: &impl Clock,
    caller: &Caller,
) -> Result<Profile, AppError> {
    if let Some(profile) = store.get_profile(&caller.user_id).await? {
        return Ok(profile);
    }
    let now = clock.now();
    let registered = DomainEvent::new(
        kinds::USER_REGISTERED,
        format!("user/{}", caller.user_id),
        Some(caller.user_id.to_string()),
        now,
        serde_json::json!({}),
    );
    let mut profile = Profile::register(caller.user_id.clone(), caller.name.as_deref(), caller.email.clone(), now);
    profile.email_verified = caller.email_verified && profile.email.is_some();
    let (profile, created) = store.create_profile_if_absent(&profile, &registered).await?;
    if created {
        tracing::info!(user_id = %caller.user_id, event_id = %registered.id, "profile created");
        crate::metrics::count("UsersRegistered", &[]);
    }
    Ok(profile)
}

/// The listing `id` if `caller` owns it. Anyone else gets `NotFound`, exactly as for a
/// listing that does not exist, so ids cannot be probed.
pub async fn owned_listing(
    store: &impl crate::ports::ListingReader,
    caller: &Caller,
    id: &crate::domain::listing::ListingId,
) -> Result<crate::domain::listing::Listing, AppError> {
    only_if_owned(store.get_listing(id).await?, |listing| listing, caller)
}

/// [`owned_listing`] with the listing's photos and cover, read together.
pub async fn owned_listing_detail(
    store: &impl crate::ports::ListingDetailReader,
    caller: &Caller,
    id: &crate::domain::listing::ListingId,
) -> Result<crate::ports::ListingDetail, AppError> {
    only_if_owned(store.listing_detail(id).await?, |detail| &detail.listing, caller)
}

/// [`owned_listing`] with how many photos it has (not the photos).
pub async fn owned_listing_photo_count(
    store: &impl crate::ports::ListingPhotoReader,
    caller: &Caller,
    id: &crate::domain::listing::ListingId,
) -> Result<(crate::domain::listing::Listing, u32), AppError> {
    only_if_owned(store.listing_with_photo_count(id).await?, |(listing, _)| listing, caller)
}

/// [`owned_listing`] with its photo `photo` (`NotFound("photo")` without one) and the cover.
pub async fn owned_listing_photo(
    store: &impl crate::ports::ListingPhotoReader,
    caller: &Caller,
    id: &crate::domain::listing::ListingId,
    photo: &crate::domain::photo::PhotoId,
) -> Result<(crate::domain::listing::Listing, crate::domain::photo::Photo, Option<String>), AppError> {
    let crate::ports::ListingPhoto { listing, photo, cover } =
        only_if_owned(store.listing_with_photo(id, photo).await?, |found| &found.listing, caller)?;
    Ok((listing, photo.ok_or(AppError::NotFound("photo"))?, cover))
}

/// `found` if the listing in it belongs to `caller`; `NotFound` otherwise (see [`owned_listing`]).
fn only_if_owned<T>(
    found: Option<T>,
    listing: impl Fn(&T) -> &crate::domain::listing::Listing,
    caller: &Caller,
) -> Result<T, AppError> {
    found.filter(|f| listing(f).owner_id == caller.user_id).ok_or(AppError::NotFound("listing"))
}

/// Whether `listing` may be what it is: an active (published) listing needs its owner's payout
/// account able to receive transfers, so every booking can pay its owner; 409
/// `payout_account_required` otherwise. Drafts and paused listings need none.
pub async fn check_publishable(
    store: &impl ProfileStore,
    listing: &crate::domain::listing::Listing,
) -> Result<(), AppError> {
    if listing.status != crate::domain::listing::ListingStatus::Active {
        return Ok(());
    }
    let profile = store.get_profile(&listing.owner_id).await?;
    if profile.and_then(|p| p.payout_account).is_some_and(|a| a.can_receive_transfers()) {
        return Ok(());
    }
    Err(AppError::conflict(
        "payout_account_required",
        "publishing needs a payout account that can receive transfers: open one with POST /me/payout-account and \
         finish Stripe's onboarding (drafts need none)",
    ))
}

/// The event announcing `listing`'s change of `kind` by `actor`, written with the change.
pub fn listing_event(kind: &str, listing: &crate::domain::listing::Listing, actor: &Caller) -> DomainEvent {
    DomainEvent::new(
        kind,
        format!("listing/{}", listing.id),
        Some(actor.user_id.to_string()),
        listing.updated_at,
        serde_json::json!({ "status": listing.status.as_str(), "version": listing.version }),
    )
}
