//! Types and rules. Everything here is parsed once at the edge and valid thereafter.

#[macro_use]
mod macros;

pub mod booking;
pub mod country;
pub mod events;
pub mod listing;
pub mod money;
pub mod notification;
pub mod payment;
pub mod photo;
pub mod search;
pub mod user;

use chrono::{DateTime, Utc};

/// Wall-clock time, injectable so rules that depend on "now" can be tested.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

#[cfg(test)]
mod tests {
    /// The domain knows nothing of HTTP or AWS (docs/architecture.md, "Layers"): handlers and
    /// adapters depend on it, never the other way round.
    #[test]
    fn domain_has_no_transport() {
        const FORBIDDEN: [&str; 6] =
            ["lambda_http", "lambda_runtime", "aws_lambda_events", "aws_sdk_", "crate::http", "crate::identity"];
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/domain");
        let mut files = 0;
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            files += 1;
            let text = std::fs::read_to_string(&path).unwrap();
            // Shipped code only: test modules (this one among them) come last.
            for (no, line) in text.lines().enumerate().take_while(|(_, l)| !l.starts_with("#[cfg(test)]")) {
                let code = line.split("//").next().unwrap_or("");
                let grouped = code.contains("crate::{") && (code.contains("http") || code.contains("identity"));
                if grouped || FORBIDDEN.iter().any(|f| code.contains(f)) {
                    found.push(format!("{}:{}: {}", path.display(), no + 1, line.trim()));
                }
            }
        }
        assert!(files >= 5, "read {files} domain files from {}", dir.display());
        assert!(found.is_empty(), "the domain imports transport code:\n{}", found.join("\n"));
    }
}
