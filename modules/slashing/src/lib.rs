//! slashing: `cosmos.slashing.v1beta1`. Each block, the validators' signatures on the previous
//! block (CometBFT's `decided_last_commit`) update a sliding window per validator; one that signs
//! fewer than `min_signed_per_window` of the window is slashed `slash_fraction_downtime` and jailed
//! for `downtime_jail_duration`, after which `MsgUnjail` brings it back. Double-sign evidence
//! (CometBFT's `misbehavior`) slashes `slash_fraction_double_sign` — stake that was unbonding from
//! the validator after the infraction included — and tombstones it: jailed for good.

#![cfg_attr(not(test), warn(clippy::arithmetic_side_effects))]

use prost::Message;
use surety_framework::{
    decode_query, sdk, validate, Address, Ctx, Dec, Error, Event, Module, Msgs, ValidatorUpdate,
    VALIDATOR_PREFIX,
};
use surety_proto::cosmos::slashing::v1beta1::*;
use tendermint_proto::google::protobuf::{Duration, Timestamp};

pub const STORE: &str = "slashing";
const PARAMS: &[u8] = &[0x00];
const INFOS: u8 = 0x01;
const MISSED: u8 = 0x02;
/// Tombstoned validators are jailed until the end of time.
const FOREVER: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
/// Longest signing window: jailing clears the window's missed-block marks in one block, so its
/// size bounds that work (Cosmos Hub uses 10 000).
pub const MAX_SIGNED_BLOCKS_WINDOW: i64 = 100_000;

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

/// Every slashing param in its range; also checks genesis.
pub fn check_params(p: &Params) -> Result<(), Error> {
    if !(1..=MAX_SIGNED_BLOCKS_WINDOW).contains(&p.signed_blocks_window) {
        return Err(sdk::invalid_request(format!(
            "signed_blocks_window: {} is not in [1, {MAX_SIGNED_BLOCKS_WINDOW}]",
            p.signed_blocks_window
        )));
    }
    let jail = p
        .downtime_jail_duration
        .as_ref()
        .ok_or_else(|| sdk::invalid_request("downtime_jail_duration: missing"))?;
    validate::seconds(jail.seconds, "downtime_jail_duration")?;
    if !(0..1_000_000_000).contains(&jail.nanos) {
        return Err(sdk::invalid_request(
            "downtime_jail_duration: nanos out of range",
        ));
    }
    for (b, what) in [
        (&p.min_signed_per_window, "min_signed_per_window"),
        (&p.slash_fraction_double_sign, "slash_fraction_double_sign"),
        (&p.slash_fraction_downtime, "slash_fraction_downtime"),
    ] {
        if dec_of(b, what)? > Dec::ONE {
            return Err(sdk::invalid_request(format!("{what}: must be at most 1")));
        }
    }
    Ok(())
}

pub fn check_unjail(m: &MsgUnjail) -> Result<Vec<Address>, Error> {
    Ok(vec![validate::validator(
        &m.validator_addr,
        "validator_addr",
    )?])
}

pub fn check_update_params(m: &MsgUpdateParams) -> Result<Vec<Address>, Error> {
    surety_framework::msgs::update_params(&m.authority, m.params.as_ref(), check_params)
}

fn overflow(what: &str) -> Error {
    sdk::internal(format!("slashing: {what} overflows"))
}

