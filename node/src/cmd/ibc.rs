//! `suretyd query ibc …`, `suretyd query ibc-transfer …` and `suretyd tx ibc-transfer transfer`:
//! IBC light clients, connections, channels and packets (ibc-go's query services), ICS-20
//! vouchers and transfers, and cross-chain cover's remote accounts and remittances.

use super::policy::split_amount;
use super::tx::{broadcast, key_address, TxArgs};
use super::{Context, NodeArgs};
use crate::client::{follow_pages, Client, PAGE_LIMIT};
use crate::output::{amount, time};
use anyhow::{bail, Context as _, Result};
use prost::Message;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use surety_proto::cosmos::base::query::v1beta1::PageRequest;
use surety_proto::ibc_proto::cosmos::base::query::v1beta1 as ibc_page;
use surety_proto::ibc_proto::google::protobuf::{Any as IbcAny, Duration};
use surety_proto::ibc_proto::ibc::applications::transfer::v1 as transfer;
use surety_proto::ibc_proto::ibc::core::channel::v1 as channel;
use surety_proto::ibc_proto::ibc::core::client::v1 as ibc_client;
use surety_proto::ibc_proto::ibc::core::connection::v1 as connection;
use surety_proto::ibc_proto::ibc::lightclients::tendermint::v1 as tm;
use surety_proto::surety::ibc::v1 as cover;
use surety_proto::Any;

const TRANSFER_TYPE_URL: &str = "/ibc.applications.transfer.v1.MsgTransfer";
const TM_CLIENT_STATE: &str = "/ibc.lightclients.tendermint.v1.ClientState";
const TM_CONSENSUS_STATE: &str = "/ibc.lightclients.tendermint.v1.ConsensusState";

/// Flags of every IBC query: the node, and the height to read.
#[derive(clap::Args, Clone, Debug)]
pub struct QueryArgs {
    /// Read the state at this block height (default: the latest).
    #[arg(long)]
    pub height: Option<u64>,
    #[command(flatten)]
    pub node: NodeArgs,
}

#[derive(clap::Subcommand)]
pub enum Query {
    /// A light client: the chain it follows, its latest height, its status.
    Client {
        client_id: String,
        #[command(flatten)]
        q: QueryArgs,
    },
    /// Every light client.
    Clients {
        #[command(flatten)]
        q: QueryArgs,
    },
    /// A connection end.
    Connection {
        connection_id: String,
        #[command(flatten)]
        q: QueryArgs,
    },
    /// Every connection end.
    Connections {
        #[command(flatten)]
        q: QueryArgs,
    },
    /// A channel end: `channel transfer channel-0`.
    Channel {
        port_id: String,
        channel_id: String,
        #[command(flatten)]
        q: QueryArgs,
    },
    /// Every channel end.
    Channels {
        #[command(flatten)]
        q: QueryArgs,
    },
    /// Packets sent on a channel whose acknowledgement or timeout has not come back yet.
    PacketCommitments {
        port_id: String,
        channel_id: String,
        #[command(flatten)]
        q: QueryArgs,
    },
    /// Which of the given packets, sent to this chain on a channel, it has not received.
    UnreceivedPackets {
        port_id: String,
        channel_id: String,
        /// Packet sequences on the counterparty, e.g. 1,2,3.
        #[arg(long, value_delimiter = ',', required = true)]
        sequences: Vec<u64>,
        #[command(flatten)]
        q: QueryArgs,
    },
    /// The account that acts on Surety for `sender` on the chain behind `channel` (ours).
    RemoteAccount {
        channel: String,
        sender: String,
        #[command(flatten)]
        q: QueryArgs,
    },
    /// Payouts and change sent home to remote accounts' owners.
    Remittances {
        /// Only this remote account's.
        #[arg(long)]
        account: Option<String>,
        #[command(flatten)]
        q: QueryArgs,
    },
}

#[derive(clap::Subcommand)]
pub enum TransferQuery {
    /// The path and base denom a voucher stands for: `denom-trace ibc/<HASH>` (or `<HASH>`).
    DenomTrace {
        hash: String,
        #[command(flatten)]
        q: QueryArgs,
    },
    /// Every voucher this chain has minted.
    DenomTraces {
        #[command(flatten)]
        q: QueryArgs,
    },
}

