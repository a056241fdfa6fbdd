//! `ibc.applications.transfer.v1.Query`: denom traces of vouchers, escrow accounts, params.

use super::channel::channel_end;
use super::{channel_id, corrupt, list, need, port_id};
use crate::keys;
use crate::transfer::{denom_hash, escrow_address};
use ibc::apps::transfer::types::PrefixedDenom;
use ibc_proto::ibc::applications::transfer::v1::*;
use prost::Message;
use std::str::FromStr;
use surety_framework::{decode_query, sdk, Ctx, Error};

pub(super) fn query(ctx: &mut Ctx, method: &str, request: &[u8]) -> Result<Option<Vec<u8>>, Error> {
    Ok(Some(match method {
        "DenomTrace" => {
            let req: QueryDenomTraceRequest = decode_query(request)?;
            let hash = hash(&req.hash)?;
            let path = need(
                ctx,
                &keys::denom_trace(&hash),
                format_args!("denom trace for ibc/{hash}"),
            )?;
            QueryDenomTraceResponse {
                denom_trace: Some(trace(&path)?),
            }
            .encode_to_vec()
        }
        "DenomTraces" => {
            let req: QueryDenomTracesRequest = decode_query(request)?;
            let (denom_traces, pagination) = list(
                ctx,
                keys::DENOM_TRACES_PREFIX,
                req.pagination.as_ref(),
                |_, _, value| trace(value).map(Some),
            )?;
            QueryDenomTracesResponse {
                denom_traces,
                pagination,
            }
            .encode_to_vec()
        }
        "DenomHash" => {
            let req: QueryDenomHashRequest = decode_query(request)?;
            let denom = PrefixedDenom::from_str(&req.trace)
                .map_err(|e| sdk::invalid_request(format!("denom trace {:?}: {e}", req.trace)))?;
            let hash = denom_hash(&denom.to_string());
            // Only vouchers this chain has minted have a trace (a native denom has none), as in
            // ibc-go.
            need(
                ctx,
                &keys::denom_trace(&hash),
                format_args!("denom trace {}", req.trace),
            )?;
            QueryDenomHashResponse { hash }.encode_to_vec()
        }
        "EscrowAddress" => {
            let req: QueryEscrowAddressRequest = decode_query(request)?;
            let port = port_id(&req.port_id)?;
            let chan = channel_id(&req.channel_id)?;
            channel_end(ctx, &port, &chan)?;
            QueryEscrowAddressResponse {
                escrow_address: escrow_address(&port, &chan).to_bech32(),
            }
            .encode_to_vec()
        }
        // Sending and receiving are always on: there is no param to turn them off.
        "Params" => QueryParamsResponse {
            params: Some(Params {
                send_enabled: true,
                receive_enabled: true,
            }),
        }
        .encode_to_vec(),
        _ => return Ok(None),
    }))
}

/// The hash of a voucher named by `HASH` or `ibc/HASH`: 64 hex digits, upper case as stored.
fn hash(name: &str) -> Result<String, Error> {
    let hash = name.strip_prefix("ibc/").unwrap_or(name);
    if hash.len() != 64 || !hash.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(sdk::invalid_request(format!(
            "{name:?} is not a denom hash: expected 64 hex digits, or ibc/ and them"
        )));
    }
    Ok(hash.to_ascii_uppercase())
}

/// A stored full denom path as ibc-go's `DenomTrace`.
fn trace(full_path: &[u8]) -> Result<DenomTrace, Error> {
    let text = std::str::from_utf8(full_path).map_err(|e| corrupt("denom trace", e))?;
    let denom = PrefixedDenom::from_str(text)
        .map_err(|e| corrupt(format_args!("denom trace {text:?}"), e))?;
    Ok(DenomTrace {
        path: denom.trace_path.to_string(),
        base_denom: denom.base_denom.to_string(),
    })
}
