//! `ibc.core.client.v1.Query`: light clients and their consensus states.

use super::{client_id, decode_any, height, key_str, list, missing, need, proof};
use crate::{keys, STORE};
use ibc::core::client::types::Height;
use ibc::core::host::types::identifiers::ClientId;
use ibc::core::host::types::path::{ClientConsensusStatePath, ClientStatePath};
use ibc_proto::google::protobuf::Any;
use ibc_proto::ibc::core::client::v1::Height as RawHeight;
use ibc_proto::ibc::core::client::v1::*;
use ibc_proto::ibc::lightclients::tendermint::v1 as tm;
use prost::Message;
use surety_framework::{decode_query, sdk, Ctx, Error};

const TM_CLIENT_STATE: &str = "/ibc.lightclients.tendermint.v1.ClientState";
const TM_CONSENSUS_STATE: &str = "/ibc.lightclients.tendermint.v1.ConsensusState";

/// The client types this chain runs.
pub const ALLOWED_CLIENTS: &[&str] = &["07-tendermint"];

pub(super) fn query(ctx: &mut Ctx, method: &str, request: &[u8]) -> Result<Option<Vec<u8>>, Error> {
    Ok(Some(match method {
        "ClientState" => {
            let req: QueryClientStateRequest = decode_query(request)?;
            let id = client_id(&req.client_id)?;
            let (client_state, proof) = client_state(ctx, &id)?;
            QueryClientStateResponse {
                client_state: Some(client_state),
                proof,
                proof_height: Some(height(ctx)),
            }
            .encode_to_vec()
        }
        "ClientStates" => {
            let req: QueryClientStatesRequest = decode_query(request)?;
            // `clients/<id>/clientState`, among each client's consensus states and
            // connections (as ibc-go lists them).
            let suffix = format!("/{}", ClientStatePath::leaf());
            let (client_states, pagination) = list(
                ctx,
                b"clients/",
                req.pagination.as_ref(),
                |_, key, value| {
                    let Some(id) = key_str(key)?.strip_suffix(&suffix) else {
                        return Ok(None);
                    };
                    Ok(Some(IdentifiedClientState {
                        client_id: id.to_owned(),
                        client_state: Some(decode_any(value, format_args!("client {id}"))?),
                    }))
                },
            )?;
            QueryClientStatesResponse {
                client_states,
                pagination,
            }
            .encode_to_vec()
        }
        "ConsensusState" => {
            let req: QueryConsensusStateRequest = decode_query(request)?;
            let id = client_id(&req.client_id)?;
            let at = if req.latest_height {
                latest_height(ctx, &id)?
            } else {
                request_height(req.revision_number, req.revision_height)?
            };
            let (consensus_state, proof) = consensus_state(ctx, &id, &at)?;
            QueryConsensusStateResponse {
                consensus_state: Some(consensus_state),
                proof,
                proof_height: Some(height(ctx)),
            }
            .encode_to_vec()
        }
        "ConsensusStates" => {
            let req: QueryConsensusStatesRequest = decode_query(request)?;
            let id = client_id(&req.client_id)?;
            let (heights, pagination) = heights(ctx, &id, req.pagination.as_ref())?;
            let mut consensus_states = Vec::with_capacity(heights.len());
            for h in heights {
                let key = keys::path(consensus_path(&id, &h));
                let bytes = need(ctx, &key, format_args!("consensus state of {id} at {h}"))?;
                consensus_states.push(ConsensusStateWithHeight {
                    height: Some(raw(&h)),
                    consensus_state: Some(decode_any(&bytes, format_args!("{id} at {h}"))?),
                });
            }
            QueryConsensusStatesResponse {
                consensus_states,
                pagination,
            }
            .encode_to_vec()
        }
        "ConsensusStateHeights" => {
            let req: QueryConsensusStateHeightsRequest = decode_query(request)?;
            let id = client_id(&req.client_id)?;
            let (heights, pagination) = heights(ctx, &id, req.pagination.as_ref())?;
            QueryConsensusStateHeightsResponse {
                consensus_state_heights: heights.iter().map(raw).collect(),
                pagination,
            }
            .encode_to_vec()
        }
        "ClientStatus" => {
            let req: QueryClientStatusRequest = decode_query(request)?;
            let id = client_id(&req.client_id)?;
            QueryClientStatusResponse {
                status: status(ctx, &id)?.to_owned(),
            }
            .encode_to_vec()
        }
        "ClientParams" => QueryClientParamsResponse {
            params: Some(Params {
                allowed_clients: ALLOWED_CLIENTS.iter().map(|c| c.to_string()).collect(),
            }),
        }
        .encode_to_vec(),
        // Upgrades of this chain are not planned through IBC: there is no upgraded state.
        "UpgradedClientState" => {
            return Err(missing("upgraded client state: no upgrade is planned"))
        }
        "UpgradedConsensusState" => {
            return Err(missing("upgraded consensus state: no upgrade is planned"))
        }
        _ => return Ok(None),
    }))
}

