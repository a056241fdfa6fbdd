//! oracle: validators' votes on prices and incidents.
//!
//! Prices arrive in ABCI vote extensions (see [`votes`]): FinalizeBlock aggregates a
//! stake-weighted median per governance-approved feed when at least 2/3 of the power reported,
//! and keeps the history for TWAPs and triggers. Incidents are reported by anyone with a bond and
//! attested by validators — in their vote extensions or with `MsgAttestIncident` — within a
//! window: confirmed at 2/3 of bonded power (bond back, with a reward when the treasury can pay
//! it), rejected otherwise (bond forfeited). Validators that miss too many oracle votes in a
//! window are slashed a little and jailed. The claims module reads all this through
//! [`surety_framework::oracle::OracleView`].

mod query;
pub mod votes;

use prost::Message;
use surety_framework::math::{mul_div, Round};
use surety_framework::module::{genesis_json, genesis_section};
use surety_framework::oracle::{IncidentView, OracleView, PricePoint, ProtocolRegistry};
use surety_framework::{
    decode_msg, require_authority, sdk, signers_of, Address, Coin, Coins, Ctx, Dec, Error, Event,
    Module, ValidatorUpdate,
};
use surety_proto::cometbft::abci::ExtendedCommitInfo;
use surety_proto::surety::oracle::v1::*;
use surety_proto::{Any, TypeUrl};

pub const STORE: &str = "oracle";
/// Holds incident bonds while attestations run.
pub const ORACLE_ACCOUNT: &str = "oracle";
const TREASURY: &str = "treasury";

const PRICES: u8 = 0x01;
const INCIDENTS: u8 = 0x02;
const NEXT_INCIDENT_ID: &[u8] = &[0x03];
const PARAMS: &[u8] = &[0x04];
const ATTESTATIONS: u8 = 0x05;
const MISSES: u8 = 0x06;
const LATEST: u8 = 0x07;
const DEADLINES: u8 = 0x08;
const CONFIRMED_AT: u8 = 0x09;
const UPDATED_AT: u8 = 0x0a;
const VE_ENABLE_HEIGHT: &[u8] = &[0x0b];
const FIRST: u8 = 0x0c;

surety_framework::errors! { "oracle";
    unknown_feed = 2, "unknown feed";
    unlisted_protocol = 3, "protocol is not covered by any product";
    incident_not_found = 4, "incident not found";
    window_closed = 5, "attestation window closed";
    not_validator = 6, "not a bonded validator";
    already_attested = 7, "validator already attested";
    invalid_incident = 8, "invalid incident";
}

/// Block times as big-endian bytes that sort in time order, negatives included.
fn time_bytes(t: i64) -> [u8; 8] {
    ((t as u64) ^ (1 << 63)).to_be_bytes()
}

fn feed_prefix(feed: &str) -> Vec<u8> {
    let mut k = vec![PRICES, feed.len() as u8];
    k.extend_from_slice(feed.as_bytes());
    k
}

const DAY: i64 = 86_400;

/// A feed's prices are bucketed by day, so that a trigger looking back over hours reads a day
/// or two of history, not all of it.
fn day_prefix(feed: &str, day: i64) -> Vec<u8> {
    let mut k = feed_prefix(feed);
    k.extend_from_slice(&time_bytes(day));
    k
}

fn price_key(feed: &str, time: i64) -> Vec<u8> {
    let mut k = day_prefix(feed, time.div_euclid(DAY));
    k.extend_from_slice(&time_bytes(time));
    k
}

fn latest_key(feed: &str) -> Vec<u8> {
    [&[LATEST][..], feed.as_bytes()].concat()
}

fn incident_key(id: u64) -> Vec<u8> {
    [&[INCIDENTS][..], &id.to_be_bytes()].concat()
}

fn attestation_key(id: u64, validator: &[u8]) -> Vec<u8> {
    [&[ATTESTATIONS][..], &id.to_be_bytes(), validator].concat()
}

fn deadline_key(deadline: i64, id: u64) -> Vec<u8> {
    [&[DEADLINES][..], &time_bytes(deadline), &id.to_be_bytes()].concat()
}