#[derive(clap::Subcommand)]
pub enum TransferTx {
    /// Send tokens to another chain over ICS-20:
    /// `transfer transfer channel-0 <receiver> 1000000usure --from alice`.
    ///
    /// As in ibc-go's CLI, `--memo` is the packet's memo (what the receiving chain reads) and
    /// `--note` the transaction's. Timeouts are relative unless `--absolute-timeouts`: the
    /// height to the counterparty client's latest height, the timestamp to this chain's latest
    /// block time.
    Transfer {
        src_port: String,
        src_channel: String,
        /// The receiver's address on the other chain.
        receiver: String,
        /// Amount and denom, e.g. 1000000usure, 5ibc/<HASH> or 5transfer/channel-0/uatom.
        amount: String,
        #[arg(long)]
        from: String,
        /// Timeout height on the counterparty, `<revision>-<height>`; 0-0 for none.
        #[arg(long, default_value = "0-0")]
        packet_timeout_height: String,
        /// Timeout timestamp in nanoseconds; 0 for none.
        #[arg(long, default_value_t = 600_000_000_000)]
        packet_timeout_timestamp: u64,
        /// Take the timeouts as they are rather than relative.
        #[arg(long)]
        absolute_timeouts: bool,
        /// The transaction's memo (`--memo` is the packet's).
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        tx: TxArgs,
    },
}

/// The page request of ibc-go's services (ibc-proto's Cosmos protos are another release).
fn ibc_page(p: PageRequest) -> Option<ibc_page::PageRequest> {
    Some(ibc_page::PageRequest {
        key: p.key,
        offset: p.offset,
        limit: p.limit,
        count_total: p.count_total,
        reverse: p.reverse,
    })
}

fn next_key(p: Option<ibc_page::PageResponse>) -> Vec<u8> {
    p.map(|p| p.next_key).unwrap_or_default()
}

/// Every item of a list query, page after page at one height (`height`, or the latest when the
/// first page is read); also returns that height.
fn list<Req: Message, Resp: Message + Default, T>(
    client: &Client,
    path: &str,
    height: Option<u64>,
    request: impl Fn(PageRequest) -> Req,
    page: impl Fn(Resp) -> (Vec<T>, Vec<u8>),
) -> Result<(Vec<T>, u64)> {
    let mut at = height;
    let items = follow_pages(|key| {
        let req = request(PageRequest {
            key,
            limit: PAGE_LIMIT,
            ..Default::default()
        });
        let (resp, read) = client.query_at(path, &req, at)?;
        at = Some(read);
        Ok(page(resp))
    })?;
    Ok((items, at.unwrap_or_default()))
}

fn height_str(h: &Option<ibc_client::Height>) -> String {
    let h = h.unwrap_or_default();
    format!("{}-{}", h.revision_number, h.revision_height)
}

fn duration_str(d: &Option<Duration>) -> String {
    let d = d.unwrap_or_default();
    crate::output::duration(d.seconds)
}

/// A protobuf timestamp as RFC 3339 with nanoseconds.
fn timestamp_str(seconds: i64, nanos: i32) -> String {
    if seconds <= 0 {
        return "-".into();
    }
    let t = std::time::UNIX_EPOCH
        + std::time::Duration::new(seconds as u64, nanos.clamp(0, 999_999_999) as u32);
    humantime::format_rfc3339_nanos(t).to_string()
}

/// A client state: a 07-tendermint one field by field, any other by its type.
fn client_state_json(any: &Option<IbcAny>) -> Value {
    let Some(any) = any else {
        return Value::Null;
    };
    let Some(cs) = (any.type_url == TM_CLIENT_STATE)
        .then(|| tm::ClientState::decode(any.value.as_slice()).ok())
        .flatten()
    else {
        return json!({ "@type": any.type_url });
    };
    let frozen = cs
        .frozen_height
        .as_ref()
        .is_some_and(|h| h.revision_number != 0 || h.revision_height != 0);
    let trust = cs.trust_level.unwrap_or_default();
    json!({
        "type": "07-tendermint",
        "chain_id": cs.chain_id,
        "latest_height": height_str(&cs.latest_height),
        "frozen_height": if frozen { Value::from(height_str(&cs.frozen_height)) } else { Value::Null },
        "trust_level": format!("{}/{}", trust.numerator, trust.denominator),
        "trusting_period": duration_str(&cs.trusting_period),
        "unbonding_period": duration_str(&cs.unbonding_period),
        "max_clock_drift": duration_str(&cs.max_clock_drift),
    })
}

