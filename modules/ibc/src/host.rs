//! The IBC host: ibc-rs's validation and execution contexts over Surety's `ibc` substore.
//!
//! ibc-rs reads through `&self` and hands the router's modules their own context, so the host
//! and the transfer module share the block's [`Ctx`] through a [`Shared`] cell: each read or
//! write borrows it for that one call. Every read and write is metered like any other module's.

use crate::keys;
use crate::STORE;
use ibc::clients::tendermint::client_state::ClientState as TmClientState;
use ibc::clients::tendermint::consensus_state::ConsensusState as TmConsensusState;
use ibc::core::channel::types::channel::ChannelEnd;
use ibc::core::channel::types::commitment::{AcknowledgementCommitment, PacketCommitment};
use ibc::core::channel::types::packet::Receipt;
use ibc::core::client::context::{
    ClientExecutionContext, ClientValidationContext, ExtClientValidationContext,
};
use ibc::core::client::types::Height;
use ibc::core::commitment_types::commitment::CommitmentPrefix;
use ibc::core::commitment_types::specs::ProofSpecs;
use ibc::core::connection::types::ConnectionEnd;
use ibc::core::handler::types::events::IbcEvent;
use ibc::core::host::types::error::HostError;
use ibc::core::host::types::identifiers::{ChainId, ClientId, ConnectionId, Sequence};
use ibc::core::host::types::path::{
    AckPath, ChannelEndPath, ClientConnectionPath, ClientConsensusStatePath, ClientStatePath,
    CommitmentPath, ConnectionPath, ReceiptPath, SeqAckPath, SeqRecvPath, SeqSendPath,
};
use ibc::core::host::{ExecutionContext, ValidationContext};
use ibc::cosmos_host::ValidateSelfClientContext;
use ibc::primitives::proto::{Any as IbcAny, Protobuf};
use ibc::primitives::{Signer, Timestamp};
use prost::Message;
use std::cell::RefCell;
use std::str::FromStr;
use std::time::Duration;
use surety_framework::{Ctx, Error};

/// The block's context, shared by the IBC host and the applications it routes packets to.
pub type Shared<'r, 'c> = &'r RefCell<&'r mut Ctx<'c>>;

/// The ICS-24 commitment prefix: the substore's name, which Hermes also uses as its ABCI path.
pub const COMMITMENT_PREFIX: &[u8] = b"ibc";

/// Upgraded client states are committed here, where ibc-go puts them (ICS-24 upgrade path).
pub fn upgrade_path() -> Vec<String> {
    vec!["upgrade".to_owned(), "upgradedIBCState".to_owned()]
}

/// The two ics23 specs a proof from this chain follows: a JMT substore, then the JMT main tree.
pub fn proof_specs() -> ProofSpecs {
    ProofSpecs::try_from(vec![jmt::ics23_spec(), jmt::ics23_spec()])
        .expect("the JMT ics23 spec is a valid proof spec")
}

/// A store error as ibc-rs sees it; the original error is kept for the transaction's result.
fn host_err(e: Error) -> HostError {
    HostError::failed_to_retrieve(format!("{}/{}: {}", e.codespace, e.code, e.log))
}

/// The chain id as IBC reads it: `name-N` is revision N.
pub fn chain_id(ctx: &Ctx) -> ChainId {
    ChainId::from_str(&ctx.block.chain_id)
        .or_else(|_| ChainId::new("surety"))
        .expect("a valid chain id")
}

pub fn host_height(ctx: &Ctx) -> Result<Height, HostError> {
    Height::new(chain_id(ctx).revision_number(), ctx.block.height)
        .map_err(|e| HostError::invalid_state(format!("host height: {e}")))
}

pub fn host_timestamp(ctx: &Ctx) -> Result<Timestamp, HostError> {
    let secs = u64::try_from(ctx.block.time_unix_secs)
        .map_err(|_| HostError::invalid_state("block time before 1970"))?;
    Timestamp::from_unix_timestamp(secs, ctx.block.time_nanos)
        .map_err(|e| HostError::invalid_state(format!("block time: {e}")))
}

pub struct Host<'r, 'c> {
    pub(crate) ctx: Shared<'r, 'c>,
    chain_id: ChainId,
    proof_specs: ProofSpecs,
    upgrade_path: Vec<String>,
}

impl<'r, 'c> Host<'r, 'c> {
    pub fn new(ctx: Shared<'r, 'c>) -> Host<'r, 'c> {
        let chain_id = chain_id(&ctx.borrow());
        Host {
            ctx,
            chain_id,
            proof_specs: proof_specs(),
            upgrade_path: upgrade_path(),
        }
    }

    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, HostError> {
        self.ctx.borrow_mut().get(STORE, key).map_err(host_err)
    }

