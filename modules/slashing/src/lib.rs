//! slashing: `cosmos.slashing.v1beta1`. Each block, the validators' signatures on the previous
//! block (CometBFT's `decided_last_commit`) update a sliding window per validator; one that signs
//! fewer than `min_signed_per_window` of the window is slashed `slash_fraction_downtime` and jailed
//! for `downtime_jail_duration`, after which `MsgUnjail` brings it back. Double-sign evidence
//! (CometBFT's `misbehavior`) slashes `slash_fraction_double_sign` — stake that was unbonding from
//! the validator after the infraction included — and tombstones it: jailed for good.

use prost::Message;
use surety_framework::{
    decode_msg, decode_query, require_authority, sdk, signers_of, Address, Ctx, Dec, Error, Event,
    Module, ValidatorUpdate, VALIDATOR_PREFIX,
};
use surety_proto::cosmos::slashing::v1beta1::*;
use surety_proto::{Any, TypeUrl};
use tendermint_proto::google::protobuf::{Duration, Timestamp};

pub const STORE: &str = "slashing";
const PARAMS: &[u8] = &[0x00];
const INFOS: u8 = 0x01;
const MISSED: u8 = 0x02;
/// Tombstoned validators are jailed until the end of time.
const FOREVER: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z

surety_framework::errors! { "slashing";
    no_validator = 2, "address is not associated with any known validator";
    validator_jailed = 4, "validator still jailed; cannot be unjailed";
    validator_not_jailed = 5, "validator not jailed; cannot be unjailed";
    tombstoned = 7, "validator is tombstoned and cannot be unjailed";
}

/// Decimals in slashing params are `LegacyDec` bytes, as Cosmos SDK stores them.
fn dec_bytes(d: Dec) -> Vec<u8> {
    d.0.to_string().into_bytes()
}

fn dec_of(bytes: &[u8], what: &str) -> Result<Dec, Error> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.parse::<u128>().ok())
        .map(Dec)
        .ok_or_else(|| sdk::invalid_request(format!("slashing {what} is not a decimal")))
}

pub fn default_params() -> Params {
    Params {
        signed_blocks_window: 100,
        min_signed_per_window: dec_bytes(Dec::from_bps(500)),
        downtime_jail_duration: Some(Duration {
            seconds: 600,
            nanos: 0,
        }),
        slash_fraction_double_sign: dec_bytes(Dec::from_bps(500)),
        slash_fraction_downtime: dec_bytes(Dec::from_bps(1)),
    }
}

fn validate(p: &Params) -> Result<(), Error> {
    if p.signed_blocks_window <= 0 || p.downtime_jail_duration.is_none_or(|d| d.seconds < 0) {
        return Err(sdk::invalid_request(
            "signed_blocks_window and downtime_jail_duration must be positive",
        ));
    }
    for (b, what) in [
        (&p.min_signed_per_window, "min_signed_per_window"),
        (&p.slash_fraction_double_sign, "slash_fraction_double_sign"),
        (&p.slash_fraction_downtime, "slash_fraction_downtime"),
    ] {
        if dec_of(b, what)? > Dec::ONE {
            return Err(sdk::invalid_request(format!("{what} must be at most 1")));
        }
    }
    Ok(())
}

fn info_key(address: &[u8]) -> Vec<u8> {
    [&[INFOS][..], address].concat()
}

