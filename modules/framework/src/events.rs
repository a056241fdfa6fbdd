//! Cosmos-style typed events; every attribute is indexed so `tx_search` finds it.

use surety_proto::cometbft::abci;

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

    pub fn to_abci(&self) -> abci::Event {
        abci::Event {
            r#type: self.kind.clone(),
            attributes: self
                .attributes
                .iter()
                .map(|(key, value)| abci::EventAttribute {
                    key: key.clone(),
                    value: value.clone(),
                    index: true,
                })
                .collect(),
        }
    }
}