    fn need(&self, key: &[u8], what: impl FnOnce() -> String) -> Result<Vec<u8>, HostError> {
        self.get(key)?
            .ok_or_else(|| HostError::missing_state(what()))
    }

    pub fn put(&self, key: Vec<u8>, value: Vec<u8>) -> Result<(), HostError> {
        self.ctx
            .borrow_mut()
            .put(STORE, key, value)
            .map_err(|e| HostError::failed_to_store(e.log))
    }

    fn delete(&self, key: Vec<u8>) -> Result<(), HostError> {
        self.ctx
            .borrow_mut()
            .delete(STORE, key)
            .map_err(|e| HostError::failed_to_store(e.log))
    }

    fn counter(&self, key: &[u8]) -> Result<u64, HostError> {
        Ok(match self.get(key)? {
            Some(b) => u64_from(&b, "counter")?,
            None => 0,
        })
    }

    fn increase(&self, key: &[u8]) -> Result<(), HostError> {
        let next = self
            .counter(key)?
            .checked_add(1)
            .ok_or_else(|| HostError::invalid_state("counter exhausted"))?;
        self.put(key.to_vec(), next.to_be_bytes().to_vec())
    }

    fn sequence(&self, key: Vec<u8>, what: &str) -> Result<Sequence, HostError> {
        let bytes = self.need(&key, || {
            format!("{what} at {}", String::from_utf8_lossy(&key))
        })?;
        Ok(Sequence::from(u64_from(&bytes, what)?))
    }

    /// The heights of `client`'s consensus states, lowest first, from `start` on.
    fn heights(
        &self,
        client: &ClientId,
        start: Option<&Height>,
        limit: usize,
    ) -> Result<Vec<Height>, HostError> {
        let prefix = keys::consensus_heights_prefix(client);
        let start = start.map(|h| keys::consensus_height(client, h));
        let entries = self
            .ctx
            .borrow_mut()
            .range(STORE, &prefix, start.as_deref(), limit)
            .map_err(host_err)?;
        Ok(entries
            .iter()
            .filter_map(|(k, _)| keys::height_from_bytes(&k[prefix.len()..]))
            .collect())
    }

    fn read_consensus_state(
        &self,
        client: &ClientId,
        height: &Height,
    ) -> Result<TmConsensusState, HostError> {
        let path = ClientConsensusStatePath::new(
            client.clone(),
            height.revision_number(),
            height.revision_height(),
        );
        let bytes = self.need(&keys::path(path), || {
            format!("consensus state of {client} at {height}")
        })?;
        decode_any(&bytes)
    }
}

pub(crate) fn u64_from(bytes: &[u8], what: &str) -> Result<u64, HostError> {
    Ok(u64::from_be_bytes(bytes.try_into().map_err(|_| {
        HostError::invalid_state(format!("corrupt {what}"))
    })?))
}

/// A client or consensus state stored as ibc-go stores it: a protobuf `Any`.
fn decode_any<T: TryFrom<IbcAny>>(bytes: &[u8]) -> Result<T, HostError>
where
    T::Error: std::fmt::Display,
{
    let any = IbcAny::decode(bytes).map_err(|e| HostError::invalid_state(e.to_string()))?;
    T::try_from(any).map_err(|e| HostError::invalid_state(e.to_string()))
}

fn encode_any(value: impl Into<IbcAny>) -> Vec<u8> {
    value.into().encode_to_vec()
}

impl ClientValidationContext for Host<'_, '_> {
    type ClientStateRef = TmClientState;
    type ConsensusStateRef = TmConsensusState;

    fn client_state(&self, client_id: &ClientId) -> Result<TmClientState, HostError> {
        let bytes = self.need(&keys::path(ClientStatePath::new(client_id.clone())), || {
            format!("client {client_id}")
        })?;
        decode_any(&bytes)
    }

    fn consensus_state(
        &self,
        path: &ClientConsensusStatePath,
    ) -> Result<TmConsensusState, HostError> {
        let bytes = self.need(&keys::path(path.clone()), || format!("{path}"))?;
        decode_any(&bytes)
    }

    fn client_update_meta(
        &self,
        client_id: &ClientId,
        height: &Height,
    ) -> Result<(Timestamp, Height), HostError> {
        let bytes = self.need(&keys::update_meta(client_id, height), || {
            format!("update time of {client_id} at {height}")
        })?;
        let time = Timestamp::from_nanoseconds(u64_from(&bytes[..8.min(bytes.len())], "time")?);
        let processed = keys::height_from_bytes(&bytes[8..])
            .ok_or_else(|| HostError::invalid_state("corrupt processed height"))?;
        Ok((time, processed))
    }
}