fn missed_key(address: &[u8], index: i64) -> Vec<u8> {
    [&[MISSED][..], address, &index.to_be_bytes()].concat()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

#[derive(Clone, Copy, Default)]
pub struct Slashing {
    staking: surety_staking::Staking,
}

impl Slashing {
    pub fn params(&self, ctx: &mut Ctx) -> Result<Params, Error> {
        Ok(ctx.get_msg(STORE, PARAMS)?.unwrap_or_else(default_params))
    }

    pub fn signing_info(
        &self,
        ctx: &mut Ctx,
        address: &[u8],
    ) -> Result<Option<ValidatorSigningInfo>, Error> {
        ctx.get_msg(STORE, &info_key(address))
    }

    fn save(
        &self,
        ctx: &mut Ctx,
        address: &[u8],
        info: &ValidatorSigningInfo,
    ) -> Result<(), Error> {
        ctx.put_msg(STORE, info_key(address), info)
    }

    /// Records whether a validator signed the last block, and jails it when it has missed too
    /// many of the window.
    fn handle_signature(
        &self,
        ctx: &mut Ctx,
        params: &Params,
        address: &[u8],
        signed: bool,
    ) -> Result<(), Error> {
        let height = ctx.block.height as i64;
        let window = params.signed_blocks_window;
        let mut info = self
            .signing_info(ctx, address)?
            .unwrap_or(ValidatorSigningInfo {
                address: hex(address),
                start_height: height,
                ..Default::default()
            });
        let index = info.index_offset % window;
        info.index_offset += 1;
        let key = missed_key(address, index);
        let was_missed = ctx.get(STORE, &key)?.is_some();
        match (was_missed, signed) {
            (false, false) => {
                ctx.put(STORE, key, vec![1])?;
                info.missed_blocks_counter += 1;
            }
            (true, true) => {
                ctx.delete(STORE, key)?;
                info.missed_blocks_counter -= 1;
            }
            _ => {}
        }
        let min_signed = dec_of(&params.min_signed_per_window, "min_signed_per_window")?;
        let must_sign = min_signed.mul_amount(window as u128, surety_framework::Round::Up)? as i64;
        let max_missed = window - must_sign;
        let due = height > info.start_height + window && info.missed_blocks_counter > max_missed;
        if due && !self.staking.is_jailed_consensus(ctx, address)? {
            let fraction = dec_of(&params.slash_fraction_downtime, "slash_fraction_downtime")?;
            // The missed blocks were signed for by the validator set two blocks before.
            let jailed =
                self.staking
                    .slash(ctx, address, fraction, (height - 2).max(0), "downtime")?;
            if jailed {
                self.staking.jail(ctx, address)?;
                let until = ctx.block.time_unix_secs
                    + params.downtime_jail_duration.map_or(0, |d| d.seconds);
                info.jailed_until = Some(Timestamp {
                    seconds: until,
                    nanos: 0,
                });
                // A fresh window once it is back.
                for (k, _) in ctx.prefix(STORE, &[&[MISSED][..], address].concat())? {
                    ctx.delete(STORE, k)?;
                }
                info.missed_blocks_counter = 0;
                info.index_offset = 0;
                info.start_height = height;
                ctx.emit(
                    Event::new("liveness")
                        .attr("address", hex(address))
                        .attr("missed_blocks", max_missed + 1)
                        .attr("jailed_until", until),
                );
            }
        }
        self.save(ctx, address, &info)
    }

    /// Double-sign evidence: slash (unbonding stake since the infraction included) and tombstone.
    fn handle_double_sign(
        &self,
        ctx: &mut Ctx,
        params: &Params,
        address: &[u8],
        infraction_height: i64,
    ) -> Result<(), Error> {
        let mut info = self
            .signing_info(ctx, address)?
            .unwrap_or(ValidatorSigningInfo {
                address: hex(address),
                start_height: ctx.block.height as i64,
                ..Default::default()
            });
        if info.tombstoned {
            return Ok(());
        }
        let fraction = dec_of(
            &params.slash_fraction_double_sign,
            "slash_fraction_double_sign",
        )?;
        if !self
            .staking
            .slash(ctx, address, fraction, infraction_height, "double_sign")?
        {
            return Ok(());
        }
        self.staking.jail(ctx, address)?;
        info.tombstoned = true;
        info.jailed_until = Some(Timestamp {
            seconds: FOREVER,
            nanos: 0,
        });
        self.save(ctx, address, &info)?;
        ctx.emit(
            Event::new("double_sign")
                .attr("address", hex(address))
                .attr("infraction_height", infraction_height),
        );
        Ok(())
    }

    pub fn unjail(&self, ctx: &mut Ctx, operator: &Address) -> Result<(), Error> {
        let validator = self
            .staking
            .consensus_validators(ctx)?
            .into_iter()
            .find(|v| v.operator == *operator)
            .ok_or_else(|| no_validator(operator.to_bech32_with(VALIDATOR_PREFIX)))?;
        if !self.staking.is_jailed(ctx, operator)? {
            return Err(validator_not_jailed(
                operator.to_bech32_with(VALIDATOR_PREFIX),
            ));
        }
        if let Some(info) = self.signing_info(ctx, &validator.address)? {
            if info.tombstoned {
                return Err(tombstoned(operator.to_bech32_with(VALIDATOR_PREFIX)));
            }
            let until = info.jailed_until.map_or(0, |t| t.seconds);
            if ctx.block.time_unix_secs < until {
                return Err(validator_jailed(format!("jailed until {until}")));
            }
        }
        self.staking.unjail(ctx, operator)?;
        ctx.emit(Event::new("unjail").attr("validator", operator.to_bech32_with(VALIDATOR_PREFIX)));
        Ok(())
    }
}

pub struct SlashingModule {
    pub keeper: Slashing,
}

pub const QUERY_PARAMS: &str = "/cosmos.slashing.v1beta1.Query/Params";
pub const QUERY_SIGNING_INFO: &str = "/cosmos.slashing.v1beta1.Query/SigningInfo";
pub const QUERY_SIGNING_INFOS: &str = "/cosmos.slashing.v1beta1.Query/SigningInfos";

impl Module for SlashingModule {
    fn name(&self) -> &'static str {
        STORE
    }

    fn msg_types(&self) -> &'static [&'static str] {
        &[MsgUnjail::TYPE_URL, MsgUpdateParams::TYPE_URL]
    }

    fn signers(&self, msg: &Any) -> Result<Vec<Address>, Error> {
        if msg.type_url == MsgUnjail::TYPE_URL {
            let m: MsgUnjail = decode_msg(msg)?;
            return Ok(vec![Address::from_bech32_with(
                &m.validator_addr,
                VALIDATOR_PREFIX,
            )?]);
        }
        signers_of!(msg; MsgUpdateParams => authority)
    }

    fn deliver(&self, ctx: &mut Ctx, msg: &Any) -> Result<Vec<u8>, Error> {
        Ok(match msg.type_url.as_str() {
            MsgUnjail::TYPE_URL => {
                let m: MsgUnjail = decode_msg(msg)?;
                self.keeper.unjail(
                    ctx,
                    &Address::from_bech32_with(&m.validator_addr, VALIDATOR_PREFIX)?,
                )?;
                MsgUnjailResponse {}.encode_to_vec()
            }
            MsgUpdateParams::TYPE_URL => {
                let m: MsgUpdateParams = decode_msg(msg)?;
                require_authority(&m.authority)?;
                let p = m.params.unwrap_or_else(default_params);
                validate(&p)?;
                ctx.put_msg(STORE, PARAMS.to_vec(), &p)?;
                MsgUpdateParamsResponse {}.encode_to_vec()
            }
            other => {
                return Err(sdk::unknown_request(format!(
                    "unrecognized slashing message type: {other}"
                )))
            }
        })
    }

    fn query_paths(&self) -> &'static [&'static str] {
        &[QUERY_PARAMS, QUERY_SIGNING_INFO, QUERY_SIGNING_INFOS]
    }

    fn query(&self, ctx: &mut Ctx, path: &str, request: &[u8]) -> Result<Vec<u8>, Error> {
        Ok(match path {
            QUERY_PARAMS => QueryParamsResponse {
                params: Some(self.keeper.params(ctx)?),
            }
            .encode_to_vec(),
            QUERY_SIGNING_INFO => {
                let req: QuerySigningInfoRequest = decode_query(request)?;
                let info = ctx
                    .prefix(STORE, &[INFOS])?
                    .into_iter()
                    .filter_map(|(_, v)| ValidatorSigningInfo::decode(v.as_slice()).ok())
                    .find(|i| i.address.eq_ignore_ascii_case(&req.cons_address))
                    .ok_or_else(|| {
                        sdk::not_found(format!("no signing info for {}", req.cons_address))
                    })?;
                QuerySigningInfoResponse {
                    val_signing_info: Some(info),
                }
                .encode_to_vec()
            }
            QUERY_SIGNING_INFOS => QuerySigningInfosResponse {
                info: ctx
                    .prefix(STORE, &[INFOS])?
                    .into_iter()
                    .filter_map(|(_, v)| ValidatorSigningInfo::decode(v.as_slice()).ok())
                    .collect(),
                pagination: None,
            }
            .encode_to_vec(),
            other => return Err(sdk::unknown_request(format!("unknown query path {other}"))),
        })
    }

    fn validate_genesis(&self, genesis: &serde_json::Value) -> Result<(), String> {
        params_of(genesis).map(|_| ())
    }

    fn init_genesis(&self, ctx: &mut Ctx, genesis: &serde_json::Value) -> Result<(), Error> {
        let p = params_of(genesis).map_err(sdk::invalid_request)?;
        ctx.put_msg(STORE, PARAMS.to_vec(), &p)
    }

    /// Downtime and double-sign evidence from the block's header data.
    fn begin_block(&self, ctx: &mut Ctx) -> Result<(), Error> {
        let params = self.keeper.params(ctx)?;
        let votes = ctx.block.last_commit.clone();
        for v in votes.iter().filter(|v| v.power > 0) {
            self.keeper
                .handle_signature(ctx, &params, &v.address, v.signed)?;
        }
        let evidence = ctx.block.misbehavior.clone();
        for e in evidence {
            self.keeper
                .handle_double_sign(ctx, &params, &e.address, e.height)?;
        }
        Ok(())
    }

    fn end_block(&self, _ctx: &mut Ctx) -> Result<Vec<ValidatorUpdate>, Error> {
        Ok(Vec::new())
    }
}