fn consensus_time(any: &Option<IbcAny>) -> Value {
    any.as_ref()
        .filter(|a| a.type_url == TM_CONSENSUS_STATE)
        .and_then(|a| tm::ConsensusState::decode(a.value.as_slice()).ok())
        .and_then(|c| c.timestamp)
        .map_or(Value::Null, |t| timestamp_str(t.seconds, t.nanos).into())
}

fn connection_json(id: &str, end: &connection::ConnectionEnd) -> Value {
    let state = connection::State::try_from(end.state)
        .map(|s| s.as_str_name())
        .unwrap_or("STATE_UNINITIALIZED_UNSPECIFIED");
    let counterparty = end.counterparty.clone().unwrap_or_default();
    json!({
        "connection_id": id,
        "client_id": end.client_id,
        "state": state,
        "counterparty": {
            "client_id": counterparty.client_id,
            "connection_id": counterparty.connection_id,
            "prefix": String::from_utf8_lossy(
                &counterparty.prefix.unwrap_or_default().key_prefix
            ),
        },
        "versions": end.versions.iter().map(|v| json!({
            "identifier": v.identifier,
            "features": v.features,
        })).collect::<Vec<_>>(),
        "delay_period": crate::output::duration(i64::try_from(end.delay_period / 1_000_000_000).unwrap_or(i64::MAX)),
    })
}

fn channel_json(port: &str, id: &str, end: &channel::Channel) -> Value {
    let state = channel::State::try_from(end.state)
        .map(|s| s.as_str_name())
        .unwrap_or("STATE_UNINITIALIZED_UNSPECIFIED");
    let ordering = channel::Order::try_from(end.ordering)
        .map(|o| o.as_str_name())
        .unwrap_or("ORDER_NONE_UNSPECIFIED");
    let counterparty = end.counterparty.clone().unwrap_or_default();
    json!({
        "port_id": port,
        "channel_id": id,
        "state": state,
        "ordering": ordering,
        "counterparty": {
            "port_id": counterparty.port_id,
            "channel_id": counterparty.channel_id,
        },
        "connection_hops": end.connection_hops,
        "version": end.version,
    })
}

fn remittance_status(s: i32) -> &'static str {
    use cover::RemittanceStatus;
    match RemittanceStatus::try_from(s).unwrap_or(RemittanceStatus::Unspecified) {
        RemittanceStatus::Pending => "pending",
        RemittanceStatus::InFlight => "in_flight",
        RemittanceStatus::Delivered => "delivered",
        RemittanceStatus::Unspecified => "unspecified",
    }
}

fn remittance_json(r: &cover::Remittance) -> Value {
    json!({
        "id": r.id.to_string(),
        "account": r.account,
        "channel": r.channel,
        "receiver": r.receiver,
        "amount": amount(&r.amount, &r.denom),
        "kind": r.kind,
        "status": remittance_status(r.status),
        "attempts": r.attempts,
        "packet_sequence": r.sequence.to_string(),
        "next_attempt": time(r.next_attempt),
        "last_error": r.last_error,
    })
}

/// The `ibc/<HASH>` denom of a voucher's full path.
fn voucher_denom(full_path: &str) -> String {
    format!(
        "ibc/{}",
        hex::encode_upper(Sha256::digest(full_path.as_bytes()))
    )
}

/// Whether a denom is a full ICS-20 path (`<port>/channel-<n>/…`) rather than a local denom.
fn is_trace(denom: &str) -> bool {
    let mut parts = denom.splitn(3, '/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(port), Some(channel), Some(rest)) => {
            !port.is_empty()
                && !rest.is_empty()
                && channel
                    .strip_prefix("channel-")
                    .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        }
        _ => false,
    }
}

