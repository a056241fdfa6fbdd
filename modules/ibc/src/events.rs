//! IBC events as Surety emits them: every attribute indexed.
//!
//! ibc-rs builds its events with `index = false`; Hermes finds packets with `tx_search` and
//! `block_search` on `send_packet.packet_sequence` and the like, so each attribute is re-marked
//! indexed (a node leaves out only what its `no_index_events` names: no IBC event by default).

use ibc::core::handler::types::events::IbcEvent;
use ibc::core::host::types::error::HostError;
use surety_framework::Event;

pub fn to_event(event: IbcEvent) -> Result<Event, HostError> {
    let abci = tendermint::abci::Event::try_from(event)
        .map_err(|e| HostError::invalid_state(format!("unencodable IBC event: {e}")))?;
    let mut out = Event::new(abci.kind);
    for attribute in abci.attributes {
        let key = attribute.key_str().unwrap_or_default().to_owned();
        let value = attribute.value_str().unwrap_or_default().to_owned();
        out = out.attr(key, value);
    }
    Ok(out)
}