impl ClientExecutionContext for Host<'_, '_> {
    type ClientStateMut = TmClientState;

    fn store_client_state(
        &mut self,
        path: ClientStatePath,
        client_state: TmClientState,
    ) -> Result<(), HostError> {
        self.put(keys::path(path), encode_any(client_state))
    }

    fn store_consensus_state(
        &mut self,
        path: ClientConsensusStatePath,
        consensus_state: TmConsensusState,
    ) -> Result<(), HostError> {
        let client = path.client_id.clone();
        let height = Height::new(path.revision_number, path.revision_height)
            .map_err(|e| HostError::invalid_state(e.to_string()))?;
        self.put(keys::consensus_height(&client, &height), vec![1])?;
        self.put(keys::path(path), encode_any(consensus_state))
    }

    fn delete_consensus_state(&mut self, path: ClientConsensusStatePath) -> Result<(), HostError> {
        if let Ok(height) = Height::new(path.revision_number, path.revision_height) {
            self.delete(keys::consensus_height(&path.client_id, &height))?;
        }
        self.delete(keys::path(path))
    }

    fn store_update_meta(
        &mut self,
        client_id: ClientId,
        height: Height,
        host_timestamp: Timestamp,
        host_height: Height,
    ) -> Result<(), HostError> {
        let value = [
            host_timestamp.nanoseconds().to_be_bytes().as_slice(),
            &keys::height_bytes(&host_height),
        ]
        .concat();
        self.put(keys::update_meta(&client_id, &height), value)
    }

    fn delete_update_meta(&mut self, client_id: ClientId, height: Height) -> Result<(), HostError> {
        self.delete(keys::update_meta(&client_id, &height))
    }
}

impl ExtClientValidationContext for Host<'_, '_> {
    fn host_timestamp(&self) -> Result<Timestamp, HostError> {
        host_timestamp(&self.ctx.borrow())
    }

    fn host_height(&self) -> Result<Height, HostError> {
        host_height(&self.ctx.borrow())
    }

    fn consensus_state_heights(&self, client_id: &ClientId) -> Result<Vec<Height>, HostError> {
        // Bounded by the client's pruning: expired states go on every update.
        self.heights(client_id, None, usize::MAX)
    }

    fn next_consensus_state(
        &self,
        client_id: &ClientId,
        height: &Height,
    ) -> Result<Option<TmConsensusState>, HostError> {
        let after = height.increment();
        match self.heights(client_id, Some(&after), 1)?.first() {
            Some(h) => self.read_consensus_state(client_id, h).map(Some),
            None => Ok(None),
        }
    }

    fn prev_consensus_state(
        &self,
        client_id: &ClientId,
        height: &Height,
    ) -> Result<Option<TmConsensusState>, HostError> {
        let below = self
            .heights(client_id, None, usize::MAX)?
            .into_iter()
            .rfind(|h| h < height);
        match below {
            Some(h) => self.read_consensus_state(client_id, &h).map(Some),
            None => Ok(None),
        }
    }
}

impl ValidateSelfClientContext for Host<'_, '_> {
    fn chain_id(&self) -> &ChainId {
        &self.chain_id
    }

    fn host_current_height(&self) -> Height {
        host_height(&self.ctx.borrow()).unwrap_or_else(|_| Height::min(0))
    }

    fn proof_specs(&self) -> &ProofSpecs {
        &self.proof_specs
    }

    fn unbonding_period(&self) -> Duration {
        let params = surety_staking::delegation::params(&mut self.ctx.borrow_mut());
        let secs = params
            .ok()
            .and_then(|p| p.unbonding_time)
            .map_or(0, |d| d.seconds);
        Duration::from_secs(u64::try_from(secs).unwrap_or(0))
    }

    fn upgrade_path(&self) -> &[String] {
        &self.upgrade_path
    }
}

impl ValidationContext for Host<'_, '_> {
    type V = Self;
    type HostClientState = TmClientState;
    type HostConsensusState = TmConsensusState;

    fn get_client_validation_context(&self) -> &Self {
        self
    }

    fn host_height(&self) -> Result<Height, HostError> {
        host_height(&self.ctx.borrow())
    }

    fn host_timestamp(&self) -> Result<Timestamp, HostError> {
        host_timestamp(&self.ctx.borrow())
    }

