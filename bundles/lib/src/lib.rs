//! What the deploy binaries share. Each crate of `bundles/` (but this one) is a binary that runs
//! a group of functions: the one Lambda names in `_HANDLER` (template.yaml's `Handler`, the
//! function's crate name). One fat-LTO link per group instead of one per function keeps the
//! deploy build in minutes; a group per area keeps each zip under 5 MB, and a crate per group
//! relinks only its own binary when one function changes (decision 0027). The Makefile finds a
//! function's binary by its name in `bundles/*/src/main.rs`.

pub use lambda_runtime::Error;
pub use tokio;

/// `main` for a bundle binary of the functions listed as `"crate-name" => crate_name::run`.
#[macro_export]
macro_rules! bundle {
    ($($name:literal => $run:path,)*) => {
        /// The `Handler` values this binary runs.
        const HANDLERS: &[&str] = &[$($name),*];

        async fn run(handler: &str) -> Result<(), $crate::Error> {
            match handler {
                $($name => $run().await,)*
                other => Err($crate::unknown(other, HANDLERS)),
            }
        }

        #[$crate::tokio::main(flavor = "current_thread", crate = "bundle::tokio")]
        async fn main() -> Result<(), $crate::Error> {
            run(&std::env::var("_HANDLER").unwrap_or_default()).await
        }
    };
}

/// The start-up error of a binary asked for a function it does not hold.
pub fn unknown(handler: &str, handlers: &[&str]) -> Error {
    format!("no function {handler:?} in this bundle; _HANDLER must be one of {}", handlers.join(", ")).into()
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    use serde_norway::Value;

    use super::*;

    const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

    /// bundle -> the functions it runs, read from `bundles/*/src/main.rs` as the Makefile reads them.
    fn bundles() -> BTreeMap<String, Vec<String>> {
        let mut out = BTreeMap::new();
        for entry in std::fs::read_dir(Path::new(ROOT).join("bundles")).unwrap() {
            let dir = entry.unwrap().path();
            let path = dir.join("src/main.rs");
            if !path.exists() {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let names =
                text.lines().filter_map(|l| l.trim().strip_prefix('"')?.split_once("\" =>").map(|(n, _)| n.to_owned()));
            out.insert(dir.file_name().unwrap().to_string_lossy().into_owned(), names.collect());
        }
        out
    }

    /// The functions the Makefile builds as binaries of their own (`STANDALONE := ...`).
    fn standalone() -> BTreeSet<String> {
        let makefile = std::fs::read_to_string(Path::new(ROOT).join("Makefile")).expect("Makefile");
        let line = makefile.lines().find_map(|l| l.strip_prefix("STANDALONE :=")).expect("STANDALONE in Makefile");
        line.split_whitespace().map(str::to_owned).collect()
    }

    fn bundled() -> BTreeSet<String> {
        let all: Vec<String> = bundles().into_values().flatten().collect();
        let unique: BTreeSet<String> = all.iter().cloned().collect();
        assert_eq!(all.len(), unique.len(), "a function in two bundles: {all:?}");
        unique
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

    #[test]
    fn every_bundle_is_a_group_of_a_few() {
        for (bin, functions) in bundles() {
            assert!((2..=20).contains(&functions.len()), "{bin}: {functions:?}");
        }
    }

    #[test]
    fn an_unknown_handler_names_the_choices() {
        let text = unknown("bootstrap", &["get-me", "update-me"]).to_string();
        assert!(text.contains("\"bootstrap\"") && text.contains("get-me, update-me"), "{text}");
    }
}
