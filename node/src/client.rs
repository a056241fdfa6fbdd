//! A client of a node: ABCI queries and broadcasts through CometBFT's RPC, as cosmjs does.

use anyhow::{bail, Context as _, Result};
use prost::Message;
use std::time::{Duration, Instant};
use surety_proto::cosmos::auth::v1beta1::{BaseAccount, QueryAccountRequest, QueryAccountResponse};
use surety_proto::cosmos::base::query::v1beta1::{PageRequest, PageResponse};
use surety_proto::from_any;
use tendermint_rpc::{client::CompatMode, Client as _, HttpClient};

/// Items asked for per page when the CLI lists everything (the node's default page).
pub const PAGE_LIMIT: u64 = 100;

/// Collects every page: `fetch` gets the page starting at a key (empty: the first) and returns
/// its items and the next page's key (empty after the last page).
pub fn follow_pages<T>(
    mut fetch: impl FnMut(Vec<u8>) -> Result<(Vec<T>, Vec<u8>)>,
) -> Result<Vec<T>> {
    let mut all = Vec::new();
    let mut key = Vec::new();
    loop {
        let (items, next) = fetch(key.clone())?;
        all.extend(items);
        if next.is_empty() {
            return Ok(all);
        }
        // Pages go forward in key order; anything else would never end.
        if next <= key {
            bail!("the node returned a page key that does not go forward; stopping");
        }
        key = next;
    }
}

pub struct Client {
    rpc: HttpClient,
    runtime: tokio::runtime::Runtime,
    node: String,
}

/// The committed outcome of a transaction.
pub struct Committed {
    pub hash: String,
    pub height: i64,
    pub code: u32,
    pub codespace: String,
    pub log: String,
    pub gas_wanted: i64,
    pub gas_used: i64,
    /// (type, [(key, value)]) of every event but the ante handler's.
    pub events: Vec<(String, Vec<(String, String)>)>,
}

impl From<&tendermint_rpc::endpoint::tx::Response> for Committed {
    fn from(tx: &tendermint_rpc::endpoint::tx::Response) -> Committed {
        let r = &tx.tx_result;
        Committed {
            hash: tx.hash.to_string(),
            height: tx.height.value() as i64,
            code: r.code.value(),
            codespace: r.codespace.clone(),
            log: r.log.clone(),
            gas_wanted: r.gas_wanted,
            gas_used: r.gas_used,
            events: r
                .events
                .iter()
                .filter(|e| e.kind != "tx")
                .map(|e| {
                    let attrs = e
                        .attributes
                        .iter()
                        .map(|a| {
                            (
                                a.key_str().unwrap_or_default().to_string(),
                                a.value_str().unwrap_or_default().to_string(),
                            )
                        })
                        .collect();
                    (e.kind.clone(), attrs)
                })
                .collect(),
        }
    }
}

impl Committed {
    /// As `tx` commands print it (the SDK's `TxResponse` fields).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "txhash": self.hash,
            "height": self.height.to_string(),
            "code": self.code,
            "codespace": self.codespace,
            "raw_log": self.log,
            "gas_wanted": self.gas_wanted.to_string(),
            "gas_used": self.gas_used.to_string(),
            "events": self.events.iter().map(|(kind, attrs)| {
                let attrs: serde_json::Map<String, serde_json::Value> = attrs
                    .iter()
                    .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                    .collect();
                serde_json::json!({"type": kind, "attributes": attrs})
            }).collect::<Vec<_>>(),
        })
    }
}

impl Client {
    pub fn new(node: &str) -> Result<Client> {
        let url: tendermint_rpc::Url = node
            .parse()
            .with_context(|| format!("invalid node address {node}"))?;
        let rpc = HttpClient::builder(url.try_into()?)
            .compat_mode(CompatMode::V0_38)
            .build()
            .with_context(|| format!("connecting to {node}"))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(Client {
            rpc,
            runtime,
            node: node.to_string(),
        })
    }

    fn unreachable(&self, e: impl std::fmt::Display) -> anyhow::Error {
        anyhow::anyhow!("node {} did not answer: {e}", self.node)
    }