    fn host_consensus_state(&self, height: &Height) -> Result<TmConsensusState, HostError> {
        if height.revision_number() != self.chain_id.revision_number() {
            return Err(HostError::missing_state(format!(
                "no consensus state of this chain at {height}: it is at revision {}",
                self.chain_id.revision_number()
            )));
        }
        let bytes = self.need(
            &keys::host_consensus_state(height.revision_height()),
            || format!("this chain's consensus state at {height} (pruned or not yet made)"),
        )?;
        let raw =
            ibc_proto::ibc::lightclients::tendermint::v1::ConsensusState::decode(bytes.as_slice())
                .map_err(|e| HostError::invalid_state(e.to_string()))?;
        TmConsensusState::try_from(raw).map_err(|e| HostError::invalid_state(e.to_string()))
    }

    fn client_counter(&self) -> Result<u64, HostError> {
        self.counter(keys::NEXT_CLIENT_SEQUENCE)
    }

    fn connection_end(&self, conn_id: &ConnectionId) -> Result<ConnectionEnd, HostError> {
        let bytes = self.need(&keys::path(ConnectionPath::new(conn_id)), || {
            format!("connection {conn_id}")
        })?;
        ConnectionEnd::decode_vec(&bytes).map_err(|e| HostError::invalid_state(e.to_string()))
    }

    fn validate_self_client(&self, client_state: TmClientState) -> Result<(), HostError> {
        self.validate_self_tendermint_client(client_state.inner().clone())
    }

    fn commitment_prefix(&self) -> CommitmentPrefix {
        CommitmentPrefix::from(COMMITMENT_PREFIX.to_vec())
    }

    fn connection_counter(&self) -> Result<u64, HostError> {
        self.counter(keys::NEXT_CONNECTION_SEQUENCE)
    }

    fn channel_end(&self, path: &ChannelEndPath) -> Result<ChannelEnd, HostError> {
        let bytes = self.need(&keys::path(path.clone()), || format!("channel {}", path.1))?;
        ChannelEnd::decode_vec(&bytes).map_err(|e| HostError::invalid_state(e.to_string()))
    }

    fn get_next_sequence_send(&self, path: &SeqSendPath) -> Result<Sequence, HostError> {
        self.sequence(keys::path(path.clone()), "next send sequence")
    }

    fn get_next_sequence_recv(&self, path: &SeqRecvPath) -> Result<Sequence, HostError> {
        self.sequence(keys::path(path.clone()), "next receive sequence")
    }

    fn get_next_sequence_ack(&self, path: &SeqAckPath) -> Result<Sequence, HostError> {
        self.sequence(keys::path(path.clone()), "next ack sequence")
    }

    fn get_packet_commitment(&self, path: &CommitmentPath) -> Result<PacketCommitment, HostError> {
        let bytes = self.need(&keys::path(path.clone()), || format!("{path}"))?;
        Ok(PacketCommitment::from(bytes))
    }

    fn get_packet_receipt(&self, path: &ReceiptPath) -> Result<Receipt, HostError> {
        Ok(match self.get(&keys::path(path.clone()))? {
            Some(_) => Receipt::Ok,
            None => Receipt::None,
        })
    }

    fn get_packet_acknowledgement(
        &self,
        path: &AckPath,
    ) -> Result<AcknowledgementCommitment, HostError> {
        let bytes = self.need(&keys::path(path.clone()), || format!("{path}"))?;
        Ok(AcknowledgementCommitment::from(bytes))
    }

    fn channel_counter(&self) -> Result<u64, HostError> {
        self.counter(keys::NEXT_CHANNEL_SEQUENCE)
    }

    fn max_expected_time_per_block(&self) -> Duration {
        Duration::from_secs(crate::MAX_EXPECTED_TIME_PER_BLOCK_SECS)
    }

    fn validate_message_signer(&self, signer: &Signer) -> Result<(), HostError> {
        surety_framework::Address::from_bech32(signer.as_ref())
            .map(|_| ())
            .map_err(|e| HostError::invalid_state(e.log))
    }
}

impl ExecutionContext for Host<'_, '_> {
    type E = Self;

    fn get_client_execution_context(&mut self) -> &mut Self {
        self
    }

    fn increase_client_counter(&mut self) -> Result<(), HostError> {
        self.increase(keys::NEXT_CLIENT_SEQUENCE)
    }

    fn store_connection(
        &mut self,
        path: &ConnectionPath,
        connection_end: ConnectionEnd,
    ) -> Result<(), HostError> {
        self.put(keys::path(path.clone()), connection_end.encode_vec())
    }