fn denom_trace_json(t: &transfer::DenomTrace) -> Value {
    let full = if t.path.is_empty() {
        t.base_denom.clone()
    } else {
        format!("{}/{}", t.path, t.base_denom)
    };
    json!({
        "denom": voucher_denom(&full),
        "path": t.path,
        "base_denom": t.base_denom,
    })
}

pub fn run_query(ctx: &Context, command: Query) -> Result<()> {
    let value = match command {
        Query::Client { client_id, q } => {
            let c = q.node.client(ctx)?;
            let (r, at): (ibc_client::QueryClientStateResponse, u64) = c.query_at(
                "/ibc.core.client.v1.Query/ClientState",
                &ibc_client::QueryClientStateRequest {
                    client_id: client_id.clone(),
                },
                q.height,
            )?;
            let (status, _): (ibc_client::QueryClientStatusResponse, u64) = c.query_at(
                "/ibc.core.client.v1.Query/ClientStatus",
                &ibc_client::QueryClientStatusRequest {
                    client_id: client_id.clone(),
                },
                Some(at),
            )?;
            // The latest consensus state's time, when it is there (pruned states are not).
            let latest: Option<ibc_client::QueryConsensusStateResponse> = c
                .query_at(
                    "/ibc.core.client.v1.Query/ConsensusState",
                    &ibc_client::QueryConsensusStateRequest {
                        client_id: client_id.clone(),
                        latest_height: true,
                        ..Default::default()
                    },
                    Some(at),
                )
                .ok()
                .map(|(r, _)| r);
            json!({
                "client_id": client_id,
                "status": status.status,
                "client_state": client_state_json(&r.client_state),
                "latest_consensus_time": latest.map_or(Value::Null, |l| consensus_time(&l.consensus_state)),
                "height": at.to_string(),
            })
        }
        Query::Clients { q } => {
            let (clients, at) = list(
                &q.node.client(ctx)?,
                "/ibc.core.client.v1.Query/ClientStates",
                q.height,
                |page| ibc_client::QueryClientStatesRequest {
                    pagination: ibc_page(page),
                },
                |r: ibc_client::QueryClientStatesResponse| {
                    (r.client_states, next_key(r.pagination))
                },
            )?;
            json!({
                "clients": clients.iter().map(|c| json!({
                    "client_id": c.client_id,
                    "client_state": client_state_json(&c.client_state),
                })).collect::<Vec<_>>(),
                "height": at.to_string(),
            })
        }
        Query::Connection { connection_id, q } => {
            let (r, at): (connection::QueryConnectionResponse, u64) =
                q.node.client(ctx)?.query_at(
                    "/ibc.core.connection.v1.Query/Connection",
                    &connection::QueryConnectionRequest {
                        connection_id: connection_id.clone(),
                    },
                    q.height,
                )?;
            let end = r.connection.context("empty response")?;
            let mut value = connection_json(&connection_id, &end);
            value["height"] = at.to_string().into();
            value
        }
        Query::Connections { q } => {
            let (connections, at) = list(
                &q.node.client(ctx)?,
                "/ibc.core.connection.v1.Query/Connections",
                q.height,
                |page| connection::QueryConnectionsRequest {
                    pagination: ibc_page(page),
                },
                |r: connection::QueryConnectionsResponse| (r.connections, next_key(r.pagination)),
            )?;
            json!({
                "connections": connections.iter().map(|c| connection_json(&c.id, &connection::ConnectionEnd {
                    client_id: c.client_id.clone(),
                    versions: c.versions.clone(),
                    state: c.state,
                    counterparty: c.counterparty.clone(),
                    delay_period: c.delay_period,
                })).collect::<Vec<_>>(),
                "height": at.to_string(),
            })
        }
        Query::Channel {
            port_id,
            channel_id,
            q,
        } => {
            let (r, at): (channel::QueryChannelResponse, u64) = q.node.client(ctx)?.query_at(
                "/ibc.core.channel.v1.Query/Channel",
                &channel::QueryChannelRequest {
                    port_id: port_id.clone(),
                    channel_id: channel_id.clone(),
                },
                q.height,
            )?;
            let end = r.channel.context("empty response")?;
            let mut value = channel_json(&port_id, &channel_id, &end);
            value["height"] = at.to_string().into();
            value
        }
        Query::Channels { q } => {
            let (channels, at) = list(
                &q.node.client(ctx)?,
                "/ibc.core.channel.v1.Query/Channels",
                q.height,
                |page| channel::QueryChannelsRequest {
                    pagination: ibc_page(page),
                },
                |r: channel::QueryChannelsResponse| (r.channels, next_key(r.pagination)),
            )?;
            json!({
                "channels": channels.iter().map(|c| channel_json(&c.port_id, &c.channel_id, &channel::Channel {
                    state: c.state,
                    ordering: c.ordering,
                    counterparty: c.counterparty.clone(),
                    connection_hops: c.connection_hops.clone(),
                    version: c.version.clone(),
                    upgrade_sequence: c.upgrade_sequence,
                })).collect::<Vec<_>>(),
                "height": at.to_string(),
            })
        }
        Query::PacketCommitments {
            port_id,
            channel_id,
            q,
        } => {
            let (mut commitments, at) = list(
                &q.node.client(ctx)?,
                "/ibc.core.channel.v1.Query/PacketCommitments",
                q.height,
                |page| channel::QueryPacketCommitmentsRequest {
                    port_id: port_id.clone(),
                    channel_id: channel_id.clone(),
                    pagination: ibc_page(page),
                },
                |r: channel::QueryPacketCommitmentsResponse| {
                    (r.commitments, next_key(r.pagination))
                },
            )?;
            // The store lists sequences in text order ("10" before "9").
            commitments.sort_by_key(|c| c.sequence);
            json!({
                "port_id": port_id,
                "channel_id": channel_id,
                "sequences": commitments.iter().map(|c| c.sequence.to_string()).collect::<Vec<_>>(),
                "commitments": commitments.iter().map(|c| json!({
                    "sequence": c.sequence.to_string(),
                    "data": hex::encode(&c.data),
                })).collect::<Vec<_>>(),
                "height": at.to_string(),
            })
        }
        Query::UnreceivedPackets {
            port_id,
            channel_id,
            sequences,
            q,
        } => {
            let (r, at): (channel::QueryUnreceivedPacketsResponse, u64) =
                q.node.client(ctx)?.query_at(
                    "/ibc.core.channel.v1.Query/UnreceivedPackets",
                    &channel::QueryUnreceivedPacketsRequest {
                        port_id: port_id.clone(),
                        channel_id: channel_id.clone(),
                        packet_commitment_sequences: sequences,
                    },
                    q.height,
                )?;
            json!({
                "port_id": port_id,
                "channel_id": channel_id,
                "sequences": r.sequences.iter().map(u64::to_string).collect::<Vec<_>>(),
                "height": at.to_string(),
            })
        }
        Query::RemoteAccount { channel, sender, q } => {
            let (r, at): (cover::QueryRemoteAccountResponse, u64) = q.node.client(ctx)?.query_at(
                "/surety.ibc.v1.Query/RemoteAccount",
                &cover::QueryRemoteAccountRequest {
                    channel: channel.clone(),
                    sender: sender.clone(),
                },
                q.height,
            )?;
            json!({
                "address": r.address,
                "channel": channel,
                "sender": sender,
                // Known once a transfer from the sender has arrived.
                "beneficiary": r.account.as_ref().map(|a| a.beneficiary.clone()),
                "active": r.account.is_some(),
                "height": at.to_string(),
            })
        }
        Query::Remittances { account, q } => {
            let account = account.unwrap_or_default();
            let (remittances, at) = list(
                &q.node.client(ctx)?,
                "/surety.ibc.v1.Query/Remittances",
                q.height,
                |page| cover::QueryRemittancesRequest {
                    account: account.clone(),
                    pagination: Some(page),
                },
                |r: cover::QueryRemittancesResponse| {
                    (
                        r.remittances,
                        r.pagination.map(|p| p.next_key).unwrap_or_default(),
                    )
                },
            )?;
            json!({
                "remittances": remittances.iter().map(remittance_json).collect::<Vec<_>>(),
                "height": at.to_string(),
            })
        }
    };
    ctx.print(&value);
    Ok(())
}

