//! Checks of the crate's layering, run by `cargo test`: dependencies point inward
//! (handlers -> workflows -> domain; adapters implement ports).

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// The domain knows nothing of HTTP or AWS (docs/architecture.md, "Layers"): handlers and
    /// adapters depend on it, never the other way round.
    #[test]
    fn domain_has_no_transport() {
        const FORBIDDEN: [&str; 6] =
            ["lambda_http", "lambda_runtime", "aws_lambda_events", "aws_sdk_", "crate::http", "crate::identity"];
        let mut files = Vec::new();
        rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src/domain"), &mut files);
        assert!(files.len() >= 10, "read {} domain files", files.len());
        assert!(files.iter().any(|f| f.ends_with("booking/status.rs")), "nested modules are read too");
        let mut found = Vec::new();
        for path in &files {
            let text = std::fs::read_to_string(path).unwrap();
            // Shipped code only: a file's test module comes last.
            for (no, line) in text.lines().enumerate().take_while(|(_, l)| !l.starts_with("#[cfg(test)]")) {
                let code = line.split("//").next().unwrap_or("");
                let grouped = code.contains("crate::{") && (code.contains("http") || code.contains("identity"));
                if grouped || FORBIDDEN.iter().any(|f| code.contains(f)) {
                    found.push(format!("{}:{}: {}", path.display(), no + 1, line.trim()));
                }
            }
        }
        assert!(found.is_empty(), "the domain imports transport code:\n{}", found.join("\n"));
    }
}