    /// Calls a gRPC query method through ABCI query; a failed query becomes an error with the
    /// node's code and message.
    pub fn query<Req: Message, Resp: Message + Default>(
        &self,
        path: &str,
        request: &Req,
    ) -> Result<Resp> {
        Ok(self.query_at(path, request, None)?.0)
    }

    /// [`Client::query`] against the state at `height` (`None`: the latest); also returns the
    /// height the node read.
    pub fn query_at<Req: Message, Resp: Message + Default>(
        &self,
        path: &str,
        request: &Req,
        height: Option<u64>,
    ) -> Result<(Resp, u64)> {
        let height = height
            .map(tendermint::block::Height::try_from)
            .transpose()
            .context("query height")?;
        let response = self
            .runtime
            .block_on(self.rpc.abci_query(
                Some(path.to_string()),
                request.encode_to_vec(),
                height,
                false,
            ))
            .map_err(|e| self.unreachable(e))?;
        if response.code.is_err() {
            bail!(
                "{} (codespace {}, code {})",
                response.log,
                response.codespace,
                response.code.value()
            );
        }
        let value = Resp::decode(response.value.as_slice())
            .with_context(|| format!("decoding the answer to {path}"))?;
        Ok((value, response.height.value()))
    }

    /// Every item of a paginated list query: asks for page after page, following `next_key`,
    /// all at the height the first page was read at, so that they make one consistent list.
    /// `request` makes the request for a page; `page` takes a response apart into its items
    /// and its `PageResponse`.
    pub fn query_all<Req: Message, Resp: Message + Default, T>(
        &self,
        path: &str,
        request: impl Fn(PageRequest) -> Req,
        page: impl Fn(Resp) -> (Vec<T>, Option<PageResponse>),
    ) -> Result<Vec<T>> {
        let mut height = None;
        follow_pages(|key| {
            let req = request(PageRequest {
                key,
                limit: PAGE_LIMIT,
                ..Default::default()
            });
            let (resp, at) = self.query_at(path, &req, height)?;
            height = Some(at);
            let (items, pagination) = page(resp);
            Ok((items, pagination.unwrap_or_default().next_key))
        })
    }

