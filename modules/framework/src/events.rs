//! Cosmos-style typed events, and which of their attributes CometBFT indexes for `tx_search`.

use std::collections::BTreeSet;
use surety_proto::cometbft::abci;

/// The attributes a node leaves out of CometBFT's search index unless told otherwise: on every
/// transaction, and said again by the events that are searched. `coin_spent`/`coin_received`
/// repeat `transfer`; amounts, fees, times and signatures are not searched by value;
/// `message.msg_index` is the same on nearly every transaction and `message.module` and
/// `tx.fee_payer` repeat `message.action` and `message.sender`. Indexing is most of what a
/// transaction costs CometBFT: with an app that does no work (`scripts/bench`'s ceiling), a bank
/// send's result committed 2 720 a second with its 10 attributes indexed, 3 080 with 7 and
/// 4 200 with none.
pub const DEFAULT_NOT_INDEXED: &[&str] = &[
    "coin_spent",
    "coin_received",
    "transfer.amount",
    "tx.fee",
    "tx.fee_payer",
    "tx.signature",
    "message.module",
    "message.msg_index",
    "cover_bought.cover",
    "cover_bought.premium",
    "cover_bought.end",
];

/// Which event attributes are marked for CometBFT's index. A node's own choice (app.toml
/// `no_index_events`): the index flag is in no hash, so validators may choose differently.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventIndex {
    /// Event types (`coin_spent`) and attributes (`tx.fee`) left out.
    skip: BTreeSet<String>,
}

impl Default for EventIndex {
    fn default() -> Self {
        EventIndex::skipping(DEFAULT_NOT_INDEXED.iter().copied())
    }
}

impl EventIndex {
    /// Every attribute indexed, as a Cosmos SDK node does by default.
    pub fn all() -> Self {
        EventIndex {
            skip: BTreeSet::new(),
        }
    }

    /// Everything but these event types (`coin_spent`) and attributes (`tx.fee`).
    pub fn skipping<S: Into<String>>(skip: impl IntoIterator<Item = S>) -> Self {
        EventIndex {
            skip: skip.into_iter().map(Into::into).collect(),
        }
    }

    pub fn indexes(&self, kind: &str, key: &str) -> bool {
        !self.skip.iter().any(|s| {
            s == kind
                || (s.len() == kind.len() + 1 + key.len()
                    && s.starts_with(kind)
                    && s.ends_with(key)
                    && s.as_bytes()[kind.len()] == b'.')
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub kind: String,
    pub attributes: Vec<(String, String)>,
}

impl Event {
    pub fn new(kind: impl Into<String>) -> Event {
        Event {
            kind: kind.into(),
            attributes: Vec::new(),
        }
    }

    pub fn attr(mut self, key: impl Into<String>, value: impl ToString) -> Event {
        self.attributes.push((key.into(), value.to_string()));
        self
    }

    /// The event with every attribute indexed.
    pub fn to_abci(&self) -> abci::Event {
        self.to_abci_indexed(&EventIndex::all())
    }

    pub fn to_abci_indexed(&self, index: &EventIndex) -> abci::Event {
        abci::Event {
            r#type: self.kind.clone(),
            attributes: self
                .attributes
                .iter()
                .map(|(key, value)| abci::EventAttribute {
                    key: key.clone(),
                    value: value.clone(),
                    index: index.indexes(&self.kind, key),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_chooses_what_is_indexed() {
        let send = Event::new("transfer")
            .attr("recipient", "surety1a")
            .attr("sender", "surety1b")
            .attr("amount", "1usure");
        let flags = |index: &EventIndex, e: &Event| -> Vec<bool> {
            e.to_abci_indexed(index)
                .attributes
                .iter()
                .map(|a| a.index)
                .collect()
        };
        assert_eq!(
            flags(&EventIndex::default(), &send),
            [true, true, false],
            "amounts are not searched"
        );
        assert_eq!(flags(&EventIndex::all(), &send), [true, true, true]);
        let spent = Event::new("coin_spent").attr("spender", "surety1b");
        assert_eq!(flags(&EventIndex::default(), &spent), [false]);
        let message = Event::new("message")
            .attr("action", "/cosmos.bank.v1beta1.MsgSend")
            .attr("sender", "surety1b")
            .attr("module", "bank")
            .attr("msg_index", 0);
        assert_eq!(
            flags(&EventIndex::default(), &message),
            [true, true, false, false],
            "what clients search for stays indexed"
        );
        // A type named like the start of another is not matched by it.
        let custom = EventIndex::skipping(["tx.fee"]);
        assert!(custom.indexes("tx", "fee_payer"));
        assert!(!custom.indexes("tx", "fee"));
        assert!(custom.indexes("txs", "fee"));
        assert!(EventIndex::skipping(Vec::<String>::new()).indexes("coin_spent", "amount"));
    }
}
