//! Listings, their availability, search (and its indexer), photos, reviews and inquiries (opened
//! and read here, written and listed in `users`; not `process-photo`, built on its own).

bundle::bundle! {
    "create-listing" => create_listing::run,
    "get-listing" => get_listing::run,
    "update-listing" => update_listing::run,
    "archive-listing" => archive_listing::run,
    "my-listings" => my_listings::run,
    "search-listings" => search_listings::run,
    "index-listings" => index_listings::run,
    "get-availability" => get_availability::run,
    "block-dates" => block_dates::run,
    "unblock-dates" => unblock_dates::run,
    "create-photo-upload" => create_photo_upload::run,
    "list-photos" => list_photos::run,
    "update-photo" => update_photo::run,
    "delete-photo" => delete_photo::run,
    "list-listing-reviews" => list_listing_reviews::run,
    "answer-review" => answer_review::run,
    "remove-review" => remove_review::run,
    "open-inquiry" => open_inquiry::run,
    "read-inquiry-messages" => read_inquiry_messages::run,
}