fn height_key(tag: u8, height: u64, rest: &[u8]) -> Vec<u8> {
    [&[tag][..], &height.to_be_bytes(), rest].concat()
}

fn decode<M: Message + Default>(bytes: &[u8]) -> Result<M, Error> {
    M::decode(bytes).map_err(|e| sdk::internal(format!("corrupt oracle state: {e}")))
}

pub fn default_params() -> Params {
    Params {
        feeds: vec![],
        min_power_bps: 6_667,
        attestation_window_secs: 24 * 3600,
        incident_bond: Some(Coin::new(100_000_000, "usure").to_proto()),
        incident_reward: Some(Coin::new(10_000_000, "usure").to_proto()),
        miss_window_blocks: 1_000,
        max_missed_bps: 5_000,
        miss_slash_bps: 1,
    }
}

fn validate_params(p: &Params) -> Result<(), Error> {
    for feed in &p.feeds {
        if feed.is_empty() || feed.len() > 64 {
            return Err(sdk::invalid_request(format!("invalid feed name {feed:?}")));
        }
    }
    if p.min_power_bps == 0 || p.min_power_bps > 10_000 || p.max_missed_bps > 10_000 {
        return Err(sdk::invalid_request(
            "power shares must be in 1..=10000 bps",
        ));
    }
    if p.attestation_window_secs <= 0 || p.miss_window_blocks == 0 {
        return Err(sdk::invalid_request("oracle windows must be positive"));
    }
    for c in [&p.incident_bond, &p.incident_reward].into_iter().flatten() {
        Coin::from_proto(c)?;
    }
    Ok(())
}

fn coins(c: &Option<surety_proto::cosmos::base::v1beta1::Coin>) -> Result<Coins, Error> {
    match c {
        Some(c) => Ok(Coins::of(Coin::from_proto(c)?.amount, &c.denom)),
        None => Ok(Coins::new()),
    }
}

/// The oracle keeper.
#[derive(Clone, Copy, Default)]
pub struct Oracle {
    staking: surety_staking::Staking,
    bank: surety_bank::Bank,
}

impl Oracle {
    pub fn params(&self, ctx: &mut Ctx) -> Result<Params, Error> {
        Ok(ctx.get_msg(STORE, PARAMS)?.unwrap_or_else(default_params))
    }

    pub fn set_params(&self, ctx: &mut Ctx, p: &Params) -> Result<(), Error> {
        validate_params(p)?;
        ctx.put_msg(STORE, PARAMS.to_vec(), p)
    }

    /// The first height whose votes carry extensions (CometBFT's
    /// `abci.vote_extensions_enable_height`); 0 when they are off.
    pub fn vote_extensions_enable_height(&self, ctx: &mut Ctx) -> Result<u64, Error> {
        Ok(ctx
            .get(STORE, VE_ENABLE_HEIGHT)?
            .and_then(|b| b.try_into().ok())
            .map(u64::from_be_bytes)
            .unwrap_or(0))
    }

    pub fn set_vote_extensions_enable_height(&self, ctx: &mut Ctx, h: u64) -> Result<(), Error> {
        ctx.put(STORE, VE_ENABLE_HEIGHT.to_vec(), h.to_be_bytes().to_vec())
    }

    /// Whether the block at `height` must carry the extended commit of `height − 1`.
    pub fn expects_votes(&self, ctx: &mut Ctx, height: u64) -> Result<bool, Error> {
        let enabled = self.vote_extensions_enable_height(ctx)?;
        Ok(enabled > 0 && height > enabled)
    }

    /// Records the aggregated price of `feed` at the current block.
    pub fn record_price(&self, ctx: &mut Ctx, feed: &str, price: Dec) -> Result<(), Error> {
        if feed.is_empty() || feed.len() > 64 {
            return Err(sdk::invalid_request(format!("invalid feed name {feed:?}")));
        }
        let p = Price {
            feed: feed.to_string(),
            price: price.to_string(),
            time: ctx.block.time_unix_secs,
            height: ctx.block.height,
        };
        self.store_price(ctx, &p)?;
        ctx.put(
            STORE,
            height_key(UPDATED_AT, p.height, feed.as_bytes()),
            Vec::new(),
        )?;
        ctx.emit(
            Event::new("oracle_price")
                .attr("feed", feed)
                .attr("price", price),
        );
        Ok(())
    }

