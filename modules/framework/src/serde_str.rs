//! Integers as JSON strings, as Cosmos genesis files write 64- and 128-bit numbers; plain JSON
//! numbers are accepted on input too.

use serde::{de::Error as _, Deserialize, Deserializer, Serializer};
use std::fmt::Display;
use std::str::FromStr;

pub fn serialize<T: Display, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

pub fn deserialize<'de, T, D>(d: D) -> Result<T, D::Error>
where
    T: FromStr,
    T::Err: Display,
    D: Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum StrOrNum {
        Str(String),
        Num(serde_json::Number),
    }
    let text = match StrOrNum::deserialize(d)? {
        StrOrNum::Str(s) => s,
        StrOrNum::Num(n) => n.to_string(),
    };
    text.parse()
        .map_err(|e| D::Error::custom(format!("invalid number {text:?}: {e}")))
}