    fn store_connection_to_client(
        &mut self,
        path: &ClientConnectionPath,
        conn_id: ConnectionId,
    ) -> Result<(), HostError> {
        let key = keys::path(path.clone());
        let mut paths = match self.get(&key)? {
            Some(b) => ibc_proto::ibc::core::connection::v1::ClientPaths::decode(b.as_slice())
                .map_err(|e| HostError::invalid_state(e.to_string()))?,
            None => Default::default(),
        };
        paths.paths.push(conn_id.to_string());
        self.put(key, paths.encode_to_vec())
    }

    fn increase_connection_counter(&mut self) -> Result<(), HostError> {
        self.increase(keys::NEXT_CONNECTION_SEQUENCE)
    }

    fn store_packet_commitment(
        &mut self,
        path: &CommitmentPath,
        commitment: PacketCommitment,
    ) -> Result<(), HostError> {
        self.put(keys::path(path.clone()), commitment.into_vec())
    }

    fn delete_packet_commitment(&mut self, path: &CommitmentPath) -> Result<(), HostError> {
        self.delete(keys::path(path.clone()))
    }

    fn store_packet_receipt(&mut self, path: &ReceiptPath, _: Receipt) -> Result<(), HostError> {
        // ICS-24: a receipt is the single byte 0x01.
        self.put(keys::path(path.clone()), vec![1])
    }

    fn store_packet_acknowledgement(
        &mut self,
        path: &AckPath,
        commitment: AcknowledgementCommitment,
    ) -> Result<(), HostError> {
        self.put(keys::path(path.clone()), commitment.into_vec())
    }

    fn delete_packet_acknowledgement(&mut self, path: &AckPath) -> Result<(), HostError> {
        self.delete(keys::path(path.clone()))
    }

    fn store_channel(
        &mut self,
        path: &ChannelEndPath,
        channel_end: ChannelEnd,
    ) -> Result<(), HostError> {
        self.put(keys::path(path.clone()), channel_end.encode_vec())
    }

    fn store_next_sequence_send(
        &mut self,
        path: &SeqSendPath,
        seq: Sequence,
    ) -> Result<(), HostError> {
        self.put(
            keys::path(path.clone()),
            u64::from(seq).to_be_bytes().to_vec(),
        )
    }

    fn store_next_sequence_recv(
        &mut self,
        path: &SeqRecvPath,
        seq: Sequence,
    ) -> Result<(), HostError> {
        self.put(
            keys::path(path.clone()),
            u64::from(seq).to_be_bytes().to_vec(),
        )
    }

    fn store_next_sequence_ack(
        &mut self,
        path: &SeqAckPath,
        seq: Sequence,
    ) -> Result<(), HostError> {
        self.put(
            keys::path(path.clone()),
            u64::from(seq).to_be_bytes().to_vec(),
        )
    }

    fn increase_channel_counter(&mut self) -> Result<(), HostError> {
        self.increase(keys::NEXT_CHANNEL_SEQUENCE)
    }

    fn emit_ibc_event(&mut self, event: IbcEvent) -> Result<(), HostError> {
        let event = crate::events::to_event(event)?;
        self.ctx.borrow_mut().emit(event);
        Ok(())
    }

    fn log_message(&mut self, message: String) -> Result<(), HostError> {
        tracing::debug!(target: "ibc", "{message}");
        Ok(())
    }
}

/// Records this chain's consensus state for the block being executed: the app hash of the
/// previous block (this header's `app_hash`), the block time and the next validator set's hash.
/// Counterparties' clients of Surety are checked against it during connection handshakes.
pub fn record_host_consensus_state(
    ctx: &mut Ctx,
    app_hash: &[u8],
    next_validators_hash: &[u8],
    keep: u64,
) -> Result<(), Error> {
    let timestamp = prost_types_timestamp(ctx);
    let state = ibc_proto::ibc::lightclients::tendermint::v1::ConsensusState {
        timestamp: Some(timestamp),
        root: Some(ibc_proto::ibc::core::commitment::v1::MerkleRoot {
            hash: app_hash.to_vec(),
        }),
        next_validators_hash: next_validators_hash.to_vec(),
    };
    let height = ctx.block.height;
    ctx.put(
        STORE,
        keys::host_consensus_state(height),
        state.encode_to_vec(),
    )?;
    if let Some(old) = height.checked_sub(keep).filter(|h| *h > 0) {
        ctx.delete(STORE, keys::host_consensus_state(old))?;
    }
    Ok(())
}

fn prost_types_timestamp(ctx: &Ctx) -> ibc_proto::google::protobuf::Timestamp {
    ibc_proto::google::protobuf::Timestamp {
        seconds: ctx.block.time_unix_secs,
        nanos: i32::try_from(ctx.block.time_nanos).unwrap_or(0),
    }
}