    fn store_price(&self, ctx: &mut Ctx, p: &Price) -> Result<(), Error> {
        let first_key = [&[FIRST][..], p.feed.as_bytes()].concat();
        if ctx.get(STORE, &first_key)?.is_none() {
            ctx.put_msg(STORE, first_key, p)?;
        }
        ctx.put_msg(STORE, price_key(&p.feed, p.time), p)?;
        ctx.put_msg(STORE, latest_key(&p.feed), p)
    }

    /// Records an incident as decided (genesis and tests; reports go through
    /// [`Oracle::report_incident`]).
    pub fn record_incident(
        &self,
        ctx: &mut Ctx,
        protocol: &str,
        time: i64,
        description: &str,
        status: IncidentStatus,
    ) -> Result<u64, Error> {
        let id = ctx.next_id(STORE, NEXT_INCIDENT_ID)?;
        let incident = Incident {
            id,
            protocol: protocol.to_string(),
            time,
            description: description.to_string(),
            status: status as i32,
            decided_height: ctx.block.height,
            ..Default::default()
        };
        ctx.put_msg(STORE, incident_key(id), &incident)?;
        if status == IncidentStatus::Confirmed {
            ctx.put(
                STORE,
                height_key(CONFIRMED_AT, ctx.block.height, &id.to_be_bytes()),
                Vec::new(),
            )?;
        }
        Ok(id)
    }

    pub fn history(&self, ctx: &mut Ctx, feed: &str) -> Result<Vec<Price>, Error> {
        ctx.prefix(STORE, &feed_prefix(feed))?
            .into_iter()
            .map(|(_, v)| decode(&v))
            .collect()
    }

    /// The time of the first recorded price of `feed`.
    fn history_start(&self, ctx: &mut Ctx, feed: &str) -> Result<Option<i64>, Error> {
        Ok(ctx
            .get_msg::<Price>(STORE, &[&[FIRST][..], feed.as_bytes()].concat())?
            .map(|p| p.time))
    }

    pub fn latest(&self, ctx: &mut Ctx, feed: &str) -> Result<Option<Price>, Error> {
        ctx.get_msg(STORE, &latest_key(feed))
    }

    pub fn incident_record(&self, ctx: &mut Ctx, id: u64) -> Result<Incident, Error> {
        ctx.get_msg(STORE, &incident_key(id))?
            .ok_or_else(|| incident_not_found(format!("incident {id}")))
    }

    pub fn incidents(&self, ctx: &mut Ctx) -> Result<Vec<Incident>, Error> {
        ctx.prefix(STORE, &[INCIDENTS])?
            .into_iter()
            .map(|(_, v)| decode(&v))
            .collect()
    }

    pub fn attestations(&self, ctx: &mut Ctx, id: u64) -> Result<Vec<Attestation>, Error> {
        ctx.prefix(STORE, &[&[ATTESTATIONS][..], &id.to_be_bytes()].concat())?
            .into_iter()
            .map(|(_, v)| decode(&v))
            .collect()
    }

    /// The prices of `feed` recorded on `day` (days since the epoch), ascending.
    fn day_points(&self, ctx: &mut Ctx, feed: &str, day: i64) -> Result<Vec<PricePoint>, Error> {
        ctx.prefix(STORE, &day_prefix(feed, day))?
            .into_iter()
            .map(|(_, v)| point(decode(&v)?))
            .collect()
    }

