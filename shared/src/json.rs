//! JSON -> domain types with errors that name the field, for any transport (HTTP bodies,
//! queue messages), so the domain can parse without knowing where the bytes came from.

use serde::de::DeserializeOwned;

use crate::error::AppError;

/// JSON -> `T` with errors a client can act on (an HTTP body: `crate::http::json_body`).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = strip_position(&inner.to_string());
        match inner.classify() {
            serde_json::error::Category::Data if message.starts_with("unknown field") => {
                AppError::bad_request("unknown_field", message)
            }
            serde_json::error::Category::Data if path == "." => AppError::bad_request("invalid_body", message),
            serde_json::error::Category::Data => AppError::bad_request("invalid_field", format!("{path}: {message}")),
            _ => AppError::bad_request("malformed_json", format!("body is not valid JSON: {message}")),
        }
    })
}

/// serde_json appends " at line 1 column 9": noise for an API client.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}
