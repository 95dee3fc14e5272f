//! The two shapes the domain repeats: enums stored and sent as snake_case text, and string
//! ids that parse once at the edge.

/// An enum whose variants are fixed texts: `ALL`, `as_str`, `parse`, and serde as that text.
/// Extra attributes (docs, `#[derive(Default)]`) go before the name, a variant's before it.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: [$name; [$($text),+].len()] = [$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn parse(raw: &str) -> Option<Self> {
                Self::ALL.into_iter().find(|v| v.as_str() == raw)
            }
        }
    };
}

/// A string id newtype: serde through `String` (so stored and sent ids are parsed with the
/// type's own `parse`), `as_str` and `Display`. The type defines
/// `parse(&str) -> Result<Self, AppError>` itself, unless `uuid "what"` asks for the standard
/// one: a canonical UUID (v7 from `generate`), anything else `NotFound(what)` (never a 500).
macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                $name::parse(&s).map_err(|_| format!("{s:?} is not a {} id", $what))
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
    ($(#[$meta:meta])* $name:ident, uuid $what:literal) => {
        id_type!($(#[$meta])* $name, $what);

        impl $name {
            pub fn generate() -> Self {
                Self(uuid::Uuid::now_v7().to_string())
            }

            pub fn parse(raw: &str) -> Result<Self, crate::error::AppError> {
                match uuid::Uuid::try_parse(raw) {
                    Ok(u) if u.to_string() == raw => Ok(Self(raw.to_owned())),
                    _ => Err(crate::error::AppError::NotFound($what)),
                }
            }
        }
    };
}
