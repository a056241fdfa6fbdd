//! The simulated oracle feed: one JSON document per validator under `<root>/feeds/`, served on
//! loopback at `http://127.0.0.1:<feed port>/node<i>` for each validator's `oracle_source`.
//! `surety-localnet set-price` moves a price for every validator or one (say, to make it
//! report a wild value); `surety-localnet attest` adds an incident attestation to the votes.

use anyhow::{Context, Result};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Prices every validator starts with (the demo market's feeds).
pub const INITIAL_PRICES: [(&str, &str); 2] = [("USDC/USD", "1.0"), ("ETH/USD", "3000")];

pub fn feed_file(root: &Path, validator: usize) -> PathBuf {
    root.join("feeds").join(format!("node{validator}.json"))
}

fn read(path: &Path) -> Value {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(|| json!({"prices": {}, "attest": {}}))
}

fn write(path: &Path, doc: &Value) -> Result<()> {
    std::fs::create_dir_all(path.parent().expect("feeds dir"))?;
    // Write then rename, so the server never serves half a document.
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_string_pretty(doc)?)?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

/// Creates each validator's feed with the initial prices.
pub fn init(root: &Path, validators: usize) -> Result<()> {
    let prices: serde_json::Map<String, Value> = INITIAL_PRICES
        .iter()
        .map(|(f, p)| (f.to_string(), json!(p)))
        .collect();
    for i in 0..validators {
        write(
            &feed_file(root, i),
            &json!({"prices": prices, "attest": {}}),
        )?;
    }
    Ok(())
}

/// Which validators a change applies to: one, or all of them.
fn targets(validators: usize, only: Option<usize>) -> Vec<usize> {
    match only {
        Some(i) => vec![i],
        None => (0..validators).collect(),
    }
}

pub fn set_price(
    root: &Path,
    validators: usize,
    only: Option<usize>,
    feed: &str,
    price: &str,
) -> Result<()> {
    for i in targets(validators, only) {
        let path = feed_file(root, i);
        let mut doc = read(&path);
        doc["prices"][feed] = json!(price);
        write(&path, &doc)?;
    }
    Ok(())
}

pub fn attest(
    root: &Path,
    validators: usize,
    only: Option<usize>,
    incident: u64,
    confirm: bool,
) -> Result<()> {
    for i in targets(validators, only) {
        let path = feed_file(root, i);
        let mut doc = read(&path);
        doc["attest"][incident.to_string()] = json!(confirm);
        write(&path, &doc)?;
    }
    Ok(())
}

/// The loopback HTTP server; stops when dropped.
#[derive(Debug)]
pub struct FeedServer {
    stop: Arc<AtomicBool>,
    pub port: u16,
}

impl FeedServer {
    pub fn start(root: &Path, port: u16) -> Result<FeedServer> {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .with_context(|| format!("feed server: port {port} is taken"))?;
        listener.set_nonblocking(true)?;
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, root) = (stop.clone(), root.to_path_buf());
        std::thread::Builder::new()
            .name("feed-server".into())
            .spawn(move || {
                while !flag.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((mut stream, _)) => {
                            let _ = stream.set_nonblocking(false);
                            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                            let mut buf = [0u8; 2048];
                            let n = stream.read(&mut buf).unwrap_or(0);
                            let request = String::from_utf8_lossy(&buf[..n]);
                            let path = request.split_whitespace().nth(1).unwrap_or("/");
                            let body = path
                                .strip_prefix("/node")
                                .and_then(|i| i.parse::<usize>().ok())
                                .and_then(|i| std::fs::read_to_string(feed_file(&root, i)).ok());
                            let response = match body {
                                Some(body) => format!(
                                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                                    body.len()
                                ),
                                None => "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".into(),
                            };
                            let _ = stream.write_all(response.as_bytes());
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(50)),
                    }
                }
            })?;
        Ok(FeedServer { stop, port })
    }
}

impl Drop for FeedServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}