    /// A report of an incident of a listed protocol, with the bond; validators attest until
    /// the window closes.
    pub fn report_incident(
        &self,
        ctx: &mut Ctx,
        registry: &dyn ProtocolRegistry,
        reporter: &Address,
        msg: &MsgReportIncident,
    ) -> Result<u64, Error> {
        if !registry.is_listed(ctx, &msg.protocol)? {
            return Err(unlisted_protocol(format!("{:?}", msg.protocol)));
        }
        let now = ctx.block.time_unix_secs;
        if msg.time > now || msg.time <= 0 {
            return Err(invalid_incident(format!(
                "incident time {} must be in the past (block time {now})",
                msg.time
            )));
        }
        if msg.description.trim().is_empty()
            || msg.description.len() > 1_024
            || msg.evidence.len() > 4_096
        {
            return Err(invalid_incident(
                "a description of 1 to 1024 bytes, evidence up to 4096",
            ));
        }
        let params = self.params(ctx)?;
        self.bank.send_to_module(
            ctx,
            reporter,
            ORACLE_ACCOUNT,
            &coins(&params.incident_bond)?,
        )?;
        let id = ctx.next_id(STORE, NEXT_INCIDENT_ID)?;
        let incident = Incident {
            id,
            protocol: msg.protocol.clone(),
            time: msg.time,
            description: msg.description.clone(),
            evidence: msg.evidence.clone(),
            status: IncidentStatus::Pending as i32,
            reporter: reporter.to_string(),
            bond: params.incident_bond,
            reported_at: now,
            deadline: now + params.attestation_window_secs,
            ..Default::default()
        };
        ctx.put_msg(STORE, incident_key(id), &incident)?;
        ctx.put(STORE, deadline_key(incident.deadline, id), Vec::new())?;
        ctx.emit(
            Event::new("incident_reported")
                .attr("incident_id", id)
                .attr("protocol", &incident.protocol)
                .attr("deadline", incident.deadline),
        );
        Ok(id)
    }

    /// A validator's attestation; confirms the incident once yes reaches 2/3 of bonded power.
    pub fn attest(
        &self,
        ctx: &mut Ctx,
        validator: &[u8],
        id: u64,
        confirm: bool,
    ) -> Result<(), Error> {
        let mut incident = self.incident_record(ctx, id)?;
        if incident.status != IncidentStatus::Pending as i32
            || ctx.block.time_unix_secs >= incident.deadline
        {
            return Err(window_closed(format!("incident {id}")));
        }
        let validators = self.staking.consensus_validators(ctx)?;
        let power = validators
            .iter()
            .find(|v| v.address == validator && v.power > 0)
            .map(|v| v.power)
            .ok_or_else(|| not_validator(hex(validator)))?;
        let key = attestation_key(id, validator);
        if ctx.get(STORE, &key)?.is_some() {
            return Err(already_attested(format!(
                "{} on incident {id}",
                hex(validator)
            )));
        }
        ctx.put_msg(
            STORE,
            key,
            &Attestation {
                incident_id: id,
                confirm,
                validator: validator.to_vec(),
            },
        )?;
        if confirm {
            incident.yes_power += power;
        } else {
            incident.no_power += power;
        }
        let total: i64 = validators.iter().map(|v| v.power).sum();
        ctx.emit(
            Event::new("incident_attested")
                .attr("incident_id", id)
                .attr("validator", hex(validator))
                .attr("confirm", confirm),
        );
        if (incident.yes_power as i128) * 3 >= (total as i128) * 2 {
            self.decide(ctx, &mut incident, true)?;
        } else {
            ctx.put_msg(STORE, incident_key(id), &incident)?;
        }
        Ok(())
    }

