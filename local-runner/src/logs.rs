//! The runner's output: its own lines and every function's, prefixed by the function.

use std::io::Write;

/// Writes one function log line as `[LogicalId] line`, keeping lines whole across threads.
pub fn function_line(function: &str, line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "[{function}] {line}");
}