/// A consensus-state height named in a request.
pub(super) fn request_height(revision_number: u64, revision_height: u64) -> Result<Height, Error> {
    Height::new(revision_number, revision_height)
        .map_err(|e| sdk::invalid_request(format!("consensus state height: {e}")))
}

pub(super) fn raw(h: &Height) -> RawHeight {
    RawHeight {
        revision_number: h.revision_number(),
        revision_height: h.revision_height(),
    }
}

fn consensus_path(client: &ClientId, h: &Height) -> ClientConsensusStatePath {
    ClientConsensusStatePath::new(client.clone(), h.revision_number(), h.revision_height())
}

/// A client's state as stored (an `Any`), and the proof of its key.
pub(super) fn client_state(ctx: &mut Ctx, client: &ClientId) -> Result<(Any, Vec<u8>), Error> {
    let key = keys::path(ClientStatePath::new(client.clone()));
    let bytes = need(ctx, &key, format_args!("client {client}"))?;
    Ok((
        decode_any(&bytes, format_args!("client {client}"))?,
        proof(ctx, &key)?,
    ))
}

/// A client's consensus state at `h` as stored (an `Any`), and the proof of its key.
pub(super) fn consensus_state(
    ctx: &mut Ctx,
    client: &ClientId,
    h: &Height,
) -> Result<(Any, Vec<u8>), Error> {
    let key = keys::path(consensus_path(client, h));
    let bytes = need(
        ctx,
        &key,
        format_args!("consensus state of {client} at {h}"),
    )?;
    Ok((
        decode_any(&bytes, format_args!("consensus state of {client} at {h}"))?,
        proof(ctx, &key)?,
    ))
}

fn tendermint_client(any: &Any) -> Option<tm::ClientState> {
    (any.type_url == TM_CLIENT_STATE)
        .then(|| tm::ClientState::decode(any.value.as_slice()).ok())
        .flatten()
}

fn latest_height(ctx: &mut Ctx, client: &ClientId) -> Result<Height, Error> {
    let (any, _) = client_state(ctx, client)?;
    tendermint_client(&any)
        .and_then(|cs| cs.latest_height)
        .and_then(|h| Height::new(h.revision_number, h.revision_height).ok())
        .ok_or_else(|| missing(format!("latest height of client {client}")))
}

/// One page of a client's consensus-state heights, in height order (the ICS-24 keys sort
/// `1-10` before `1-9`; the host keeps an index that sorts right).
fn heights(
    ctx: &mut Ctx,
    client: &ClientId,
    page: Option<&ibc_proto::cosmos::base::query::v1beta1::PageRequest>,
) -> Result<
    (
        Vec<Height>,
        Option<ibc_proto::cosmos::base::query::v1beta1::PageResponse>,
    ),
    Error,
> {
    let prefix = keys::consensus_heights_prefix(client);
    list(ctx, &prefix, page, |_, key, _| {
        keys::height_from_bytes(key)
            .map(Some)
            .ok_or_else(|| sdk::internal(format!("corrupt consensus height index of {client}")))
    })
}

/// `Active`, `Frozen` (misbehaviour was found) or `Expired` (its latest consensus state is
/// older than the trusting period), as ibc-go's 07-tendermint tells them; `Unknown` for a state
/// it cannot read.
fn status(ctx: &mut Ctx, client: &ClientId) -> Result<&'static str, Error> {
    let (any, _) = client_state(ctx, client)?;
    let Some(cs) = tendermint_client(&any) else {
        return Ok("Unknown");
    };
    if cs
        .frozen_height
        .is_some_and(|h| h.revision_number != 0 || h.revision_height != 0)
    {
        return Ok("Frozen");
    }
    let Some(latest) = cs
        .latest_height
        .and_then(|h| Height::new(h.revision_number, h.revision_height).ok())
    else {
        return Ok("Unknown");
    };
    let key = keys::path(consensus_path(client, &latest));
    let Some(bytes) = ctx.get(STORE, &key)? else {
        return Ok("Expired");
    };
    let consensus = Any::decode(bytes.as_slice())
        .ok()
        .filter(|a| a.type_url == TM_CONSENSUS_STATE)
        .and_then(|a| tm::ConsensusState::decode(a.value.as_slice()).ok());
    let (Some(timestamp), Some(trusting)) =
        (consensus.and_then(|c| c.timestamp), cs.trusting_period)
    else {
        return Ok("Unknown");
    };
    let nanos = |secs: i64, nanos: i64| {
        i128::from(secs)
            .saturating_mul(1_000_000_000)
            .saturating_add(i128::from(nanos))
    };
    let expires = nanos(timestamp.seconds, timestamp.nanos.into())
        .saturating_add(nanos(trusting.seconds, trusting.nanos.into()));
    let now = nanos(ctx.block.time_unix_secs, ctx.block.time_nanos.into());
    Ok(if expires <= now { "Expired" } else { "Active" })
}