pub fn run_transfer_query(ctx: &Context, command: TransferQuery) -> Result<()> {
    let value = match command {
        TransferQuery::DenomTrace { hash, q } => {
            let (r, at): (transfer::QueryDenomTraceResponse, u64) = q.node.client(ctx)?.query_at(
                "/ibc.applications.transfer.v1.Query/DenomTrace",
                &transfer::QueryDenomTraceRequest { hash },
                q.height,
            )?;
            let mut value = denom_trace_json(&r.denom_trace.context("empty response")?);
            value["height"] = at.to_string().into();
            value
        }
        TransferQuery::DenomTraces { q } => {
            let (traces, at) = list(
                &q.node.client(ctx)?,
                "/ibc.applications.transfer.v1.Query/DenomTraces",
                q.height,
                |page| transfer::QueryDenomTracesRequest {
                    pagination: ibc_page(page),
                },
                |r: transfer::QueryDenomTracesResponse| (r.denom_traces, next_key(r.pagination)),
            )?;
            json!({
                "denom_traces": traces.iter().map(denom_trace_json).collect::<Vec<_>>(),
                "height": at.to_string(),
            })
        }
    };
    ctx.print(&value);
    Ok(())
}

/// `<revision>-<height>`.
fn parse_height(s: &str) -> Result<ibc_client::Height> {
    let (revision, height) = s.split_once('-').with_context(|| {
        format!("timeout height {s:?}: expected <revision>-<height>, e.g. 1-1000")
    })?;
    Ok(ibc_client::Height {
        revision_number: revision
            .parse()
            .with_context(|| format!("timeout height {s:?}: revision"))?,
        revision_height: height
            .parse()
            .with_context(|| format!("timeout height {s:?}: height"))?,
    })
}

