//! Money in integer minor units with an ISO 4217 currency. Never floats.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// ISO 4217 codes we accept, with their minor-unit exponent (EUR 2, JPY 0, KWD 3).
const CURRENCIES: &[(&str, u8)] = &[
    ("AED", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BRL", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("CZK", 2),
    ("DKK", 2),
    ("EGP", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("ISK", 0),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("MAD", 2),
    ("MXN", 2),
    ("MYR", 2),
    ("NGN", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PEN", 2),
    ("PHP", 2),
    ("PLN", 2),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("SAR", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("THB", 2),
    ("TND", 3),
    ("TRY", 2),
    ("TWD", 2),
    ("UAH", 2),
    ("USD", 2),
    ("VND", 0),
    ("ZAR", 2),
];

/// A supported ISO 4217 currency code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(&'static str, u8);

impl Currency {
    pub fn parse(raw: &str) -> Option<Self> {
        CURRENCIES.iter().find(|(code, _)| *code == raw).map(|(code, exp)| Currency(code, *exp))
    }

    pub fn code(self) -> &'static str {
        self.0
    }

    /// Digits after the decimal point: 2 for EUR, 0 for JPY, 3 for KWD.
    pub fn exponent(self) -> u8 {
        self.1
    }
}

impl TryFrom<String> for Currency {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Currency::parse(&s).ok_or_else(|| format!("unsupported currency {s:?}"))
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> Self {
        c.0.to_owned()
    }
}

impl std::fmt::Display for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// An amount of money: `amount` minor units of `currency` (1250 EUR = 12.50 €).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Money {
    pub amount: i64,
    pub currency: Currency,
}

/// `12.50 EUR`, `1250 JPY`: for texts people read.
impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let digits = usize::from(self.currency.exponent());
        let scale = 10u64.pow(u32::from(self.currency.exponent()));
        let (sign, abs) = (if self.amount < 0 { "-" } else { "" }, self.amount.unsigned_abs());
        match digits {
            0 => write!(f, "{sign}{abs} {}", self.currency),
            _ => write!(f, "{sign}{}.{:0digits$} {}", abs / scale, abs % scale, self.currency),
        }
    }
}

/// Upper bound on any single price we store (10 million major units of a 2-decimal currency).
pub const MAX_AMOUNT: i64 = 1_000_000_000;

/// `{amount, currency}` as sent by clients, before validation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoneyInput {
    pub amount: i64,
    pub currency: String,
}

impl Money {
    /// Validates an input amount for `field`: a supported currency and `min..=MAX_AMOUNT`.
    pub fn parse(field: &str, input: &MoneyInput, min: i64) -> Result<Self, FieldError> {
        let currency = Currency::parse(&input.currency).ok_or_else(|| {
            FieldError::new(format!("{field}.currency"), "must be a supported ISO 4217 code, e.g. EUR")
        })?;
        if input.amount < min || input.amount > MAX_AMOUNT {
            return Err(FieldError::new(
                format!("{field}.amount"),
                format!("must be between {min} and {MAX_AMOUNT} minor units"),
            ));
        }
        Ok(Money { amount: input.amount, currency })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies_and_exponents() {
        assert_eq!(Currency::parse("EUR").map(Currency::exponent), Some(2));
        assert_eq!(Currency::parse("JPY").map(Currency::exponent), Some(0));
        assert_eq!(Currency::parse("KWD").map(Currency::exponent), Some(3));
        assert!(Currency::parse("eur").is_none());
        assert!(Currency::parse("XXX").is_none());
    }

    #[test]
    fn displays_in_major_units() {
        let money = |amount, code| Money { amount, currency: Currency::parse(code).unwrap() };
        assert_eq!(money(1250, "EUR").to_string(), "12.50 EUR");
        assert_eq!(money(-5, "EUR").to_string(), "-0.05 EUR");
        assert_eq!(money(1250, "JPY").to_string(), "1250 JPY");
        assert_eq!(money(1005, "KWD").to_string(), "1.005 KWD");
    }

    #[test]
    fn amounts() {
        let input = |amount| MoneyInput { amount, currency: "EUR".into() };
        assert!(Money::parse("daily_price", &input(1), 1).is_ok());
        assert_eq!(Money::parse("daily_price", &input(0), 1).unwrap_err().field, "daily_price.amount");
        assert!(Money::parse("deposit", &input(0), 0).is_ok());
        assert!(Money::parse("deposit", &input(MAX_AMOUNT + 1), 0).is_err());
        let bad = MoneyInput { amount: 5, currency: "EURO".into() };
        assert_eq!(Money::parse("deposit", &bad, 0).unwrap_err().field, "deposit.currency");
    }
}
