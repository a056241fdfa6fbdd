//! `ibc.core.connection.v1.Query`: connection ends and the clients under them.

use super::client::{client_state, consensus_state, request_height};
use super::{client_id, connection_id, corrupt, height, key_str, list, need_msg, proof};
use crate::keys;
use ibc::core::host::types::identifiers::{ClientId, ConnectionId};
use ibc::core::host::types::path::{ClientConnectionPath, ConnectionPath};
use ibc_proto::ibc::core::client::v1::IdentifiedClientState;
use ibc_proto::ibc::core::connection::v1::*;
use prost::Message;
use surety_framework::{decode_query, Ctx, Error};

pub(super) fn query(ctx: &mut Ctx, method: &str, request: &[u8]) -> Result<Option<Vec<u8>>, Error> {
    Ok(Some(match method {
        "Connection" => {
            let req: QueryConnectionRequest = decode_query(request)?;
            let id = connection_id(&req.connection_id)?;
            let (connection, proof) = connection(ctx, &id)?;
            QueryConnectionResponse {
                connection: Some(connection),
                proof,
                proof_height: Some(height(ctx)),
            }
            .encode_to_vec()
        }
        "Connections" => {
            let req: QueryConnectionsRequest = decode_query(request)?;
            let prefix = format!("{}/", ConnectionPath::prefix());
            let (connections, pagination) = list(
                ctx,
                prefix.as_bytes(),
                req.pagination.as_ref(),
                |_, key, value| {
                    let id = key_str(key)?;
                    let end = ConnectionEnd::decode(value)
                        .map_err(|e| corrupt(format_args!("connection {id}"), e))?;
                    Ok(Some(identified(id, end)))
                },
            )?;
            QueryConnectionsResponse {
                connections,
                pagination,
                height: Some(height(ctx)),
            }
            .encode_to_vec()
        }
        "ClientConnections" => {
            let req: QueryClientConnectionsRequest = decode_query(request)?;
            let id = client_id(&req.client_id)?;
            let key = keys::path(ClientConnectionPath::new(id.clone()));
            let paths: ClientPaths =
                need_msg(ctx, &key, format_args!("connections of client {id}"))?;
            QueryClientConnectionsResponse {
                connection_paths: paths.paths,
                proof: proof(ctx, &key)?,
                proof_height: Some(height(ctx)),
            }
            .encode_to_vec()
        }
        "ConnectionClientState" => {
            let req: QueryConnectionClientStateRequest = decode_query(request)?;
            let id = connection_id(&req.connection_id)?;
            let client = client_of(ctx, &id)?;
            let (state, proof) = client_state(ctx, &client)?;
            QueryConnectionClientStateResponse {
                identified_client_state: Some(IdentifiedClientState {
                    client_id: client.to_string(),
                    client_state: Some(state),
                }),
                proof,
                proof_height: Some(height(ctx)),
            }
            .encode_to_vec()
        }
        "ConnectionConsensusState" => {
            let req: QueryConnectionConsensusStateRequest = decode_query(request)?;
            let id = connection_id(&req.connection_id)?;
            let at = request_height(req.revision_number, req.revision_height)?;
            let client = client_of(ctx, &id)?;
            let (state, proof) = consensus_state(ctx, &client, &at)?;
            QueryConnectionConsensusStateResponse {
                consensus_state: Some(state),
                client_id: client.to_string(),
                proof,
                proof_height: Some(height(ctx)),
            }
            .encode_to_vec()
        }
        "ConnectionParams" => QueryConnectionParamsResponse {
            params: Some(Params {
                max_expected_time_per_block: crate::MAX_EXPECTED_TIME_PER_BLOCK_SECS
                    .saturating_mul(1_000_000_000),
            }),
        }
        .encode_to_vec(),
        _ => return Ok(None),
    }))
}

fn identified(id: &str, end: ConnectionEnd) -> IdentifiedConnection {
    IdentifiedConnection {
        id: id.to_owned(),
        client_id: end.client_id,
        versions: end.versions,
        state: end.state,
        counterparty: end.counterparty,
        delay_period: end.delay_period,
    }
}

/// A connection end as stored (raw proto), and the proof of its key.
pub(super) fn connection(
    ctx: &mut Ctx,
    id: &ConnectionId,
) -> Result<(ConnectionEnd, Vec<u8>), Error> {
    let key = keys::path(ConnectionPath::new(id));
    let end = need_msg(ctx, &key, format_args!("connection {id}"))?;
    Ok((end, proof(ctx, &key)?))
}

/// The client a connection runs on.
pub(super) fn client_of(ctx: &mut Ctx, id: &ConnectionId) -> Result<ClientId, Error> {
    let key = keys::path(ConnectionPath::new(id));
    let end: ConnectionEnd = need_msg(ctx, &key, format_args!("connection {id}"))?;
    end.client_id
        .parse()
        .map_err(|e| corrupt(format_args!("client id of connection {id}"), e))
}