    /// Closes an incident: confirmed returns the bond with the reward (when the treasury holds
    /// it), rejected forfeits the bond to the treasury.
    fn decide(&self, ctx: &mut Ctx, incident: &mut Incident, confirmed: bool) -> Result<(), Error> {
        ctx.delete(STORE, deadline_key(incident.deadline, incident.id))?;
        incident.decided_height = ctx.block.height;
        let bond = coins(&incident.bond)?;
        let reporter = Address::from_bech32(&incident.reporter)?;
        if confirmed {
            incident.status = IncidentStatus::Confirmed as i32;
            self.bank
                .send_from_module(ctx, ORACLE_ACCOUNT, &reporter, &bond)?;
            let reward = coins(&self.params(ctx)?.incident_reward)?;
            let treasury = Address::module(TREASURY);
            let affordable = reward.iter().all(|c| {
                self.bank
                    .balance(ctx, &treasury, &c.denom)
                    .is_ok_and(|b| b >= c.amount)
            });
            if affordable && !reward.is_empty() {
                self.bank.send(ctx, &treasury, &reporter, &reward)?;
            }
            ctx.put(
                STORE,
                height_key(CONFIRMED_AT, ctx.block.height, &incident.id.to_be_bytes()),
                Vec::new(),
            )?;
        } else {
            incident.status = IncidentStatus::Rejected as i32;
            surety_auth::Auth.ensure_module_account(ctx, TREASURY)?;
            self.bank.send(
                ctx,
                &Address::module(ORACLE_ACCOUNT),
                &Address::module(TREASURY),
                &bond,
            )?;
        }
        ctx.put_msg(STORE, incident_key(incident.id), incident)?;
        ctx.emit(
            Event::new("incident_decided")
                .attr("incident_id", incident.id)
                .attr("confirmed", confirmed)
                .attr("yes_power", incident.yes_power)
                .attr("no_power", incident.no_power),
        );
        Ok(())
    }

    /// Applies the validators' votes of the previous height: medians per feed, attestations,
    /// and missed-vote accounting with its penalties.
    pub fn apply_votes(&self, ctx: &mut Ctx, commit: &ExtendedCommitInfo) -> Result<(), Error> {
        let params = self.params(ctx)?;
        let (ballots, missed) = votes::ballots(commit, &params.feeds);
        let total: i64 = commit
            .votes
            .iter()
            .filter_map(|v| v.validator.as_ref().map(|v| v.power))
            .sum();
        for (feed, price) in votes::aggregate(&ballots, total, params.min_power_bps) {
            self.record_price(ctx, &feed, price)?;
        }
        for ballot in &ballots {
            for a in &ballot.vote.attestations {
                // An attestation for a closed or unknown incident is simply ignored: the vote
                // was signed before this block closed it.
                let _ = ctx.branch(|c| self.attest(c, &ballot.validator, a.incident_id, a.confirm));
            }
        }
        // With no feeds to report there is nothing to miss.
        let missed = if params.feeds.is_empty() {
            Vec::new()
        } else {
            missed
        };
        for validator in missed {
            let key = [&[MISSES][..], &validator].concat();
            let count = ctx
                .get(STORE, &key)?
                .and_then(|b| b.try_into().ok())
                .map(u32::from_be_bytes)
                .unwrap_or(0);
            ctx.put(STORE, key, (count + 1).to_be_bytes().to_vec())?;
        }
        if ctx
            .block
            .height
            .is_multiple_of(params.miss_window_blocks as u64)
        {
            self.close_miss_window(ctx, &params)?;
        }
        Ok(())
    }

    /// Jails and slashes validators that missed more than the allowed share of the window's
    /// votes, then starts a new window.
    fn close_miss_window(&self, ctx: &mut Ctx, params: &Params) -> Result<(), Error> {
        let allowed = mul_div(
            params.miss_window_blocks as u128,
            params.max_missed_bps as u128,
            10_000,
            Round::Down,
        )?;
        for (key, value) in ctx.prefix(STORE, &[MISSES])? {
            ctx.delete(STORE, key.clone())?;
            let missed = value.try_into().map(u32::from_be_bytes).unwrap_or(0) as u128;
            if missed > allowed {
                self.staking.slash_and_jail(
                    ctx,
                    &key[1..],
                    params.miss_slash_bps,
                    "missed oracle votes",
                )?;
            }
        }
        Ok(())
    }