/// Slashing params in genesis: `{"params": {"signed_blocks_window": "100",
/// "min_signed_per_window": "0.05", "downtime_jail_duration": "600s",
/// "slash_fraction_double_sign": "0.05", "slash_fraction_downtime": "0.0001"}}`.
fn params_of(genesis: &serde_json::Value) -> Result<Params, String> {
    let p = &genesis["params"];
    let d = default_params();
    if p.is_null() {
        return Ok(d);
    }
    let dec = |field: &str, default: &[u8]| -> Result<Vec<u8>, String> {
        match p[field].as_str() {
            None => Ok(default.to_vec()),
            Some(s) => s
                .parse::<Dec>()
                .map(dec_bytes)
                .map_err(|_| format!("slashing genesis: {field} {s:?} is not a decimal")),
        }
    };
    let params = Params {
        signed_blocks_window: match &p["signed_blocks_window"] {
            serde_json::Value::String(s) => s
                .parse()
                .map_err(|_| "slashing genesis: signed_blocks_window")?,
            serde_json::Value::Number(n) => n.as_i64().unwrap_or(d.signed_blocks_window),
            _ => d.signed_blocks_window,
        },
        min_signed_per_window: dec("min_signed_per_window", &d.min_signed_per_window)?,
        downtime_jail_duration: match p["downtime_jail_duration"].as_str() {
            None => d.downtime_jail_duration,
            Some(s) => Some(Duration {
                seconds: s
                    .trim_end_matches('s')
                    .parse()
                    .map_err(|_| "slashing genesis: downtime_jail_duration")?,
                nanos: 0,
            }),
        },
        slash_fraction_double_sign: dec(
            "slash_fraction_double_sign",
            &d.slash_fraction_double_sign,
        )?,
        slash_fraction_downtime: dec("slash_fraction_downtime", &d.slash_fraction_downtime)?,
    };
    validate(&params).map_err(|e| format!("slashing params: {}", e.log))?;
    Ok(params)
}
