//! Which function a `Handler` names.

use lambda_runtime::Error;

macro_rules! handlers {
    ($($name:literal => $run:path,)*) => {
        /// The `Handler` values this binary runs: each function's crate name.
        pub const HANDLERS: &[&str] = &[$($name),*];

        /// Runs the function `handler` names until the runtime stops it.
        pub async fn run(handler: &str) -> Result<(), Error> {
            match handler {
                $($name => $run().await,)*
                other => Err(format!("no function {other:?} in this bundle; _HANDLER must be one of {}", HANDLERS.join(", ")).into()),
            }
        }
    };
}

handlers! {
    "accept-booking" => accept_booking::run,
    "archive-listing" => archive_listing::run,
    "audit-log" => audit_log::run,
    "block-dates" => block_dates::run,
    "cancel-booking" => cancel_booking::run,
    "complete-bookings" => complete_bookings::run,
    "create-booking" => create_booking::run,
    "create-listing" => create_listing::run,
    "create-payment" => create_payment::run,
    "create-photo-upload" => create_photo_upload::run,
    "decline-booking" => decline_booking::run,
    "delete-photo" => delete_photo::run,
    "expire-holds" => expire_holds::run,
    "get-availability" => get_availability::run,
    "get-booking" => get_booking::run,
    "get-listing" => get_listing::run,
    "get-me" => get_me::run,
    "health" => health::run,
    "list-bookings" => list_bookings::run,
    "list-notifications" => list_notifications::run,
    "list-photos" => list_photos::run,
    "my-listings" => my_listings::run,
    "notifications" => notifications::run,
    "payment-worker" => payment_worker::run,
    "quote-booking" => quote_booking::run,
    "read-notification" => read_notification::run,
    "search-listings" => search_listings::run,
    "stripe-webhook" => stripe_webhook::run,
    "unblock-dates" => unblock_dates::run,
    "update-listing" => update_listing::run,
    "update-me" => update_me::run,
    "update-photo" => update_photo::run,
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use serde_norway::Value;

    use super::*;

    const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

    /// The functions the Makefile builds as binaries of their own (`STANDALONE := ...`).
    fn standalone() -> BTreeSet<String> {
        let makefile = std::fs::read_to_string(Path::new(ROOT).join("Makefile")).expect("Makefile");
        let line = makefile.lines().find_map(|l| l.strip_prefix("STANDALONE :=")).expect("STANDALONE in Makefile");
        line.split_whitespace().map(str::to_owned).collect()
    }

    fn bundled() -> BTreeSet<String> {
        HANDLERS.iter().map(|h| h.to_string()).collect()
    }

    /// (CodeUri folder, Handler) of every function in template.yaml.
    fn template_functions() -> Vec<(String, String)> {
        let text = std::fs::read_to_string(Path::new(ROOT).join("template.yaml")).expect("template.yaml");
        let template: Value = serde_norway::from_str(&text).expect("template parses");
        let global = template["Globals"]["Function"]["Handler"].as_str();
        let resources = template["Resources"].as_mapping().expect("Resources");
        let functions = resources.values().filter(|r| r["Type"].as_str() == Some("AWS::Serverless::Function"));
        functions
            .map(|r| {
                let props = &r["Properties"];
                let code = props["CodeUri"].as_str().expect("CodeUri").trim_start_matches("functions/").to_owned();
                let handler = props["Handler"].as_str().or(global).expect("Handler").to_owned();
                (code, handler)
            })
            .collect()
    }

    #[test]
    fn every_function_names_its_own_crate_as_handler() {
        let functions = template_functions();
        assert_eq!(functions.len(), std::fs::read_dir(Path::new(ROOT).join("functions")).unwrap().count());
        for (code, handler) in functions {
            assert_eq!(code, handler, "functions/{code}: Handler must be the crate's name");
        }
    }

    #[test]
    fn every_function_is_in_the_bundle_or_built_on_its_own() {
        let standalone = standalone();
        let bundled = bundled();
        assert!(
            standalone.is_disjoint(&bundled),
            "both bundled and standalone: {:?}",
            standalone.intersection(&bundled)
        );
        let all: BTreeSet<String> = std::fs::read_dir(Path::new(ROOT).join("functions"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        let built: BTreeSet<String> = standalone.union(&bundled).cloned().collect();
        assert_eq!(built, all, "a function the deploy build would not build, or a bundle entry with no crate");
    }

    #[tokio::test]
    async fn an_unknown_handler_fails_at_start_naming_the_choices() {
        let err = run("bootstrap").await.expect_err("no function is called bootstrap");
        let text = err.to_string();
        assert!(text.contains("\"bootstrap\"") && text.contains("create-booking"), "{text}");
    }
}