fn block_height(ctx: &Ctx) -> Result<i64, Error> {
    i64::try_from(ctx.block.height).map_err(|_| overflow("block height"))
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
        let height = block_height(ctx)?;
        let window = params.signed_blocks_window;
        let mut info = self
            .signing_info(ctx, address)?
            .unwrap_or(ValidatorSigningInfo {
                address: hex(address),
                start_height: height,
                ..Default::default()
            });
        let index = info
            .index_offset
            .checked_rem(window)
            .ok_or_else(|| sdk::internal("slashing: signed_blocks_window is zero"))?;
        info.index_offset = info
            .index_offset
            .checked_add(1)
            .ok_or_else(|| overflow("index_offset"))?;
        let key = missed_key(address, index);
        let was_missed = ctx.get(STORE, &key)?.is_some();
        match (was_missed, signed) {
            (false, false) => {
                ctx.put(STORE, key, vec![1])?;
                info.missed_blocks_counter = info
                    .missed_blocks_counter
                    .checked_add(1)
                    .ok_or_else(|| overflow("missed_blocks_counter"))?;
            }
            (true, true) => {
                ctx.delete(STORE, key)?;
                info.missed_blocks_counter = info
                    .missed_blocks_counter
                    .checked_sub(1)
                    .ok_or_else(|| sdk::internal("slashing: missed_blocks_counter below zero"))?;
            }
            _ => {}
        }
        let min_signed = dec_of(&params.min_signed_per_window, "min_signed_per_window")?;
        let window_u128 = u128::try_from(window).map_err(|_| overflow("window"))?;
        let must_sign = min_signed.mul_amount(window_u128, surety_framework::Round::Up)?;
        let must_sign = i64::try_from(must_sign).map_err(|_| overflow("must_sign"))?;
        let max_missed = window
            .checked_sub(must_sign)
            .ok_or_else(|| overflow("max_missed"))?;
        let window_end = info
            .start_height
            .checked_add(window)
            .ok_or_else(|| overflow("start_height"))?;
        let due = height > window_end && info.missed_blocks_counter > max_missed;
        if due && !self.staking.is_jailed_consensus(ctx, address)? {
            let fraction = dec_of(&params.slash_fraction_downtime, "slash_fraction_downtime")?;
            // The missed blocks were signed for by the validator set two blocks before.
            let infraction = height.saturating_sub(2).max(0);
            let jailed = self
                .staking
                .slash(ctx, address, fraction, infraction, "downtime")?;
            if jailed {
                self.staking.jail(ctx, address)?;
                let until = ctx
                    .block
                    .time_unix_secs
                    .checked_add(params.downtime_jail_duration.map_or(0, |d| d.seconds))
                    .ok_or_else(|| overflow("jailed_until"))?;
                info.jailed_until = Some(Timestamp {
                    seconds: until,
                    nanos: 0,
                });
                // A fresh window once it is back.
                for (k, _) in ctx.prefix(STORE, &[&[MISSED][..], address].concat())? {
                    ctx.delete(STORE, k)?;
                }
                ctx.emit(
                    Event::new("liveness")
                        .attr("address", hex(address))
                        .attr("missed_blocks", info.missed_blocks_counter)
                        .attr("jailed_until", until),
                );
                info.missed_blocks_counter = 0;
                info.index_offset = 0;
                info.start_height = height;
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
                start_height: block_height(ctx)?,
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
        let validator = surety_staking::state::load_validator(ctx, operator)?
            .ok_or_else(|| no_validator(operator.to_bech32_with(VALIDATOR_PREFIX)))?;
        if !validator.proto.jailed {
            return Err(validator_not_jailed(
                operator.to_bech32_with(VALIDATOR_PREFIX),
            ));
        }
        let consensus = surety_staking::consensus_address(&validator.consensus_pubkey);
        if let Some(info) = self.signing_info(ctx, &consensus)? {
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

    fn msgs(&self) -> Msgs {
        let keeper = self.keeper;
        Msgs::new()
            .add(check_unjail, move |ctx, m: MsgUnjail| {
                let operator = validate::validator(&m.validator_addr, "validator_addr")?;
                keeper.unjail(ctx, &operator)?;
                Ok(MsgUnjailResponse {})
            })
            .add(check_update_params, |ctx, m: MsgUpdateParams| {
                let p = surety_framework::msgs::present(m.params)?;
                ctx.put_msg(STORE, PARAMS.to_vec(), &p)?;
                Ok(MsgUpdateParamsResponse {})
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

    /// Downtime and double-sign evidence from the block's header data. Both lists are bounded by
    /// CometBFT (the validator set, the evidence size limit); each validator is handled on its
    /// own branch, so one that cannot be handled (its failure is in an `item_failed` event) does
    /// not stop the others or the block.
    fn begin_block(&self, ctx: &mut Ctx) -> Result<(), Error> {
        let params = self.keeper.params(ctx)?;
        let votes = ctx.block.last_commit.clone();
        for v in votes.iter().filter(|v| v.power > 0) {
            let _ = ctx.isolate(format_args!("liveness of {}", hex(&v.address)), |ctx| {
                self.keeper
                    .handle_signature(ctx, &params, &v.address, v.signed)
            })?;
        }
        let evidence = ctx.block.misbehavior.clone();
        for e in evidence {
            let _ = ctx.isolate(format_args!("double sign by {}", hex(&e.address)), |ctx| {
                self.keeper
                    .handle_double_sign(ctx, &params, &e.address, e.height)
            })?;
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
    check_params(&params).map_err(|e| format!("slashing params: {}", e.log))?;
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use surety_framework::state::{Entries, Overlay, StateRead};
    use surety_framework::{BlockInfo, CommitVote, ExecMode, GasMeter};

    struct Empty;
    impl StateRead for Empty {
        fn get(&self, _: &'static str, _: &[u8]) -> Result<Option<Vec<u8>>, Error> {
            Ok(None)
        }
        fn prefix(&self, _: &'static str, _: &[u8]) -> Result<Entries, Error> {
            Ok(Vec::new())
        }
    }

    fn msg(f: impl FnOnce(&mut Params)) -> MsgUpdateParams {
        let mut p = default_params();
        f(&mut p);
        MsgUpdateParams {
            authority: surety_framework::gov_authority().to_bech32(),
            params: Some(p),
        }
    }

    #[test]
    fn update_params_extremes() {
        assert!(check_update_params(&msg(|_| {})).is_ok());
        assert!(check_update_params(&msg(|p| p.signed_blocks_window = 1)).is_ok());
        assert!(
            check_update_params(&msg(|p| p.slash_fraction_double_sign = dec_bytes(Dec::ONE)))
                .is_ok()
        );
        let bad: Vec<(&str, MsgUpdateParams)> = vec![
            ("zero window", msg(|p| p.signed_blocks_window = 0)),
            (
                "negative window",
                msg(|p| p.signed_blocks_window = i64::MIN),
            ),
            ("huge window", msg(|p| p.signed_blocks_window = i64::MAX)),
            (
                "window above max",
                msg(|p| p.signed_blocks_window = MAX_SIGNED_BLOCKS_WINDOW + 1),
            ),
            (
                "fraction above 1",
                msg(|p| p.slash_fraction_downtime = dec_bytes(Dec(Dec::SCALE + 1))),
            ),
            (
                "u128::MAX",
                msg(|p| p.min_signed_per_window = dec_bytes(Dec(u128::MAX))),
            ),
            (
                "not a number",
                msg(|p| p.slash_fraction_double_sign = b"0.5".to_vec()),
            ),
            ("empty", msg(|p| p.slash_fraction_double_sign = Vec::new())),
            ("no jail duration", msg(|p| p.downtime_jail_duration = None)),
            (
                "zero jail duration",
                msg(|p| {
                    p.downtime_jail_duration = Some(Duration {
                        seconds: 0,
                        nanos: 0,
                    })
                }),
            ),
            (
                "negative jail duration",
                msg(|p| {
                    p.downtime_jail_duration = Some(Duration {
                        seconds: -1,
                        nanos: 0,
                    })
                }),
            ),
            (
                "bad nanos",
                msg(|p| {
                    p.downtime_jail_duration = Some(Duration {
                        seconds: 1,
                        nanos: -1,
                    })
                }),
            ),
        ];
        for (what, m) in bad {
            assert!(check_update_params(&m).is_err(), "{what} passed");
        }
        let mut m = msg(|_| {});
        m.params = None;
        assert!(check_update_params(&m).is_err());
        m = msg(|_| {});
        m.authority = Address([1; 20]).to_bech32();
        assert_eq!(check_update_params(&m).unwrap_err().code, 4);
    }

    #[test]
    fn unjail_names_a_validator() {
        let operator = Address([3; 20]);
        let ok = MsgUnjail {
            validator_addr: operator.to_bech32_with(VALIDATOR_PREFIX),
        };
        assert_eq!(check_unjail(&ok).unwrap(), vec![operator]);
        for bad in [String::new(), operator.to_bech32()] {
            assert!(check_unjail(&MsgUnjail {
                validator_addr: bad
            })
            .is_err());
        }
    }

    #[test]
    fn one_validator_that_cannot_be_handled_fails_alone() {
        let base = Empty;
        let mut state = Overlay::new(&base);
        let vote = |n: u8| CommitVote {
            address: vec![n; 20],
            power: 1,
            signed: false,
        };
        let block = BlockInfo {
            height: 10,
            last_commit: vec![vote(1), vote(2)],
            ..Default::default()
        };
        let mut ctx = Ctx::new(&mut state, block, ExecMode::Deliver, GasMeter::infinite());
        // Unreadable signing info for the first validator.
        ctx.put(STORE, info_key(&[1; 20]), vec![0xff, 0xff])
            .unwrap();
        let module = SlashingModule {
            keeper: Slashing::default(),
        };
        module.begin_block(&mut ctx).unwrap();
        let info = module
            .keeper
            .signing_info(&mut ctx, &[2; 20])
            .unwrap()
            .unwrap();
        assert_eq!(info.missed_blocks_counter, 1);
        assert!(ctx.get(STORE, &missed_key(&[2; 20], 0)).unwrap().is_some());
        assert!(ctx.get(STORE, &missed_key(&[1; 20], 0)).unwrap().is_none());
        let failed: Vec<_> = ctx
            .events()
            .iter()
            .filter(|e| e.kind == "item_failed")
            .collect();
        assert_eq!(failed.len(), 1);
    }
}