/// The counterparty client's latest height, which relative timeout heights count from.
fn counterparty_height(client: &Client, port: &str, chan: &str) -> Result<ibc_client::Height> {
    let r: channel::QueryChannelClientStateResponse = client
        .query(
            "/ibc.core.channel.v1.Query/ChannelClientState",
            &channel::QueryChannelClientStateRequest {
                port_id: port.to_owned(),
                channel_id: chan.to_owned(),
            },
        )
        .with_context(|| format!("the client of channel {port}/{chan}"))?;
    let any = r
        .identified_client_state
        .and_then(|c| c.client_state)
        .context("empty client state")?;
    if any.type_url != TM_CLIENT_STATE {
        bail!(
            "channel {port}/{chan} runs on a {} client: give --absolute-timeouts",
            any.type_url
        );
    }
    tm::ClientState::decode(any.value.as_slice())
        .context("decoding the counterparty client")?
        .latest_height
        .context("the counterparty client has no latest height")
}

/// Absolute timeouts from the flags: relative ones counted from the counterparty client's latest
/// height and this chain's latest block time.
fn timeouts(
    client: &Client,
    port: &str,
    chan: &str,
    height: &str,
    timestamp: u64,
    absolute: bool,
) -> Result<(ibc_client::Height, u64)> {
    let mut height = parse_height(height)?;
    let mut timestamp = timestamp;
    let no_height = height.revision_number == 0 && height.revision_height == 0;
    if no_height && timestamp == 0 {
        bail!("a transfer needs a timeout: give --packet-timeout-height or --packet-timeout-timestamp");
    }
    if absolute {
        return Ok((height, timestamp));
    }
    if !no_height {
        let latest = counterparty_height(client, port, chan)?;
        height = ibc_client::Height {
            revision_number: latest
                .revision_number
                .saturating_add(height.revision_number),
            revision_height: latest
                .revision_height
                .saturating_add(height.revision_height),
        };
    }
    if timestamp != 0 {
        let now = client
            .status()?
            .sync_info
            .latest_block_time
            .unix_timestamp_nanos();
        let now = u64::try_from(now).context("the chain's block time is before 1970")?;
        timestamp = now
            .checked_add(timestamp)
            .context("timeout timestamp beyond the clock")?;
    }
    Ok((height, timestamp))
}