    /// The account's number and sequence, or `None` if it does not exist yet.
    pub fn account(&self, address: &str) -> Result<Option<BaseAccount>> {
        let request = QueryAccountRequest {
            address: address.to_string(),
        };
        match self.query::<_, QueryAccountResponse>("/cosmos.auth.v1beta1.Query/Account", &request)
        {
            Ok(response) => {
                let any = response.account.context("empty account response")?;
                let base = from_any::<BaseAccount>(&any)
                    .context("not a base account")?
                    .context("decoding the account")?;
                Ok(Some(base))
            }
            Err(e) if e.to_string().contains("code = NotFound") => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn status(&self) -> Result<tendermint_rpc::endpoint::status::Response> {
        self.runtime
            .block_on(self.rpc.status())
            .map_err(|e| self.unreachable(e))
    }

    /// A committed transaction by hash (hex).
    pub fn tx(&self, hash: &str) -> Result<tendermint_rpc::endpoint::tx::Response> {
        let parsed: tendermint::Hash = hash
            .parse()
            .with_context(|| format!("invalid tx hash {hash}"))?;
        self.runtime
            .block_on(self.rpc.tx(parsed, false))
            .map_err(|e| match e.detail() {
                tendermint_rpc::error::ErrorDetail::Response(r) => {
                    anyhow::anyhow!(
                        "tx {hash}: {}",
                        r.source.data().unwrap_or(r.source.message())
                    )
                }
                _ => self.unreachable(e),
            })
    }

    /// Committed transactions whose events match `query` (CometBFT's query language, e.g.
    /// `message.sender='surety1…'`), oldest first, a page at a time from 1.
    pub fn tx_search(
        &self,
        query: &str,
        page: u32,
        per_page: u8,
    ) -> Result<tendermint_rpc::endpoint::tx_search::Response> {
        let query: tendermint_rpc::query::Query = query
            .parse()
            .map_err(|e| anyhow::anyhow!("invalid --query {query:?}: {e}"))?;
        self.runtime
            .block_on(self.rpc.tx_search(
                query,
                false,
                page,
                per_page,
                tendermint_rpc::Order::Ascending,
            ))
            .map_err(|e| self.unreachable(e))
    }

    /// A block, the latest without a height.
    pub fn block(&self, height: Option<u64>) -> Result<tendermint_rpc::endpoint::block::Response> {
        let response = match height {
            Some(h) => {
                let h = tendermint::block::Height::try_from(h).context("height")?;
                self.runtime.block_on(self.rpc.block(h))
            }
            None => self.runtime.block_on(self.rpc.latest_block()),
        };
        response.map_err(|e| self.unreachable(e))
    }

    /// How many transactions wait in the node's mempool (`/num_unconfirmed_txs`, which
    /// tendermint-rpc does not wrap).
    pub fn mempool_size(&self) -> Result<u64> {
        let url = format!("{}/num_unconfirmed_txs", self.node.trim_end_matches('/'));
        let body = reqwest::blocking::get(&url)
            .and_then(|r| r.text())
            .map_err(|e| self.unreachable(e))?;
        let v: serde_json::Value = serde_json::from_str(&body).context("num_unconfirmed_txs")?;
        v["result"]["total"]
            .as_str()
            .and_then(|t| t.parse().ok())
            .with_context(|| format!("num_unconfirmed_txs: no total in {body}"))
    }

    /// The latest block's time, in unix seconds: the chain's clock.
    pub fn latest_block_time(&self) -> Result<i64> {
        Ok(self.status()?.sync_info.latest_block_time.unix_timestamp())
    }

    pub fn chain_id(&self) -> Result<String> {
        Ok(self.status()?.node_info.network.to_string())
    }

    /// Submits to the mempool; fails with the node's message if CheckTx rejects it.
    pub fn broadcast_sync(&self, tx: Vec<u8>) -> Result<String> {
        let response = self
            .runtime
            .block_on(self.rpc.broadcast_tx_sync(tx))
            .map_err(|e| self.unreachable(e))?;
        if response.code.is_err() {
            bail!(
                "transaction rejected: {} (codespace {}, code {})",
                response.log,
                response.codespace,
                response.code.value()
            );
        }
        Ok(response.hash.to_string())
    }

    /// Waits until the transaction is in a block, polling the indexer.
    pub fn wait_committed(&self, hash: &str, timeout: Duration) -> Result<Committed> {
        let parsed: tendermint::Hash = hash
            .parse()
            .with_context(|| format!("invalid tx hash {hash}"))?;
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(tx) = self.runtime.block_on(self.rpc.tx(parsed, false)) {
                return Ok(Committed::from(&tx));
            }
            if Instant::now() > deadline {
                bail!(
                    "transaction {hash} was not committed within {}s",
                    timeout.as_secs()
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follow_pages_collects_every_page_once_in_order() {
        let items: Vec<u64> = (1..=250).collect();
        let mut asked = Vec::new();
        let all = follow_pages(|key| {
            asked.push(key.clone());
            let start = if key.is_empty() {
                0
            } else {
                u64::from_be_bytes(key.try_into().unwrap()) as usize
            };
            let end = (start + 100).min(items.len());
            let next = if end < items.len() {
                (end as u64).to_be_bytes().to_vec()
            } else {
                Vec::new()
            };
            Ok((items[start..end].to_vec(), next))
        })
        .unwrap();
        assert_eq!(all, items);
        assert_eq!(asked.len(), 3);
        assert!(asked[0].is_empty());
    }

    #[test]
    fn follow_pages_stops_on_a_key_that_does_not_go_forward() {
        let mut calls = 0;
        let r: Result<Vec<u8>> = follow_pages(|_| {
            calls += 1;
            Ok((vec![1], vec![5]))
        });
        assert!(r.is_err());
        assert_eq!(calls, 2);
        let e = follow_pages(|_| Err::<(Vec<u8>, _), _>(anyhow::anyhow!("down"))).unwrap_err();
        assert_eq!(e.to_string(), "down");
    }
}