    /// Rejects incidents whose attestation window closed without a confirmation.
    pub fn end_block(&self, ctx: &mut Ctx) -> Result<(), Error> {
        let limit = time_bytes(ctx.block.time_unix_secs);
        for (key, _) in ctx.prefix(STORE, &[DEADLINES])? {
            if key[1..9] > limit[..] {
                break;
            }
            let id = u64::from_be_bytes(
                key[9..17]
                    .try_into()
                    .map_err(|_| sdk::internal("corrupt deadline"))?,
            );
            let mut incident = self.incident_record(ctx, id)?;
            self.decide(ctx, &mut incident, false)?;
        }
        Ok(())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn view(i: Incident) -> IncidentView {
    IncidentView {
        id: i.id,
        protocol: i.protocol,
        time: i.time,
        confirmed: i.status == IncidentStatus::Confirmed as i32,
    }
}

fn point(p: Price) -> Result<PricePoint, Error> {
    Ok(PricePoint {
        price: p.price.parse()?,
        time: p.time,
    })
}

impl OracleView for Oracle {
    fn price_at(&self, ctx: &mut Ctx, feed: &str, time: i64) -> Result<Option<PricePoint>, Error> {
        let Some(latest) = self.latest(ctx, feed)? else {
            return Ok(None);
        };
        if latest.time <= time {
            return point(latest).map(Some);
        }
        // Walk back day by day; the first price of the feed bounds the walk.
        let first = match self.history_start(ctx, feed)? {
            Some(t) if t <= time => t,
            _ => return Ok(None),
        };
        let day = time.div_euclid(DAY);
        for d in (first.div_euclid(DAY).max(day - 31)..=day).rev() {
            if let Some(p) = self
                .day_points(ctx, feed, d)?
                .into_iter()
                .take_while(|p| p.time <= time)
                .last()
            {
                return Ok(Some(p));
            }
        }
        // A quiet month: read the whole history.
        self.history(ctx, feed)?
            .into_iter()
            .take_while(|p| p.time <= time)
            .last()
            .map(point)
            .transpose()
    }

    fn prices_after(
        &self,
        ctx: &mut Ctx,
        feed: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<PricePoint>, Error> {
        let mut out = Vec::new();
        for day in from.div_euclid(DAY)..=to.div_euclid(DAY) {
            out.extend(
                self.day_points(ctx, feed, day)?
                    .into_iter()
                    .filter(|p| p.time > from && p.time <= to),
            );
        }
        Ok(out)
    }

    fn incident(&self, ctx: &mut Ctx, id: u64) -> Result<Option<IncidentView>, Error> {
        Ok(ctx.get_msg::<Incident>(STORE, &incident_key(id))?.map(view))
    }

    fn confirmed_at(&self, ctx: &mut Ctx, height: u64) -> Result<Vec<IncidentView>, Error> {
        let prefix = height_key(CONFIRMED_AT, height, &[]);
        let mut out = Vec::new();
        for (key, _) in ctx.prefix(STORE, &prefix)? {
            let id = u64::from_be_bytes(
                key[prefix.len()..]
                    .try_into()
                    .map_err(|_| sdk::internal("corrupt index"))?,
            );
            if let Some(i) = self.incident(ctx, id)? {
                out.push(i);
            }
        }
        Ok(out)
    }

    fn updated_at(&self, ctx: &mut Ctx, height: u64) -> Result<Vec<String>, Error> {
        let prefix = height_key(UPDATED_AT, height, &[]);
        Ok(ctx
            .prefix(STORE, &prefix)?
            .into_iter()
            .map(|(k, _)| String::from_utf8_lossy(&k[prefix.len()..]).into_owned())
            .collect())
    }
}

/// The oracle module: the keeper plus the registry of protocols incidents may concern.
pub struct OracleModule<R> {
    pub keeper: Oracle,
    pub registry: R,
}

impl<R: ProtocolRegistry> Module for OracleModule<R> {
    fn name(&self) -> &'static str {
        STORE
    }

    fn msg_types(&self) -> &'static [&'static str] {
        &[
            MsgReportIncident::TYPE_URL,
            MsgAttestIncident::TYPE_URL,
            MsgUpdateParams::TYPE_URL,
        ]
    }

    fn signers(&self, msg: &Any) -> Result<Vec<Address>, Error> {
        signers_of!(msg;
            MsgReportIncident => reporter,
            MsgAttestIncident => validator,
            MsgUpdateParams => authority,
        )
    }

    fn deliver(&self, ctx: &mut Ctx, msg: &Any) -> Result<Vec<u8>, Error> {
        let k = &self.keeper;
        Ok(match msg.type_url.as_str() {
            MsgReportIncident::TYPE_URL => {
                let m: MsgReportIncident = decode_msg(msg)?;
                let reporter = Address::from_bech32(&m.reporter)?;
                let incident_id = k.report_incident(ctx, &self.registry, &reporter, &m)?;
                MsgReportIncidentResponse { incident_id }.encode_to_vec()
            }
            MsgAttestIncident::TYPE_URL => {
                let m: MsgAttestIncident = decode_msg(msg)?;
                let operator = Address::from_bech32(&m.validator)?;
                let validator = k
                    .staking
                    .consensus_validators(ctx)?
                    .into_iter()
                    .find(|v| v.operator == operator)
                    .ok_or_else(|| not_validator(format!("{operator} operates no validator")))?;
                k.attest(ctx, &validator.address, m.incident_id, m.confirm)?;
                MsgAttestIncidentResponse {}.encode_to_vec()
            }
            MsgUpdateParams::TYPE_URL => {
                let m: MsgUpdateParams = decode_msg(msg)?;
                require_authority(&m.authority)?;
                k.set_params(ctx, &m.params.unwrap_or_default())?;
                MsgUpdateParamsResponse {}.encode_to_vec()
            }
            other => {
                return Err(sdk::unknown_request(format!(
                    "unrecognized oracle message type: {other}"
                )))
            }
        })
    }

    fn query_paths(&self) -> &'static [&'static str] {
        query::PATHS
    }

