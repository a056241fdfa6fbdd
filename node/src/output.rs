//! `--output json|text`: JSON for scripts, indented `key: value` text for people.

use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

pub fn print(format: Format, value: &Value) {
    match format {
        Format::Json => println!("{value}"),
        Format::Text => {
            let mut out = String::new();
            text(value, 0, &mut out);
            print!("{out}");
        }
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "null".to_string(),
        other => other.to_string(),
    }
}

fn text(value: &Value, indent: usize, out: &mut String) {
    let pad = "  ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match v {
                    Value::Object(m) if !m.is_empty() => {
                        out.push_str(&format!("{pad}{key}:\n"));
                        text(v, indent + 1, out);
                    }
                    Value::Array(a) if !a.is_empty() => {
                        out.push_str(&format!("{pad}{key}:\n"));
                        text(v, indent, out);
                    }
                    Value::Array(_) => out.push_str(&format!("{pad}{key}: []\n")),
                    _ => out.push_str(&format!("{pad}{key}: {}\n", scalar(v))),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::Object(_) => {
                        let mut inner = String::new();
                        text(item, indent + 1, &mut inner);
                        let inner = inner.trim_start().to_string();
                        out.push_str(&format!("{pad}- {inner}"));
                    }
                    _ => out.push_str(&format!("{pad}- {}\n", scalar(item))),
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other))),
    }
}

/// A block time (unix seconds) as RFC 3339 UTC, e.g. `2026-11-21T08:00:00Z`.
pub fn time(secs: i64) -> String {
    if secs <= 0 {
        return "-".into();
    }
    humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs as u64),
    )
    .to_string()
}

/// An integer amount with its denom, as Cosmos prints coins: `1500000uusdc`.
pub fn amount(amount: &str, denom: &str) -> String {
    format!("{}{denom}", if amount.is_empty() { "0" } else { amount })
}

/// A duration in seconds as people read it: `14d`, `3d 12h`, `90s`.
pub fn duration(secs: i64) -> String {
    humantime::format_duration(std::time::Duration::from_secs(secs.max(0) as u64)).to_string()
}

/// Basis points as a percentage: `250` → `2.50%`.
pub fn bps(bps: u32) -> String {
    format!("{}.{:02}%", bps / 100, bps % 100)
}