pub fn run_transfer_tx(ctx: &Context, command: TransferTx) -> Result<()> {
    let TransferTx::Transfer {
        src_port,
        src_channel,
        receiver,
        amount,
        from,
        packet_timeout_height,
        packet_timeout_timestamp,
        absolute_timeouts,
        note,
        mut tx,
    } = command;
    if receiver.trim().is_empty() {
        bail!("the receiver is empty");
    }
    let (value, denom) = split_amount(&amount)?;
    let denom = denom.with_context(|| format!("{amount:?} names no denom, e.g. 1000usure"))?;
    if value == 0 {
        bail!("amount must be positive");
    }
    // A full path names the voucher it stands for, as in ibc-go's CLI.
    let denom = if is_trace(&denom) {
        voucher_denom(&denom)
    } else {
        denom
    };
    let client = tx.node.client(ctx)?;
    let (timeout_height, timeout_timestamp) = timeouts(
        &client,
        &src_port,
        &src_channel,
        &packet_timeout_height,
        packet_timeout_timestamp,
        absolute_timeouts,
    )?;
    // `--memo` is the packet's; the transaction's is `--note`.
    let memo = std::mem::replace(&mut tx.memo, note);
    let msg = transfer::MsgTransfer {
        source_port: src_port,
        source_channel: src_channel,
        token: Some(surety_proto::ibc_proto::cosmos::base::v1beta1::Coin {
            denom,
            amount: value.to_string(),
        }),
        sender: key_address(ctx, &from, &tx)?,
        receiver,
        timeout_height: Some(timeout_height),
        timeout_timestamp,
        memo,
    };
    let any = Any {
        type_url: TRANSFER_TYPE_URL.to_string(),
        value: msg.encode_to_vec(),
    };
    broadcast(ctx, &from, vec![any], &tx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_paths_name_their_voucher_and_local_denoms_stay() {
        assert!(is_trace("transfer/channel-0/uatom"));
        assert!(is_trace(
            "transfer/channel-12/transfer/channel-3/gamm/pool/1"
        ));
        assert!(!is_trace("usure"));
        assert!(!is_trace(
            "ibc/27394FB092D2ECCD56123C74F36E4C1F926001CEADA9CA97EA622B25F41E5EB2"
        ));
        assert!(!is_trace("factory/cosmos1xyz/coin"));
        assert!(!is_trace("transfer/channel-0/"));
        // ibc-go's well-known hash of ATOM over channel-0.
        assert_eq!(
            voucher_denom("transfer/channel-0/uatom"),
            "ibc/27394FB092D2ECCD56123C74F36E4C1F926001CEADA9CA97EA622B25F41E5EB2"
        );
    }

    #[test]
    fn timeout_heights_parse() {
        let h = parse_height("1-1000").unwrap();
        assert_eq!((h.revision_number, h.revision_height), (1, 1000));
        assert!(parse_height("1000").is_err());
        assert!(parse_height("a-1").is_err());
    }

    #[test]
    fn the_commands_parse() {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Q {
            #[command(subcommand)]
            q: Query,
        }
        #[derive(clap::Parser)]
        struct T {
            #[command(subcommand)]
            t: TransferTx,
        }
        let q = Q::try_parse_from([
            "q",
            "unreceived-packets",
            "transfer",
            "channel-0",
            "--sequences",
            "1,2,3",
            "--height",
            "5",
        ])
        .unwrap();
        match q.q {
            Query::UnreceivedPackets { sequences, q, .. } => {
                assert_eq!(sequences, [1, 2, 3]);
                assert_eq!(q.height, Some(5));
            }
            _ => panic!("parsed the wrong command"),
        }
        let t = T::try_parse_from([
            "t",
            "transfer",
            "transfer",
            "channel-0",
            "cosmos1receiver",
            "100usure",
            "--from",
            "alice",
            "--memo",
            "for the packet",
            "--note",
            "for the tx",
        ])
        .unwrap();
        let TransferTx::Transfer {
            packet_timeout_height,
            packet_timeout_timestamp,
            note,
            tx,
            ..
        } = t.t;
        assert_eq!(packet_timeout_height, "0-0");
        assert_eq!(packet_timeout_timestamp, 600_000_000_000);
        assert_eq!(note, "for the tx");
        assert_eq!(tx.memo, "for the packet");
    }
}