    fn query(&self, ctx: &mut Ctx, path: &str, request: &[u8]) -> Result<Vec<u8>, Error> {
        query::handle(&self.keeper, ctx, path, request)
    }

    fn default_genesis(&self) -> serde_json::Value {
        genesis_json(&GenesisState {
            params: Some(default_params()),
            ..Default::default()
        })
    }

    fn validate_genesis(&self, genesis: &serde_json::Value) -> Result<(), String> {
        let g: GenesisState = genesis_section(STORE, genesis)?;
        validate_params(&params_of(&g)).map_err(|e| format!("oracle params: {}", e.log))?;
        for p in &g.prices {
            p.price
                .parse::<Dec>()
                .map_err(|e| format!("oracle genesis price of {}: {}", p.feed, e.log))?;
        }
        Ok(())
    }

    fn init_genesis(&self, ctx: &mut Ctx, genesis: &serde_json::Value) -> Result<(), Error> {
        let g: GenesisState = genesis_section(STORE, genesis).map_err(sdk::invalid_request)?;
        self.keeper.set_params(ctx, &params_of(&g))?;
        for mut p in g.prices {
            // A price without a time holds from genesis.
            if p.time == 0 {
                p.time = ctx.block.time_unix_secs;
            }
            self.keeper.store_price(ctx, &p)?;
        }
        for i in g.incidents {
            let id = ctx.next_id(STORE, NEXT_INCIDENT_ID)?;
            ctx.put_msg(STORE, incident_key(id), &Incident { id, ..i })?;
        }
        Ok(())
    }

    fn export_genesis(&self, ctx: &mut Ctx) -> Result<serde_json::Value, Error> {
        let params = self.keeper.params(ctx)?;
        let mut prices = Vec::new();
        for feed in &params.feeds {
            prices.extend(self.keeper.history(ctx, feed)?);
        }
        Ok(genesis_json(&GenesisState {
            params: Some(params),
            prices,
            incidents: self.keeper.incidents(ctx)?,
            feeds: vec![],
        }))
    }

    fn end_block(&self, ctx: &mut Ctx) -> Result<Vec<ValidatorUpdate>, Error> {
        self.keeper.end_block(ctx)?;
        Ok(Vec::new())
    }
}

/// Params from genesis, taking the older top-level `feeds` list when params name none.
fn params_of(g: &GenesisState) -> Params {
    let mut p = g.params.clone().unwrap_or_else(default_params);
    if p.feeds.is_empty() {
        p.feeds = g.feeds.clone();
    }
    if p.min_power_bps == 0 {
        p = Params {
            feeds: p.feeds,
            ..default_params()
        };
    }
    p
}
